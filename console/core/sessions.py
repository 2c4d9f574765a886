"""Seed 004's real-time layer in Redis: ``session:<user>`` keys, the
``websocket_connections`` hash, ``class_summary:*`` caches and the pub/sub channels.

Safe against a production Redis with millions of keys:

- keys are found with ``SCAN MATCH … COUNT n`` (never ``KEYS``), batch by batch, with an
  optional pause between batches and a cap on how many keys are read;
- per batch, TTL, ``MEMORY USAGE`` and a bounded read of the value (``GETRANGE 0 64K-1``,
  i.e. GET capped so a huge value is never pulled whole) go in one pipeline;
- the connections hash is read with ``HSCAN`` (never ``HGETALL``), and each connection's
  session is checked with a pipelined ``EXISTS``.

Parsing is pure (no server needed). Every Redis call goes through ``RedisBackend.call`` so
failures come back as typed ``BackendError``s. The pub/sub tail has its own connection
(a subscribed connection cannot run other commands) without redis-py's silent retries, so
a dropped subscription is seen, reconnected with back-off and reported as a gap.

Mutations (expire, delete) are core functions following the write-ahead audit protocol
(``audit.begin`` refuses in read-only mode, records the intent before the Redis command,
``audit.settle`` after it) on the PostgreSQL audit target.
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urlsplit

from ..backends.base import BackendError, ErrorKind
from ..config import RedisSettings, Settings
from . import audit
from .plan import Hazard, Plan, Step
from .text import visible

SESSION_PREFIX = "session:"
SESSION_PATTERN = "session:*"
CONNECTIONS_KEY = "websocket_connections"
CACHE_PATTERN = "class_summary:*"
CHANNELS = ("progress_events", "error_events", "session_events")
VALUE_READ_BYTES = 64 * 1024          # a value is read with GETRANGE 0 .. this-1
HASH_READ_MAX_BYTES = 64 * 1024       # a hash session bigger than this is not read
CACHE_CAP = 10_000

EXPIRE = audit.action("sessions.expire", "set a new TTL on a Redis session key")
DELETE = audit.action("sessions.delete", "delete a Redis session key")


# --------------------------------------------------------------------------- INFO


@dataclass(frozen=True)
class ServerInfo:
    version: str = "?"
    uptime_s: int = 0
    connected_clients: int = 0
    blocked_clients: int = 0
    ops_per_sec: int = 0
    used_memory: int = 0
    maxmemory: int = 0
    keyspace_hits: int = 0
    keyspace_misses: int = 0
    evicted_keys: int = 0
    expired_keys: int = 0
    total_commands: int = 0
    keyspace: dict[int, int] = field(default_factory=dict)     # db -> keys
    notify_keyspace_events: str | None = None
    taken_at: float = 0.0                                      # monotonic seconds

    @property
    def hit_ratio(self) -> float | None:
        total = self.keyspace_hits + self.keyspace_misses
        return self.keyspace_hits / total if total else None

    @property
    def memory_ratio(self) -> float | None:
        return self.used_memory / self.maxmemory if self.maxmemory else None


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def parse_info(info: dict[str, Any], *, taken_at: float = 0.0, notify: str | None = None) -> ServerInfo:
    """redis-py's parsed ``INFO`` dict -> ServerInfo."""
    keyspace: dict[int, int] = {}
    for k, v in info.items():
        if isinstance(k, str) and k.startswith("db") and k[2:].isdigit() and isinstance(v, dict):
            keyspace[int(k[2:])] = _int(v.get("keys"))
    return ServerInfo(
        version=str(info.get("redis_version", "?")), uptime_s=_int(info.get("uptime_in_seconds")),
        connected_clients=_int(info.get("connected_clients")), blocked_clients=_int(info.get("blocked_clients")),
        ops_per_sec=_int(info.get("instantaneous_ops_per_sec")), used_memory=_int(info.get("used_memory")),
        maxmemory=_int(info.get("maxmemory")), keyspace_hits=_int(info.get("keyspace_hits")),
        keyspace_misses=_int(info.get("keyspace_misses")), evicted_keys=_int(info.get("evicted_keys")),
        expired_keys=_int(info.get("expired_keys")), total_commands=_int(info.get("total_commands_processed")),
        keyspace=keyspace, notify_keyspace_events=notify, taken_at=taken_at)


DELTA_FIELDS = ("evicted_keys", "expired_keys", "keyspace_hits", "keyspace_misses", "total_commands",
                "connected_clients", "used_memory")


def info_delta(prev: ServerInfo | None, cur: ServerInfo) -> dict[str, int]:
    """Changes since the previous refresh (empty on the first one, or after a restart,
    when counters went backwards)."""
    if prev is None or cur.uptime_s < prev.uptime_s:
        return {}
    return {f: getattr(cur, f) - getattr(prev, f) for f in DELTA_FIELDS}


def server_info(backend, db: int | None = None) -> ServerInfo:
    def go(c):
        info = c.info("all")
        notify = None
        try:
            notify = str(c.config_get("notify-keyspace-events").get("notify-keyspace-events", ""))
        except Exception:  # noqa: BLE001 - CONFIG is often renamed/disabled in production
            notify = None
        return info, notify
    info, notify = backend.call(go)
    return parse_info(info, taken_at=time.monotonic(), notify=notify)


def db_of(url: str) -> int:
    try:
        path = urlsplit(url).path.strip("/")
        return int(path) if path else 0
    except ValueError:
        return 0


def keyevents_enabled(notify: str | None) -> bool:
    """Does ``notify-keyspace-events`` publish expired-key events on __keyevent@…__?"""
    if not notify:
        return False
    return "E" in notify and ("x" in notify or "A" in notify)


# --------------------------------------------------------------------------- values


@dataclass(slots=True)
class SessionRecord:
    key: str
    ttl_s: int | None            # None: no TTL; -2: gone since it was scanned
    size_bytes: int | None
    kind: str                    # json | text | binary | hash | empty | gone | other type name
    notebook: str | None = None
    last_activity: str | None = None
    connection_id: str | None = None
    summary: str = ""
    truncated: bool = False

    @property
    def user(self) -> str:
        return self.key[len(SESSION_PREFIX):] if self.key.startswith(SESSION_PREFIX) else self.key

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "user": self.user, "ttl_s": self.ttl_s, "size_bytes": self.size_bytes,
                "kind": self.kind, "notebook": self.notebook, "last_activity": self.last_activity,
                "connection_id": self.connection_id, "summary": self.summary, "truncated": self.truncated}


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _decode(raw: bytes | str | None) -> tuple[str | None, bool]:
    """(text, is_text): bytes that are not UTF-8 are binary."""
    if raw is None:
        return None, False
    if isinstance(raw, str):
        return raw, True
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return None, False


def parse_value(raw: bytes | str | None, *, truncated: bool = False) -> dict[str, Any]:
    """A string value -> kind, notebook, last_activity, connection_id, summary.

    JSON objects give their fields; anything else is shown as what it is: text that is not
    JSON, binary (not UTF-8), empty."""
    if raw is None:
        return {"kind": "gone", "summary": "(key disappeared)"}
    text, is_text = _decode(raw)
    if not is_text:
        assert isinstance(raw, bytes)
        return {"kind": "binary", "summary": f"binary, {len(raw):,} bytes: {raw[:16].hex(' ')}"}
    assert text is not None
    if not text.strip():
        return {"kind": "empty", "summary": "(empty string)"}
    if truncated:
        return {"kind": "text", "summary": f"(over {VALUE_READ_BYTES // 1024} KiB, not parsed) " + _short(text, 50)}
    try:
        obj = json.loads(text)
    except ValueError:
        return {"kind": "text", "summary": "not JSON: " + _short(text, 60)}
    if not isinstance(obj, dict):
        return {"kind": "json", "summary": _short(json.dumps(obj, ensure_ascii=False))}
    return _from_mapping(obj, "json")


def _from_mapping(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    def s(k):
        v = obj.get(k)
        return None if v is None else str(v)
    rest = {k: v for k, v in obj.items() if k not in ("current_notebook", "last_activity", "connection_id", "user_id")}
    return {"kind": kind, "notebook": s("current_notebook"), "last_activity": s("last_activity"),
            "connection_id": s("connection_id"),
            "summary": _short(", ".join(f"{k}={v}" for k, v in rest.items())) if rest else ""}


def parse_hash(fields: dict) -> dict[str, Any]:
    obj = {}
    for k, v in fields.items():
        kt, _ = _decode(k)
        vt, ok = _decode(v)
        obj[kt if kt is not None else repr(k)] = vt if ok else f"<{len(v)} bytes binary>"
    return _from_mapping(obj, "hash")


def ttl_value(ttl: Any) -> int | None:
    """Redis TTL reply -> seconds; None for 'no TTL' (-1); -2 for 'gone'."""
    t = _int(ttl)
    if t == -1:
        return None
    return t


# --------------------------------------------------------------------------- scan


@dataclass
class ScanBatch:
    records: list[SessionRecord]
    matched: int                 # distinct keys read so far
    cursor: int
    done: bool                   # the whole keyspace was walked (cursor back at 0)
    capped: bool = False         # stopped at scan_cap before the end
    estimate: int | None = None  # DBSIZE of the logical db (an upper bound for the pattern)
    scan_calls: int = 0
    elapsed_s: float = 0.0


def _read_keys(backend, keys: Sequence[bytes | str]) -> list[tuple[str, int | None, int | None, Any]]:
    """One pipeline for ``keys``: ``(key, ttl seconds, MEMORY USAGE bytes, the first
    VALUE_READ_BYTES of the value or the error)`` per key, in order."""
    def go(c):
        p = c.pipeline(transaction=False)
        for k in keys:
            p.ttl(k)
            p.memory_usage(k)
            p.getrange(k, 0, VALUE_READ_BYTES - 1)
        return p.execute(raise_on_error=False)
    replies = backend.call(go)
    out = []
    for i, k in enumerate(keys):
        ttl, mem, raw = replies[3 * i: 3 * i + 3]
        out.append((k.decode("utf-8", "replace") if isinstance(k, bytes) else k,
                    ttl_value(ttl) if not isinstance(ttl, Exception) else None,
                    mem if isinstance(mem, int) else None, raw))
    return out


def read_records(backend, keys: Sequence[bytes | str]) -> list[SessionRecord]:
    """TTL, MEMORY USAGE and a bounded GET of ``keys`` in one pipeline (a second, small
    one reads hash-typed sessions that are small enough)."""
    if not keys:
        return []
    out: list[SessionRecord] = []
    wrong: list[int] = []
    for i, (key, ttl_s, size, raw) in enumerate(_read_keys(backend, keys)):
        if ttl_s == -2:
            out.append(SessionRecord(key, -2, None, "gone", summary="(key disappeared)"))
            continue
        if isinstance(raw, Exception):
            if "WRONGTYPE" in str(raw):
                wrong.append(i)
                out.append(SessionRecord(key, ttl_s, size, "other", summary=""))
            else:
                out.append(SessionRecord(key, ttl_s, size, "other", summary=f"error: {str(raw)[:60]}"))
            continue
        raw_b = raw if raw is not None else b""
        truncated = len(raw_b) >= VALUE_READ_BYTES
        parsed = parse_value(raw_b, truncated=truncated)
        out.append(SessionRecord(key, ttl_s, size, truncated=truncated, **parsed))
    if wrong:
        def types(c):
            p = c.pipeline(transaction=False)
            for i in wrong:
                p.type(keys[i])
            return p.execute(raise_on_error=False)
        kinds = backend.call(types)
        readable = []
        for i, t in zip(wrong, kinds):
            tname = t.decode() if isinstance(t, bytes) else str(t)
            rec = out[i]
            rec.kind = tname
            if tname == "hash" and (rec.size_bytes or 0) <= HASH_READ_MAX_BYTES:
                readable.append(i)
            else:
                rec.summary = f"{tname} value ({rec.size_bytes or '?'} bytes) not read"
        if readable:
            def hashes(c):
                p = c.pipeline(transaction=False)
                for i in readable:
                    p.hgetall(keys[i])
                return p.execute(raise_on_error=False)
            for i, h in zip(readable, backend.call(hashes)):
                if isinstance(h, dict):
                    parsed = parse_hash(h)
                    rec = out[i]
                    rec.notebook, rec.last_activity = parsed["notebook"], parsed["last_activity"]
                    rec.connection_id = parsed["connection_id"]
                    rec.summary = f"hash, {len(h)} fields" + (f": {parsed['summary']}" if parsed["summary"] else "")
    return out


def dbsize(backend) -> int:
    return int(backend.call(lambda c: c.dbsize()))


def scan_keys(backend, settings: RedisSettings, pattern: str, *, cap: int | None = None,
              stop: threading.Event | None = None) -> Iterator[tuple[list[bytes], int, bool, bool, int]]:
    """SCAN MATCH pattern COUNT scan_count, batch by batch: yields
    (new distinct keys, cursor, done, capped, scan calls). Sleeps ``scan_pause_ms`` between
    batches. Never KEYS."""
    cap = settings.scan_cap if cap is None else cap
    seen: set[bytes] = set()
    cursor, calls = 0, 0
    pause = settings.scan_pause_ms / 1000.0
    pending: list[bytes] = []
    while True:
        if stop is not None and stop.is_set():
            return
        cursor, keys = backend.call(lambda c, cur=cursor: c.scan(cur, match=pattern, count=settings.scan_count))
        calls += 1
        cursor = int(cursor)
        dropped = False
        for k in keys:
            if k not in seen:
                if len(seen) < cap:
                    seen.add(k)
                    pending.append(k)
                else:
                    dropped = True
        capped = len(seen) >= cap and (cursor != 0 or dropped)
        done = cursor == 0 and not capped
        # Yield at least every scan_count keys so the first rows come quickly even when
        # the pattern is rare (many empty SCAN pages), but not an empty batch each call.
        if pending or done or capped or calls % 50 == 0:
            yield pending, cursor, done, capped, calls
            pending = []
        if done or capped:
            return
        if pause:
            if stop is not None:
                if stop.wait(pause):
                    return
            else:
                time.sleep(pause)


def scan_sessions(backend, settings: RedisSettings, pattern: str = SESSION_PATTERN, *,
                  cap: int | None = None, stop: threading.Event | None = None) -> Iterator[ScanBatch]:
    """The incremental session scan: one ScanBatch per SCAN page, each with its rows
    already read (TTL, size, value), so a screen can show rows before the scan ends."""
    t0 = time.perf_counter()
    estimate = dbsize(backend)
    matched = 0
    for keys, cursor, done, capped, calls in scan_keys(backend, settings, pattern, cap=cap, stop=stop):
        records = read_records(backend, keys)
        matched += len(keys)
        yield ScanBatch(records, matched, cursor, done, capped, estimate, calls, time.perf_counter() - t0)


def list_sessions(backend, settings: RedisSettings, pattern: str = SESSION_PATTERN, *,
                  cap: int | None = None) -> tuple[list[SessionRecord], ScanBatch | None]:
    """The whole (capped) scan at once: (records, last batch)."""
    out: list[SessionRecord] = []
    last = None
    for b in scan_sessions(backend, settings, pattern, cap=cap):
        out.extend(b.records)
        last = b
    return out, last


# --------------------------------------------------------------------------- table helpers (pure)

TTL_BUCKETS: tuple[tuple[str, int], ...] = (
    ("<1m", 60), ("1-5m", 300), ("5-15m", 900), ("15-60m", 3600), ("1-4h", 4 * 3600),
    ("4-24h", 86400), (">1d", 1 << 62))


def ttl_histogram(records: Sequence[SessionRecord]) -> list[tuple[str, int]]:
    """Remaining TTLs in buckets, plus 'no TTL' (keys that never expire)."""
    bounds = [b for _, b in TTL_BUCKETS]
    counts = [0] * len(TTL_BUCKETS)
    none = 0
    for r in records:
        if r.ttl_s is None:
            none += 1
        elif r.ttl_s >= 0:
            counts[bisect.bisect_right(bounds, r.ttl_s)] += 1
    return [(label, n) for (label, _), n in zip(TTL_BUCKETS, counts)] + [("no TTL", none)]


SORT_KEYS: dict[str, Callable[[SessionRecord], Any]] = {
    "key": lambda r: r.key,
    "ttl": lambda r: (r.ttl_s is None, r.ttl_s if r.ttl_s is not None else 0),
    "size": lambda r: r.size_bytes or 0,
    "notebook": lambda r: r.notebook or "",
    "activity": lambda r: r.last_activity or "",
    "kind": lambda r: r.kind,
}


def sort_records(records: list[SessionRecord], by: str, reverse: bool = False) -> list[SessionRecord]:
    return sorted(records, key=SORT_KEYS[by], reverse=reverse)


def filter_records(records: Sequence[SessionRecord], text: str) -> list[SessionRecord]:
    """Case-insensitive substring match on key, notebook, kind, summary. ``kind:text`` /
    ``ttl:none`` narrow by the value kind / keys without a TTL."""
    text = text.strip().lower()
    if not text:
        return list(records)
    out = list(records)
    for term in text.split():
        if term.startswith("kind:"):
            want = term[5:]
            out = [r for r in out if r.kind == want]
        elif term == "ttl:none":
            out = [r for r in out if r.ttl_s is None]
        else:
            out = [r for r in out if term in r.key.lower() or term in (r.notebook or "").lower()
                   or term in r.summary.lower()]
    return out


def page(records: Sequence[Any], index: int, size: int) -> tuple[list[Any], int, int]:
    """(rows of page ``index``, clamped index, page count)."""
    pages = max(1, -(-len(records) // size))
    index = max(0, min(index, pages - 1))
    return list(records[index * size:(index + 1) * size]), index, pages


# --------------------------------------------------------------------------- connections


@dataclass(slots=True)
class ConnectionRecord:
    connection_id: str
    user_id: str | None
    last_activity: str | None
    has_session: bool | None      # None: unknown (no user id in the value)
    raw: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"connection_id": self.connection_id, "user_id": self.user_id,
                "last_activity": self.last_activity, "has_session": self.has_session, "raw": self.raw}


@dataclass
class ConnectionsReport:
    connections: list[ConnectionRecord]
    capped: bool = False
    hash_len: int = 0

    @property
    def orphans(self) -> list[ConnectionRecord]:
        """Connections whose user has no session key."""
        return [c for c in self.connections if c.has_session is False]

    @property
    def users(self) -> set[str]:
        return {c.user_id for c in self.connections if c.user_id}


def parse_connection(cid: str, raw: bytes | str) -> tuple[str | None, str | None, str]:
    """A hash value -> (user_id, last_activity, shown text). Seed 004 writes the user id
    as the plain value; the demo writes ``{"user_id", "last_activity"}``."""
    text, ok = _decode(raw)
    if not ok:
        return None, None, f"binary {len(raw)} bytes"
    assert text is not None
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        u = obj.get("user_id")
        la = obj.get("last_activity")
        return (str(u) if u is not None else None, str(la) if la is not None else None, _short(text, 80))
    return (text.strip() or None, None, _short(text, 80))


def list_connections(backend, settings: RedisSettings, *, key: str = CONNECTIONS_KEY,
                     session_prefix: str = SESSION_PREFIX, cap: int | None = None) -> ConnectionsReport:
    """HSCAN the connections hash (never HGETALL), then one pipelined EXISTS per user to
    find connections whose session is gone."""
    cap = settings.scan_cap if cap is None else cap
    hlen = int(backend.call(lambda c: c.hlen(key)))
    conns: list[ConnectionRecord] = []
    cursor = 0
    capped = False
    while True:
        cursor, items = backend.call(lambda c, cur=cursor: c.hscan(key, cur, count=settings.scan_count))
        cursor = int(cursor)
        for f, v in items.items():
            cid = f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f)
            user, last, raw = parse_connection(cid, v)
            conns.append(ConnectionRecord(cid, user, last, None, raw))
        if cursor == 0:
            break
        if len(conns) >= cap:
            capped = True
            break
        if settings.scan_pause_ms:
            time.sleep(settings.scan_pause_ms / 1000.0)
    users = sorted({c.user_id for c in conns if c.user_id})
    exists: dict[str, bool] = {}
    for i in range(0, len(users), 1000):
        chunk = users[i:i + 1000]

        def go(c, chunk=chunk):
            p = c.pipeline(transaction=False)
            for u in chunk:
                p.exists(session_prefix + u)
            return p.execute()
        exists.update({u: bool(n) for u, n in zip(chunk, backend.call(go))})
    for c in conns:
        if c.user_id:
            c.has_session = exists.get(c.user_id)
    conns.sort(key=lambda c: (c.has_session is not False, c.user_id or "", c.connection_id))
    return ConnectionsReport(conns, capped, hlen)


def sessions_without_connection(records: Sequence[SessionRecord], report: ConnectionsReport) -> list[SessionRecord]:
    """Sessions whose user has no entry in the connections hash (only meaningful when
    the hash was read whole)."""
    users = report.users
    cids = {c.connection_id for c in report.connections}
    return [r for r in records if r.kind != "gone" and r.user not in users
            and not (r.connection_id and r.connection_id in cids)]


# --------------------------------------------------------------------------- caches


@dataclass(slots=True)
class CacheRecord:
    key: str
    ttl_s: int | None
    size_bytes: int | None
    kind: str
    fields: dict[str, Any]
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "ttl_s": self.ttl_s, "size_bytes": self.size_bytes, "kind": self.kind,
                "fields": self.fields, "summary": self.summary}


def parse_cache(raw: bytes | str | None) -> tuple[str, dict[str, Any], str]:
    if raw is None:
        return "gone", {}, "(key disappeared)"
    text, ok = _decode(raw)
    if not ok:
        return "binary", {}, f"binary, {len(raw)} bytes"
    try:
        obj = json.loads(text or "")
    except ValueError:
        return "text", {}, "not JSON: " + _short(text or "", 60)
    if isinstance(obj, dict):
        return "json", obj, _short(", ".join(f"{k}={v}" for k, v in obj.items()), 100)
    return "json", {}, _short(json.dumps(obj), 100)


def list_caches(backend, settings: RedisSettings, pattern: str = CACHE_PATTERN, *,
                cap: int = CACHE_CAP) -> list[CacheRecord]:
    out: list[CacheRecord] = []
    for keys, *_ in scan_keys(backend, settings, pattern, cap=cap):
        if not keys:
            continue
        for key, ttl_s, size, raw in _read_keys(backend, keys):
            if isinstance(raw, Exception):
                kind, fields, summary = "other", {}, "not a string"
            else:
                kind, fields, summary = parse_cache(raw)
            out.append(CacheRecord(key, ttl_s, size, kind, fields, summary))
    out.sort(key=lambda r: r.key)
    return out


# --------------------------------------------------------------------------- live tail


@dataclass(frozen=True)
class TailMessage:
    channel: str
    data: str
    at: datetime
    seq: int


@dataclass(frozen=True)
class TailStatus:
    """``connected`` (first subscription), ``disconnected`` (error), ``reconnected``
    (after a gap: messages published between ``since`` and ``at`` were missed)."""
    state: str
    at: datetime
    error: str | None = None
    since: datetime | None = None
    channels: tuple[str, ...] = ()

    @property
    def gap_s(self) -> float | None:
        return (self.at - self.since).total_seconds() if self.since else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def pubsub_client(settings: RedisSettings):
    """A dedicated client for SUBSCRIBE without redis-py's transparent retries (they would
    reconnect and resubscribe silently, hiding the gap)."""
    import redis as redislib
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redislib.Redis.from_url(settings.url, socket_timeout=settings.socket_timeout_s,
                                   socket_connect_timeout=settings.socket_timeout_s,
                                   retry=Retry(NoBackoff(), 0), health_check_interval=10,
                                   client_name="console-tail")


def tail(settings: RedisSettings, channels: Sequence[str] = CHANNELS, *, stop: threading.Event,
         keyevents: bool = False, poll_s: float = 0.25, backoff_s: tuple[float, float] = (0.25, 10.0),
         name: str = "redis") -> Iterator[TailMessage | TailStatus]:
    """Subscribe to ``channels`` (and ``__keyevent@<db>__:expired`` when ``keyevents``)
    and yield messages in arrival order, plus status events. A dropped subscription is
    retried with exponential back-off (from ``backoff_s[0]`` up to ``backoff_s[1]``);
    after it comes back a ``reconnected`` status says since when messages were missed.
    Returns when ``stop`` is set."""
    from ..backends.redis import classify

    subs = list(channels)
    if keyevents:
        subs.append(f"__keyevent@{db_of(settings.url)}__:expired")
    seq = 0
    down_since: datetime | None = None
    delay = backoff_s[0]
    first = True
    while not stop.is_set():
        client = pubsub_client(settings)
        ps = client.pubsub(ignore_subscribe_messages=True)
        try:
            ps.subscribe(*subs)
            # Wait for the subscribe confirmations so "connected" means subscribed.
            deadline = time.monotonic() + settings.socket_timeout_s
            while len(subs) and time.monotonic() < deadline:
                ps.get_message(timeout=0.05)
                if ps.subscribed and not ps.pending_unsubscribe_channels:
                    break
            now = _now()
            if first:
                yield TailStatus("connected", now, channels=tuple(subs))
            else:
                yield TailStatus("reconnected", now, since=down_since, channels=tuple(subs))
            first = False
            down_since = None
            delay = backoff_s[0]
            while not stop.is_set():
                m = ps.get_message(timeout=poll_s)
                if m is None or m.get("type") not in ("message", "pmessage"):
                    continue
                ch = m["channel"].decode("utf-8", "replace") if isinstance(m["channel"], bytes) else str(m["channel"])
                d = m["data"]
                text, ok = _decode(d) if isinstance(d, (bytes, str)) else (str(d), True)
                seq += 1
                yield TailMessage(ch, text if ok else f"<binary {len(d)} bytes>", _now(), seq)
        except Exception as exc:  # noqa: BLE001 - any failure: report, back off, resubscribe
            err = classify(name, exc) if not isinstance(exc, BackendError) else exc
            if down_since is None:
                down_since = _now()
                yield TailStatus("disconnected", down_since, error=err.message)
            if stop.wait(delay):
                break
            delay = min(delay * 2, backoff_s[1])
        finally:
            try:
                ps.close()
                client.close()
            except Exception:  # noqa: BLE001
                pass


class ChannelRates:
    """Messages per second per channel over a sliding window (for sparklines)."""

    def __init__(self, window_s: int = 60):
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}

    def add(self, channel: str, t: float) -> None:
        self._events.setdefault(channel, deque()).append(t)

    def series(self, channel: str, now: float) -> list[int]:
        """Counts per second, oldest first, ``window_s`` values."""
        q = self._events.get(channel, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        out = [0] * self.window_s
        for t in q:
            i = self.window_s - 1 - int(now - t)
            if 0 <= i < self.window_s:
                out[i] += 1
        return out

    def rate(self, channel: str, now: float, over_s: int = 10) -> float:
        s = self.series(channel, now)
        return sum(s[-over_s:]) / float(over_s)

    def clear(self) -> None:
        self._events.clear()


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class KeyPreview:
    key: str
    exists: bool
    type: str
    ttl_s: int | None
    size_bytes: int | None
    summary: str

    def text(self) -> str:
        if not self.exists:
            return f"{self.key}: does not exist"
        ttl = "no TTL" if self.ttl_s is None else f"TTL {fmt_ttl(self.ttl_s)} ({self.ttl_s} s)"
        size = f"{self.size_bytes:,} bytes" if self.size_bytes is not None else "size ?"
        return f"{self.key}  [{self.type}]  {ttl}  {size}\nvalue: {self.summary or '—'}"


@dataclass(frozen=True)
class ActionResult:
    action: str
    key: str
    ok: bool
    message: str
    audit_id: int | None = None
    outcome: str = "ok"                 # ok | failed | unknown (audit outcome of the change)
    audit_error: str | None = None      # set: done, but the audit record could not be settled


def fmt_ttl(ttl: int | None) -> str:
    if ttl is None:
        return "none"
    if ttl < 0:
        return "gone"
    if ttl < 60:
        return f"{ttl}s"
    if ttl < 3600:
        return f"{ttl // 60}m{ttl % 60:02d}s"
    if ttl < 86400:
        return f"{ttl // 3600}h{ttl % 3600 // 60:02d}m"
    return f"{ttl // 86400}d{ttl % 86400 // 3600:02d}h"


def check_session_key(key: str) -> None:
    if not key.startswith(SESSION_PREFIX) or len(key) == len(SESSION_PREFIX):
        raise BackendError("console", ErrorKind.REFUSED,
                           f"'{key}' is not a session key (expected {SESSION_PREFIX}<user>)")


def preview_key(backend, key: str) -> KeyPreview:
    recs = read_records(backend, [key])
    r = recs[0]
    if r.kind == "gone" or (r.ttl_s == -2):
        return KeyPreview(key, False, "none", None, None, "")
    parts = [p for p in (r.notebook and f"notebook={r.notebook}",
                         r.last_activity and f"last_activity={r.last_activity}", r.summary) if p]
    kind = r.kind if r.kind in ("hash", "list", "set", "zset", "stream") else "string"
    return KeyPreview(key, True, kind, r.ttl_s, r.size_bytes,
                      f"{r.kind}: " + "; ".join(parts) if parts else r.kind)


def plan_delete(key: str, preview: KeyPreview | None = None) -> Plan:
    check_session_key(key)
    note = (f" (TTL now: {'none' if preview.ttl_s is None else fmt_ttl(preview.ttl_s)})"
            if preview and preview.exists else "")
    return Plan(DELETE.name, f"delete Redis session {key}{note}",
                (Step(f"DEL {key}", call=f"Redis DEL {key}", hazard=Hazard.DESTRUCTIVE, target="redis",
                      transactional=False),))


def plan_expire(key: str, seconds: int, preview: KeyPreview | None = None) -> Plan:
    check_session_key(key)
    if seconds <= 0:
        raise BackendError("console", ErrorKind.REFUSED, "the new TTL must be at least 1 second")
    note = f" (now: {'no TTL' if preview.ttl_s is None else fmt_ttl(preview.ttl_s)})" if preview else ""
    return Plan(EXPIRE.name, f"set TTL of Redis session {key} to {seconds} s{note}",
                (Step(f"EXPIRE {key} {seconds}", call=f"Redis EXPIRE {key} {seconds} (no-op if the key is gone)",
                      target="redis", transactional=False),))


def _audit_and_run(settings: Settings, act: audit.Action, redis_backend, audit_pg_backend, key: str,
                   actor, detail: dict[str, Any], op: Callable[[], tuple[bool, str]],
                   plan: Plan | None = None) -> ActionResult:
    """Write-ahead: the intent on the audit target first (refused, audited, in read-only
    mode; no intent, no change), then the Redis operation, then the intent settled. A
    timeout or a lost connection is read back (does the key still have the old state?)
    before the outcome is decided."""
    target = f"redis:{redis_backend.name}:{visible(key)}"
    intent = audit.begin(settings, act, target=target, principal=actor, plan=plan, detail=detail,
                         audit_pg=audit_pg_backend)
    try:
        ok, message = op()
        outcome = audit.OK if ok else audit.FAILED
    except BackendError as exc:
        outcome = audit.outcome_of(exc)
        message = f"{exc.kind.value}: {exc.message}"
        if outcome == audit.UNKNOWN:
            message += "; the outcome is unknown: check the key (console sessions list) before retrying"
        audit.settle(intent, outcome, {"error": exc.message})
        return ActionResult(act.name, key, False, message, intent.id, outcome, intent.settle_error)
    audit.settle(intent, outcome, {"result": message})
    return ActionResult(act.name, key, ok, message, intent.id, outcome, intent.settle_error)


def delete_session(settings: Settings, redis_backend, audit_pg_backend, key: str, actor: str) -> ActionResult:
    """DEL one session key: refused in read-only mode, one audit row per run."""
    check_session_key(key)
    detail: dict[str, Any] = {"key": key}
    if not settings.read_only:
        pv = preview_key(redis_backend, key)
        detail.update({"ttl_s": pv.ttl_s, "type": pv.type, "size_bytes": pv.size_bytes})

    def op():
        n = int(redis_backend.call(lambda c: c.delete(key)))
        return (True, "deleted") if n else (False, "key did not exist")
    return _audit_and_run(settings, DELETE, redis_backend, audit_pg_backend, key, actor, detail, op,
                          plan_delete(key))


def expire_session(settings: Settings, redis_backend, audit_pg_backend, key: str, seconds: int,
                   actor: str) -> ActionResult:
    """EXPIRE one session key to ``seconds``: refused in read-only mode, one audit row."""
    check_session_key(key)
    if seconds <= 0:
        raise BackendError("console", ErrorKind.REFUSED, "the new TTL must be at least 1 second")
    detail: dict[str, Any] = {"key": key, "seconds": seconds}
    if not settings.read_only:
        pv = preview_key(redis_backend, key)
        detail.update({"previous_ttl_s": pv.ttl_s})

    def op():
        n = int(redis_backend.call(lambda c: c.expire(key, seconds)))
        return (True, f"TTL set to {seconds} s") if n else (False, "key did not exist")
    return _audit_and_run(settings, EXPIRE, redis_backend, audit_pg_backend, key, actor, detail, op,
                          plan_expire(key, seconds))


# --------------------------------------------------------------------------- service


class SessionsService:
    """What the screen and the CLI use: the Redis backend plus the audit target."""

    def __init__(self, settings: Settings, redis_backend, audit_pg_backend=None):
        self.settings = settings
        self.redis = redis_backend
        self.audit_pg = audit_pg_backend

    @property
    def configured(self) -> bool:
        return self.redis is not None

    @property
    def read_only(self) -> bool:
        return self.settings.read_only

    @property
    def redis_settings(self) -> RedisSettings:
        return self.redis.settings

    @property
    def address(self) -> str:
        return self.redis.address if self.redis else ""

    def info(self) -> ServerInfo:
        return server_info(self.redis)

    def scan(self, pattern: str, stop: threading.Event) -> Iterator[ScanBatch]:
        return scan_sessions(self.redis, self.redis.settings, pattern, stop=stop)

    def connections(self) -> ConnectionsReport:
        return list_connections(self.redis, self.redis.settings)

    def caches(self) -> list[CacheRecord]:
        return list_caches(self.redis, self.redis.settings)

    def tail(self, stop: threading.Event, keyevents: bool) -> Iterator[TailMessage | TailStatus]:
        return tail(self.redis.settings, CHANNELS, stop=stop, keyevents=keyevents, name=self.redis.name)

    def preview(self, key: str) -> KeyPreview:
        return preview_key(self.redis, key)

    def delete(self, key: str, actor: str) -> ActionResult:
        return delete_session(self.settings, self.redis, self.audit_pg, key, actor)

    def expire(self, key: str, seconds: int, actor: str) -> ActionResult:
        return expire_session(self.settings, self.redis, self.audit_pg, key, seconds, actor)

    def actor(self):
        """The acting principal (core.identity.Principal): declared only with
        ``[identity] allow_declared``, else the audit target's ``session_user``."""
        return audit.actor_name(self.settings)
