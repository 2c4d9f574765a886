"""The batch read at the wire: one packed write and a tight read of the replies.

redis-py's ``Pipeline`` spends most of a 3,000-command batch in Python per command
(argument encoding, packing, response callbacks): for a 200,000-key listing that is
seconds of pure overhead on top of the server's work. Here the three commands per key
(TTL, MEMORY USAGE, GETRANGE 0 n-1) are packed by one bytes-format per key from a fixed
template, written in one ``send_packed_command`` on a pooled connection of the same
client (same auth, TLS, db, timeouts), and the replies are read by a
flat RESP reader straight from the socket (redis-py's own parser costs ~15 µs a reply),
or through ``read_response(disable_decoding=True)`` when that is not safe. An error reply (WRONGTYPE)
comes back as the exception object in its place, as ``execute(raise_on_error=False)``
does. Any other failure disconnects the connection (its socket may be out of step) and
raises: the caller's ``backend.call`` maps it to a typed ``BackendError``.
"""

from __future__ import annotations

import socket
from typing import Any, Sequence

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

try:        # the C RESP reader redis-py itself uses when it is installed (a dependency)
    import hiredis
except ImportError:         # pragma: no cover - exercised by forcing HIREDIS = None in the tests
    hiredis = None

HIREDIS = hiredis


def _bulk(n: int) -> bytes:
    s = str(n).encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)


def read_template(value_bytes: int) -> bytes:
    """The RESP of ``TTL k; MEMORY USAGE k; GETRANGE k 0 value_bytes-1`` with ``%d``/``%s``
    slots for (len, key) three times."""
    return (b"*2\r\n$3\r\nTTL\r\n$%d\r\n%s\r\n"
            b"*3\r\n$6\r\nMEMORY\r\n$5\r\nUSAGE\r\n$%d\r\n%s\r\n"
            b"*4\r\n$8\r\nGETRANGE\r\n$%d\r\n%s\r\n" + _bulk(0) + _bulk(value_bytes - 1))


def pack_reads(keys: Sequence[bytes], template: bytes) -> bytes:
    return b"".join([template % (len(k), k, len(k), k, len(k), k) for k in keys])


def send_and_read(client, packed: bytes, replies: int) -> list[Any]:
    """Write ``packed`` (``replies`` commands) on one pooled connection of ``client`` and
    read every reply in order: integers, bulk strings (bytes), nil (None), an error reply
    as a ``ResponseError`` in its place."""
    pool = client.connection_pool
    conn = pool.get_connection()
    try:
        return guarded(lambda: _send_and_read(conn, packed, replies), "a batch of replies")
    except BaseException:
        conn.disconnect()          # its socket may be out of step
        raise
    finally:
        pool.release(conn)


def _send_and_read(conn, packed: bytes, replies: int) -> list[Any]:
    conn.send_packed_command([packed])
    sock = _raw_socket(conn)
    if sock is not None:
        return _read_flat(sock, replies)
    read = conn.read_response
    out: list[Any] = []
    append = out.append
    for _ in range(replies):
        try:
            append(read(disable_decoding=True))
        except ResponseError as exc:
            append(exc)
    return out


def scan_command(cursor: int, match: bytes, count: int) -> bytes:
    """The RESP of ``SCAN cursor MATCH match COUNT count``."""
    return b"*6\r\n$4\r\nSCAN\r\n" + b"".join(
        b"$%d\r\n%s\r\n" % (len(a), a) for a in (str(cursor).encode(), b"MATCH", match, b"COUNT", str(count).encode()))


def guarded(fn, what: str = "a batch of replies"):
    """``fn()`` with a socket's timeout and errors raised as redis-py's (what its own
    reads raise), so ``backend.call`` types them the same way."""
    try:
        return fn()
    except socket.timeout:
        raise RedisTimeoutError(f"Timeout reading {what}") from None
    except OSError as exc:
        raise RedisConnectionError(f"Error reading {what}: {exc}") from None


def scan_page(client, cursor: int, match: bytes, count: int) -> tuple[int, list[bytes]]:
    """``SCAN cursor MATCH match COUNT count`` read by the flat reader (redis-py parses the
    reply's thousand keys one Python call each); through redis-py when that is not safe."""
    pool = client.connection_pool
    conn = pool.get_connection()
    sock = _raw_socket(conn)
    if sock is None:
        pool.release(conn)
        cur, keys = client.scan(cursor, match=match, count=count)
        return int(cur), list(keys)

    def scan() -> tuple[int, list[bytes]]:
        conn.send_packed_command([scan_command(cursor, match, count)])
        return _scan_result(_read_flat(sock, 1, arrays=True))

    try:
        return guarded(scan, "a SCAN reply")
    except BaseException:
        conn.disconnect()
        raise
    finally:
        pool.release(conn)


def _scan_result(reply: list[Any]) -> tuple[int, list[bytes]]:
    if reply and isinstance(reply[0], ResponseError):
        raise reply[0]
    return int(reply[0]), reply[1:]


def _raw_socket(conn) -> Any:
    """The connection's socket when reading it directly cannot lose bytes: redis-py's
    parser (pure Python or hiredis) holds nothing unread. Otherwise (bytes buffered,
    another redis-py layout) None, and the replies are read through ``read_response``."""
    parser = getattr(conn, "_parser", None)
    sock = getattr(conn, "_sock", None)
    if sock is None or parser is None:
        return None
    reader = getattr(parser, "_reader", None)
    if reader is not None and hasattr(reader, "has_data"):           # redis-py's hiredis parser
        if getattr(parser, "_sock", None) is not sock:
            return None
        try:
            return None if reader.has_data() else sock
        except (OSError, ValueError):
            return None
    buf = getattr(parser, "_buffer", None)
    unread = getattr(buf, "unread_bytes", None)
    if unread is None or getattr(buf, "_sock", None) is not sock:
        return None
    try:
        return sock if unread() == 0 else None
    except (OSError, ValueError):
        return None


_CHUNK = 1 << 20
_MORE = object()        # hiredis's answer while no whole reply is buffered


def _read_flat(sock, n: int, *, arrays: bool = False) -> list[Any]:
    """Read exactly ``n`` flat replies from ``sock``: with hiredis's C reader when it is
    installed, else in Python; the same replies either way. Bytes past the last reply
    mean the stream is not what was asked for: raise."""
    return _whole(ReplyStream(sock), n, arrays)


def _read_flat_hiredis(sock, n: int, *, arrays: bool = False) -> list[Any]:
    assert HIREDIS is not None
    return _whole(ReplyStream(sock, use_hiredis=True), n, arrays)


def _read_flat_py(sock, n: int, *, arrays: bool = False) -> list[Any]:
    return _whole(ReplyStream(sock, use_hiredis=False), n, arrays)


def _whole(stream: "ReplyStream", n: int, arrays: bool) -> list[Any]:
    out = stream.take(n, arrays=arrays)
    if stream.unread():
        raise InvalidResponse("more replies than commands in a batch read")
    return out


class ReplyStream:
    """Flat replies read from one socket in order, over as many ``take`` calls as the
    caller likes: what was received past one take's last reply is kept for the next. A
    pipelined listing sends the next page's commands before it reads this page's replies.

    hiredis parses in C when it is installed (``use_hiredis``); otherwise a Python reader
    of ``:`` integer, ``$`` bulk, ``_`` null, ``+`` simple and ``-`` error replies. An error
    reply (WRONGTYPE) comes back as a ``ResponseError`` in its place; an aggregate where a
    flat reply was asked for, or any other type, means the stream is not what was asked
    for, and raises. ``arrays``: ``*N`` headers are flattened (their N elements take their
    place), so a SCAN reply reads as ``[cursor, key, key, ...]``."""

    def __init__(self, sock, *, use_hiredis: bool | None = None) -> None:
        self._recv = sock.recv
        fast = HIREDIS is not None if use_hiredis is None else use_hiredis
        self._reader = HIREDIS.Reader(protocolError=InvalidResponse, replyError=ResponseError,
                                      notEnoughData=_MORE) if fast else None
        self._buf = b""
        self._pos = 0
        self._parsed: list[Any] = []       # hiredis: replies parsed, not taken yet

    def unread(self) -> bool:
        """Something was received that no take has read (bytes, or replies parsed past a take)."""
        if self._reader is not None:
            return bool(self._parsed) or bool(self._reader.has_data())
        return self._pos != len(self._buf)

    def _chunk(self) -> bytes:
        chunk = self._recv(_CHUNK)
        if not chunk:
            raise RedisConnectionError("Connection closed by server during a batch read")
        return chunk

    def scan_reply(self) -> tuple[int, list[bytes]]:
        """The next reply, a SCAN's: (cursor, keys); an error reply (an ACL without SCAN,
        a renamed command) raised as the ``ResponseError`` it is."""
        return _scan_result(self.take(1, arrays=True))

    def take(self, n: int, *, arrays: bool = False) -> list[Any]:
        if self._reader is not None:
            return self._take_hiredis(n, arrays)
        return self._take_py(n, arrays)

    def _take_hiredis(self, n: int, arrays: bool) -> list[Any]:
        # Every whole reply received is parsed in one C loop (``iter(gets, _MORE)``: hiredis
        # answers _MORE until more bytes come — not its default False, which a reply of 0
        # equals); what lies past the n-th waits in ``_parsed`` for the next take. A page
        # of 3,000 replies is a few calls, not 3,000 through the interpreter.
        reader = self._reader
        assert reader is not None
        parsed = self._parsed
        if len(parsed) < n:
            gets, feed = reader.gets, reader.feed
            parsed.extend(iter(gets, _MORE))
            while len(parsed) < n:
                feed(self._chunk())
                parsed.extend(iter(gets, _MORE))
        if len(parsed) == n:
            out, self._parsed = parsed, []
        else:
            out, self._parsed = parsed[:n], parsed[n:]
        if list not in set(map(type, out)):
            return out
        if not arrays:
            raise InvalidResponse("unexpected aggregate reply in a batch read")
        flat: list[Any] = []
        append, extend = flat.append, flat.extend
        for r in out:               # SCAN: [cursor, [key, ...]] read as [cursor, key, ...]
            if type(r) is list:
                for e in r:
                    if type(e) is list:
                        extend(e)
                    else:
                        append(e)
            else:
                append(r)
        return flat

    def _take_py(self, n: int, arrays: bool) -> list[Any]:
        out: list[Any] = []
        append = out.append
        buf, pos = self._buf, self._pos
        while len(out) < n:
            end = buf.find(b"\r\n", pos)
            if end >= 0:
                t = buf[pos]
                if t == 42 and arrays:                         # '*' array header: its elements instead
                    ln = int(buf[pos + 1:end])
                    if ln < 0:
                        append(None)
                    else:
                        n += ln - 1
                    pos = end + 2
                    continue
                if t == 58:                                    # ':' integer
                    append(int(buf[pos + 1:end]))
                    pos = end + 2
                    continue
                if t == 36:                                    # '$' bulk string
                    ln = int(buf[pos + 1:end])
                    if ln < 0:
                        append(None)
                        pos = end + 2
                        continue
                    stop = end + 2 + ln
                    if stop + 2 <= len(buf):
                        append(buf[end + 2:stop])
                        pos = stop + 2
                        continue
                elif t == 95:                                  # '_' RESP3 null
                    append(None)
                    pos = end + 2
                    continue
                elif t == 45:                                  # '-' error reply
                    append(ResponseError(buf[pos + 1:end].decode("utf-8", "replace")))
                    pos = end + 2
                    continue
                elif t == 43:                                  # '+' simple string
                    append(buf[pos + 1:end])
                    pos = end + 2
                    continue
                else:
                    raise InvalidResponse(f"unexpected reply type {chr(t)!r} in a batch read")
            buf = buf[pos:] + self._chunk()
            pos = 0
        self._buf, self._pos = buf, pos
        return out
