"""What the Activity screen and ``console activity`` show: one row per PostgreSQL backend
(:class:`Backend`), one frozen :class:`ActivitySample` per target per tick, and the pure
functions over them: :func:`apply_filter` (regex over any field, ``field:regex`` terms,
minimum duration, hide idle), :func:`sort_rows` and :func:`blocking_chain`.

Text fields are raw server data: display code makes them visible with ``core.text``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Protocol, Sequence

CLIENT = "client backend"
IDLE_STATES = ("idle",)


@dataclass(frozen=True)
class Backend:
    """One row of pg_stat_activity. Ages are seconds, measured on the server's clock."""

    pid: int
    datname: str | None
    usename: str | None
    application_name: str | None
    client_addr: str | None
    client_port: int | None
    backend_type: str
    state: str | None
    wait_event_type: str | None
    wait_event: str | None
    backend_start: datetime | None
    xact_age_s: float | None
    query_age_s: float | None
    state_age_s: float | None
    query: str | None
    blocked_by: tuple[int, ...] = ()
    query_id: int | None = None
    leader_pid: int | None = None
    console: bool = False          # one of the console's own sessions: never a target of an action

    @property
    def client(self) -> bool:
        return self.backend_type == CLIENT

    @property
    def wait(self) -> str | None:
        """``Lock:transactionid`` style, None when not waiting."""
        if not self.wait_event_type:
            return None
        return f"{self.wait_event_type}:{self.wait_event or ''}"

    @property
    def idle(self) -> bool:
        return self.state in IDLE_STATES

    @property
    def duration_s(self) -> float | None:
        """How long it has been doing what it does: the query's age while active, the
        transaction's age while idle in a transaction, None when idle (or not a client)."""
        if self.state == "active":
            return self.query_age_s
        if self.state and self.state.startswith("idle in transaction"):
            return self.xact_age_s
        return None

    def field_text(self, name: str) -> str:
        v = getattr(self, name)
        if v is None:
            return ""
        if isinstance(v, tuple):
            return ",".join(str(x) for x in v)
        return str(v)


@dataclass(frozen=True)
class ActivitySample:
    target: str
    taken_at: datetime               # server clock, UTC
    version_num: int
    datname: str                     # the target's own database
    self_pid: int                    # the sampling connection's backend
    rows: tuple[Backend, ...]
    truncated: bool = False          # more backends than the row limit
    elapsed_ms: float = 0.0

    def row(self, pid: int) -> Backend | None:
        return next((r for r in self.rows if r.pid == pid), None)

    @property
    def waiting(self) -> int:
        return sum(1 for r in self.rows if r.blocked_by)


class ActivityPort(Protocol):
    """What the Activity screen reads: the live :class:`~.source.ActivitySource` and the
    replay of a recording (``core.recording.ReplayActivity``) both satisfy it."""

    @property
    def targets(self) -> list[str]: ...

    def sample(self, target: str) -> ActivitySample: ...


# --------------------------------------------------------------------------- filter and sort

# ``field:regex`` terms of a filter expression; any other term matches any field.
FIELDS = {
    "pid": "pid", "db": "datname", "database": "datname", "user": "usename", "app": "application_name",
    "application": "application_name", "client": "client_addr", "state": "state", "wait": "wait",
    "type": "backend_type", "query": "query", "blocked": "blocked_by",
}
SEARCHED = ("pid", "datname", "usename", "application_name", "client_addr", "backend_type", "state",
            "wait", "query", "blocked_by")


@dataclass(frozen=True)
class ActivityFilter:
    expr: str = ""                   # whitespace-separated terms, all must match (case-insensitive)
    min_duration_s: float | None = None
    hide_idle: bool = False
    clients_only: bool = False

    def compiled(self) -> list[tuple[str | None, re.Pattern[str]]]:
        """[(field or None for any, pattern)]; raises ValueError for a bad regex."""
        out: list[tuple[str | None, re.Pattern[str]]] = []
        for term in self.expr.split():
            key, sep, rest = term.partition(":")
            fld = FIELDS.get(key.lower()) if sep else None
            pattern = rest if fld else term
            try:
                out.append((fld, re.compile(pattern, re.IGNORECASE)))
            except re.error as exc:
                raise ValueError(f"bad filter regex {pattern!r}: {exc}") from None
        return out


def _matches(row: Backend, terms: list[tuple[str | None, re.Pattern[str]]]) -> bool:
    for fld, pat in terms:
        names = (fld,) if fld else SEARCHED
        if not any(pat.search(row.field_text(n)) for n in names):
            return False
    return True


def apply_filter(rows: Iterable[Backend], flt: ActivityFilter) -> list[Backend]:
    """Rows that pass the filter, in their order.

    >>> r = lambda pid, st, age, app='psql': Backend(pid, 'db', 'u', app, None, None, CLIENT, st, None, None,
    ...                                             None, age, age, age, 'select 1')
    >>> rows = [r(1, 'idle', 50), r(2, 'active', 5, 'etl'), r(3, 'active', 0.1)]
    >>> [x.pid for x in apply_filter(rows, ActivityFilter(hide_idle=True))]
    [2, 3]
    >>> [x.pid for x in apply_filter(rows, ActivityFilter(min_duration_s=1))]
    [2]
    >>> [x.pid for x in apply_filter(rows, ActivityFilter('app:^ps'))]
    [1, 3]
    """
    terms = flt.compiled()
    out = []
    for row in rows:
        if flt.clients_only and not row.client:
            continue
        if flt.hide_idle and (row.idle or row.state is None):
            continue
        if flt.min_duration_s is not None:
            d = row.duration_s
            if d is None or d < flt.min_duration_s:
                continue
        if terms and not _matches(row, terms):
            continue
        out.append(row)
    return out


SORT_KEYS = ("pid", "datname", "usename", "application_name", "client_addr", "backend_type", "state", "wait",
             "xact_age_s", "query_age_s", "state_age_s", "duration_s", "query", "blocked_by")


def sort_rows(rows: Iterable[Backend], key: str = "duration_s", *, descending: bool = True) -> list[Backend]:
    """Rows sorted by any column; missing values (None) always last, ties by pid.

    >>> r = lambda pid, age: Backend(pid, 'd', 'u', 'a', None, None, CLIENT, 'active', None, None, None,
    ...                              age, age, age, 'q')
    >>> [x.pid for x in sort_rows([r(1, 2.0), r(2, None), r(3, 9.0)], 'query_age_s')]
    [3, 1, 2]
    >>> [x.pid for x in sort_rows([r(1, 2.0), r(2, None), r(3, 9.0)], 'query_age_s', descending=False)]
    [1, 3, 2]
    """
    if key not in SORT_KEYS:
        raise ValueError(f"sort key must be one of {', '.join(SORT_KEYS)}")
    rows = sorted(rows, key=lambda r: r.pid)
    present = [r for r in rows if getattr(r, key) not in (None, "", ())]
    missing = [r for r in rows if getattr(r, key) in (None, "", ())]

    def k(r: Backend):
        v = getattr(r, key)
        return v.lower() if isinstance(v, str) else v

    return sorted(present, key=k, reverse=descending) + missing


# --------------------------------------------------------------------------- blocking chains


@dataclass(frozen=True)
class ChainLink:
    depth: int                       # 0: the session itself; 1: direct; 2: through one other...
    pid: int
    row: Backend | None              # None: a pid not in the sample (another server's view, gone)


@dataclass(frozen=True)
class BlockingChain:
    pid: int
    blockers: tuple[ChainLink, ...] = ()   # who it waits on, transitively (depth 1 = direct)
    waiters: tuple[ChainLink, ...] = ()    # who waits on it, transitively (depth 1 = direct)
    cycle: bool = False                    # a deadlock the detector has not broken yet

    @property
    def blocked_pids(self) -> tuple[int, ...]:
        return tuple(w.pid for w in self.waiters)

    def lines(self) -> list[tuple[int, ChainLink]]:
        """Reading order with an indent: the root blockers first, down to the session,
        then whoever waits on it. ``(indent, link)``."""
        top = max((b.depth for b in self.blockers), default=0)
        out = [(top - b.depth, b) for b in sorted(self.blockers, key=lambda b: (-b.depth, b.pid))]
        out.append((top, ChainLink(0, self.pid, None)))
        out.extend((top + w.depth, w) for w in self.waiters)
        return out


def _walk(start: int, edges: dict[int, list[int]], by_pid: dict[int, Backend]) -> tuple[tuple[ChainLink, ...], bool]:
    out: list[ChainLink] = []
    seen = {start}
    cycle = False
    frontier = [start]
    depth = 0
    while frontier:
        depth += 1
        nxt = []
        for p in frontier:
            for q in sorted(edges.get(p, ())):
                if q == start:
                    cycle = True
                if q in seen:
                    continue
                seen.add(q)
                out.append(ChainLink(depth, q, by_pid.get(q)))
                nxt.append(q)
        frontier = nxt
    return tuple(out), cycle


def blocking_chain(rows: Sequence[Backend], pid: int) -> BlockingChain:
    """Who ``pid`` waits on and who waits on ``pid``, transitively, breadth first.

    >>> r = lambda pid, *by: Backend(pid, 'd', 'u', 'a', None, None, CLIENT, 'active', None, None, None,
    ...                              1.0, 1.0, 1.0, 'q', tuple(by))
    >>> c = blocking_chain([r(10), r(20, 10), r(30, 20), r(40, 20)], 20)
    >>> [(b.depth, b.pid) for b in c.blockers], [(w.depth, w.pid) for w in c.waiters]
    ([(1, 10)], [(1, 30), (1, 40)])
    >>> blocking_chain([r(10), r(20, 10), r(30, 20)], 10).blocked_pids
    (20, 30)
    """
    by_pid = {r.pid: r for r in rows}
    up: dict[int, list[int]] = {r.pid: list(r.blocked_by) for r in rows}
    down: dict[int, list[int]] = {}
    for r in rows:
        for b in r.blocked_by:
            down.setdefault(b, []).append(r.pid)
    blockers, c1 = _walk(pid, up, by_pid)
    waiters, c2 = _walk(pid, down, by_pid)
    return BlockingChain(pid, blockers, waiters, c1 or c2)


def roots(rows: Sequence[Backend]) -> list[int]:
    """Pids that block someone and wait on nobody: where a DBA looks first."""
    blocking = {b for r in rows for b in r.blocked_by}
    by_pid = {r.pid: r for r in rows}
    return sorted(p for p in blocking if not (by_pid.get(p) and by_pid[p].blocked_by))

