"""Real PostgreSQL sessions for the Activity tests: a :class:`Victim` runs one statement in
a thread on its own connection (so the console can see, cancel or terminate it), and
:func:`wait_until` polls a condition with a deadline (never a fixed sleep)."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import psycopg


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    end = time.monotonic() + timeout
    pause = 0.02
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


class Victim:
    """A session of its own (application_name ``app``) that runs ``sql`` in a thread."""

    def __init__(self, dsn: str, app: str = "activity-victim", *, autocommit: bool = True):
        self.conn = psycopg.connect(dsn, autocommit=autocommit, application_name=app)
        self.pid = self.conn.info.backend_pid
        self.error: BaseException | None = None
        self.result: Any = None
        self._thread: threading.Thread | None = None

    def execute(self, sql: str, params: Any = None) -> Any:
        """Run now, on this thread (setup: BEGIN, a row lock...)."""
        return self.conn.execute(sql, params)

    def start(self, sql: str) -> "Victim":
        def run():
            try:
                self.result = self.conn.execute(sql).fetchall()
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                self.error = exc
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float = 15.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
            assert not self._thread.is_alive(), "the victim's statement did not end"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def alive(self) -> bool:
        """Is the session itself still usable (after a cancel it must be)?"""
        try:
            return self.conn.execute("SELECT 1").fetchone() == (1,)
        except psycopg.Error:
            return False

    def close(self, killer=None) -> None:
        """End it for good: terminate from ``killer`` (a PostgresBackend) when the statement
        is still running, then close."""
        if self.running and killer is not None:
            killer.execute("SELECT pg_terminate_backend(%s)", (self.pid,))
        if self._thread is not None:
            self._thread.join(15)
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - already terminated
            pass


def active_in(backend, pid: int, needle: str) -> bool:
    rows = backend.fetch("SELECT state, query FROM pg_stat_activity WHERE pid = %s", (pid,))
    return bool(rows) and rows[0]["state"] == "active" and needle in (rows[0]["query"] or "")


def exists(backend, pid: int) -> bool:
    return bool(backend.fetch("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)))
