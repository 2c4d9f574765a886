"""Keys typed right behind ``/`` (a fast typist, a paste, tmux, an SSH packet) are the
filter's text on every screen, and keys typed ahead of a dialog are never its answer
(console.ui.typeahead).

Textual hands a key to the widget focused when the key is read, so a burst was read whole
before ``/`` had opened the filter: the rest went to the list and came back up as bindings
(``s`` sorted, ``2`` switched to the Schema screen) and nothing reached the filter."""

from __future__ import annotations

import asyncio

import pytest
from textual import events
from textual.widgets import Input

from console.ui.app import ConsoleApp

from .conftest import settled
from .fakes import overview_services
from .fakes_activity import FakeActivity, activity_services
from .fakes_diffs import diffs_services
from .fakes_metrics import metrics_services
from .fakes_partitions import partitions_services
from .fakes_schema import schema_services
from .fakes_sessions import sessions_services

_NAMES = {"/": "slash", "_": "underscore", " ": "space", "2": "2", "\r": "enter"}


def _burst(app, keys: str) -> None:
    """The keys queued at once, as a terminal delivers a quick burst."""
    for ch in keys:
        app.post_message(events.Key(_NAMES.get(ch, ch), ch))


# "s2 _x": s sorts (Activity, Sessions), 2 switches to Schema, space selects a row — all of it is text here
TYPED = "user_s2 x"


@pytest.mark.parametrize("mode,services", [
    ("overview", overview_services),          # a filter prompt pushed over the screen
    ("schema", schema_services),
    ("partitions", partitions_services),
    ("metrics", metrics_services),
    ("sessions", sessions_services),
    ("diffs", diffs_services),
    ("activity", activity_services),
])
def test_keys_typed_right_after_slash_are_the_filters_text(mode, services):
    async def go() -> None:
        app = ConsoleApp(services(), initial_mode=mode)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot)
            screen = app.screen
            _burst(app, "/" + TYPED)
            for _ in range(6):
                await pilot.pause()
            assert app.current_mode == mode and screen in app.screen_stack, "a typed key switched the screen"
            focused = app.focused
            assert isinstance(focused, Input), f"focus on {focused!r}, not the filter"
            assert focused.value == TYPED

    asyncio.run(go())


def test_keys_typed_ahead_of_a_dialog_are_not_its_answer():
    """``K`` then the pid and Enter twice, typed blind: the terminate dialog opens with an
    empty confirmation, nothing is signalled; typed after the dialog is up, the same keys
    do confirm (the dialog still works)."""
    async def go() -> None:
        fake = FakeActivity()
        app = ConsoleApp(activity_services(fake), initial_mode="activity")
        async with app.run_test(size=(160, 45)) as pilot:
            await settled(pilot)
            pid = str(app.screen.highlighted()[1].pid)
            _burst(app, "K" + pid + "\r\r")
            for _ in range(6):
                await pilot.pause()
            modal = app.screen
            assert type(modal).__name__ == "ConfirmModal"
            assert modal.query_one("#confirm-typed", Input).value == ""
            assert fake.signalled == []
            _burst(app, pid + "\r")            # now typed into the dialog on screen
            for _ in range(4):
                await pilot.pause()
            _burst(app, "\r")                  # the focus is on Terminate now
            for _ in range(6):
                await pilot.pause()
            assert [s.pid for p in fake.signalled for s in p.sessions] == [int(pid)]

    asyncio.run(go())


@pytest.mark.parametrize("mode,services", [
    ("overview", overview_services),
    ("schema", schema_services),
    ("sessions", sessions_services),
    ("diffs", diffs_services),
    ("activity", activity_services),
])
def test_keys_typed_behind_the_enter_that_applies_a_filter_are_the_lists(mode, services):
    """``/`` Enter ``jj`` in one burst: the filter stays empty (not ``jj``) and the two
    ``j`` move the list's cursor; ``/`` ``x`` Enter ``j``: the filter is ``x``."""
    async def go() -> None:
        app = ConsoleApp(services(), initial_mode=mode)
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot)
            screen = app.screen
            _burst(app, "/\r")
            for _ in range(6):
                await pilot.pause()
            lst = app.focused
            assert not isinstance(lst, Input)
            line = "cursor_row" if hasattr(lst, "cursor_row") else "cursor_line"
            start = getattr(lst, line)
            _burst(app, "/\rjj")
            for _ in range(8):
                await pilot.pause()
            assert app.screen is screen and app.focused is lst
            assert not [w.value for w in screen.query(Input) if w.value], "the keys behind Enter became filter text"
            assert getattr(lst, line) == start + 2
            _burst(app, "/x\rj")
            for _ in range(8):
                await pilot.pause()
            assert app.focused is lst and "x" in [w.value for w in screen.query(Input)] + [
                getattr(lst, "filter_text", None)]

    asyncio.run(go())


def test_keys_typed_behind_a_screen_key_are_the_new_screens():
    """``7/api`` in one burst from the Overview: Activity, filtered on ``api``."""
    async def go() -> None:
        services = overview_services()
        services.sources.update(activity_services().sources)
        app = ConsoleApp(services, initial_mode="overview")
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot)
            _burst(app, "7/api")
            for _ in range(10):
                await pilot.pause()
            assert app.current_mode == "activity"
            focused = app.focused
            assert isinstance(focused, Input) and focused.value == "api", focused

    asyncio.run(go())
