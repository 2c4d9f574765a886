"""The packed batch read (core.sessions.wire) against the real Redis: the same replies as
redis-py's Pipeline for every kind of key (JSON, text, binary, empty, a hash, a missing
key, a value over the read bound, hostile bytes), replies split over many socket reads,
the connection still usable afterwards, and a dead server reported as a typed error."""

from __future__ import annotations

import pytest
import redis

from console.backends.base import BackendError, ErrorKind
from console.backends.redis import RedisBackend
from console.config import RedisSettings
from console.core import sessions as core
from console.core.sessions import wire

DB = 13


@pytest.fixture
def client(stack):
    url = stack.redis.url.rsplit("/", 1)[0] + f"/{DB}"
    c = redis.Redis.from_url(url)
    c.flushdb()
    yield url, c
    c.flushdb()
    c.close()


def _keys(c):
    c.set("session:json", '{"current_notebook": "nb/1", "last_activity": "t", "progress": 0.5}', ex=600)
    c.set("session:text", "hello", ex=600)
    c.set(b"session:\xff\x00bin", b"\x80\x04\x95", ex=600)
    c.set("session:empty", "")
    c.set("session:big", b"x" * (core.VALUE_READ_BYTES * 3))
    c.hset("session:hash", mapping={"current_notebook": "nb/h", "connection_id": "ws-1"})
    c.set("session:list-shaped", "[1, 2]", ex=60)
    return [b"session:json", b"session:text", b"session:\xff\x00bin", b"session:empty", b"session:big",
            b"session:hash", b"session:missing", b"session:list-shaped"]


def _pipeline(c, keys):
    p = c.pipeline(transaction=False)
    for k in keys:
        p.ttl(k)
        p.memory_usage(k)
        p.getrange(k, 0, core.VALUE_READ_BYTES - 1)
    return p.execute(raise_on_error=False)


def _use(reader, monkeypatch):
    """``hiredis``: the C reader on the socket (the default); ``python``: the flat reader in
    Python (no hiredis installed); ``read_response``/``redis-py``: through redis-py's parser
    (bytes left buffered, another redis-py layout)."""
    if reader == "hiredis":
        assert wire.HIREDIS is not None, "hiredis is a dependency"
    elif reader == "python":
        monkeypatch.setattr(wire, "HIREDIS", None)
    else:
        monkeypatch.setattr(wire, "_raw_socket", lambda conn: None)


@pytest.mark.parametrize("reader", ["hiredis", "python", "read_response"])
def test_packed_batch_reads_what_a_pipeline_reads(client, reader, monkeypatch):
    url, c = client
    _use(reader, monkeypatch)
    keys = _keys(c)
    packed = wire.pack_reads(keys, wire.read_template(core.VALUE_READ_BYTES))
    got = wire.send_and_read(c, packed, 3 * len(keys))
    want = _pipeline(c, keys)
    assert len(got) == len(want) == 3 * len(keys)
    for i, (g, w) in enumerate(zip(got, want)):
        if isinstance(w, Exception):
            assert isinstance(g, redis.ResponseError) and "WRONGTYPE" in str(g), (i, g)
        elif i % 3 == 0:
            assert abs(g - w) <= 1, (i, g, w)            # a TTL may tick between the two reads
        else:
            assert g == w, (i, g, w)
    assert len(got[3 * 4 + 2]) == core.VALUE_READ_BYTES   # the big value is cut at the bound
    assert got[3 * 6:3 * 6 + 3] == [-2, None, b""]       # missing key: gone, no size, empty range
    assert c.ping()                                        # the pooled connection is still in step


@pytest.mark.parametrize("reader", ["hiredis", "python"])
def test_many_large_replies_split_over_socket_reads(client, reader, monkeypatch):
    url, c = client
    _use(reader, monkeypatch)
    value = b'{"current_notebook": "' + b"n" * 60_000 + b'"}'
    keys = [f"session:big{i}".encode() for i in range(40)]   # ~2.4 MB of replies: several recv()s
    for k in keys:
        c.set(k, value)
    got = wire.send_and_read(c, wire.pack_reads(keys, wire.read_template(core.VALUE_READ_BYTES)), 3 * len(keys))
    assert [got[3 * i + 2] for i in range(len(keys))] == [value] * len(keys)
    recs = core.read_records(RedisBackend(RedisSettings(url=url)), keys)
    assert all(r.kind == "json" and r.notebook == "n" * 60_000 for r in recs)


def test_records_of_every_kind(client):
    url, c = client
    keys = _keys(c)
    backend = RedisBackend(RedisSettings(url=url))
    try:
        recs = {r.key_bytes: r for r in core.read_records(backend, keys)}
    finally:
        backend.close()
    assert recs[b"session:json"].kind == "json" and recs[b"session:json"].notebook == "nb/1"
    assert recs[b"session:json"].summary == "progress=0.5" and 0 < recs[b"session:json"].ttl_s <= 600
    assert recs[b"session:text"].kind == "text"
    assert recs[b"session:\xff\x00bin"].kind == "binary"
    assert recs[b"session:empty"].kind == "empty" and recs[b"session:empty"].ttl_s is None
    assert recs[b"session:big"].truncated and recs[b"session:big"].kind == "text"
    assert recs[b"session:hash"].kind == "hash" and recs[b"session:hash"].notebook == "nb/h"
    assert recs[b"session:missing"].kind == "gone" and recs[b"session:missing"].ttl_s == -2
    assert recs[b"session:list-shaped"].kind == "json" and recs[b"session:list-shaped"].summary == "[1, 2]"


@pytest.mark.parametrize("reader", ["hiredis", "python", "redis-py"])
def test_scan_page_walks_what_redis_py_scan_walks(client, reader, monkeypatch):
    """Every page of SCAN read by the flat reader: the same cursors and keys as redis-py's
    ``scan`` (hostile bytes included, empty pages of a rare pattern included)."""
    url, c = client
    _use(reader, monkeypatch)
    _keys(c)
    for i in range(2500):
        c.set(f"other:{i}", "x")
        if i % 7 == 0:
            c.set(f"session:u{i}", "{}")
    for match, count in ((b"session:*", 100), (b"session:\xff*", 50), (b"nothing:*", 1000)):
        cursor, got_all, pages = 0, [], 0
        while True:
            got_cursor, got = wire.scan_page(c, cursor, match, count)
            want_cursor, want = c.scan(cursor, match=match, count=count)
            assert (got_cursor, got) == (int(want_cursor), list(want)), (match, cursor)
            got_all += got
            pages += 1
            cursor = got_cursor
            if cursor == 0:
                break
        assert pages > 1
        if match == b"session:*":
            assert len(set(got_all)) == 2500 // 7 + 1 + len(_keys(c)) - 1      # every session key, once
        elif match == b"session:\xff*":
            assert set(got_all) == {b"session:\xff\x00bin"}
    assert c.ping()                                        # the pooled connection is still in step


def test_unreachable_server_is_a_typed_error(stack):
    from console.demo.stack import free_port
    backend = RedisBackend(RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0", socket_timeout_s=0.5))
    with pytest.raises(BackendError) as err:
        core.read_records(backend, [b"session:x"])
    assert err.value.kind == ErrorKind.UNREACHABLE


@pytest.mark.parametrize("reader", ["hiredis", "python"])
def test_connection_stays_in_step_after_the_parser_read_ahead(client, reader, monkeypatch):
    """After ordinary redis-py commands on the same pooled connection (its parser may have
    read ahead), a batch is read straight from the socket only when the parser holds
    nothing; either way the replies are the pipeline's and the connection stays in step."""
    url, c = client
    _use(reader, monkeypatch)
    keys = _keys(c)
    for _ in range(3):
        assert c.get("session:text") == b"hello"
        got = wire.send_and_read(c, wire.pack_reads(keys, wire.read_template(core.VALUE_READ_BYTES)), 3 * len(keys))
        assert got[3 * 1 + 2] == b"hello" and got[3 * 6:3 * 6 + 3] == [-2, None, b""]
        assert c.ping()


@pytest.mark.parametrize("read", ["batch", "scan"])
def test_a_server_that_stops_answering_is_a_timeout_and_the_connection_is_dropped(stack, read):
    """The batch read and the SCAN page on a pooled connection whose server stops answering
    (CLIENT PAUSE): a typed TIMEOUT within the socket timeout, and the connection (replies
    still due on it) is dropped, so the next call reads its own replies."""
    url = stack.redis.url.rsplit("/", 1)[0] + f"/{DB}"
    backend = RedisBackend(RedisSettings(url=url, socket_timeout_s=0.5, scan_count=100))
    admin = redis.Redis.from_url(url)
    try:
        admin.set("session:paused", '{"current_notebook": "nb/p"}', ex=600)
        admin.set("other:after", '{"current_notebook": "nb/after"}', ex=600)
        assert core.read_records(backend, [b"session:paused"])[0].notebook == "nb/p"   # a warm pooled connection
        admin.client_pause(1500)
        with pytest.raises(BackendError) as err:
            if read == "batch":
                core.read_records(backend, [b"session:paused"])
            else:
                list(core.scan_keys(backend, backend.settings, "session:*"))
        assert err.value.kind == ErrorKind.TIMEOUT
        admin.client_unpause()
        # another key and another pattern: a reply left over from the paused call would show
        assert core.read_records(backend, [b"other:after"])[0].notebook == "nb/after"
        assert [k for keys, *_ in core.scan_keys(backend, backend.settings, "other:*") for k in keys] == \
            [b"other:after"]
    finally:
        admin.client_unpause()
        admin.delete("session:paused", "other:after")
        admin.close()
        backend.close()
