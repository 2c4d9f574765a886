"""Steady state: the console on Metrics refreshing every 1 s against the stack, in a child
process. RSS after 10 minutes against RSS after 1 minute (``--quick``: 2 minutes against
1), and the time from the quit key to the process being gone, against a bare Textual
app's quit in the same run.

Goals (issue 15): RSS after 10 minutes within 5 % of the RSS after 1 minute (ratio >=
0.95), quit within 1 s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from . import Result

CHILD = r"""
import asyncio, dataclasses, json, sys, time
from console.config import load
from console.ui.app import ConsoleApp
from console.ui.services import Services

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

async def main(config, marks):
    s = dataclasses.replace(load(config), refresh_interval_s=1.0)
    services = Services.from_settings(s)
    app = ConsoleApp(services)
    out = {}
    t0 = time.monotonic()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        for m in marks:
            await pilot.pause(max(0.0, t0 + m - time.monotonic()))
            out[str(m)] = rss_mb()
        q0 = time.perf_counter()
        await pilot.press("q")
        while app.is_running:
            await pilot.pause(0.01)
    services.close()
    out["quit_s"] = time.perf_counter() - q0
    print(json.dumps(out))

asyncio.run(main(sys.argv[1], [float(x) for x in sys.argv[2:]]))
"""

BARE = r"""
import asyncio, json, time
from textual.app import App
from textual.widgets import Static

class Bare(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Static("hello")

async def main():
    app = Bare()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1.0)
        q0 = time.perf_counter()
        await pilot.press("q")
        while app.is_running:
            await pilot.pause(0.01)
    print(json.dumps({"quit_s": time.perf_counter() - q0}))

asyncio.run(main())
"""


def _child(code: str, *args: str, timeout: float) -> dict:
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, env=env, timeout=timeout,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run(ctx) -> list[Result]:
    config = ctx.scratch / "bench-steady.toml"
    config.write_text(ctx.stack.config_toml())
    first, last = 60.0, (120.0 if getattr(ctx, "quick", False) else 600.0)
    t0 = time.perf_counter()
    got = _child(CHILD, str(config), str(first), str(last), timeout=last + 120)
    bare = _child(BARE, timeout=60)
    print(f"  steady: {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return [
        Result(f"Metrics at 1 s: RSS after {last / 60:.0f} min (MB)", got[str(last)],
               f"RSS after {first / 60:.0f} min", got[str(first)], unit="MB"),
        Result(f"quit after {last / 60:.0f} min on Metrics (s)", got["quit_s"],
               "bare Textual app quit", bare["quit_s"]),
    ]
