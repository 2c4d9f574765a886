"""The application as a whole, against the running local stack (ctx.stack).

1. Launch: ``python -m console.cli --config …`` on a pseudo-terminal (120×40) until the
   Overview's first frame is drawn ("Needs attention" on the terminal), against a bare
   Textual ``App`` with one ``Static`` until its text is drawn — the framework's floor —
   launched the same way, alternately, median of 5 each (one warm-up each first, which
   writes the bytecode cache to a scratch folder, as an installed package has it). Then,
   headless, launch until every backend has answered on the Overview (the probes run
   after the first frame), against the bare app mounted.
2. Memory: the console refreshing every 0.05 s (an hour of 5 s refreshes ≈ 720 cycles)
   for 30 s on Overview, then 30 s on Metrics (PostgreSQL sampled every 0.05 s). RSS and
   tracemalloc's traced size at the end, against the same figures after the first
   10 s (≈ 200 cycles, once Textual's bounded LRU render caches — DataTable's cell cache,
   the styles cache — have filled): a ratio near 1 means no growth.
3. Idle CPU: process CPU time over 10 s on each screen at the default 5 s refresh, against
   a bare Textual app idle for 10 s in the same process.

The whole module runs in about 2.5 minutes."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from . import Result, built_ahead

LAUNCH_RUNS = 3
FRAME_RUNS = 5
MEMORY_PHASE_S = 30.0
WARM_S = 10.0
IDLE_S = 10.0

CONSOLE_CHILD = r"""
import asyncio, sys, time
t0 = time.perf_counter()
from console.config import load
from console.ui.app import ConsoleApp
from console.ui.services import Services

async def main():
    app = ConsoleApp(Services.from_settings(load(sys.argv[1]), defer=True))
    async with app.run_test(size=(120, 40)) as pilot:
        scr = app.screen
        while not (scr.states and all(st.tried_at is not None and not st.running for st in scr.states.values())):
            await pilot.pause(0.005)
asyncio.run(main())
"""

BARE_CHILD = r"""
import asyncio
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("hello")

async def main():
    app = Bare()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0)
asyncio.run(main())
"""


def _launch_env(scratch: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")     # compiled once, like an install
    env["TEXTUAL_ANIMATIONS"] = "none"
    return env


def _first_frames(config: Path, scratch: Path, runs: int) -> tuple[float, float]:
    """Median seconds to the first frame on a terminal: (console CLI, bare app)."""
    from .tty import first_frame

    bare = scratch / "bare_app.py"
    bare.write_text(BARE_TTY)
    env = _launch_env(scratch)
    console_argv = [sys.executable, "-m", "console.cli", "--config", str(config)]
    bare_argv = [sys.executable, str(bare)]
    first_frame(console_argv, "Needs attention", env=env)      # warm-up: bytecode cache
    first_frame(bare_argv, "bare app drawn", env=env)
    c, b = [], []
    for _ in range(runs):
        c.append(first_frame(console_argv, "Needs attention", env=env))
        b.append(first_frame(bare_argv, "bare app drawn", env=env))
    return statistics.median(c), statistics.median(b)


BARE_TTY = """
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("bare app drawn")

Bare().run()
"""


def _launch(code: str, *args: str, scratch: Path) -> float:
    env = _launch_env(scratch)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, env=env, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _settings(config: Path, refresh: float | None = None):
    from console.config import load
    s = load(config)
    if refresh is not None:
        s = dataclasses.replace(s, refresh_interval_s=refresh)     # below the 0.2 s config floor
    return s


async def _memory(config: Path) -> dict[str, tuple[float, float]]:
    from console.ui.app import ConsoleApp
    from console.ui.services import Services

    out: dict[str, tuple[float, float]] = {}
    services = Services.from_settings(_settings(config, 0.05))
    app = ConsoleApp(services)
    tracemalloc.start()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await built_ahead(app)                     # the screens built ahead: not growth
            for mode, key in (("overview", "1"), ("metrics", "4")):
                await pilot.press(key)
                if mode == "metrics":
                    app.screen.interval = 0.05      # sources read ``every`` from it at each schedule
                await pilot.pause(WARM_S)
                gc.collect()
                warm = (_rss_mb(), tracemalloc.get_traced_memory()[0] / 2**20)
                await pilot.pause(MEMORY_PHASE_S - WARM_S)
                gc.collect()
                end = (_rss_mb(), tracemalloc.get_traced_memory()[0] / 2**20)
                out[mode] = (warm, end)
    finally:
        tracemalloc.stop()
        services.close()
    return out


async def _idle_console(config: Path) -> dict[str, float]:
    from console.ui.app import SCREENS, ConsoleApp
    from console.ui.services import Services

    out: dict[str, float] = {}
    services = Services.from_settings(_settings(config, 5.0))
    app = ConsoleApp(services)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await built_ahead(app)                     # the startup's work is not idle
            for mode, key, *_ in SCREENS:
                await pilot.press(key)
                await pilot.pause(1.0)                 # first load is not idle
                c0, t0 = time.process_time(), time.perf_counter()
                await pilot.pause(IDLE_S)
                out[mode] = (time.process_time() - c0) / (time.perf_counter() - t0) * 100
    finally:
        services.close()
    return out


async def _idle_bare() -> float:
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("hello")

    async with Bare().run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.0)
        c0, t0 = time.process_time(), time.perf_counter()
        await pilot.pause(IDLE_S)
        return (time.process_time() - c0) / (time.perf_counter() - t0) * 100


def run(ctx) -> list[Result]:
    global LAUNCH_RUNS, MEMORY_PHASE_S, WARM_S, IDLE_S
    if getattr(ctx, "quick", False):          # --quick: fewer launches, shorter phases
        LAUNCH_RUNS, MEMORY_PHASE_S, WARM_S, IDLE_S = 3, 12.0, 4.0, 4.0
    config = ctx.scratch / "bench-app.toml"
    config.write_text(ctx.stack.config_toml())
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

    frame_s, bare_frame_s = _first_frames(config, ctx.scratch, FRAME_RUNS)
    console_s = statistics.median(_launch(CONSOLE_CHILD, str(config), scratch=ctx.scratch) for _ in range(LAUNCH_RUNS))
    bare_s = statistics.median(_launch(BARE_CHILD, scratch=ctx.scratch) for _ in range(LAUNCH_RUNS))
    results = [Result("launch `console` → first Overview frame on a terminal (s)", frame_s,
                      "bare Textual App + Static → first frame", bare_frame_s),
               Result("launch → Overview with every backend answered, headless (s)", console_s,
                      "bare Textual App + Static, launch → mounted", bare_s)]

    mem = asyncio.run(_memory(config))
    for mode, ((rss0, tm0), (rss1, tm1)) in mem.items():
        results.append(Result(f"{mode}: RSS after {MEMORY_PHASE_S:.0f}s of 0.05s refreshes (MB)", rss1,
                              f"RSS after the first {WARM_S:.0f}s", rss0, unit="MB"))
        results.append(Result(f"{mode}: traced Python heap after {MEMORY_PHASE_S:.0f}s (MB)", tm1,
                              f"traced heap after the first {WARM_S:.0f}s", tm0, unit="MB"))

    idle = asyncio.run(_idle_console(config))
    bare_idle = asyncio.run(_idle_bare())
    for mode, pct in idle.items():
        results.append(Result(f"idle CPU on {mode}, 5 s refresh (% of one core)", pct,
                              "bare Textual app idle", bare_idle, unit="%"))
    return results
