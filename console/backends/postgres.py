"""PostgreSQL: a small thread-less pool per target (:mod:`.pgpool`), ``statement_timeout`` and
``application_name=console`` on every session, typed errors."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from typing import Any, Iterator, Mapping, Sequence

import psycopg
from psycopg import errors as pgerrors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from ..config import PostgresTarget
from ..log import backend_call
from .base import BackendError, ErrorKind, Health, Stopwatch, probe
from .pgpool import PoolBusy, SmallPool

APPLICATION_NAME = "console"
log = logging.getLogger("console.backends")


def session_options(target: PostgresTarget, *, statement_timeout_ms: int | None = None) -> str:
    st = target.statement_timeout_ms if statement_timeout_ms is None else statement_timeout_ms
    return (f"-c statement_timeout={st} -c lock_timeout={target.lock_timeout_ms}"
            " -c idle_in_transaction_session_timeout=60000")


def _user_settings(target: PostgresTarget, env: Mapping[str, str]) -> tuple[str, str]:
    """The ``options`` and ``application_name`` the user gave libpq: in the DSN, else
    ``$PGOPTIONS`` / ``$PGAPPNAME`` (libpq would read those itself, but an explicit keyword
    argument hides them, so they are read here and passed on)."""
    given: dict[str, Any] = {}
    if target.dsn:
        try:
            given = conninfo_to_dict(target.dsn)
        except psycopg.ProgrammingError:
            given = {}
    options = str(given.get("options") or env.get("PGOPTIONS") or "").strip()
    app = str(given.get("application_name") or env.get("PGAPPNAME") or "").strip()
    return options, app


def connect_kwargs(target: PostgresTarget, env: Mapping[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    """The user's ``options`` come first and the console's timeouts after them, so the
    timeouts configured for the console (``statement_timeout``, ``lock_timeout``) always hold
    while everything else the user set (``search_path``, ``role``...) is kept; the user's
    ``application_name`` keeps its name with the console's tag appended."""
    user_options, user_app = _user_settings(target, os.environ if env is None else env)
    app = f"{user_app} ({APPLICATION_NAME})"[:63] if user_app and user_app != APPLICATION_NAME else APPLICATION_NAME
    options = overrides.pop("options", None) or session_options(target)
    kw: dict[str, Any] = {
        "application_name": app,
        "connect_timeout": target.connect_timeout_s,
        "options": f"{user_options} {options}".strip(),
    }
    kw.update(overrides)
    return kw


_SECRETISH = re.compile(r"(password\s*=\s*)\S+", re.IGNORECASE)


def _verb(query: Any) -> str:
    """The statement's first word (SELECT, INSERT...) for the log: never its parameters."""
    text = query if isinstance(query, str) else getattr(query, "_obj", None)
    if not isinstance(text, str):
        return "statement"
    words = text.split(None, 1)
    return words[0].upper()[:16] if words else "statement"


def classify(target_name: str, exc: BaseException) -> BackendError:
    """Map a psycopg exception to a BackendError whose message is safe to show."""
    if isinstance(exc, BackendError):
        return exc
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = _SECRETISH.sub(r"\1***", text)
    low = text.lower()
    if isinstance(exc, pgerrors.QueryCanceled):
        return BackendError(target_name, ErrorKind.TIMEOUT, f"statement timeout: {text}")
    if isinstance(exc, pgerrors.LockNotAvailable):
        return BackendError(target_name, ErrorKind.LOCK_TIMEOUT, text)
    if isinstance(exc, (pgerrors.InvalidPassword, pgerrors.InvalidAuthorizationSpecification)) \
            or "password authentication failed" in low or "no password supplied" in low:
        return BackendError(target_name, ErrorKind.AUTH, text)
    if isinstance(exc, pgerrors.InvalidCatalogName) or ("database" in low and "does not exist" in low):
        return BackendError(target_name, ErrorKind.NOT_FOUND, text)
    if isinstance(exc, PoolBusy) or "timeout expired" in low:
        return BackendError(target_name, ErrorKind.TIMEOUT, text)
    if isinstance(exc, psycopg.OperationalError):
        return BackendError(target_name, ErrorKind.UNREACHABLE, text)
    return BackendError(target_name, ErrorKind.ERROR, text)


class PostgresBackend:
    """One configured PostgreSQL target. Thread-safe; every method blocks and so must
    run in a worker thread, never on the UI's event loop."""

    kind = "postgres"

    def __init__(self, target: PostgresTarget, *, max_size: int = 4):
        self.target = target
        self.name = target.name
        self._max_size = max_size
        self._pool: SmallPool | None = None
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        return self.target.display

    def _open(self) -> psycopg.Connection:
        return psycopg.connect(self.target.conninfo(), **connect_kwargs(self.target))

    def _get_pool(self) -> SmallPool:
        with self._lock:
            if self._pool is None:
                self._pool = SmallPool(self._open, max_size=self._max_size,
                                       timeout_s=self.target.connect_timeout_s + 1)
            return self._pool

    @contextlib.contextmanager
    def connection(self, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        """A pooled connection (statement_timeout, lock_timeout, application_name set).
        The block runs in a transaction that commits on success; with ``autocommit`` each
        statement is its own transaction (one statement: no BEGIN and COMMIT round trips)."""
        pool = self._get_pool()
        with backend_call("postgres", self.name, "transaction"):
            with self._pooled(pool, autocommit=autocommit) as conn:
                yield conn

    @contextlib.contextmanager
    def _pooled(self, pool: SmallPool, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
        cm = pool.connection(autocommit=autocommit)
        try:
            conn = cm.__enter__()
        except PoolBusy as exc:
            raise BackendError(self.name, ErrorKind.TIMEOUT, str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - the connect error as it is
            raise classify(self.name, exc) from None
        try:
            yield conn
        except BaseException as exc:
            try:
                cm.__exit__(type(exc), exc, exc.__traceback__)
            except Exception:  # noqa: BLE001 - the block's own error is the one to report
                log.debug("%s: rollback after an error failed (the connection is dropped)", self.name,
                          exc_info=True)
            if isinstance(exc, psycopg.Error):
                raise classify(self.name, exc) from None
            raise
        else:
            try:
                cm.__exit__(None, None, None)
            except psycopg.Error as exc:      # the COMMIT itself failed
                raise classify(self.name, exc) from None

    def connect(self, *, autocommit: bool = False, statement_timeout_ms: int | None = None,
                **overrides: Any) -> psycopg.Connection:
        """A dedicated, unpooled connection (DDL with its own settings, CONCURRENTLY
        statements outside a transaction, long maintenance runs). Caller closes it."""
        if statement_timeout_ms is not None:
            overrides["options"] = session_options(self.target, statement_timeout_ms=statement_timeout_ms)
        kw = connect_kwargs(self.target, **overrides)
        try:
            return psycopg.connect(self.target.conninfo(), autocommit=autocommit, **kw)
        except Exception as exc:  # noqa: BLE001
            raise classify(self.name, exc) from None

    # fetch and execute run one statement: atomic on its own, so in autocommit (a transaction
    # block around it would only add the BEGIN and COMMIT round trips).

    def fetch(self, query: Any, params: Sequence[Any] | dict | None = None) -> list[dict[str, Any]]:
        with backend_call("postgres", self.name, _verb(query)), \
                self._pooled(self._get_pool(), autocommit=True) as conn:
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []

    def execute(self, query: Any, params: Sequence[Any] | dict | None = None) -> int:
        with backend_call("postgres", self.name, _verb(query)), \
                self._pooled(self._get_pool(), autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.rowcount

    def _health(self) -> tuple[str, float]:
        with self.connection() as conn:
            with Stopwatch() as sw:
                row = conn.execute("SELECT current_setting('server_version')").fetchone()
            return f"PostgreSQL {row[0]}", sw.ms

    def health(self) -> Health:
        return probe(self.name, self.kind, self.address, self._health)

    def server_version_num(self) -> int:
        with self.connection() as conn:
            return int(conn.execute("SELECT current_setting('server_version_num')").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

