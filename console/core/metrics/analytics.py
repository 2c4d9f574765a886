"""The seed-000 analytics views, each under its own statement_timeout, and the daily trends."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from psycopg.rows import dict_row

from ...backends.base import BackendError, ErrorKind
from ...backends.postgres import PostgresBackend
from .sql import sql_file


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
