"""The session scan reads the next page in a thread while this page's records are made
(core.sessions.scan._read_ahead), against the real Redis: every key once and in the same
pages as without it, a failure raised in order after the pages read before it, a caller
that stops early stops the reader, and the stop flag still ends the scan."""

from __future__ import annotations

import threading

import pytest

from console.backends.base import BackendError, ErrorKind
from console.core import sessions as core
from console.core.sessions import scan as scan_mod

from ..activity_helpers import wait_until
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


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sessions-read-ahead"]


def _wait_gone() -> None:
    wait_until(lambda: not _readers(), "the read-ahead thread to end", 5.0)


def test_every_key_once_in_the_pages_scan_keys_gives(big):
    pages = [keys for keys, *_ in core.scan_keys(big, big.settings, core.SESSION_PATTERN)]
    batches = list(core.scan_sessions(big, big.settings))
    assert [[r.key for r in b.records] for b in batches] == [[k.decode() for k in keys] for keys in pages]
    assert sorted(r.key for b in batches for r in b.records) == sorted(f"session:u{i}" for i in range(N))
    assert batches[-1].done and batches[-1].matched == N
    assert all(r.kind == "json" and r.notebook for b in batches for r in b.records)
    _wait_gone()


def _reads(monkeypatch, fail_at: int | None = None) -> list[int]:
    """Count the batch reads (keys per read); the ``fail_at``-th read fails as a dropped
    connection would."""
    real, reads = scan_mod._read_raw, []

    def read(backend, wire_keys):
        reads.append(len(wire_keys))
        if len(reads) == fail_at:
            raise BackendError("redis", ErrorKind.UNREACHABLE, "connection reset mid-scan")
        return real(backend, wire_keys)

    monkeypatch.setattr(scan_mod, "_read_raw", read)
    return reads


def test_a_read_that_fails_is_raised_after_the_pages_before_it(big, monkeypatch):
    _reads(monkeypatch, fail_at=3)
    got = []
    with pytest.raises(BackendError, match="mid-scan"):
        for b in core.scan_sessions(big, big.settings):
            got.append(len(b.records))
    assert len(got) == 2 and all(got), got          # the two pages read before, then the error
    _wait_gone()


def test_a_caller_that_stops_early_stops_the_reader(big, monkeypatch):
    reads = _reads(monkeypatch)
    it = core.scan_sessions(big, big.settings)
    first = next(it)
    assert first.records and not first.done
    it.close()                                      # the screen went away, a new scan started
    _wait_gone()
    assert len(reads) <= 3, reads                   # this page, at most the next one and one in hand


def test_the_stop_flag_ends_the_scan(big):
    stop = threading.Event()
    got = 0
    for b in core.scan_sessions(big, big.settings, stop=stop):
        got += len(b.records)
        stop.set()
    assert 0 < got < N
    _wait_gone()
