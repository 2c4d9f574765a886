"""Record every Metrics and Activity sample to a local SQLite file, and replay it.

The file (stdlib ``sqlite3``) is portable and bounded:

- one row per sample: ``(at, kind, target, bytes, data)``; ``at`` is UTC epoch seconds
  of the tick, ``data`` the sample as zlib-compressed tagged JSON (dataclasses, tuples,
  datetimes, Decimals keep their types), so a recording made on one machine replays on
  another (no absolute paths, no local time, no pickles);
- the schema is versioned (``PRAGMA user_version`` and ``meta.schema_version``); a reader
  refuses a file newer than it understands;
- ``max_bytes`` / ``max_samples`` cap it: after each tick the oldest ticks are deleted
  (their pages are reused, so the file stops growing).

Decoding only ever builds the sample classes listed in :data:`CLASSES` (a recording is
untrusted input). :class:`Recording` opens the file read-only and moves a time cursor over
its ticks (``first / last / step / seek``); :class:`ReplayActivity` serves the cursor's
Activity samples through the same ``ActivityPort`` the live source satisfies, so a screen
replays without knowing; nothing in a replay can act on a server."""

from __future__ import annotations

import base64
import bisect
import dataclasses
import json
import sqlite3
import time
import zlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ..backends.base import BackendError, ErrorKind
from . import jsonvalue
from .activity import maintenance as _maint
from .activity import model as _act
from .activity import statements as _stmt
from . import metrics as _metrics

SCHEMA_VERSION = 1
FORMAT = "console-recording"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# kind -> what it holds
KINDS = {
    "activity": "core.activity ActivitySample (per target)",
    "statements": "core.activity.statements StatementsSample (per target)",
    "maintenance": "core.activity.maintenance MaintenanceSample (per target)",
    "metrics.pg": "core.metrics PgSample (per target)",
    "metrics.analytics": "core.metrics AnalyticsSample (per target)",
    "metrics.influx": "core.metrics InfluxSample (target '')",
}

CLASSES: dict[str, type] = {c.__name__: c for c in (
    _act.ActivitySample, _act.Backend,
    _stmt.StatementsSample, _stmt.Statement,
    _maint.MaintenanceSample, _maint.Slot, _maint.Standby, _maint.Progress,
    _metrics.PgSample, _metrics.Counters, _metrics.Rates, _metrics.Activity, _metrics.TableStat,
    _metrics.AnalyticsSample, _metrics.ViewResult, _metrics.Trend,
    _metrics.InfluxSample, _metrics.Point, _metrics.TagStat,
)}

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples (
    id     INTEGER PRIMARY KEY,
    at     REAL NOT NULL,
    kind   TEXT NOT NULL,
    target TEXT NOT NULL,
    bytes  INTEGER NOT NULL,
    data   BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_at ON samples (at);
CREATE INDEX IF NOT EXISTS samples_kind_target_at ON samples (kind, target, at);
"""


class RecordingError(ValueError):
    pass


# --------------------------------------------------------------------------- encoding


def encode(value: Any) -> Any:
    """A sample -> JSON-able data with type tags (``$c`` dataclass, ``$t`` tuple, ``$dt``
    datetime...)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, BackendError):
        return {"$err": [value.backend, value.kind.value, value.message]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if CLASSES.get(name) is not type(value):
            raise RecordingError(f"{name} is not a recordable sample class")
        return {"$c": name, "f": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"$d": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$td": value.total_seconds()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    return {"$s": str(value)}          # UUID, IP address...: their text


def decode(data: Any) -> Any:
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "$c" in data:
        cls = CLASSES.get(data["$c"])
        if cls is None:
            raise RecordingError(f"unknown sample class {data['$c']!r} in the recording")
        names = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{k: decode(v) for k, v in data["f"].items() if k in names})
    if "$t" in data:
        return tuple(decode(v) for v in data["$t"])
    if "$d" in data:
        return {decode(k): decode(v) for k, v in data["$d"]}
    if "$dt" in data:
        return datetime.fromisoformat(data["$dt"])
    if "$date" in data:
        return date.fromisoformat(data["$date"])
    if "$td" in data:
        return timedelta(seconds=data["$td"])
    if "$dec" in data:
        return Decimal(data["$dec"])
    if "$b" in data:
        return base64.b64decode(data["$b"])
    if "$s" in data:
        return data["$s"]
    if "$err" in data:
        backend, kind, message = data["$err"]
        try:
            k = ErrorKind(kind)
        except ValueError:
            k = ErrorKind.ERROR
        return BackendError(backend, k, message)
    raise RecordingError("untagged object in the recording")


def pack(sample: Any) -> bytes:
    return zlib.compress(json.dumps(encode(sample), separators=(",", ":"), ensure_ascii=True).encode("ascii"), 6)


def unpack(blob: bytes) -> Any:
    """A stored sample; a blob that is not one (a file damaged or written by hand, from
    another machine) is a ``RecordingError``, never another exception."""
    try:
        return decode(jsonvalue.loads(zlib.decompress(blob).decode("ascii"), max_depth=128))
    except RecordingError:
        raise
    except (zlib.error, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise RecordingError(f"a damaged sample in the recording ({type(exc).__name__})") from None


# --------------------------------------------------------------------------- writing


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Recorder:
    """Appends samples to ``path`` (created if needed; an existing recording is continued
    when its schema version matches). Call :meth:`tick` once per refresh round (it commits
    and prunes), :meth:`add` for each sample inside it. One thread at a time."""

    def __init__(self, path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_samples: int | None = None,
                 interval_s: float | None = None, clock=_utc_now):
        self.path = Path(path)
        self.max_bytes = int(max_bytes)
        self.max_samples = max_samples
        self.clock = clock
        self._db = sqlite3.connect(str(self.path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=DELETE")
        self._db.execute("PRAGMA synchronous=NORMAL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise RecordingError(f"{self.path.name}: schema version {version}, this console writes {SCHEMA_VERSION}")
        self._db.executescript(DDL)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        meta = {"format": FORMAT, "schema_version": str(SCHEMA_VERSION),
                "created_at": self.clock().astimezone(timezone.utc).isoformat()}
        if interval_s is not None:
            meta["interval_s"] = str(interval_s)
        for k, v in meta.items():
            self._db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (k, v))
        self.bytes, self.samples = self._db.execute("SELECT coalesce(sum(bytes), 0), count(*) FROM samples").fetchone()
        self.pruned = 0
        self._at: float | None = None

    def tick(self, at: datetime | None = None) -> "_Tick":
        return _Tick(self, (at or self.clock()).timestamp())

    def add(self, kind: str, target: str, sample: Any) -> int:
        """Store one sample (or a BackendError: the failure is part of the history) at the
        current tick. Returns its compressed size."""
        if kind not in KINDS:
            raise RecordingError(f"unknown sample kind {kind!r}")
        if self._at is None:
            raise RecordingError("add() outside tick()")
        blob = pack(sample)
        self._db.execute("INSERT INTO samples (at, kind, target, bytes, data) VALUES (?, ?, ?, ?, ?)",
                         (self._at, kind, target or "", len(blob), blob))
        self.bytes += len(blob)
        self.samples += 1
        return len(blob)

    def _prune(self) -> None:
        """Delete the oldest ticks until the recording is within its caps (a tick is
        never split: a replayed frame is always whole)."""
        while (self.bytes > self.max_bytes or (self.max_samples is not None and self.samples > self.max_samples)):
            row = self._db.execute("SELECT min(at) FROM samples").fetchone()
            last = self._db.execute("SELECT max(at) FROM samples").fetchone()[0]
            if row[0] is None or row[0] == last:
                break                                  # never delete the newest tick
            n, b = self._db.execute("SELECT count(*), coalesce(sum(bytes), 0) FROM samples WHERE at = ?",
                                    (row[0],)).fetchone()
            self._db.execute("DELETE FROM samples WHERE at = ?", (row[0],))
            self.samples -= n
            self.bytes -= b
            self.pruned += n

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Tick:
    def __init__(self, rec: Recorder, at: float):
        self.rec = rec
        self.at = at

    def __enter__(self) -> Recorder:
        self.rec._at = self.at
        self.rec._db.execute("BEGIN")
        return self.rec

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.rec._prune()
                self.rec._db.execute("COMMIT")
            else:
                self.rec._db.execute("ROLLBACK")
                self.rec.bytes, self.rec.samples = self.rec._db.execute(
                    "SELECT coalesce(sum(bytes), 0), count(*) FROM samples").fetchone()
        finally:
            self.rec._at = None


# --------------------------------------------------------------------------- reading


@dataclasses.dataclass(frozen=True)
class Frame:
    """Everything known at one tick: for each (kind, target) the latest sample at or
    before ``at``."""

    at: datetime
    index: int                       # position of the tick, 0-based
    count: int                       # ticks in the recording
    samples: dict[tuple[str, str], Any]

    def get(self, kind: str, target: str = "") -> Any:
        return self.samples.get((kind, target))

    def targets(self, kind: str) -> list[str]:
        return sorted(t for k, t in self.samples if k == kind)


class Recording:
    """A recording opened read-only, with a time cursor over its ticks."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise RecordingError(f"{self.path.name}: no such recording")
        uri = self.path.resolve().as_uri() + "?mode=ro"
        try:
            self._db = sqlite3.connect(uri, uri=True)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            raise RecordingError(f"{self.path.name}: not a console recording ({exc})") from None
        if meta.get("format") != FORMAT:
            raise RecordingError(f"{self.path.name}: not a console recording")
        if version > SCHEMA_VERSION:
            raise RecordingError(f"{self.path.name}: schema version {version} is newer than this console "
                                 f"({SCHEMA_VERSION}); upgrade the console to replay it")
        self.meta = meta
        self.ticks: list[float] = [r[0] for r in self._db.execute("SELECT DISTINCT at FROM samples ORDER BY at")]
        self.position = 0

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Recording":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.ticks)

    @property
    def start(self) -> datetime | None:
        return datetime.fromtimestamp(self.ticks[0], timezone.utc) if self.ticks else None

    @property
    def end(self) -> datetime | None:
        return datetime.fromtimestamp(self.ticks[-1], timezone.utc) if self.ticks else None

    def kinds(self) -> list[tuple[str, str]]:
        return [tuple(r) for r in self._db.execute("SELECT DISTINCT kind, target FROM samples ORDER BY 1, 2")]

    def _frame(self) -> Frame:
        if not self.ticks:
            raise RecordingError(f"{self.path.name}: the recording is empty")
        at = self.ticks[self.position]
        rows = self._db.execute(
            "SELECT kind, target, data FROM samples WHERE id IN "
            "(SELECT max(id) FROM samples WHERE at <= ? GROUP BY kind, target)", (at,)).fetchall()
        return Frame(datetime.fromtimestamp(at, timezone.utc), self.position, len(self.ticks),
                     {(k, t): unpack(d) for k, t, d in rows})

    def frame(self) -> Frame:
        return self._frame()

    def first(self) -> Frame:
        self.position = 0
        return self._frame()

    def last(self) -> Frame:
        self.position = max(len(self.ticks) - 1, 0)
        return self._frame()

    def step(self, n: int = 1) -> Frame:
        """Move ``n`` ticks (negative: back), stopping at either end."""
        self.position = min(max(self.position + n, 0), max(len(self.ticks) - 1, 0))
        return self._frame()

    def seek(self, moment: datetime) -> Frame:
        """The last tick at or before ``moment`` (the first tick when before the start)."""
        i = bisect.bisect_right(self.ticks, moment.timestamp()) - 1
        self.position = max(i, 0)
        return self._frame()

    def frames(self) -> Iterator[Frame]:
        """Every tick from the first, moving the cursor (``play``)."""
        for i in range(len(self.ticks)):
            self.position = i
            yield self._frame()

    def play(self, speed: float = 1.0, *, sleep=time.sleep) -> Iterator[Frame]:
        """Every tick from the cursor on, paced at ``speed`` x the recorded time."""
        prev = None
        for i in range(self.position, len(self.ticks)):
            if prev is not None and speed > 0:
                sleep(max(0.0, (self.ticks[i] - prev) / speed))
            prev = self.ticks[i]
            self.position = i
            yield self._frame()

    def samples(self, kind: str, target: str = "", *, before: float | None = None,
                limit: int | None = None) -> list[Any]:
        """The recorded samples of one (kind, target), oldest first (chart series): every
        one, or the last ``limit`` of those recorded before the tick ``before`` (epoch s)."""
        sql = "SELECT data FROM samples WHERE kind = ? AND target = ?"
        args: list[Any] = [kind, target or ""]
        if before is not None:
            sql += " AND at < ?"
            args.append(before)
        sql += " ORDER BY at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [unpack(d) for (d,) in reversed(self._db.execute(sql, args).fetchall())]


class ReplayActivity:
    """``ActivityPort`` over a recording: ``sample(target)`` is the cursor's sample. It has
    no server to act on: a replay is read-only by construction."""

    read_only = True

    def __init__(self, recording: Recording):
        self.recording = recording

    @property
    def targets(self) -> list[str]:
        return sorted({t for k, t in self.recording.kinds() if k == "activity"})

    def sample(self, target: str) -> _act.ActivitySample:
        s = self.recording.frame().get("activity", target)
        if s is None:
            raise BackendError(target, ErrorKind.NOT_FOUND, "no Activity sample recorded at this time")
        if isinstance(s, BackendError):
            raise s
        return s
