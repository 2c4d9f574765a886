"""What the Metrics screen costs, against lambda's request_logs with 1,000,000 rows.

1. Console CPU: the app (headless, Pilot) with the Metrics screen open for 60 s at a 2 s
   interval, against the same app idle on a static screen for 60 s.
2. Database time per refresh, from pg_stat_statements (total_exec_time delta over the
   refreshes), against one ``SELECT count(*) FROM request_logs`` — what a naive console
   would run — measured the same way in the same run. The analytics views (slow cadence)
   are measured separately.

``BENCH_METRICS_SECONDS`` shortens the two 60 s windows (e.g. for a quick check)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import datetime, timezone

from bench import Result

ROWS = int(os.environ.get("BENCH_METRICS_ROWS", "1000000"))
WINDOW_S = float(os.environ.get("BENCH_METRICS_SECONDS", "60"))
INTERVAL_S = 2.0
DB = "lambda"


def _log(msg: str) -> None:
    print(f"  [metrics] {msg}", file=sys.stderr, flush=True)


def _settings(stack, interval: float):
    from console.config import InfluxSettings, PostgresTarget, Settings

    target = PostgresTarget(name=DB, system="lambda", dsn=stack.postgres.dsn(DB))
    influx = None
    if stack.influx is not None:
        influx = InfluxSettings(url=stack.influx.url, database=stack.influx.database,
                                username=stack.influx.username, password=stack.influx.password)
    return Settings(environment="bench", refresh_interval_s=interval, postgres=(target,), influx=influx)


def _prepare(stack) -> None:
    from console.backends.influx import InfluxBackend
    from console.backends.postgres import PostgresBackend
    from console.core import migrate
    from console.demo.data import fill_influx, fill_postgres

    settings = _settings(stack, INTERVAL_S)
    backend = PostgresBackend(settings.postgres[0])
    try:
        res = migrate.migrate(settings, backend, "lambda", actor="bench")
        assert res.failed is None, res.error
        t0 = time.perf_counter()
        fill_postgres({DB: backend}, datetime.now(timezone.utc), request_log_rows=ROWS)
        _log(f"filled request_logs with {ROWS:,} rows in {time.perf_counter() - t0:.0f}s")
        backend.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        backend.close()
    if settings.influx is not None:
        influx = InfluxBackend(settings.influx)
        try:
            fill_influx(influx, datetime.now(timezone.utc))
        finally:
            influx.close()


async def _cpu_with_app(services, mode: str, seconds: float) -> float:
    from console.ui.app import ConsoleApp

    app = ConsoleApp(services, initial_mode=mode)
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause(0.5)
        t0 = time.process_time()
        await asyncio.sleep(seconds)
        cpu = time.process_time() - t0
    return cpu


def _cpu(stack) -> tuple[float, float]:
    from console.ui.services import Services

    idle = asyncio.run(_cpu_with_app(Services(settings=_settings(stack, INTERVAL_S)), "overview", WINDOW_S))
    _log(f"idle static screen: {idle:.2f} s CPU in {WINDOW_S:.0f} s")
    services = Services.from_settings(_settings(stack, INTERVAL_S))
    # Overview would probe too; only the metrics sources are in play here.
    services.health_checks = []
    live = asyncio.run(_cpu_with_app(services, "metrics", WINDOW_S))
    _log(f"metrics screen at {INTERVAL_S:g}s: {live:.2f} s CPU in {WINDOW_S:.0f} s")
    return live, idle


def _stmt_ms(conn) -> float:
    row = conn.execute(
        "SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND query NOT ILIKE '%pg_stat_statements%'").fetchone()
    return float(row[0])


def _db_time(stack) -> tuple[float, float, float]:
    from console.backends.postgres import PostgresBackend
    from console.core.metrics import AnalyticsCollector, PgCollector

    settings = _settings(stack, INTERVAL_S)
    backend = PostgresBackend(settings.postgres[0])
    try:
        with backend.connect(autocommit=True, statement_timeout_ms=0) as probe:
            probe.execute("SELECT pg_stat_statements_reset()")
            before = _stmt_ms(probe)
            collector = PgCollector(backend)
            n = 20
            for _ in range(n):
                collector.sample()
            pg_ms = (_stmt_ms(probe) - before) / n

            probe.execute("SELECT pg_stat_statements_reset()")
            before = _stmt_ms(probe)
            sample = AnalyticsCollector(backend).sample()
            analytics_ms = _stmt_ms(probe) - before
            _log("analytics views: " + ", ".join(f"{v.view} {v.status} {v.elapsed_ms:.0f} ms"
                                                  for v in sample.views.values()))

            probe.execute("SELECT pg_stat_statements_reset()")
            before = _stmt_ms(probe)
            with backend.connect(autocommit=True, statement_timeout_ms=0) as naive:
                naive.execute("SELECT count(*) FROM request_logs").fetchone()
            count_ms = _stmt_ms(probe) - before
    finally:
        backend.close()
    _log(f"db time per refresh {pg_ms:.2f} ms, analytics {analytics_ms:.0f} ms, count(*) {count_ms:.0f} ms")
    return pg_ms, analytics_ms, count_ms


def run(ctx) -> list[Result]:
    global WINDOW_S
    if getattr(ctx, "quick", False):          # python -m bench --quick: a 15 s window
        WINDOW_S = min(WINDOW_S, 15.0)
    _prepare(ctx.stack)
    pg_ms, analytics_ms, count_ms = _db_time(ctx.stack)
    live, idle = _cpu(ctx.stack)
    return [
        Result(f"console CPU, metrics screen {WINDOW_S:.0f}s @ {INTERVAL_S:g}s", live,
               f"same app idle on a static screen {WINDOW_S:.0f}s", idle, unit="s CPU"),
        Result("DB time per PostgreSQL refresh (pg_stat_statements)", pg_ms,
               f"one SELECT count(*) FROM request_logs ({ROWS:,} rows)", count_ms, unit="ms"),
        Result("DB time per analytics refresh (4 views, slow cadence)", analytics_ms,
               f"one SELECT count(*) FROM request_logs ({ROWS:,} rows)", count_ms, unit="ms"),
    ]
