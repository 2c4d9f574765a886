"""Top statements from pg_stat_statements: the cumulative counters since the last reset,
and the deltas over the interval between two samples (:func:`deltas`).

When the extension is not usable, the sample says why and exactly how to enable it
(:func:`how_to_enable`): not loaded by the server (``shared_preload_libraries``, a
restart) and/or not created in this database (``CREATE EXTENSION``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

from psycopg import sql
from psycopg.rows import dict_row

from ...backends.postgres import PostgresBackend
from .sqlfiles import sql_file

TOP = 100


@dataclass(frozen=True)
class Statement:
    userid: int
    queryid: int | None
    toplevel: bool
    usename: str | None
    calls: int
    total_ms: float
    mean_ms: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int
    query: str | None

    @property
    def key(self) -> tuple[int, int | None, bool]:
        return (self.userid, self.queryid, self.toplevel)


@dataclass(frozen=True)
class StatementsSample:
    target: str
    taken_at: datetime
    version_num: int
    loaded: bool                      # pg_stat_statements in shared_preload_libraries
    installed: str | None             # extension version created in this database
    statements: tuple[Statement, ...] = ()
    stats_reset: datetime | None = None
    how_to: str | None = None         # set when not available
    error: str | None = None          # installed but unreadable (e.g. not loaded after all)

    @property
    def available(self) -> bool:
        return self.loaded and self.installed is not None and self.error is None


def how_to_enable(loaded: bool, installed: bool, database: str) -> str | None:
    """What a DBA runs to make pg_stat_statements available, or None when it is.

    >>> print(how_to_enable(False, False, 'lambda'))
    pg_stat_statements is not loaded by the server and not created in database "lambda". To enable it:
      1. add it to shared_preload_libraries in postgresql.conf (or ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'; keep any libraries already listed), then restart PostgreSQL
      2. in database "lambda": CREATE EXTENSION pg_stat_statements;
    >>> print(how_to_enable(True, False, 'lambda'))
    pg_stat_statements is loaded by the server but not created in database "lambda". To enable it:
      1. in database "lambda": CREATE EXTENSION pg_stat_statements;
    """
    if loaded and installed:
        return None
    steps = []
    if not loaded:
        steps.append("add it to shared_preload_libraries in postgresql.conf (or ALTER SYSTEM SET "
                     "shared_preload_libraries = 'pg_stat_statements'; keep any libraries already listed), "
                     "then restart PostgreSQL")
    if not installed:
        steps.append(f'in database "{database}": CREATE EXTENSION pg_stat_statements;')
    if not loaded and not installed:
        head = f'pg_stat_statements is not loaded by the server and not created in database "{database}".'
    elif not loaded:
        head = f'pg_stat_statements is created in database "{database}" but not loaded by the server.'
    else:
        head = f'pg_stat_statements is loaded by the server but not created in database "{database}".'
    return head + " To enable it:\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(steps, 1))


def _preloaded(setting: str | None) -> bool:
    return any(p.strip().strip('"') == "pg_stat_statements" for p in (setting or "").split(","))


def sample_statements(backend: PostgresBackend, *, limit: int = TOP) -> StatementsSample:
    """One sample (blocks): a status lookup, then, when available, the top ``limit``
    statements of this database by total time; all on one pooled connection."""
    with backend.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        version = conn.info.server_version
        cur.execute(sql_file("statements_status", version))
        st = cur.fetchone()
        database = conn.info.dbname
        loaded, installed, schema = _preloaded(st["preload"]), st["extversion"], st["schema"]
        taken = datetime.fromtimestamp(st["at"], timezone.utc)
        how = how_to_enable(loaded, installed is not None, database)
        if how is not None:
            return StatementsSample(backend.name, taken, version, loaded, installed, how_to=how)
        q = sql.SQL(sql_file("statements", version)).format(schema=sql.Identifier(schema))
        try:
            with conn.transaction():
                cur.execute(q, {"limit": limit})
                rows = cur.fetchall()
        except Exception as exc:  # noqa: BLE001 - the extension's own error is the answer
            from ..text import error_text
            return StatementsSample(backend.name, taken, version, loaded, installed, error=error_text(exc),
                                    how_to=how_to_enable(False, True, database))
        reset = None
        if version >= 140000:
            cur.execute(sql.SQL(sql_file("statements_reset", version)).format(schema=sql.Identifier(schema)))
            r = cur.fetchone()
            reset = r["stats_reset"] if r else None
    stmts = tuple(Statement(int(r["userid"]), r["queryid"], bool(r["toplevel"]), r["usename"], int(r["calls"]),
                            float(r["total_ms"]), float(r["mean_ms"]), int(r["rows"]), int(r["shared_blks_hit"]),
                            int(r["shared_blks_read"]), r["query"]) for r in rows)
    return StatementsSample(backend.name, taken, version, loaded, installed, stmts, reset)


@dataclass(frozen=True)
class StatementDelta:
    statement: Statement              # the newer sample's row (query text, cumulative values)
    seconds: float
    calls: int
    total_ms: float
    rows: int
    shared_blks_hit: int
    shared_blks_read: int

    @property
    def mean_ms(self) -> float | None:
        return self.total_ms / self.calls if self.calls else None

    @property
    def calls_s(self) -> float:
        return self.calls / self.seconds if self.seconds > 0 else 0.0


def deltas(prev: StatementsSample | None, cur: StatementsSample) -> tuple[StatementDelta, ...] | None:
    """What each statement did between two samples, busiest (total time) first. None
    without a previous sample or after a reset (any counter went backwards). A statement
    new in ``cur`` counts from zero; one that left the top list is not shown.

    >>> s = lambda calls, ms: Statement(10, 7, True, 'u', calls, ms, ms / max(calls, 1), calls, calls, 0, 'q')
    >>> t = lambda at, *st: StatementsSample('t', datetime.fromtimestamp(at, timezone.utc), 180000, True, '1.11', st)
    >>> d = deltas(t(0, s(10, 100.0)), t(2, s(14, 180.0)))
    >>> (d[0].calls, d[0].total_ms, d[0].mean_ms, d[0].calls_s)
    (4, 80.0, 20.0, 2.0)
    >>> deltas(t(0, s(10, 100.0)), t(2, s(3, 10.0))) is None
    True
    """
    if prev is None or not prev.available or not cur.available:
        return None
    dt = (cur.taken_at - prev.taken_at).total_seconds()
    if dt <= 0:
        return None
    before = {s.key: s for s in prev.statements}
    out: list[StatementDelta] = []
    for s in cur.statements:
        p = before.get(s.key)
        pc, pt, pr, ph, pd = (p.calls, p.total_ms, p.rows, p.shared_blks_hit, p.shared_blks_read) if p else (0, 0.0, 0, 0, 0)
        if s.calls < pc or s.total_ms + 1e-9 < pt:
            return None
        if s.calls == pc:
            continue
        out.append(StatementDelta(s, dt, s.calls - pc, s.total_ms - pt, s.rows - pr,
                                  s.shared_blks_hit - ph, s.shared_blks_read - pd))
    out.sort(key=lambda d: (-d.total_ms, -d.calls))
    return tuple(out)


def top(statements: Sequence[Statement], key: str = "total_ms", n: int = 20) -> list[Statement]:
    """Since reset: the ``n`` biggest by ``total_ms``, ``mean_ms``, ``calls``, ``rows`` or
    ``shared_blks_read``."""
    if key not in ("total_ms", "mean_ms", "calls", "rows", "shared_blks_read", "shared_blks_hit"):
        raise ValueError(f"unknown statements sort key {key!r}")
    return sorted(statements, key=lambda s: (-getattr(s, key), s.queryid or 0))[:n]

