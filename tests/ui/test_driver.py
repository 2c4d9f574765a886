"""The terminal driver's input thread sleeps until there is input (console.ui.driver), and
keys, a lone Esc, a resize and quitting still work: a small app on a real pseudo-terminal,
against Textual's own LinuxDriver as the control."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX terminal driver")

APP = r'''
import sys
from textual.app import App
from textual.widgets import Static
from console.ui.app import ConsoleApp
from console.ui.driver import QuietLinuxDriver
from textual.drivers.linux_driver import LinuxDriver

class Tiny(App):
    BINDINGS = [("escape", "bye", "bye"), ("a", "key_a", "a")]
    def compose(self):
        yield Static("READY", id="s")
    def on_resize(self, event):
        self.query_one("#s", Static).update(f"SIZE {event.size.width}x{event.size.height}")
    def action_key_a(self):
        self.query_one("#s", Static).update("PRESSED-A")
    def action_bye(self):
        self.exit()

driver = QuietLinuxDriver if sys.argv[1] == "quiet" else LinuxDriver
# the console's app picks the quiet driver on this platform
assert ConsoleApp.get_driver_class(object.__new__(ConsoleApp)) is QuietLinuxDriver
Tiny(driver_class=driver).run()
'''

_ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")


class Term:
    def __init__(self, driver: str) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}   # (set under xdist)
                os.execvpe(sys.executable, [sys.executable, "-c", APP, driver], {**env, "TERM": "xterm-256color"})
            finally:
                os._exit(127)
        self.resize(100, 30)
        self.seen = b""

    def resize(self, cols: int, rows: int) -> None:
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def read(self, wait: float) -> bool:
        r, _, _ = select.select([self.fd], [], [], wait)
        if not r:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:
            return False
        self.seen += chunk
        return bool(chunk)

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while text.encode() not in _ANSI.sub(b"", self.seen):
            assert time.monotonic() < end, f"{text!r} not drawn: {_ANSI.sub(b'', self.seen)[-300:]!r}"
            assert self.read(0.2), f"ended before drawing {text!r}"
        self.seen = b""

    def wakeups(self, seconds: float) -> int:
        """Voluntary context switches of the busiest thread while nothing happens."""
        def snap() -> dict[str, int]:
            out = {}
            for tid in os.listdir(f"/proc/{self.pid}/task"):
                with open(f"/proc/{self.pid}/task/{tid}/status") as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches"):
                            out[tid] = int(line.split()[1])
            return out
        before = snap()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.read(end - time.monotonic())
        after = snap()
        return max(after[t] - before.get(t, 0) for t in after)

    def ended(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return True
            self.read(0.1)
        return False

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts wake-ups in /proc")
@pytest.mark.parametrize("driver", ["quiet", "textual"])
def test_input_thread_sleeps_until_input_and_keys_still_work(driver: str) -> None:
    term = Term(driver)
    try:
        term.wait_for("SIZE 100x30")     # drawn (a resize event comes with the first frame)
        term.wakeups(0.5)                 # past the first frames
        woke = term.wakeups(2.0)
        if driver == "textual":
            assert woke >= 12, woke       # the control: LinuxDriver's thread wakes 10 times a second
            return
        assert woke <= 4, woke
        os.write(term.fd, b"a")
        term.wait_for("PRESSED-A", 10)
        term.resize(90, 25)
        os.kill(term.pid, signal.SIGWINCH)
        term.wait_for("SIZE 90x25", 10)
        t0 = time.monotonic()
        os.write(term.fd, b"\x1b")        # a lone Esc: a key only once the parser's timeout passes
        assert term.ended(5), "a lone Esc did not reach the app (or quitting hung)"
        assert time.monotonic() - t0 < 2.5
    finally:
        term.close()


async def test_a_closed_driver_writes_no_wake_byte_to_a_reused_file_number(tmp_path) -> None:
    """After close(), exit_event.set() (Textual may call it on the way out) must not write
    to the pipe's old file number, which the process may have given to another file."""
    from console.ui.driver import QuietLinuxDriver

    driver = QuietLinuxDriver(object(), debug=False, mouse=False, size=(80, 24))  # type: ignore[arg-type]
    driver.close()
    with open(tmp_path / "a", "wb") as a, open(tmp_path / "b", "wb") as b:   # likely the freed numbers
        driver.exit_event.set()
        driver.close()                                       # twice is fine
        reused = (a.fileno(), b.fileno())
    assert (tmp_path / "a").read_bytes() == b"" and (tmp_path / "b").read_bytes() == b"", reused
