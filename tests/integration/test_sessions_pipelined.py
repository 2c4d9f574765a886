"""The session scan keeps the next page's commands on the wire while this page's records
are made (core.sessions.scan._pipelined), against the real Redis: every key once and in
the pages ``scan_keys`` gives, a connection dropped mid-scan raised in order after the
pages read before it, and a scan that ends early (the caller stops, the stop flag, a
failure) never leaves its unread replies to the next user of the connection."""

from __future__ import annotations

import threading

import pytest
import redis

from console.backends.base import BackendError, ErrorKind
from console.backends.redis import RedisBackend
from console.config import RedisSettings
from console.core import sessions as core
from console.core.sessions import wire

from .test_sessions_core import redis_on_db

N = 5_000


def _fill(c, n: int) -> None:
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.set(f"session:u{i}", '{"user_id":"u%d","current_notebook":"nb/%d.ipynb"}' % (i, i % 7), ex=600 + i)
    p.execute()


@pytest.fixture
def big(stack):
    b = redis_on_db(stack, 5, scan_count=500)
    _fill(b.client, N)
    yield b
    try:
        b.client.flushdb()
    finally:
        b.close()


def _pages(big) -> list[list[str]]:
    return [[k.decode() for k in keys] for keys, *_ in core.scan_keys(big, big.settings, core.SESSION_PATTERN)]


def _everything_read_right(big) -> None:
    """A whole listing on the same backend (the same pooled connection) gives every key with
    its own value: nothing unread from an earlier scan is taken for this one's replies."""
    records = [r for b in core.scan_sessions(big, big.settings) for r in b.records]
    assert sorted(r.key for r in records) == sorted(f"session:u{i}" for i in range(N))
    assert all(r.kind == "json" and r.notebook == f"nb/{int(r.user[1:]) % 7}.ipynb" for r in records)
    assert all(r.ttl_s is not None and 0 < r.ttl_s <= 600 + int(r.user[1:]) for r in records)
    assert big.client.get("session:u7") is not None


@pytest.mark.parametrize("direct", [True, False], ids=["pipelined", "round-trips"])
def test_every_key_once_in_the_pages_scan_keys_gives(big, monkeypatch, direct):
    if not direct:      # a connection whose socket cannot be read directly: one round trip a page
        monkeypatch.setattr(wire, "_raw_socket", lambda conn: None)
    batches = list(core.scan_sessions(big, big.settings))
    assert [[r.key for r in b.records] for b in batches] == _pages(big)
    assert sorted(r.key for b in batches for r in b.records) == sorted(f"session:u{i}" for i in range(N))
    assert batches[-1].done and batches[-1].matched == N
    assert all(r.kind == "json" and r.notebook for b in batches for r in b.records)


def test_the_cap_ends_the_pipelined_scan_like_scan_keys(big):
    batches = list(core.scan_sessions(big, big.settings, cap=1_200))
    assert batches[-1].capped and not batches[-1].done and batches[-1].matched == 1_200
    assert sum(len(b.records) for b in batches) == 1_200
    _everything_read_right(big)


def test_a_connection_dropped_mid_scan_is_raised_after_the_pages_before_it(big):
    pages = _pages(big)
    killer = redis.Redis.from_url(big.settings.url, client_name="test-killer")
    got: list[list[str]] = []
    try:
        with pytest.raises(BackendError) as err:
            for b in core.scan_sessions(big, big.settings):
                got.append([r.key for r in b.records])
                if len(got) == 2:           # the server drops the scan's connection
                    for c in killer.client_list():
                        if c.get("name") == "console":
                            killer.client_kill_filter(_id=c["id"])
    finally:
        killer.close()
    assert err.value.kind is ErrorKind.UNREACHABLE
    # the pages handed over before, then the error: two, or three when Redis had answered
    # the page already on the wire before it dropped the connection
    assert len(got) in (2, 3) and got == pages[:len(got)], [len(p) for p in got]
    _everything_read_right(big)                     # the pool gives a working connection again


def test_a_caller_that_stops_early_leaves_no_reply_unread(big):
    it = core.scan_sessions(big, big.settings)
    first = next(it)
    assert first.records and not first.done
    it.close()                  # the screen went away with the next page's replies on the wire
    _everything_read_right(big)


def test_the_stop_flag_ends_the_scan_and_leaves_no_reply_unread(big):
    stop = threading.Event()
    got = 0
    for b in core.scan_sessions(big, big.settings, stop=stop):
        got += len(b.records)
        stop.set()
    assert 0 < got < N
    _everything_read_right(big)


def test_a_user_without_scan_gets_a_typed_error_not_a_crash(big):
    """An ACL that forbids SCAN (or a renamed command) answers with an error reply: the
    listing raises it as a BackendError, and the connection is not handed back out of step."""
    big.client.acl_setuser("console-noscan", enabled=True, passwords=["+pw"], keys=["*"],
                           commands=["+@all", "-scan"])
    try:
        url = big.settings.url.replace("redis://", "redis://console-noscan:pw@", 1)
        limited = RedisBackend(RedisSettings(url=url, scan_count=500))
        try:
            with pytest.raises(BackendError) as err:
                list(core.scan_sessions(limited, limited.settings))
            assert err.value.kind is ErrorKind.ERROR and "NOPERM" in str(err.value)
            assert limited.client.get("session:u1") is not None      # the pool's connection in step
        finally:
            limited.close()
    finally:
        big.client.acl_deluser("console-noscan")


def test_records_are_made_with_the_cycle_collector_off_and_it_is_back_on_after(big, monkeypatch):
    """Each page's records are made with the collector paused (its full passes over every
    record kept so far come about seven times less often); between pages and after the
    listing — finished or stopped early — it is on."""
    import gc

    from console.core.sessions import scan

    during: list[bool] = []
    made = scan._records

    def records(*args):
        during.append(gc.isenabled())
        return made(*args)

    monkeypatch.setattr(scan, "_records", records)
    between = [gc.isenabled() for _ in core.scan_sessions(big, big.settings)]
    assert during and not any(during) and all(between) and gc.isenabled()
    it = core.scan_sessions(big, big.settings)
    next(it)
    it.close()
    assert gc.isenabled()


def test_a_pages_records_are_frozen_before_the_collector_is_back_on(big):
    """The records hold no cycles and live as long as the list: frozen before the
    collector is back on, the pass its re-enabling would trigger does not read them (a
    quarter of a 200,000-key listing's time went to those passes), nor do later ones."""
    import gc

    seen, matched = 0, -1
    try:
        for batch in core.scan_sessions(big, big.settings):    # (the last batch may have no record)
            tracked = {id(o) for o in gc.get_objects()}
            assert not any(id(r) in tracked for r in batch.records)
            seen, matched = seen + len(batch.records), batch.matched
    finally:
        gc.unfreeze()
    assert seen == matched >= N
