"""Benchmarks: each ``bench/bench_<area>.py`` defines ``run(ctx) -> list[Result]`` and
measures its figure against a baseline in the same run. ``python -m bench`` (or
``./scripts/bench``) runs them all against one embedded stack and prints one table."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Result:
    figure: str            # what was measured, e.g. "scan 200k session keys (s)"
    value: float
    baseline_name: str     # what it is compared with
    baseline: float
    unit: str = "s"
    higher_is_better: bool = False

    @property
    def ratio(self) -> float:
        """How many times better than the baseline (>1 is better)."""
        if self.value == 0 or self.baseline == 0:
            return float("nan")
        return self.value / self.baseline if self.higher_is_better else self.baseline / self.value


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"


async def built_ahead(app, timeout: float = 60.0) -> None:
    """Wait until the app has built its screens ahead after launch (console.ui.app): the
    startup's work, which bench_switch measures, out of a steady-state window."""
    import asyncio
    import time

    from console.ui.app import SCREENS
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (
            not all(m in app._screen_stacks for m, *_ in SCREENS)
            or any(w.group == "app-build-ahead" and w.is_running for w in app.workers)):
        await asyncio.sleep(0.05)


@contextmanager
def moto_process():
    """A moto server in its own process (the stack's runs inside this one, and its Python
    work per request competes with the console's for one interpreter lock); its URL."""
    from console.demo.stack import DEMO_AWS_ENV, free_port, stop_process, wait_for_port

    port = free_port()
    env = {**os.environ, **{k: v for k, v in DEMO_AWS_ENV.items() if k not in os.environ}}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait_for_port(port, 30, proc, what="moto (separate process)")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, 10)
