"""Shared by the fault drills and the safety tests: a settings object for the test stack,
Pilot waits, the rendered screen as text, an event-loop stall meter and "is this server
back" polls that every drill runs in its ``finally``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
import time
import urllib.request
from typing import Callable

import psycopg

from console.config import Settings, parse_text

from ..ui.conftest import wait_for  # noqa: F401  (the one wait_for; drills import it from here)


def stack_settings(stack, pg: dict[str, tuple[str, str]] | None = None, *, refresh: float = 0.2,
                   redis_url: str | None = None, influx: bool = True, zengin: bool = True,
                   extra: str = "", read_only: bool = False) -> Settings:
    """A config for the test stack. ``pg`` maps target name -> (dsn, system)."""
    lines = [f"refresh_interval = {refresh}", 'operator = "drill-operator"',
             f"read_only = {'true' if read_only else 'false'}", extra, "",
             "[identity]", "allow_declared = true", ""]       # the operator above is declared
    for name, (dsn, system) in (pg or {}).items():
        lines += [f'[postgres."{name}"]', f'dsn = "{dsn}"', f'system = "{system}"',
                  'statement_timeout = "2s"', 'lock_timeout = "300ms"', "connect_timeout = 1", ""]
    lines += ["[redis]", f'url = "{redis_url or stack.redis.url}"', "socket_timeout = 1", ""]
    if influx and stack.influx is not None:
        i = stack.influx
        lines += ["[influxdb]", f'url = "{i.url}"', f'database = "{i.database}"', f'username = "{i.username}"',
                  f'password = "{i.password}"', "timeout = 1", ""]
    if zengin:
        lines += ["[zengin]", 'env = "drill"', f'endpoint_url = "{stack.moto.url}"', "timeout = 1", ""]
        if pg:
            lines.append(f'target = "{next(iter(pg))}"')
    return parse_text("\n".join(lines))


def answered(screen) -> bool:
    """Every periodic live source of ``screen`` has been tried, is not running, and what it
    brought is painted (a redraw fed by several sources can wait a moment: live.PAINT_GAP_S)."""
    sources = getattr(screen, "sources", {})
    periodic = [screen.states[n] for n, src in sources.items() if src.interval() is not None]
    return bool(periodic) and all(s.tried_at is not None and not s.running for s in periodic) \
        and not getattr(screen, "paint_pending", False)


def screen_text(app) -> str:
    """What the terminal shows now, as plain text (every line of the current screen)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


class StallMeter:
    """Runs in the app's event loop: the largest gap between wake-ups of a 10 ms sleep
    loop, minus the 10 ms, is the longest time the UI could not react."""

    def __init__(self, tick: float = 0.01):
        self.tick = tick
        self.max_stall_ms = 0.0
        self.samples = 0
        self.stalls: list[tuple[float, float]] = []     # (when, ms) of every stall over 50 ms
        self._task: asyncio.Task | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.tick)
            now = time.perf_counter()
            gap = (now - last - self.tick) * 1000
            self.max_stall_ms = max(self.max_stall_ms, gap)
            if gap > 50:
                self.stalls.append((now, gap))
            self.samples += 1
            last = now

    def start(self) -> "StallMeter":
        # The test process carries every earlier test's objects (hundreds of MB in a full run):
        # a full garbage collection over them stalls any loop for 300+ ms, which says nothing
        # about the console. Collect now and freeze what exists, so only what the screen under
        # test allocates is collected during the measurement.
        gc.collect()
        gc.freeze()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def reset(self) -> None:
        self.max_stall_ms = 0.0
        self.samples = 0
        self.stalls = []

    async def stop(self) -> None:
        gc.unfreeze()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


# --------------------------------------------------------------------------- readiness


def poll(pred: Callable[[], bool], timeout: float = 30.0, what: str = "server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except Exception:  # noqa: BLE001 - not ready yet
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} did not come back within {timeout:.0f}s")


def postgres_ready(stack) -> None:
    def ok() -> bool:
        with psycopg.connect(stack.postgres.dsn("postgres"), connect_timeout=2) as c:
            return c.execute("SELECT 1").fetchone()[0] == 1
    poll(ok, what="PostgreSQL")


def ensure_postgres(stack) -> None:
    """Start PostgreSQL again if a drill left it stopped; then wait until it answers."""
    try:
        with psycopg.connect(stack.postgres.dsn("postgres"), connect_timeout=2):
            return
    except psycopg.OperationalError:
        pass
    stack.postgres.start()
    postgres_ready(stack)


def redis_ready(stack) -> None:
    import redis
    poll(lambda: redis.Redis.from_url(stack.redis.url, socket_timeout=1).ping(), what="Redis")


def ensure_redis(stack) -> None:
    if stack.redis.proc is None or stack.redis.proc.poll() is not None:
        stack.redis.start()
    redis_ready(stack)


def influx_ready(stack) -> None:
    def ok() -> bool:
        with urllib.request.urlopen(f"{stack.influx.url}/ping", timeout=2) as r:
            return r.status == 204
    poll(ok, what="InfluxDB")


def ensure_influx(stack) -> None:
    if stack.influx is None:
        return
    if stack.influx.proc is None or stack.influx.proc.poll() is not None:
        stack.influx.start()
    influx_ready(stack)


def moto_ready(stack) -> None:
    def ok() -> bool:
        with socket.create_connection(("127.0.0.1", stack.moto.port), timeout=1):
            return True
    poll(ok, what="moto")


def ensure_moto(stack) -> None:
    if stack.moto._server is None:
        stack.moto.start()
    moto_ready(stack)


def mode_screen(app, mode: str):
    """The base screen of a mode (visited before; modes keep their screens)."""
    return app._screen_stacks[mode][0]
