"""pg_stat_* samples of one PostgreSQL target, rates between two samples, lock chains."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Sequence

from psycopg.rows import dict_row

from ...backends.postgres import PostgresBackend
from .sql import sql_file


# --------------------------------------------------------------------------- PostgreSQL

PG_QUERIES = ("database", "connections", "longest", "locks", "tables", "checkpoints")
TOP_TABLES = 5


@dataclass(frozen=True)
class Counters:
    at: float                  # server clock, epoch seconds
    xact_commit: int
    xact_rollback: int
    tup_returned: int
    tup_fetched: int
    tup_inserted: int
    tup_updated: int
    tup_deleted: int
    blks_read: int
    blks_hit: int
    deadlocks: int

    @property
    def xacts(self) -> int:
        return self.xact_commit + self.xact_rollback

    @property
    def written(self) -> int:
        return self.tup_inserted + self.tup_updated + self.tup_deleted


@dataclass(frozen=True)
class Rates:
    seconds: float
    tps: float
    rows_read_s: float       # tup_returned + tup_fetched
    rows_written_s: float    # inserted + updated + deleted
    cache_hit: float | None  # block hit ratio over the interval (None: no block access)
    deadlocks: int


def rates(prev: Counters | None, cur: Counters) -> Rates | None:
    """Per-second deltas between two samples; None without a previous sample or when the
    counters went backwards (stats reset, server restart).

    >>> a = Counters(0.0, 100, 0, 0, 0, 0, 0, 0, 10, 90, 0)
    >>> b = Counters(2.0, 120, 2, 500, 100, 40, 0, 0, 10, 190, 0)
    >>> r = rates(a, b); (r.tps, r.rows_read_s, r.rows_written_s, r.cache_hit)
    (11.0, 300.0, 20.0, 1.0)
    """
    if prev is None:
        return None
    dt = cur.at - prev.at
    if dt <= 0 or cur.xacts < prev.xacts or cur.blks_hit < prev.blks_hit:
        return None
    hit = cur.blks_hit - prev.blks_hit
    read = cur.blks_read - prev.blks_read
    return Rates(
        seconds=dt,
        tps=(cur.xacts - prev.xacts) / dt,
        rows_read_s=((cur.tup_returned + cur.tup_fetched) - (prev.tup_returned + prev.tup_fetched)) / dt,
        rows_written_s=(cur.written - prev.written) / dt,
        cache_hit=hit / (hit + read) if hit + read > 0 else None,
        deadlocks=cur.deadlocks - prev.deadlocks,
    )


def cumulative_hit_ratio(c: Counters) -> float | None:
    total = c.blks_hit + c.blks_read
    return c.blks_hit / total if total else None


@dataclass(frozen=True)
class Activity:
    pid: int
    user: str | None
    database: str | None
    application: str | None
    state: str | None
    wait: str | None          # "Lock:transactionid"
    seconds: float | None
    query: str | None
    blocked_by: tuple[int, ...] = ()
    state_seconds: float | None = None


@dataclass(frozen=True)
class TableStat:
    schema: str
    name: str
    live: int
    dead: int
    last_autovacuum: datetime | None
    last_vacuum: datetime | None

    @property
    def dead_ratio(self) -> float | None:
        total = self.live + self.dead
        return self.dead / total if total else None


@dataclass(frozen=True)
class ChainLine:
    depth: int
    session: Activity


def blocking_chains(sessions: Sequence[Activity]) -> list[ChainLine]:
    """Who blocks whom, in reading order: each root blocker (blocks someone, waits on
    nobody shown) first, then the sessions waiting on it, indented, depth first. A pid
    reachable twice is shown once; cycles (a deadlock before the detector runs) are cut.

    >>> s = lambda pid, *by: Activity(pid, None, None, None, None, None, None, None, tuple(by))
    >>> [(c.depth, c.session.pid) for c in blocking_chains([s(30, 20), s(20, 10), s(10)])]
    [(0, 10), (1, 20), (2, 30)]
    """
    by_pid = {s.pid: s for s in sessions}
    waiters: dict[int, list[int]] = {}
    for s in sessions:
        for b in s.blocked_by:
            waiters.setdefault(b, []).append(s.pid)
    roots = [s.pid for s in sessions if s.pid in waiters and not any(b in by_pid for b in s.blocked_by)]
    out: list[ChainLine] = []
    seen: set[int] = set()

    def walk(pid: int, depth: int) -> None:
        if pid in seen:
            return
        seen.add(pid)
        if pid in by_pid:
            out.append(ChainLine(depth, by_pid[pid]))
        for w in sorted(waiters.get(pid, [])):
            walk(w, depth + 1)

    for r in sorted(roots):
        walk(r, 0)
    for s in sorted(sessions, key=lambda s: s.pid):   # cycles: no root reached them
        if s.pid not in seen and s.blocked_by:
            walk(s.pid, 0)
    return out


@dataclass(frozen=True)
class PgSample:
    target: str
    taken_at: datetime
    version: str
    version_num: int
    counters: Counters
    rates: Rates | None
    size_bytes: int
    max_connections: int
    connections: tuple[tuple[str, int, int], ...]   # (state, server-wide, this database)
    longest_xact: Activity | None
    longest_query: Activity | None
    locks: tuple[Activity, ...]
    tables: tuple[TableStat, ...]
    checkpoints: dict[str, int] = field(default_factory=dict)
    queries: int = 0
    elapsed_ms: float = 0.0

    @property
    def connections_total(self) -> int:
        return sum(n for _, n, _ in self.connections)

    @property
    def waiting(self) -> int:
        return sum(1 for s in self.locks if s.blocked_by)

    @property
    def chains(self) -> list[ChainLine]:
        return blocking_chains(self.locks)

    @property
    def cache_hit(self) -> float | None:
        if self.rates is not None and self.rates.cache_hit is not None:
            return self.rates.cache_hit
        return cumulative_hit_ratio(self.counters)


def _activity(row: dict[str, Any], seconds_key: str = "seconds") -> Activity:
    wait = f"{row['wait_event_type']}:{row['wait_event']}" if row.get("wait_event_type") else None
    return Activity(pid=row["pid"], user=row.get("usename"), database=row.get("datname"),
                    application=row.get("application_name"), state=row.get("state"), wait=wait,
                    seconds=row.get(seconds_key), query=row.get("query"),
                    blocked_by=tuple(row.get("blocked_by") or ()), state_seconds=row.get("state_seconds"))


class PgCollector:
    """Samples one target. Keeps the previous counters for rates; call from one thread
    at a time."""

    def __init__(self, backend: PostgresBackend, *, top_tables: int = TOP_TABLES):
        self.backend = backend
        self.top_tables = top_tables
        self._prev: Counters | None = None
        self._version_num: int | None = None

    @property
    def name(self) -> str:
        return self.backend.name

    def sample(self) -> PgSample:
        started = time.perf_counter()
        queries = 0
        with self.backend.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            def q(name: str, params: dict | None = None) -> list[dict[str, Any]]:
                nonlocal queries
                queries += 1
                cur.execute(sql_file(name, self._version_num or 180000), params)
                return cur.fetchall()

            db = q("database")[0]
            self._version_num = db["version_num"]
            conns = q("connections")
            longest = {r["kind"]: _activity(r) for r in q("longest")}
            locks = tuple(_activity(r, "xact_seconds") for r in q("locks"))
            tables = tuple(TableStat(r["schemaname"], r["relname"], int(r["n_live_tup"] or 0),
                                     int(r["n_dead_tup"] or 0), r["last_autovacuum"], r["last_vacuum"])
                           for r in q("tables", {"limit": self.top_tables}))
            cp = q("checkpoints")
        counters = Counters(db["at"], *(int(db[k] or 0) for k in (
            "xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated",
            "tup_deleted", "blks_read", "blks_hit", "deadlocks")))
        r = rates(self._prev, counters)
        self._prev = counters
        return PgSample(
            target=self.name, taken_at=datetime.fromtimestamp(db["at"], timezone.utc),
            version=db["version"], version_num=db["version_num"], counters=counters, rates=r,
            size_bytes=int(db["size_bytes"]), max_connections=db["max_connections"],
            connections=tuple((c["state"], c["server"], c["here"]) for c in conns),
            longest_xact=longest.get("xact"), longest_query=longest.get("query"),
            locks=locks, tables=tables,
            checkpoints={k: int(v or 0) for k, v in (cp[0] if cp else {}).items()},
            queries=queries, elapsed_ms=(time.perf_counter() - started) * 1000)
