"""A fleet: 40 PostgreSQL targets (40 databases on the embedded server) against one.

For each of Overview, Metrics and Activity the real app runs headless (Pilot, 140x45) for a
window at a 2 s interval, first with one target, then with 40, in the same run (the window
opens once the other screens have been built ahead: that startup work is bench_switch's),
and reports:

- console CPU per target per minute, 40 targets against the single-target figure (issue 15's
  goal: at 40, no more than a quarter of the single-target cost per target);
- the largest event-loop stall (a 10 ms ticker in the app's loop) and how many went over
  100 ms;
- the most threads alive at once, and the console's connections to the server at the end.

``BENCH_FLEET_SECONDS`` sets the window (default 60 s; ``--quick`` 15 s),
``BENCH_FLEET_TARGETS`` the fleet size (default 40), ``BENCH_FLEET_SCREENS`` which screens
(comma-separated), and ``BENCH_FLEET_SLOW=1`` logs every event-loop callback over 100 ms
(asyncio's debug mode: the figures are then inflated; for finding a stall, not measuring)."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

from bench import Result, built_ahead

WINDOW_S = float(os.environ.get("BENCH_FLEET_SECONDS", "60"))
TARGETS = int(os.environ.get("BENCH_FLEET_TARGETS", "40"))
INTERVAL_S = 2.0
SCREENS = tuple(os.environ.get("BENCH_FLEET_SCREENS", "overview,metrics,activity").split(","))


def _log(msg: str) -> None:
    print(f"  [fleet] {msg}", file=sys.stderr, flush=True)


def _prepare(stack, n: int) -> list[str]:
    from console.backends.postgres import PostgresBackend
    from console.config import PostgresTarget, Settings
    from console.core import migrate

    names = [f"fleet_{i:02d}" for i in range(n)]
    for name in names:
        stack.postgres.create_database(name)
        t = PostgresTarget(name=name, system="lambda", dsn=stack.postgres.dsn(name))
        b = PostgresBackend(t)
        try:
            res = migrate.migrate(Settings(postgres=(t,)), b, "lambda", actor="bench")
            assert res.failed is None, res.error
        finally:
            b.close()
    return names


def _settings(stack, names: list[str]):
    from console.config import PostgresTarget, Settings

    targets = tuple(PostgresTarget(name=n, system="lambda", dsn=stack.postgres.dsn(n)) for n in names)
    return Settings(environment="bench", refresh_interval_s=INTERVAL_S, postgres=targets)


def _connections(stack) -> int:
    import psycopg

    with psycopg.connect(stack.postgres.dsn("postgres"), autocommit=True) as c:
        return int(c.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'console'")
                   .fetchone()[0])


async def _run(services, mode: str, seconds: float) -> dict[str, float]:
    from console.ui.app import ConsoleApp

    app = ConsoleApp(services, initial_mode=mode)
    out: dict[str, float] = {}
    if os.environ.get("BENCH_FLEET_SLOW"):
        import logging
        logging.basicConfig(stream=sys.stderr)
        loop = asyncio.get_running_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = 0.1
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause(1.0)                 # the first samples: not part of the window
        await built_ahead(app)                 # nor the other screens built ahead (bench_switch's)
        stalls: list[float] = []
        threads = [threading.active_count()]
        stop = asyncio.Event()

        async def tick() -> None:
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                stalls.append((now - last - 0.01) * 1000)
                threads.append(threading.active_count())
                last = now

        task = asyncio.get_running_loop().create_task(tick())
        t0 = time.process_time()
        await asyncio.sleep(seconds)
        out["cpu"] = time.process_time() - t0
        stop.set()
        await task
        out["stall"] = max(stalls, default=0.0)
        out["stalls_100"] = float(sum(1 for s in stalls if s > 100))
        out["threads"] = float(max(threads))
    return out


def _measure(stack, names: list[str], mode: str) -> dict[str, float]:
    from console.ui.services import Services

    services = Services.from_settings(_settings(stack, names))
    if mode != "overview":
        services.health_checks = []            # only the screen's own sources in play
    try:
        out = asyncio.run(_run(services, mode, WINDOW_S))
        out["connections"] = float(_connections(stack))
    finally:
        services.close()
    per_min = out["cpu"] / len(names) * 60 / WINDOW_S
    out["cpu_per_target_min"] = per_min
    _log(f"{mode:9} {len(names):2} target(s): {out['cpu']:.2f} s CPU in {WINDOW_S:.0f} s "
         f"({per_min:.3f} s per target per minute), largest stall {out['stall']:.0f} ms "
         f"({out['stalls_100']:.0f} over 100 ms), {out['threads']:.0f} threads at most, "
         f"{out['connections']:.0f} connections")
    return out


def run(ctx) -> list[Result]:
    global WINDOW_S
    if getattr(ctx, "quick", False):
        WINDOW_S = min(WINDOW_S, 15.0)
    names = _prepare(ctx.stack, TARGETS)
    results: list[Result] = []
    for mode in SCREENS:
        one = _measure(ctx.stack, names[:1], mode)
        many = _measure(ctx.stack, names, mode)
        results.append(Result(
            f"{mode}: CPU per target per minute, {TARGETS} targets", many["cpu_per_target_min"],
            "the same with 1 target (goal: ratio >= 4)", one["cpu_per_target_min"], unit="s CPU"))
        results.append(Result(
            f"{mode}: largest event-loop stall, {TARGETS} targets ({many['stalls_100']:.0f} over 100 ms)",
            many["stall"], "the 100 ms goal", 100.0, unit="ms"))
        results.append(Result(
            f"{mode}: most threads alive, {TARGETS} targets ({many['connections']:.0f} connections)",
            many["threads"], "the same with 1 target", one["threads"], unit="threads"))
    return results
