"""Fixed metrics samples for the snapshot tests: a MetricsSource look-alike whose methods
return frozen PgSample / AnalyticsSample / InfluxSample values (and, on demand, fail after
the first call so the stale state can be shown). The real collectors these stand in for
are tested against real PostgreSQL and influxd in tests/integration/test_metrics_*.py."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from console.backends.base import BackendError, ErrorKind
from console.config import Settings
from console.core.metrics import (
    Activity,
    AnalyticsSample,
    Counters,
    InfluxSample,
    PgSample,
    Point,
    Rates,
    TableStat,
    TagStat,
    ViewResult,
    trends_from,
)
from console.ui.services import Services

FIXED = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)


def pg_sample(target: str, *, tps: float, locks: bool = False, at: datetime = FIXED) -> PgSample:
    chain = ()
    if locks:
        chain = (
            Activity(4101, "app", target, "api", "idle in transaction", None, 212.0,
                     "UPDATE meta.sessions SET status = 'closed' WHERE request_id = $1"),
            Activity(4120, "batch", target, "batch", "active", "Lock:transactionid", 48.5,
                     "UPDATE meta.sessions SET execution_count = execution_count + 1 WHERE request_id = $1",
                     blocked_by=(4101,)),
            Activity(4133, "console", target, "psql", "active", "Lock:relation", 12.0,
                     "ALTER TABLE meta.sessions ADD COLUMN note text", blocked_by=(4120,)),
        )
    return PgSample(
        target=target, taken_at=at, version="18.0", version_num=180000,
        counters=Counters(at.timestamp(), 10_000, 12, 0, 0, 0, 0, 0, 100, 9_900, 0),
        rates=Rates(5.0, tps, tps * 80, tps * 3, 0.987, 0),
        size_bytes=int(tps * 1024 ** 2 * 9), max_connections=100,
        connections=(("idle", 14, 6), ("active", 4, 2), ("idle in transaction", 1, 1)),
        longest_xact=chain[0] if chain else Activity(3990, "app", target, "api", "active", None, 3.4,
                                                     "SELECT * FROM banks WHERE code = $1"),
        longest_query=Activity(3990, "app", target, "api", "active", None, 1.2,
                               "SELECT * FROM banks WHERE code = $1"),
        locks=chain,
        tables=(TableStat("public", "request_logs_y2026m11", 412_000, 18_240, at - timedelta(hours=3), None),
                TableStat("meta", "sessions", 400, 220, None, None),
                TableStat("public", "error_logs", 9_800, 12, at - timedelta(days=2), None)),
        checkpoints={"timed": 120, "requested": 3, "buffers_written": 5120},
        queries=6, elapsed_ms=4.2)


def history_tps(target: str, k: int) -> float:
    """TPS of the k-th of 60 history samples (deterministic)."""
    if target == "lambda":
        return round(150 + 45 * math.sin(k / 6) + 10 * ((k * 7) % 5) / 4, 1)
    if target == "zengin":
        return round(4 + 8.4 * k / 59, 1)
    return 46.0


def pg_history(target: str) -> list[PgSample]:
    return [pg_sample(target, tps=history_tps(target, k), at=FIXED - timedelta(seconds=5 * (60 - k)))
            for k in range(60)]


FUNCS = [("python-fibonacci", 40210, 38.0, 92.0, 402, 45.1), ("rust-image_resize", 28100, 61.0, 140.0, 280, 30.2),
         ("go-json_transform", 27950, 12.0, 30.0, 279, 35.0), ("python-pdf_extract", 16020, 905.0, 2400.0, 961, 5.1)]


def analytics_sample(*, usage_timeout: bool = False) -> AnalyticsSample:
    days = [FIXED.date() - timedelta(days=6 - i) for i in range(7)]
    daily = [{"day": d, "language_title": lt,
              "total_requests": int(n / 7 * (0.8 + 0.05 * i + (0.1 if lt.startswith('r') and i == 3 else 0))),
              "error_requests": e // 7} for lt, n, _a, _p, e, _c in FUNCS for i, d in enumerate(days)]
    views = {
        "function_performance": ViewResult("function_performance", tuple(
            {"language_title": lt, "total_requests": n, "avg_duration_ms": a, "p95_duration_ms": p,
             "p99_duration_ms": p * 2, "error_count": e, "cache_hit_ratio": c} for lt, n, a, p, e, c in FUNCS),
            elapsed_ms=820, timeout_ms=3000),
        "error_summary": ViewResult("error_summary", (
            {"error_code": "RUNTIME_ERROR", "language_title": "python-pdf_extract", "error_count": 212,
             "last_occurrence": FIXED - timedelta(minutes=4), "most_common_status": 500},
            {"error_code": "TIMEOUT", "language_title": "python-ml_predict", "error_count": 96,
             "last_occurrence": FIXED - timedelta(minutes=11), "most_common_status": 504}),
            elapsed_ms=240, timeout_ms=3000),
        "daily_usage_stats": (ViewResult("daily_usage_stats", status="timeout", error="timed out after 3000 ms",
                                         elapsed_ms=3001, timeout_ms=3000) if usage_timeout
                              else ViewResult("daily_usage_stats", tuple(daily), elapsed_ms=1450, timeout_ms=3000)),
        "daily_stats_mv": ViewResult("daily_stats_mv", tuple(daily), elapsed_ms=3, timeout_ms=1000),
    }
    source = "daily_stats_mv" if usage_timeout else "daily_usage_stats"
    return AnalyticsSample("lambda", FIXED, views, trends_from(daily, today=FIXED), source)


def influx_sample() -> InfluxSample:
    start = FIXED - timedelta(hours=1)
    shape = [52, 61, 75, 90, 84, 70]
    return InfluxSample(
        taken_at=FIXED, version="1.8.10", range_key="1h", user=None, notebook=None,
        executions=tuple(Point(start + timedelta(minutes=10 * k), v) for k, v in enumerate(shape)),
        mean_duration=tuple(Point(start + timedelta(minutes=10 * k), v) for k, v in
                            enumerate([140.0, 150.0, 210.0, 180.0, 160.0, 155.0])),
        error_rate=tuple(Point(FIXED - timedelta(hours=24 - h), 0.03 + 0.04 * ((h * 7) % 5) / 4) for h in range(24)),
        progress=tuple(Point(start + timedelta(minutes=30 * k), v) for k, v in enumerate([41.0, 47.5])),
        by_user=(TagStat("user_001", 61, 132.0), TagStat("user_002", 48, 170.5), TagStat("user_007", 33, 98.1)),
        by_notebook=(TagStat("notebooks/03_pandas_dataframe.ipynb", 88, 160.2),
                     TagStat("notebooks/05_sklearn_regression.ipynb", 71, 240.9),
                     TagStat("notebooks/01_python_basics.ipynb", 40, 70.0)),
        by_cell_type=(("code", 92.4, 410.0, 0.061), ("markdown", 2.1, 9.0, 0.0)),
        queries=7, elapsed_ms=12.0)


class FakeMetricsSource:
    """Answers like MetricsSource; ``fail_after_first`` names sources ("pg:zengin",
    "influx") that answer once and then fail (stale)."""

    def __init__(self, *, fail_after_first: tuple[str, ...] = (), usage_timeout: bool = False):
        self.fail_after_first = set(fail_after_first)
        self.usage_timeout = usage_timeout
        self.calls: dict[str, int] = {}

    targets = ["lambda", "zengin", "learning"]
    analytics_targets = ["lambda"]
    has_influx = True

    def _count(self, key: str) -> None:
        self.calls[key] = self.calls.get(key, 0) + 1
        if key in self.fail_after_first and self.calls[key] > 1:
            if key == "influx":
                raise BackendError("influxdb", ErrorKind.UNREACHABLE,
                                   "cannot reach http://metrics.internal:8086: connection refused")
            raise BackendError(key.split(":")[1], ErrorKind.TIMEOUT,
                               "statement timeout: canceling statement due to statement timeout")

    def sample_pg(self, target: str) -> PgSample:
        self._count(f"pg:{target}")
        return {"lambda": pg_sample("lambda", tps=184.3, locks=True),
                "zengin": pg_sample("zengin", tps=12.4),
                "learning": pg_sample("learning", tps=46.0)}[target]

    def pg_history(self, target: str, limit: int) -> list[PgSample] | None:
        """Five fixed minutes before FIXED, one sample per 5 s: lambda swings, zengin
        climbs, learning is constant (a flat line, not a full-height bar)."""
        return pg_history(target)[-limit:]

    def sample_analytics(self, target: str) -> AnalyticsSample:
        self._count(f"an:{target}")
        return analytics_sample(usage_timeout=self.usage_timeout)

    def sample_influx(self, range_key: str = "1h", *, user=None, notebook=None) -> InfluxSample:
        self._count("influx")
        return influx_sample()

    def tag_values(self, key: str) -> list[str]:
        return ["user_001", "user_002"] if key == "user_id" else ["notebooks/01_python_basics.ipynb"]


def metrics_services(source: FakeMetricsSource | None = None) -> Services:
    settings = Settings(environment="prod", refresh_interval_s=5.0)
    return Services(settings=settings, clock=lambda: 1000.0, sources={"metrics": source or FakeMetricsSource()})
