"""Finding keys and reading them: SCAN (never KEYS) batch by batch with a cap and a pause,
one pipeline per batch (TTL, MEMORY USAGE, a bounded GETRANGE), HSCAN of the connections
hash (never HGETALL), the caches. Keys travel as bytes to Redis and come back as
byte-exact ``str`` (core.sessions.keys)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from ...config import RedisSettings
from .. import collector, jsonvalue
from . import keys as K
from . import wire
from .values import (CACHE_CAP, CACHE_PATTERN, CONNECTIONS_KEY, HASH_READ_MAX_BYTES, SESSION_PATTERN,
                     SESSION_PREFIX, VALUE_READ_BYTES, CacheRecord, ConnectionRecord, SessionRecord,
                     flat_session_fields, mapping_fields, parse_cache, parse_connection, parse_hash, parse_value, ttl_value)

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


_READ = wire.read_template(VALUE_READ_BYTES)


def _wire_keys(keys: Sequence[bytes | str]) -> list[bytes]:
    return [k if type(k) is bytes else K.to_bytes(k) for k in keys]


def _read_keys(backend, keys: Sequence[bytes | str]) -> list[tuple[str, int | None, int | None, Any]]:
    """One packed batch for ``keys`` (core.sessions.wire): ``(key, ttl seconds, MEMORY USAGE
    bytes, the first VALUE_READ_BYTES of the value or the error)`` per key, in order."""
    wire_keys = _wire_keys(keys)
    replies = _read_raw(backend, wire_keys)
    it = iter(replies)
    return [(k.decode("utf-8", "surrogateescape"),
             ttl_value(ttl) if not isinstance(ttl, Exception) else None,
             mem if type(mem) is int else None, raw)
            for k, ttl, mem, raw in zip(wire_keys, it, it, it)]


def _read_raw(backend, wire_keys: list[bytes]) -> list[Any]:
    def read_batch(c):
        return wire.send_and_read(c, wire.pack_reads(wire_keys, _READ), 3 * len(wire_keys))
    return backend.call(read_batch)


def read_records(backend, keys: Sequence[bytes | str]) -> list[SessionRecord]:
    """TTL, MEMORY USAGE and a bounded GET of ``keys`` in one packed batch (a second, small
    pipeline reads hash-typed sessions that are small enough). Keys are bytes or byte-exact
    ``str`` (.keys); the records carry the byte-exact ``str``."""
    if not keys:
        return []
    wire_keys = _wire_keys(keys)
    return _records(backend, wire_keys, _read_raw(backend, wire_keys))


def _records(backend, keys: list[bytes], replies: list[Any]) -> list[SessionRecord]:
    """The records of ``keys`` from their batch's replies (``_read_raw``).

    The common row (a JSON object under VALUE_READ_BYTES) takes a straight path: decode,
    ``json.loads``, the four fields, one record; anything else goes through ``parse_value``."""
    if not keys:
        return []
    out: list[SessionRecord] = []
    append = out.append
    wrong: list[int] = []
    loads = jsonvalue.loads
    flat = flat_session_fields
    it = iter(replies)
    for i, (kb, ttl, mem, raw) in enumerate(zip(keys, it, it, it)):
        key = kb.decode("utf-8", "surrogateescape")
        ttl_s = None if isinstance(ttl, Exception) else (None if ttl == -1 else ttl if type(ttl) is int else ttl_value(ttl))
        size = mem if type(mem) is int else None
        if ttl_s == -2:
            append(SessionRecord(key, -2, None, "gone", summary="(key disappeared)"))
            continue
        if type(raw) is bytes and len(raw) < VALUE_READ_BYTES:
            fields = flat(raw)
            if fields is not None:
                append(SessionRecord(key, ttl_s, size, "json", *fields))
                continue
            try:
                obj = loads(raw)
            except ValueError:       # not UTF-8, not JSON, nested too deep: not the common row
                obj = None
            if type(obj) is dict:
                nb, la, cid, summary = mapping_fields(obj)
                append(SessionRecord(key, ttl_s, size, "json", nb, la, cid, summary))
                continue
        if isinstance(raw, Exception):
            if "WRONGTYPE" in str(raw):
                wrong.append(i)
                append(SessionRecord(key, ttl_s, size, "other", summary=""))
            else:
                append(SessionRecord(key, ttl_s, size, "other", summary=f"error: {str(raw)[:60]}"))
            continue
        raw_b = raw if raw is not None else b""
        truncated = len(raw_b) >= VALUE_READ_BYTES
        parsed = parse_value(raw_b, truncated=truncated)
        append(SessionRecord(key, ttl_s, size, truncated=truncated, **parsed))
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
                    count = f"{len(h)} field" + ("" if len(h) == 1 else "s")
                    rec.summary = f"hash, {count}" + (f": {parsed['summary']}" if parsed["summary"] else "")
    return out


def dbsize(backend) -> int:
    return int(backend.call(lambda c: c.dbsize()))


def scan_keys(backend, settings: RedisSettings, pattern: str, *, cap: int | None = None,
              stop: threading.Event | None = None) -> Iterator[tuple[list[bytes], int, bool, bool, int]]:
    """SCAN MATCH pattern COUNT scan_count, batch by batch: yields
    (new distinct keys, cursor, done, capped, scan calls). Sleeps ``scan_pause_ms`` between
    batches. Never KEYS."""
    keys_seen = _Distinct(settings.scan_cap if cap is None else cap)
    match = K.to_bytes(pattern)      # a pattern typed with bytes that are not UTF-8 still works
    cursor, calls = 0, 0
    pause = settings.scan_pause_ms / 1000.0
    while True:
        if stop is not None and stop.is_set():
            return
        cursor, keys = backend.call(lambda c, cur=cursor: wire.scan_page(c, cur, match, settings.scan_count))
        calls += 1
        cursor = int(cursor)
        done, capped = keys_seen.add(keys, cursor)
        if keys_seen.due(done or capped, calls):
            yield keys_seen.take(), cursor, done, capped, calls
        if done or capped or _paused(pause, stop):
            return


class _Distinct:
    """The distinct keys of a SCAN (which may return a key twice) up to a cap, page by page."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.seen: set[bytes] = set()
        self.pending: list[bytes] = []    # new keys not handed over yet (empty pages pile up)

    def add(self, keys: Sequence[bytes], cursor: int) -> tuple[bool, bool]:
        """Take a page's keys: (done: the keyspace walked, capped: stopped at the cap)."""
        seen, cap, pending = self.seen, self.cap, self.pending
        dropped = False
        before = len(seen)
        if before + len(keys) <= cap and seen.isdisjoint(keys):
            # The common page: no key seen before and room under the cap: set work in C
            # (a page may still name a key twice: then the first of each, in order).
            seen.update(keys)
            pending.extend(keys if len(seen) - before == len(keys) else dict.fromkeys(keys))
            keys = ()
        for k in keys:
            if k not in seen:
                if len(seen) < cap:
                    seen.add(k)
                    pending.append(k)
                else:
                    dropped = True
        capped = len(seen) >= cap and (cursor != 0 or dropped)
        return cursor == 0 and not capped, capped

    def due(self, last: bool, calls: int) -> bool:
        """Hand the pending keys over: at least every 50 SCAN calls so the first rows come
        quickly even when the pattern is rare (many empty pages), but not an empty batch
        each call."""
        return bool(self.pending) or last or calls % 50 == 0

    def take(self) -> list[bytes]:
        out, self.pending = self.pending, []
        return out


def _paused(seconds: float, stop: threading.Event | None) -> bool:
    """The pause between SCAN pages (``scan_pause_ms``); True when the stop flag ended it."""
    if not seconds:
        return False
    if stop is not None:
        return stop.wait(seconds)
    time.sleep(seconds)
    return False


def scan_sessions(backend, settings: RedisSettings, pattern: str = SESSION_PATTERN, *,
                  cap: int | None = None, stop: threading.Event | None = None) -> Iterator[ScanBatch]:
    """The incremental session scan: one ScanBatch per SCAN page, each with its rows
    already read (TTL, size, value), so a screen can show rows before the scan ends.

    The next page's commands are on the wire (:func:`_pipelined`) while this page's
    records are made: Redis's work and the round trips overlap the Python that makes the
    records (about 40 % of a 200,000-key listing was waiting for replies)."""
    t0 = time.perf_counter()
    estimate = dbsize(backend)
    matched = 0
    for keys, cursor, done, capped, calls, replies in _pages(backend, settings, pattern, cap, stop):
        # A page's thousand records made with the cycle collector off and frozen out of it
        # before it is back on (collector.kept): they hold no cycles and live as long as the
        # list, and the passes after read them all again, every older page's included (a
        # quarter of a 200,000-key listing's time: 0.68-0.80 s -> 0.60-0.63 s).
        with collector.kept():
            records = _records(backend, keys, replies)
        matched += len(keys)
        yield ScanBatch(records, matched, cursor, done, capped, estimate, calls, time.perf_counter() - t0)


Page = tuple[list[bytes], int, bool, bool, int, list[Any]]   # wire keys, cursor, done, capped, calls, replies


def _pages(backend, settings: RedisSettings, pattern: str, cap: int | None,
           stop: threading.Event | None) -> Iterator[Page]:
    """``scan_keys`` with each page's batch read: pipelined on one connection when its
    socket can be read directly (``wire._raw_socket``), else one round trip at a time."""
    pool = backend.client.connection_pool
    conn = backend.call(lambda _client: pool.get_connection())
    sock = wire._raw_socket(conn)
    if sock is None:
        pool.release(conn)
        for keys, cursor, done, capped, calls in scan_keys(backend, settings, pattern, cap=cap, stop=stop):
            wire_keys = _wire_keys(keys)
            yield wire_keys, cursor, done, capped, calls, (_read_raw(backend, wire_keys) if wire_keys else [])
        return
    yield from _pipelined(backend, pool, conn, sock, settings, pattern, cap, stop)


def _pipelined(backend, pool, conn, sock, settings: RedisSettings, pattern: str, cap: int | None,
               stop: threading.Event | None) -> Iterator[Page]:
    """The pages of ``scan_keys`` with their batch replies, one page ahead on the wire.

    One write per page carries the page's reads (TTL, MEMORY USAGE, GETRANGE per key) and
    the next SCAN; the page before it is handed to the caller while Redis answers, and
    only then are the replies read. Same pages, same dedup, cap, pause and stop flag as
    ``scan_keys``. A caller that stops early, the stop flag or any failure leaves replies
    unread on the connection: it is disconnected, never put back in step-less."""
    keys_seen = _Distinct(settings.scan_cap if cap is None else cap)
    match = K.to_bytes(pattern)
    count = settings.scan_count
    pause = settings.scan_pause_ms / 1000.0
    stream = wire.ReplyStream(sock)
    in_step = False
    ready: Page | None = None            # a page whose replies are read, not yet handed over

    def io(fn, *args):               # backend.call's typed errors and its log line
        return backend.call(lambda _client: wire.guarded(lambda: fn(*args)))

    try:
        io(conn.send_packed_command, [wire.scan_command(0, match, count)])
        cursor, keys = io(stream.scan_reply)
        calls = 1
        while True:
            if stop is not None and stop.is_set():
                return
            done, capped = keys_seen.add(keys, cursor)
            more = not (done or capped)
            hand = keys_seen.due(not more, calls)
            batch: list[bytes] = keys_seen.take() if hand else []
            if more and _paused(pause, stop):
                return
            packed = (wire.pack_reads(batch, _READ) if batch else b"") + \
                (wire.scan_command(cursor, match, count) if more else b"")
            if packed:
                io(conn.send_packed_command, [packed])
            if ready is not None:
                page, ready = ready, None
                yield page                   # Redis answers the write above meanwhile
                if stop is not None and stop.is_set():
                    return
            replies = io(stream.take, 3 * len(batch)) if batch else []
            if hand:
                ready = (batch, cursor, done, capped, calls, replies)
            if not more:
                break
            cursor, keys = io(stream.scan_reply)
            calls += 1
        in_step = not stream.unread()
        if ready is not None:
            page, ready = ready, None
            yield page
    finally:
        if not in_step:
            conn.disconnect()
        pool.release(conn)


def list_sessions(backend, settings: RedisSettings, pattern: str = SESSION_PATTERN, *,
                  cap: int | None = None) -> tuple[list[SessionRecord], ScanBatch | None]:
    """The whole (capped) scan at once: (records, last batch)."""
    out: list[SessionRecord] = []
    last = None
    for b in scan_sessions(backend, settings, pattern, cap=cap):
        out.extend(b.records)
        last = b
    return out, last


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




def list_connections(backend, settings: RedisSettings, *, key: str = CONNECTIONS_KEY,
                     session_prefix: str = SESSION_PREFIX, cap: int | None = None) -> ConnectionsReport:
    """HSCAN the connections hash (never HGETALL), then one pipelined EXISTS per user to
    find connections whose session is gone."""
    cap = settings.scan_cap if cap is None else cap
    key = K.to_bytes(key)
    hlen = int(backend.call(lambda c: c.hlen(key)))
    conns: list[ConnectionRecord] = []
    cursor = 0
    capped = False
    while True:
        cursor, items = backend.call(lambda c, cur=cursor: c.hscan(key, cur, count=settings.scan_count))
        cursor = int(cursor)
        for f, v in items.items():
            cid = K.to_str(f)
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
                p.exists(K.to_bytes(session_prefix + u))
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

