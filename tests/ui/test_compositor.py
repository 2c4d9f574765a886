"""The lean partial update (console/ui/compositor.py) writes what Textual's own would write.

Every partial update of the screens below is made twice from the same dirty regions — by
``LeanCompositor`` and by Textual's ``Compositor.render_partial_update`` — and the two
updates are rendered to terminal segments and compared: same spans, same text, same
styles. The Activity screen is fed rows that change at random between refreshes (ages,
states, sessions coming and going), while the cursor moves, the order and the filter
change, the sub-tabs switch, a dialog opens over it and the terminal is resized; the
Sessions screen is paged and filtered."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from typing import Any

from rich.console import Console
from textual._compositor import Compositor

from console.ui import compositor as lean
from console.ui.app import ConsoleApp
from console.ui.live import screen as live_screen

from .conftest import settled
from .fakes_activity import FakeActivity, activity_services, lambda_rows, zengin_rows
from .fakes_sessions import sessions_services


class Checked(lean.LeanCompositor):
    """Each partial update made both ways and compared."""

    checked: list[int] = []

    def render_partial_update(self) -> Any:
        regions = self._dirty_regions.copy()
        stock = Compositor.render_partial_update(self)
        self._dirty_regions.update(regions)
        mine = super().render_partial_update()
        assert (stock is None) == (mine is None)
        if mine is not None:
            assert mine.spans == stock.spans
            assert _segments(mine, self.size) == _segments(stock, self.size)
            Checked.checked.append(len(mine.spans))
        return mine


def _segments(update: Any, size: Any) -> list[Any]:
    console = Console(width=size.width, height=size.height, color_system="truecolor", force_terminal=True,
                      legacy_windows=False)
    return list(update.__rich_console__(console, console.options))


class Churning(FakeActivity):
    """Rows that change between samples: ages grow, states flip, sessions come and go."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.rng = random.Random(seed)

    def sample(self, target: str) -> Any:
        got = super().sample(target)
        rng = self.rng
        rows = []
        for r in (lambda_rows() if target == "lambda" else zengin_rows()):
            if rng.random() < 0.15:
                continue                      # gone this time
            age = (r.query_age_s or 0.0) + rng.random() * 30
            state = rng.choice(["active", "idle", "idle in transaction", r.state]) if r.state else r.state
            rows.append(dataclasses.replace(r, query_age_s=age, state=state))
        return dataclasses.replace(got, rows=tuple(rows))


def test_the_lean_update_writes_what_textual_writes_on_a_churning_activity_screen(monkeypatch):
    monkeypatch.setattr(live_screen, "LeanCompositor", Checked)
    Checked.checked = []

    async def go() -> None:
        app = ConsoleApp(activity_services(Churning(7)), initial_mode="activity")
        async with app.run_test(size=(160, 45)) as pilot:
            await settled(pilot)
            rng = random.Random(11)
            keys = ["down", "down", "up", "s", "r", "i", "r", "i", "down", "pagedown", "home", "r", "S", "r",
                    "question_mark", "escape", "r", "tab", "r", "tab", "r"]
            for _ in range(60):
                await pilot.press(rng.choice(keys))
                await settled(pilot)
                await pilot.pause()
            await pilot.resize_terminal(80, 24)
            for k in ("r", "down", "r", "up", "r"):
                await pilot.press(k)
                await settled(pilot)
                await pilot.pause()
            await pilot.press("slash", "a", "p", "i", "enter")
            await settled(pilot)
            await pilot.press("r")
            await settled(pilot)
            await pilot.pause()

    asyncio.run(go())
    assert len(Checked.checked) > 40, Checked.checked     # the refreshes did go through partial updates
    assert sum(1 for n in Checked.checked if n < 24) > 20   # many of them partial (not every line)


def test_the_lean_update_writes_what_textual_writes_on_the_sessions_screen(monkeypatch):
    monkeypatch.setattr(live_screen, "LeanCompositor", Checked)
    Checked.checked = []

    async def go() -> None:
        app = ConsoleApp(sessions_services(), initial_mode="sessions")
        async with app.run_test(size=(160, 45)) as pilot:
            await settled(pilot)
            for k in ("down", "down", "s", "s", "down", "end", "home", "r"):
                await pilot.press(k)
                await settled(pilot)
                await pilot.pause()
            await pilot.press("slash", "u", "s", "e", "r", "_", "0", "enter")
            await settled(pilot)
            await pilot.pause()

    asyncio.run(go())
    assert len(Checked.checked) > 5, Checked.checked


def test_bands_are_runs_of_consecutive_lines():
    assert lean.bands([]) == []
    assert lean.bands([3]) == [(3, 4)]
    assert lean.bands([0, 1, 2, 5, 7, 8]) == [(0, 3), (5, 6), (7, 9)]
