"""Screen switches: for every screen, the first visit (its module imported, the screen
built and mounted, its sources started) and a later one, measured in the app's event loop
against the running stack:

The first visits start once the screens' modules have been imported in the background
(which the app starts a second after launch) and the screens not visited yet have been
built ahead (one at a time, after that); the largest stall while they are built is
reported too.

- first frame: from the key press until the screen has been drawn once (a callback
  after its first refresh);
- largest stall: a 10 ms ticker in the event loop, from the key press until every live
  source of the screen has answered once (at most 3 s) — what the user feels while the
  screen fills.

Reference, same run, same measurement: a bare Textual app switching between two modes
whose screens hold one Static each. Goal (issue 15): first frame ≤ 150 ms, no stall over
100 ms, first visit or later."""

from __future__ import annotations

import asyncio
import os
import statistics
import time

from . import Result
from .bench_sessions_ui import Ticker

SETTLE_S = 3.0
ROUNDS = 3          # bare reference: median over rounds


async def _first_frame(app, mode: str) -> float:
    """Seconds from now until ``mode``'s screen has been refreshed once."""
    t0 = time.perf_counter()
    while not (app.screen.id == mode and app.screen.is_mounted):
        await asyncio.sleep(0.001)
    fut = asyncio.get_running_loop().create_future()
    app.screen.call_after_refresh(lambda: fut.done() or fut.set_result(None))
    await fut
    return time.perf_counter() - t0


def _answered(app) -> bool:
    states = getattr(app.screen, "states", None) or {}
    return all(st.tried_at is not None and not st.running for st in states.values())


async def _switch(app, key: str, mode: str, ticker: Ticker) -> tuple[float, float]:
    """(first frame ms, largest stall ms) of one switch."""
    await asyncio.sleep(0.3)                   # the previous screen's leftovers out of the window
    ticker.reset()
    app.simulate_key(key)
    frame = await _first_frame(app, mode)
    deadline = time.perf_counter() + SETTLE_S
    while time.perf_counter() < deadline and not _answered(app):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)                   # the answer's render is inside the window
    return frame * 1000, ticker.max_ms


async def _console(settings) -> dict[tuple[str, int], tuple[float, float]]:
    from console.ui.app import SCREENS, ConsoleApp
    from console.ui.services import Services

    services = Services.from_settings(settings)
    app = ConsoleApp(services)
    out: dict[tuple[str, int], tuple[float, float]] = {}
    try:
        async with app.run_test(size=(160, 45)):
            ticker = Ticker().start()
            await _first_frame(app, "overview")
            deadline = time.perf_counter() + 20
            while time.perf_counter() < deadline and not (app.screen.states and _answered(app)):
                await asyncio.sleep(0.02)
            while not app.prefetched:
                await asyncio.sleep(0.02)   # the screens' modules imported in the background
            ticker.reset()
            await asyncio.sleep(0.1)
            while any(w.group == "app-build-ahead" and w.is_running for w in app.workers):
                await asyncio.sleep(0.02)   # then the screens not visited yet built ahead
            out[("built ahead", 0)] = (0.0, ticker.max_ms)
            for visit in (1, 2):
                for mode, key, *_ in SCREENS[1:]:
                    out[(mode, visit)] = await _switch(app, key, mode, ticker)
                    back = await _switch(app, "1", "overview", ticker)
                    if visit == 2:
                        prev = out.get(("overview", 2), (0.0, 0.0))
                        out[("overview", 2)] = (max(prev[0], back[0]), max(prev[1], back[1]))
            await ticker.stop()
    finally:
        services.close()
    return out


async def _bare() -> tuple[float, float]:
    from textual.app import App
    from textual.screen import Screen
    from textual.widgets import Static

    class A(Screen):
        def __init__(self) -> None:
            super().__init__(id="a")

        def compose(self):
            yield Static("screen a")

    class B(Screen):
        def __init__(self) -> None:
            super().__init__(id="b")

        def compose(self):
            yield Static("screen b")

    class Bare(App):
        MODES = {"a": A, "b": B}
        BINDINGS = [("1", "switch_mode('a')"), ("2", "switch_mode('b')")]

        def on_mount(self) -> None:
            self.switch_mode("a")

    frames, stalls = [], []
    app = Bare()
    async with app.run_test(size=(160, 45)):
        ticker = Ticker().start()
        await _first_frame(app, "a")
        for _ in range(ROUNDS):
            for key, mode in (("2", "b"), ("1", "a")):
                f, s = await _switch(app, key, mode, ticker)
                frames.append(f)
                stalls.append(s)
        await ticker.stop()
    return statistics.median(frames), max(statistics.median(stalls), 0.1)


def run(ctx) -> list[Result]:
    from console.config import load

    config = ctx.scratch / "bench-switch.toml"
    config.write_text(ctx.stack.config_toml())
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    m = asyncio.run(_console(load(config)))
    bare_frame, bare_stall = asyncio.run(_bare())
    results: list[Result] = []
    for (mode, visit), (frame, stall) in m.items():
        if visit == 0:
            results.append(Result("largest event-loop stall while the screens are built ahead (Overview shown, "
                                  "no key pressed)", stall, "bare app, same ticker", bare_stall, unit="ms"))
            continue
        which = "first visit" if visit == 1 else "later visit"
        results.append(Result(f"switch to {mode}, {which}: first frame (ms)", frame,
                              "bare app, switch to a one-Static screen", bare_frame, unit="ms"))
        results.append(Result(f"switch to {mode}, {which}: largest event-loop stall (ms)", stall,
                              "bare app, same ticker", bare_stall, unit="ms"))
    return results
