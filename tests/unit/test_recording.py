"""core.recording without a server: typed round trip, the size cap prunes whole oldest
ticks, a newer schema and foreign classes are refused, the cursor stops at the ends."""

from __future__ import annotations

import json
import sqlite3
import zlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from console.backends.base import BackendError, ErrorKind
from console.core import recording
from console.core.activity.model import CLIENT, ActivitySample, Backend
from console.core.metrics import AnalyticsSample, ViewResult
from console.core.recording import Recorder, Recording, RecordingError

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def sample(i: int, rows: int = 3) -> ActivitySample:
    return ActivitySample("pipe", T0 + timedelta(seconds=i), 180006, "pipe", 7, tuple(
        Backend(100 + j, "pipe", "u", "app", None, None, CLIENT, "active", None, None, T0, 1.5, 0.25, None,
                f"select {i} /* {'x' * 200} {j} */", (99,) if j else ()) for j in range(rows)))


def test_round_trip_keeps_types(tmp_path):
    a = AnalyticsSample("lambda", T0, {"v": ViewResult("v", ({"d": T0.date(), "n": Decimal("1.50"), "b": b"\xff"},))},
                        (), None)
    err = BackendError("pipe", ErrorKind.TIMEOUT, "statement timeout")
    with Recorder(tmp_path / "r.db") as rec:
        with rec.tick(T0) as t:
            t.add("metrics.analytics", "lambda", a)
            t.add("activity", "pipe", err)
    with Recording(tmp_path / "r.db") as r:
        f = r.first()
        assert f.get("metrics.analytics", "lambda") == a
        e = f.get("activity", "pipe")
        assert isinstance(e, BackendError) and (e.kind, e.message) == (ErrorKind.TIMEOUT, "statement timeout")


def test_size_cap_prunes_whole_oldest_ticks(tmp_path):
    path = tmp_path / "capped.db"
    with Recorder(path, max_bytes=6000) as rec:
        for i in range(200):
            with rec.tick(T0 + timedelta(seconds=i)) as t:
                t.add("activity", "pipe", sample(i, rows=5))
                t.add("activity", "other", sample(i, rows=5))
        assert rec.pruned > 0 and rec.bytes <= 6000
    with Recording(path) as r:
        assert len(r) < 200 and r.end == T0 + timedelta(seconds=199)
        for (_, count) in sqlite3.connect(path).execute("SELECT at, count(*) FROM samples GROUP BY at"):
            assert count == 2, "a tick is never split"
    assert path.stat().st_size < 200 * 1024


def test_cursor_moves_and_stops_at_the_ends(tmp_path):
    path = tmp_path / "c.db"
    with Recorder(path) as rec:
        for i in range(5):
            with rec.tick(T0 + timedelta(seconds=10 * i)) as t:
                t.add("activity", "pipe", sample(i))
    with Recording(path) as r:
        assert r.first().get("activity", "pipe") == sample(0)
        assert r.step(2).index == 2 and r.step(-10).index == 0 and r.step(99).index == 4
        assert r.seek(T0 + timedelta(seconds=25)).get("activity", "pipe") == sample(2)
        assert r.seek(T0 - timedelta(days=1)).index == 0
        slept = []
        r.first()
        frames = list(r.play(speed=10, sleep=slept.append))
        assert len(frames) == 5 and slept == [1.0] * 4


def test_untrusted_files_are_refused(tmp_path):
    path = tmp_path / "evil.db"
    with Recorder(path) as rec:
        with rec.tick(T0) as t:
            t.add("activity", "pipe", sample(0))
    db = sqlite3.connect(path)
    blob = zlib.compress(json.dumps({"$c": "Popen", "f": {"args": ["sh"]}}).encode())
    db.execute("UPDATE samples SET data = ?", (blob,))
    db.commit()
    with Recording(path) as r, pytest.raises(RecordingError, match="unknown sample class"):
        r.first()
    db.execute(f"PRAGMA user_version = {recording.SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(RecordingError, match="newer than this console"):
        Recording(path)
    (tmp_path / "text.db").write_text("not sqlite")
    with pytest.raises(RecordingError):
        Recording(tmp_path / "text.db")


def test_only_listed_dataclasses_are_written(tmp_path):
    from dataclasses import dataclass

    @dataclass
    class Other:
        x: int
    with pytest.raises(RecordingError, match="not a recordable"):
        recording.encode(Other(1))


def test_samples_before_a_tick_keep_the_last_few_oldest_first(tmp_path):
    path = tmp_path / "h.db"
    with Recorder(path) as rec:
        for i in range(6):
            with rec.tick(T0 + timedelta(seconds=i)) as t:
                t.add("activity", "pipe", sample(i, rows=1))
    with Recording(path) as r:
        assert [s.taken_at for s in r.samples("activity", "pipe")] == [T0 + timedelta(seconds=i) for i in range(6)]
        cut = (T0 + timedelta(seconds=4)).timestamp()
        got = r.samples("activity", "pipe", before=cut, limit=2)
        assert [s.taken_at for s in got] == [T0 + timedelta(seconds=2), T0 + timedelta(seconds=3)]
        assert r.samples("activity", "pipe", before=T0.timestamp()) == []


@pytest.mark.parametrize("blob", [b"not zlib", zlib.compress(b"\xff\xfe"), zlib.compress(b"[" * 5000),
                                  zlib.compress(b'{"$c": "ActivitySample", "f": 5}'),
                                  zlib.compress(b'{"$dt": "not a date"}'), zlib.compress(b'{"$b": 7}')])
def test_a_damaged_sample_is_a_recording_error(tmp_path, blob):
    """A recording is a file from elsewhere: a sample that is not what this console wrote is
    a RecordingError (which replay and the CLI report), never zlib.error or RecursionError."""
    path = tmp_path / "damaged.db"
    with Recorder(path) as rec:
        with rec.tick(T0) as t:
            t.add("activity", "pipe", sample(0))
    db = sqlite3.connect(path)
    db.execute("UPDATE samples SET data = ?", (blob,))
    db.commit()
    db.close()
    with Recording(path) as r, pytest.raises(RecordingError):
        r.first()
