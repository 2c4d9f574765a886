"""The flat RESP readers of core.sessions.wire (hiredis's C reader and the Python one) on a
socket pair: the same replies for every flat type, replies cut at every byte boundary,
error replies in their place, and a stream that is not what was asked for refused."""

from __future__ import annotations

import socket
import threading

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, ResponseError

from console.core.sessions import wire

# :0 (a TTL or size of zero) equals False, what a reader says while a reply is incomplete
STREAM = (b":42\r\n$5\r\nhe\r\nl\r\n$-1\r\n_\r\n+OK\r\n-WRONGTYPE Operation against a key\r\n"
          b":-2\r\n:0\r\n$0\r\n\r\n")
WANT = [42, b"he\r\nl", None, None, b"OK", "ERR", -2, 0, b""]


def _readers():
    out = [pytest.param(wire._read_flat_py, id="python")]
    if wire.HIREDIS is not None:
        out.append(pytest.param(wire._read_flat_hiredis, id="hiredis"))
    return out


def _feed(data: bytes, cut: int | None = None):
    a, b = socket.socketpair()

    def write() -> None:
        if cut is None:
            a.sendall(data)
        else:               # the reply cut in two writes: the reader must wait for the rest
            a.sendall(data[:cut])
            a.sendall(data[cut:])
        a.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=write)
    t.start()
    return a, b, t


def _check(got):
    assert len(got) == len(WANT)
    for g, w in zip(got, WANT):
        if w == "ERR":
            assert isinstance(g, ResponseError) and str(g).startswith("WRONGTYPE")
        else:
            assert g == w and type(g) is type(w)


def test_hiredis_is_installed():
    assert wire.HIREDIS is not None          # a dependency: the fast path is what users run


@pytest.mark.parametrize("read", _readers())
def test_every_flat_reply_at_every_cut(read):
    for cut in [None, *range(1, len(STREAM))]:
        a, b, t = _feed(STREAM, cut)
        try:
            _check(read(b, len(WANT)))
        finally:
            t.join()
            a.close()
            b.close()


@pytest.mark.parametrize("read", _readers())
def test_scan_reply_flattened(read):
    a, b, t = _feed(b"*2\r\n$3\r\n123\r\n*3\r\n$1\r\na\r\n$2\r\n\xff\x00\r\n$0\r\n\r\n")
    try:
        assert read(b, 1, arrays=True) == [b"123", b"a", b"\xff\x00", b""]
    finally:
        t.join()
        a.close()
        b.close()


@pytest.mark.parametrize("read", _readers())
@pytest.mark.parametrize("data,n,err", [
    (b"*1\r\n:1\r\n", 1, InvalidResponse),                  # an aggregate where flat replies were asked
    (b":1\r\n:2\r\n", 1, InvalidResponse),                  # more replies than commands
    (b":1\r\n", 2, RedisConnectionError),                    # the server went away mid-batch
    (b"!bogus\r\n", 1, InvalidResponse),                     # not RESP
])
def test_a_stream_out_of_step_is_refused(read, data, n, err):
    a, b, t = _feed(data)
    try:
        with pytest.raises(err):
            read(b, n)
    finally:
        t.join()
        a.close()
        b.close()


_STREAMS = [pytest.param(False, id="python")] + ([pytest.param(True, id="hiredis")] if wire.HIREDIS else [])


@pytest.mark.parametrize("fast", _STREAMS)
def test_a_stream_keeps_what_one_take_received_past_its_last_reply_for_the_next(fast):
    """A pipelined listing reads a page's replies and the next SCAN's from one stream, in
    several takes: bytes received past one take's replies are the next take's."""
    data = STREAM + b"*2\r\n$1\r\n7\r\n*1\r\n$1\r\nk\r\n" + STREAM
    for cut in [None, *range(1, len(data), 7)]:
        a, b, t = _feed(data, cut)
        try:
            s = wire.ReplyStream(b, use_hiredis=fast)
            _check(s.take(3) + s.take(len(WANT) - 3))
            assert s.scan_reply() == (7, [b"k"])
            _check(s.take(len(WANT)))
            assert not s.unread()
        finally:
            t.join()
            a.close()
            b.close()


@pytest.mark.parametrize("fast", _STREAMS)
def test_a_scan_answered_with_an_error_raises_it(fast):
    a, b, t = _feed(b"-NOPERM this user has no permissions to run the 'scan' command\r\n:1\r\n")
    try:
        s = wire.ReplyStream(b, use_hiredis=fast)
        with pytest.raises(ResponseError, match="NOPERM"):
            s.scan_reply()
        assert s.take(1) == [1]
    finally:
        t.join()
        a.close()
        b.close()
