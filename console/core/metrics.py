"""Live metrics: pg_stat_* samples per PostgreSQL target, the seed-000 analytics views,
and InfluxQL series of seed 004 — as immutable samples the screen and ``console metrics``
render.

Cost rules (the screen stays open for hours during incidents):

- every query is a file in ``metrics_sql/`` (listed, with cadence and timeout, in
  docs/readme/metrics.md), picked by ``server_version_num`` where the catalogs differ;
- no ``count(*)`` on a big table: row counts are the statistics' estimates;
- the PostgreSQL sample is 5 small catalog queries in one pooled connection checkout;
- the analytics views scan ``request_logs``: they run on a slower cadence, each in its own
  transaction under its own ``statement_timeout``; a view that times out is reported as
  timed out (the others still come back);
- InfluxQL parameters are bound server-side (``$name``), never formatted in.

A collector keeps the previous counters of its target to turn them into rates; it is only
used from one worker at a time (the screen never overlaps refreshes) and the UI only ever
sees the frozen samples it returns."""

from __future__ import annotations

import functools
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from psycopg.rows import dict_row

from ..backends.base import BackendError, ErrorKind
from ..backends.influx import InfluxBackend, Series
from ..backends.postgres import PostgresBackend

SQL_DIR = Path(__file__).with_name("metrics_sql")
_VERSIONED = re.compile(r"^(?P<name>[a-z_]+)(?:\.(?P<min>\d{5,6}))?\.sql$")


# --------------------------------------------------------------------------- SQL files


@functools.lru_cache(maxsize=None)
def _sql_variants() -> dict[str, list[tuple[int, str]]]:
    """name -> [(minimum server_version_num, file name)], highest minimum first."""
    out: dict[str, list[tuple[int, str]]] = {}
    for path in SQL_DIR.glob("*.sql"):
        m = _VERSIONED.match(path.name)
        if m:
            out.setdefault(m["name"], []).append((int(m["min"] or 0), path.name))
    for variants in out.values():
        variants.sort(reverse=True)
    return out


@functools.lru_cache(maxsize=None)
def _read(file_name: str) -> str:
    return (SQL_DIR / file_name).read_text(encoding="utf-8")


def sql_file(name: str, version_num: int = 180000) -> str:
    """The text of ``metrics_sql/<name>.sql``, or of ``<name>.<N>.sql`` for the highest
    ``N <= version_num`` (e.g. ``checkpoints.170000.sql`` on PostgreSQL 17+).

    >>> 'pg_stat_checkpointer' in sql_file('checkpoints', 170004)
    True
    >>> 'pg_stat_bgwriter' in sql_file('checkpoints', 160008)
    True
    """
    variants = _sql_variants().get(name)
    if not variants:
        raise KeyError(f"no metrics_sql/{name}.sql")
    for minimum, file_name in variants:
        if version_num >= minimum:
            return _read(file_name)
    raise KeyError(f"no metrics_sql/{name}*.sql for server_version_num {version_num}")


def sql_files() -> list[str]:
    return sorted(p.name for p in SQL_DIR.glob("*.sql"))


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


# --------------------------------------------------------------------------- analytics views

ANALYTICS_VIEWS = ("function_performance", "error_summary", "daily_usage_stats", "daily_stats_mv")
DEFAULT_VIEW_TIMEOUTS_MS = {"function_performance": 3000, "error_summary": 3000,
                            "daily_usage_stats": 3000, "daily_stats_mv": 1000}
TREND_DAYS = 7
VIEW_ROW_LIMIT = 20


@dataclass(frozen=True)
class ViewResult:
    view: str
    rows: tuple[dict[str, Any], ...] = ()
    status: str = "ok"          # ok | timeout | error | absent
    error: str | None = None
    elapsed_ms: float = 0.0
    timeout_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class Trend:
    language_title: str
    days: tuple[str, ...]             # ISO dates, oldest first
    requests: tuple[int, ...]
    errors: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.requests)


@dataclass(frozen=True)
class AnalyticsSample:
    target: str
    taken_at: datetime
    views: dict[str, ViewResult]
    trends: tuple[Trend, ...]
    trend_source: str | None       # which view the trends come from

    @property
    def failed(self) -> list[ViewResult]:
        return [v for v in self.views.values() if v.status in ("timeout", "error")]


def trends_from(rows: Iterable[dict[str, Any]], *, days: int = TREND_DAYS,
                today: datetime | None = None) -> tuple[Trend, ...]:
    """Rows of (day, language_title, total_requests, error_requests) -> one series per
    language_title over the last ``days`` days (missing days are 0), busiest first."""
    today_d = (today or datetime.now(timezone.utc)).date()
    axis = [(today_d - timedelta(days=days - 1 - i)).isoformat() for i in range(days)]
    index = {d: i for i, d in enumerate(axis)}
    req: dict[str, list[int]] = {}
    err: dict[str, list[int]] = {}
    for r in rows:
        day = r["day"]
        key = (day.date() if isinstance(day, datetime) else day).isoformat()
        if key not in index:
            continue
        lt = r["language_title"]
        req.setdefault(lt, [0] * days)[index[key]] += int(r["total_requests"] or 0)
        err.setdefault(lt, [0] * days)[index[key]] += int(r["error_requests"] or 0)
    out = [Trend(lt, tuple(axis), tuple(v), tuple(err[lt])) for lt, v in req.items()]
    return tuple(sorted(out, key=lambda t: (-t.total, t.language_title)))


class AnalyticsCollector:
    """The seed-000 views of one lambda target, each in its own transaction with its own
    ``statement_timeout`` (SET LOCAL), so one slow view never hides the others."""

    def __init__(self, backend: PostgresBackend, *, timeouts_ms: dict[str, int] | None = None,
                 days: int = TREND_DAYS):
        self.backend = backend
        self.timeouts_ms = {**DEFAULT_VIEW_TIMEOUTS_MS, **(timeouts_ms or {})}
        self.days = days

    @property
    def name(self) -> str:
        return self.backend.name

    def _run(self, view: str) -> ViewResult:
        timeout = self.timeouts_ms[view]
        started = time.perf_counter()
        params = {"limit": VIEW_ROW_LIMIT, "days": self.days}
        try:
            with self.backend.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
                cur.execute("SELECT set_config('statement_timeout', %s, true)", (str(timeout),))
                cur.execute(sql_file(view), params)
                rows = tuple(cur.fetchall())
        except BackendError as exc:
            ms = (time.perf_counter() - started) * 1000
            if exc.kind is ErrorKind.TIMEOUT and "statement timeout" in exc.message:
                return ViewResult(view, status="timeout", error=f"timed out after {timeout} ms",
                                  elapsed_ms=ms, timeout_ms=timeout)
            return ViewResult(view, status="error", error=f"{exc.kind.value}: {exc.message}",
                              elapsed_ms=ms, timeout_ms=timeout)
        return ViewResult(view, rows, elapsed_ms=(time.perf_counter() - started) * 1000, timeout_ms=timeout)

    def sample(self) -> AnalyticsSample:
        present = self.backend.fetch(sql_file("analytics_present"))[0]
        views: dict[str, ViewResult] = {}
        for view in ANALYTICS_VIEWS:
            if not present.get(view):
                views[view] = ViewResult(view, status="absent")
                continue
            views[view] = self._run(view)
        source = next((v for v in ("daily_usage_stats", "daily_stats_mv") if views[v].ok), None)
        trends = trends_from(views[source].rows, days=self.days) if source else ()
        return AnalyticsSample(self.name, datetime.now(timezone.utc), views, trends, source)


# --------------------------------------------------------------------------- InfluxDB

RANGES = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(hours=24)}
BUCKET = "10m"
TOP_TAGS = 8


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float | None


@dataclass(frozen=True)
class TagStat:
    tag: str
    executions: int
    mean_ms: float | None


@dataclass(frozen=True)
class InfluxSample:
    taken_at: datetime
    version: str
    range_key: str
    user: str | None
    notebook: str | None
    executions: tuple[Point, ...]       # per 10 min
    mean_duration: tuple[Point, ...]    # per 10 min, ms
    error_rate: tuple[Point, ...]       # per hour over 24 h, 0..1
    progress: tuple[Point, ...]         # mean progress_percentage per hour over the range
    by_user: tuple[TagStat, ...]
    by_notebook: tuple[TagStat, ...]
    by_cell_type: tuple[tuple[str, float | None, float | None, float | None], ...]  # avg, max, error rate
    queries: int = 0
    elapsed_ms: float = 0.0

    @property
    def total_executions(self) -> int:
        return int(sum(p.value or 0 for p in self.executions))


def _ms(t: Any) -> datetime:
    return datetime.fromtimestamp(int(t) / 1000, timezone.utc)


def _points(series: list[Series], column: str) -> tuple[Point, ...]:
    out: list[Point] = []
    for s in series:
        i = s.columns.index(column) if column in s.columns else None
        if i is None:
            continue
        out.extend(Point(_ms(v[0]), None if v[i] is None else float(v[i])) for v in s.values)
    return tuple(out)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class InfluxCollector:
    """Seed 004's measurements over InfluxQL (``/query``). The range and buckets come
    from fixed whitelists; tag filters and the start time are bound parameters."""

    def __init__(self, backend: InfluxBackend, *, now: Callable[[], datetime] | None = None):
        self.backend = backend
        self.now = now or (lambda: datetime.now(timezone.utc))

    def tag_values(self, key: str, measurement: str = "cell_executions") -> list[str]:
        if key not in ("user_id", "notebook_path"):
            raise ValueError(f"not a tag this screen filters on: {key}")
        series = self.backend.query(f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "{key}"')
        return sorted({str(v[1]) for s in series for v in s.values})

    def sample(self, range_key: str = "1h", *, user: str | None = None,
               notebook: str | None = None) -> InfluxSample:
        if range_key not in RANGES:
            raise ValueError(f"range must be one of {', '.join(RANGES)}")
        started = time.perf_counter()
        version = self.backend.ping()
        now = self.now()
        # Align to the bucket so a 1 h range is exactly six 10-minute buckets.
        end = now.replace(second=0, microsecond=0)
        end -= timedelta(minutes=end.minute % 10)
        end += timedelta(minutes=10)
        start = end - RANGES[range_key]
        day_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        params: dict[str, Any] = {"start": _rfc3339(start), "end": _rfc3339(end),
                                  "day_start": _rfc3339(day_end - timedelta(hours=24)),
                                  "day_end": _rfc3339(day_end)}
        where = ""
        if user:
            where += ' AND "user_id" = $user'
            params["user"] = user
        if notebook:
            where += ' AND "notebook_path" = $notebook'
            params["notebook"] = notebook
        q = self.backend.query
        window = "time >= $start AND time < $end"
        series = q(f'SELECT count("execution_duration_ms") AS executions, mean("execution_duration_ms") AS mean_ms '
                   f'FROM "cell_executions" WHERE {window}{where} GROUP BY time({BUCKET}) fill(none)',
                   params=params)
        executions = self._fill(_points(series, "executions"), start, end, timedelta(minutes=10), 0.0)
        mean_duration = self._fill(_points(series, "mean_ms"), start, end, timedelta(minutes=10), None)
        day = "time >= $day_start AND time < $day_end"
        totals = q(f'SELECT count("execution_duration_ms") AS total FROM "cell_executions" '
                   f'WHERE {day}{where} GROUP BY time(1h) fill(none)', params=params)
        errors = q(f'SELECT count("execution_duration_ms") AS errors FROM "cell_executions" '
                   f'WHERE {day} AND "has_error" = true{where} GROUP BY time(1h) fill(none)', params=params)
        tot = {p.at: p.value or 0 for p in _points(totals, "total")}
        err = {p.at: p.value or 0 for p in _points(errors, "errors")}
        hours = [day_end - timedelta(hours=24 - i) for i in range(24)]
        error_rate = tuple(Point(h, (err.get(h, 0) / tot[h]) if tot.get(h) else None) for h in hours)
        progress = _points(q(f'SELECT mean("progress_percentage") AS progress FROM "learning_progress" '
                             f'WHERE {window}{where} GROUP BY time(1h) fill(none)', params=params), "progress")
        by_user = self._by_tag("user_id", window, where, params)
        by_nb = self._by_tag("notebook_path", window, where, params)
        perf = q(f'SELECT mean("avg_execution_time") AS avg_ms, max("max_execution_time") AS max_ms, '
                 f'mean("error_rate") AS error_rate FROM "performance_metrics" WHERE {window}{where} '
                 f'GROUP BY "cell_type"', params=params)
        by_cell = tuple(sorted((s.tags.get("cell_type", "?"),
                                *(s.rows()[0].get(k) for k in ("avg_ms", "max_ms", "error_rate")))
                               for s in perf if s.values))
        return InfluxSample(now, version, range_key, user, notebook, executions, mean_duration, error_rate,
                            progress, by_user, by_nb, by_cell, queries=7,
                            elapsed_ms=(time.perf_counter() - started) * 1000)

    def _by_tag(self, tag: str, window: str, where: str, params: dict[str, Any]) -> tuple[TagStat, ...]:
        series = self.backend.query(
            f'SELECT count("execution_duration_ms") AS executions, mean("execution_duration_ms") AS mean_ms '
            f'FROM "cell_executions" WHERE {window}{where} GROUP BY "{tag}"', params=params)
        stats = []
        for s in series:
            row = s.rows()[0] if s.values else {}
            stats.append(TagStat(s.tags.get(tag, "?"), int(row.get("executions") or 0), row.get("mean_ms")))
        stats.sort(key=lambda t: (-t.executions, t.tag))
        return tuple(stats[:TOP_TAGS])

    @staticmethod
    def _fill(points: tuple[Point, ...], start: datetime, end: datetime, step: timedelta,
              empty: float | None) -> tuple[Point, ...]:
        have = {p.at: p.value for p in points}
        out = []
        t = start
        while t < end:
            out.append(Point(t, have.get(t, empty)))
            t += step
        return tuple(out)


# --------------------------------------------------------------------------- the source


@dataclass(frozen=True)
class Cadence:
    """How often each source is sampled, from the user's refresh interval (seconds)."""

    interval_s: float

    @property
    def postgres_s(self) -> float:
        return self.interval_s

    @property
    def influx_s(self) -> float:
        return max(self.interval_s, 10.0)

    @property
    def analytics_s(self) -> float:
        return max(self.interval_s * 12, 60.0)


INTERVAL_STEPS = (1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0)


def step_interval(current: float, direction: int) -> float:
    """The next refresh interval up (+1) or down (-1) the fixed steps.

    >>> step_interval(5, +1), step_interval(5, -1), step_interval(60, +1), step_interval(3, -1)
    (10.0, 2.0, 60.0, 2.0)
    """
    if direction > 0:
        return next((s for s in INTERVAL_STEPS if s > current), INTERVAL_STEPS[-1])
    return next((s for s in reversed(INTERVAL_STEPS) if s < current), INTERVAL_STEPS[0])


class MetricsSource:
    """What the metrics screen and ``console metrics`` read: one collector per target,
    the analytics collector per lambda target, the InfluxDB collector. Every method
    blocks (call from a worker thread); each raises BackendError on failure."""

    def __init__(self, postgres: dict[str, PostgresBackend], influx: InfluxBackend | None, *,
                 analytics_systems: tuple[str, ...] = ("lambda",),
                 view_timeouts_ms: dict[str, int] | None = None):
        self._pg = {name: PgCollector(b) for name, b in postgres.items()}
        self._analytics = {name: AnalyticsCollector(b, timeouts_ms=view_timeouts_ms)
                           for name, b in postgres.items() if b.target.system in analytics_systems}
        self._influx = InfluxCollector(influx) if influx is not None else None
        self._lock = threading.Lock()

    @classmethod
    def from_backends(cls, backends) -> "MetricsSource":
        return cls(dict(backends.postgres), backends.influx)

    @property
    def targets(self) -> list[str]:
        return list(self._pg)

    @property
    def analytics_targets(self) -> list[str]:
        return list(self._analytics)

    @property
    def has_influx(self) -> bool:
        return self._influx is not None

    def sample_pg(self, target: str) -> PgSample:
        return self._pg[target].sample()

    def sample_analytics(self, target: str) -> AnalyticsSample:
        return self._analytics[target].sample()

    def sample_influx(self, range_key: str = "1h", *, user: str | None = None,
                      notebook: str | None = None) -> InfluxSample:
        if self._influx is None:
            raise BackendError("influxdb", ErrorKind.NOT_FOUND, "no [influxdb] configured")
        return self._influx.sample(range_key, user=user, notebook=notebook)

    def tag_values(self, key: str) -> list[str]:
        if self._influx is None:
            return []
        return self._influx.tag_values(key)


# --------------------------------------------------------------------------- formatting

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """Unicode block sparkline; None is a gap (space).

    >>> sparkline([0, 1, 2, 3, None, 7])
    '▁▂▃▄ █'
    """
    nums = [v for v in values if v is not None]
    if not nums:
        return " " * len(values)
    lo, hi = min(nums), max(nums)
    span = hi - lo
    return "".join(" " if v is None else SPARK[0 if span == 0 else int((v - lo) / span * (len(SPARK) - 1))]
                   for v in values)


def human_bytes(n: float) -> str:
    """
    >>> human_bytes(1536), human_bytes(3 * 1024 ** 3)
    ('1.5 KB', '3.0 GB')
    """
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def human_seconds(s: float | None) -> str:
    """
    >>> human_seconds(4.2), human_seconds(125), human_seconds(7300)
    ('4.2s', '2m05s', '2h01m')
    """
    if s is None:
        return "—"
    if s < 60:
        return f"{s:.1f}s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


# --------------------------------------------------------------------------- one snapshot (CLI)


@dataclass
class Snapshot:
    postgres: dict[str, PgSample | BackendError] = field(default_factory=dict)
    analytics: dict[str, AnalyticsSample | BackendError] = field(default_factory=dict)
    influx: InfluxSample | BackendError | None = None

    @property
    def failures(self) -> list[str]:
        out = [f"postgres:{k}" for k, v in self.postgres.items() if isinstance(v, BackendError)]
        out += [f"analytics:{k}" for k, v in self.analytics.items() if isinstance(v, BackendError)]
        out += [f"analytics:{k}:{r.view}" for k, v in self.analytics.items()
                if isinstance(v, AnalyticsSample) for r in v.failed]
        if isinstance(self.influx, BackendError):
            out.append("influxdb")
        return out


def _guard(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except BackendError as exc:
        return exc


def take_snapshot(source: MetricsSource, targets: Sequence[str] | None = None, *,
                  range_key: str = "1h", rate_pause_s: float = 1.0) -> Snapshot:
    """One sample of everything; the PostgreSQL targets twice, ``rate_pause_s`` apart, so
    that the rate figures exist. Sources are sampled concurrently (one thread each)."""
    from concurrent.futures import ThreadPoolExecutor

    names = list(targets) if targets else source.targets
    snap = Snapshot()

    def pg_twice(name: str) -> PgSample | BackendError:
        first = _guard(lambda: source.sample_pg(name))
        if isinstance(first, BackendError):
            return first
        time.sleep(rate_pause_s)
        return _guard(lambda: source.sample_pg(name))

    with ThreadPoolExecutor(max_workers=max(2, len(names) * 2 + 1)) as pool:
        pg = {n: pool.submit(pg_twice, n) for n in names}
        an = {n: pool.submit(_guard, lambda n=n: source.sample_analytics(n))
              for n in names if n in source.analytics_targets}
        inf = pool.submit(_guard, lambda: source.sample_influx(range_key)) if source.has_influx else None
        snap.postgres = {n: f.result() for n, f in pg.items()}
        snap.analytics = {n: f.result() for n, f in an.items()}
        snap.influx = inf.result() if inf is not None else None
    return snap


def _plain(value: Any) -> Any:
    import dataclasses

    if isinstance(value, BackendError):
        return {"error": value.message, "error_kind": value.kind.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, PgSample):
            out["chains"] = [{"depth": c.depth, "pid": c.session.pid} for c in value.chains]
            out["cache_hit"] = value.cache_hit
            out.pop("counters", None)
        return out
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__float__") and not isinstance(value, (int, float, bool)):
        return float(value)   # Decimal
    return value


def snapshot_dict(snap: Snapshot) -> dict[str, Any]:
    return {"postgres": _plain(snap.postgres), "analytics": _plain(snap.analytics),
            "influxdb": _plain(snap.influx), "failures": snap.failures}
