"""A connection pool with no threads of its own, one per PostgreSQL target.

psycopg_pool's ``ConnectionPool`` runs a scheduler and worker threads per pool (four threads
each by default): with 40 targets that was 160 threads before a screen ran a query. The
console only needs a bound on connections and reuse of idle ones, so this pool does its work
in the caller's thread (always a worker, never the UI's event loop):

- at most ``max_size`` connections are in use at once; a caller waits up to ``timeout_s``
  for a free one (:class:`PoolBusy`);
- an idle connection is reused most-recent-first, and closed once it has been idle longer
  than ``max_idle_s``. Before reuse it is checked: a connection the server ended (a restart,
  ``pg_terminate_backend``, an idle timeout) has its farewell or end-of-file waiting on the
  socket, so a socket with nothing to read is taken as it is (a poll, no round trip: each
  round trip costs a refresh as much CPU as its query), and one with something waiting
  goes through an empty query (dropped, and another taken, if that fails);
- a new connection is opened by the caller, so its error (refused, bad password, timeout)
  reaches the caller as it is, not as "the pool timed out";
- the block runs in a transaction that commits on success and rolls back on error (the
  psycopg connection-context behaviour), or, asked for ``autocommit``, with each statement
  its own transaction (a single read or write: no BEGIN and COMMIT round trips); a
  connection left in any state but idle is closed, never handed to the next caller.
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from typing import Callable, Iterator

import psycopg
from psycopg.pq import TransactionStatus


class PoolBusy(Exception):
    """Every connection stayed in use for the whole wait."""


def _quietly(fn: Callable[[], object]) -> None:
    with contextlib.suppress(Exception):
        fn()


def check(conn: psycopg.Connection) -> None:
    """An empty query outside a transaction: raises if the connection no longer works."""
    if conn.autocommit:
        conn.execute("")
        return
    conn.autocommit = True
    try:
        conn.execute("")
    finally:
        with contextlib.suppress(Exception):
            conn.autocommit = False


def has_input(conn: psycopg.Connection) -> bool:
    """Whether the server sent anything on this idle connection (a termination notice, an
    end of file, a notice): True also when that cannot be told, so the caller checks."""
    try:
        poller = select.poll()
        poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    except Exception:  # noqa: BLE001 - no poll(), a closed socket: check the slow way
        return True


class SmallPool:
    def __init__(self, connect: Callable[[], psycopg.Connection], *, max_size: int = 4,
                 timeout_s: float = 6.0, max_idle_s: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self._connect = connect
        self.max_size = max_size
        self.timeout_s = timeout_s
        self.max_idle_s = max_idle_s
        self._clock = clock
        self._slots = threading.BoundedSemaphore(max_size)
        self._lock = threading.Lock()
        self._idle: list[tuple[float, psycopg.Connection]] = []
        self._closed = False

    @property
    def idle(self) -> int:
        with self._lock:
            return len(self._idle)

    @contextlib.contextmanager
    def connection(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        if self._closed:
            raise PoolBusy("the pool is closed")
        if not self._slots.acquire(timeout=self.timeout_s):
            raise PoolBusy(f"all {self.max_size} connections stayed in use for {self.timeout_s:g} s")
        conn: psycopg.Connection | None = None
        try:
            conn = self._take()
            if autocommit:
                conn.autocommit = True
            try:
                yield conn
            except BaseException:
                _quietly(conn.rollback)
                raise
            conn.commit()
        finally:
            if conn is not None:
                self._give_back(conn)
            self._slots.release()

    def _take(self) -> psycopg.Connection:
        while True:
            with self._lock:
                item = self._idle.pop() if self._idle else None
            if item is None:
                return self._connect()
            since, conn = item
            if conn.closed or self._clock() - since > self.max_idle_s:
                _quietly(conn.close)
                continue
            if not has_input(conn):
                return conn
            try:
                check(conn)
            except Exception:  # noqa: BLE001 - a dead connection: open another
                _quietly(conn.close)
                continue
            return conn

    def _give_back(self, conn: psycopg.Connection) -> None:
        if not conn.closed and conn.info.transaction_status in (TransactionStatus.INTRANS,
                                                                TransactionStatus.INERROR):
            _quietly(conn.rollback)
        if not conn.closed and conn.autocommit:
            try:
                conn.autocommit = False     # the next caller's block is a transaction again
            except Exception:  # noqa: BLE001 - a connection that cannot say: not kept
                _quietly(conn.close)
        keep = not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        with self._lock:
            if keep and not self._closed:
                self._idle.append((self._clock(), conn))
                return
        _quietly(conn.close)

    def close(self) -> None:
        """Close the idle connections; one in use is closed when it comes back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for _, conn in idle:
            _quietly(conn.close)
