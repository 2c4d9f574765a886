"""A terminal driver whose input thread sleeps until there is input (pinned textual 8.2.8).

Textual's ``LinuxDriver`` reads the terminal in a thread that wakes ten times a second, to
see whether a lone ``Esc`` has waited long enough to be a key and whether the app is
quitting. A console left open on a screen spends those wake-ups all day: measured on the
Activity screen, the input thread alone cost about as much CPU as a third of what
pg_activity spends watching the same server.

:class:`QuietLinuxDriver` reads the same bytes with the same parser, but its ``select``
waits without a timeout unless the parser is waiting for the rest of an escape sequence
(then exactly until that sequence's timeout), and the exit is a byte written to a pipe the
thread also waits on (``exit_event.set()`` writes it), not something the thread polls for.
``tests/ui/test_driver.py`` runs an app on a real pseudo-terminal: keys, a lone ``Esc``,
a resize and quitting still work, and the thread no longer wakes while nothing happens.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver


class _WakingEvent(threading.Event):
    """An Event whose ``set`` also writes a byte to a pipe (the input thread waits on it)."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self.wake_fd = wake_fd        # -1 once the driver closed the pipe (its number may be reused)

    def set(self) -> None:
        super().set()
        if self.wake_fd < 0:
            return
        # Full: the thread has a wake-up byte unread already, which is all it needs.
        with contextlib.suppress(BlockingIOError):
            os.write(self.wake_fd, b"x")


class QuietLinuxDriver(LinuxDriver):
    """``LinuxDriver`` without the input thread's ten wake-ups a second."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.exit_event: _WakingEvent = _WakingEvent(self._wake_w)

    def close(self) -> None:
        super().close()
        if self.exit_event.wake_fd < 0:
            return                        # closed already
        self.exit_event.wake_fd = -1      # a later set() must not write to a reused number
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _drain_wake(self) -> None:
        # Read the wake-up bytes until none is left (the read end is non-blocking).
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wake_r, 512):
                continue

    def run_input_thread(self) -> None:
        """As LinuxDriver's (the same reads, parser and messages), waiting without a timeout."""
        selector = selectors.SelectSelector()
        fileno = self.fileno
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def timeout() -> float | None:
            # The parser waits for the rest of an escape sequence until _timeout_time; when
            # it is not waiting, only input (or the wake pipe) can change anything.
            due = parser._timeout_time
            return None if due is None else max(0.0, due - get_time())

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for key, mask in events:
                if key.fd == self._wake_r:
                    self._drain_wake()
                    continue
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(fileno, 1024 * 4), final=final)
                    if not data:
                        break      # stdin piped and closed
                    for event in parser.feed(data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(timeout()))
            selector.unregister(fileno)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            # The end of input, as LinuxDriver ends it: the parser's last tokens are dropped
            # (the app is leaving) and its end-of-input errors are expected.
            with contextlib.suppress(EOFError, ParseError):
                for _ in parser.feed(""):
                    continue
