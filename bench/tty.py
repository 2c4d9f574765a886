"""Time a program to its first frame on a real terminal (a pseudo-terminal of 120×40): from
the fork until a marker text has been drawn. ANSI sequences are stripped before the
search, so a marker split by style changes or cursor moves is still found."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time

_ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


def first_frame(argv: list[str], marker: str, *, env: dict[str, str] | None = None,
                timeout: float = 60.0, cols: int = 120, rows: int = 40) -> float:
    """Seconds from fork to ``marker`` appearing on the terminal; the program is then
    stopped (SIGTERM, SIGKILL after 5 s). Raises TimeoutError (with the screen's tail)."""
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:                      # the child: the program on the terminal
        try:
            os.execvpe(argv[0], argv, {**os.environ, **(env or {}), "TERM": "xterm-256color"})
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    want = marker.encode()
    seen = b""
    try:
        while True:
            left = timeout - (time.perf_counter() - t0)
            if left <= 0:
                raise TimeoutError(f"{marker!r} not drawn within {timeout:.0f}s; screen tail: "
                                   f"{_ANSI.sub(b'', seen)[-400:]!r}")
            r, _, _ = select.select([fd], [], [], min(left, 0.5))
            if not r:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:           # the program ended
                raise TimeoutError(f"program ended before drawing {marker!r}: "
                                   f"{_ANSI.sub(b'', seen)[-400:]!r}") from None
            if not chunk:
                raise TimeoutError(f"program ended before drawing {marker!r}")
            seen += chunk
            if want in _ANSI.sub(b"", seen):
                return time.perf_counter() - t0
    finally:
        _stop(pid, fd)


def _stop(pid: int, fd: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:                           # keep draining, or a program blocked on write never exits
            if select.select([fd], [], [], 0.05)[0]:
                os.read(fd, 65536)
        except OSError:
            pass
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    else:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    os.close(fd)
