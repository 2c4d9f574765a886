"""What a switch back to a screen does not redo, and what it still must.

Textual (8.2, pinned) restyles every node of a screen switched to and recomposes its footer
(a widget per key) whenever its bindings may have changed: ~100 + 30 ms on each visit of a
full screen. The console skips both when nothing they depend on changed; these tests hold
that it still restyles after a theme or app-class change made while the screen was hidden,
and still rebuilds the footer when its keys change."""

from __future__ import annotations

import gc
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from console import config
from console.ui import app as app_module
from console.ui.app import ConsoleApp
from console.ui.services import Services
from console.ui.widgets.footer import ConsoleFooter

from .conftest import wait_for


def _app(tmp_path: Path) -> ConsoleApp:
    path = tmp_path / "console.toml"
    path.write_text("refresh_interval = 5\n", encoding="utf-8")
    return ConsoleApp(Services.from_settings(config.load(path, env={})))


def _colors(screen: Screen) -> dict[int, tuple[str, str]]:
    return {id(w): (str(w.styles.background), str(w.styles.color)) for w in screen.walk_children(with_self=True)}


class _Counting:
    """Counts the stylesheet's applications to nodes of one screen."""

    def __init__(self, app: App, screen: Screen) -> None:
        self.app, self.screen, self.n = app, screen, 0
        self._orig = app.stylesheet.apply

    def __enter__(self) -> "_Counting":
        def apply(node, *a, **k):
            if node is self.screen or self.screen in node.ancestors:
                self.n += 1
            return self._orig(node, *a, **k)
        self.app.stylesheet.apply = apply       # type: ignore[method-assign]
        return self

    def __exit__(self, *exc) -> None:
        self.app.stylesheet.apply = self._orig  # type: ignore[method-assign]


async def _visit(pilot, key: str, mode: str) -> Screen:
    await pilot.press(key)
    await wait_for(pilot, lambda: pilot.app.screen.id == mode and pilot.app.screen.is_mounted, f"{mode} shown")
    await pilot.pause()
    return pilot.app.screen


async def test_a_switch_back_restyles_only_after_an_app_wide_change(tmp_path):
    app = _app(tmp_path)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.screen.id == "overview", "overview")
        parts = await _visit(pilot, "3", "partitions")
        nodes = len(list(parts.walk_children(with_self=True)))
        await _visit(pilot, "1", "overview")
        with _Counting(app, parts) as c:
            await _visit(pilot, "3", "partitions")
        assert c.n < nodes / 4, f"nothing changed, yet {c.n} of {nodes} nodes were restyled"

        before = _colors(parts)
        await _visit(pilot, "1", "overview")
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        await _visit(pilot, "3", "partitions")
        after = _colors(parts)
        assert after != before, "the theme changed while hidden and the screen kept its old colours"
        app.stylesheet.update(parts)            # what a full restyle would give
        assert _colors(parts) == after

        await _visit(pilot, "1", "overview")
        app.add_class("-probe")
        with _Counting(app, parts) as c:
            await _visit(pilot, "3", "partitions")
        assert c.n >= nodes, "the app's classes changed while hidden: every node restyled"


class _Keys(Screen):
    BINDINGS = [Binding("a", "act", "Act"), Binding("b", "other", "Other"), Binding("?", "help", "Help")]

    def __init__(self, name: str) -> None:
        super().__init__(id=name)
        self.allowed = "yes"

    def compose(self) -> ComposeResult:
        yield Static(self.id or "")
        yield ConsoleFooter()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "act":
            return True
        return {"yes": True, "disabled": None, "hidden": False}[self.allowed]


class _TwoModes(App):
    MODES = {"one": lambda: _Keys("one"), "two": lambda: _Keys("two")}
    BINDINGS = [Binding("1", "switch_mode('one')", show=False), Binding("2", "switch_mode('two')", show=False)]

    def on_mount(self) -> None:
        self.switch_mode("one")


def _keys(screen: Screen) -> list[FooterKey]:
    return list(screen.query_one(ConsoleFooter).query(FooterKey).results(FooterKey))


async def test_the_footer_is_rebuilt_only_when_its_keys_change():
    app = _TwoModes()
    async with app.run_test(size=(80, 10)) as pilot:
        await wait_for(pilot, lambda: len(_keys(app.screen)) == 3, "the footer's keys")
        one = app.screen
        await _visit(pilot, "2", "two")
        await wait_for(pilot, lambda: len(_keys(app.screen)) == 3, "two's keys")
        kept = _keys(one)
        await _visit(pilot, "1", "one")
        await pilot.pause()
        assert _keys(one) == kept, "the same keys were rebuilt on a switch back"

        one.allowed = "disabled"                   # the same keys, one of them now disabled
        one.refresh_bindings()
        await wait_for(pilot, lambda: [k.has_class("-disabled") for k in _keys(one)] == [True, False, False], "act disabled")
        one.allowed = "hidden"
        one.refresh_bindings()
        await wait_for(pilot, lambda: [k.action for k in _keys(one)] == ["other", "help"], "act left the footer")
        one.allowed = "yes"
        one.refresh_bindings()
        await wait_for(pilot, lambda: [(k.action, k.has_class("-disabled")) for k in _keys(one)]
                       == [("act", False), ("other", False), ("help", False)], "act back")


async def test_the_collector_waits_for_the_first_frame_and_what_startup_made_is_frozen(tmp_path, monkeypatch):
    """A full pass of the cycle collector over the startup's objects stalled every thread
    (a Sessions scan starts at mount): it is off from mount to the first frame, the objects
    alive then are frozen, and it is on again after; the background imports freeze theirs."""
    monkeypatch.setattr(app_module, "PREFETCH_AFTER_S", 0.5)      # after the first frame
    monkeypatch.setattr(app_module, "BUILD_AHEAD", False)         # (it freezes too)
    seen: list[bool] = []          # the collector on, before and after the first frame's hook
    drawn = ConsoleApp._first_frame_drawn

    def spy(self: ConsoleApp) -> None:
        seen.append(gc.isenabled())
        drawn(self)
        seen.append(gc.isenabled())

    monkeypatch.setattr(ConsoleApp, "_first_frame_drawn", spy)
    imported: list[list[str]] = []          # an object each background import makes after the first frame
    import_module = app_module.importlib.import_module

    def importing(name: str, *a, **k):
        if seen:
            imported.append([name])
        return import_module(name, *a, **k)

    monkeypatch.setattr(app_module.importlib, "import_module", importing)
    app = _app(tmp_path)
    assert gc.isenabled()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: len(seen) == 2, "the first frame")
            assert seen == [False, True]
            screen = app.screen
            assert not any(o is screen for o in gc.get_objects()), "the first screen is not frozen"
            await wait_for(pilot, lambda: app.prefetched, "the background imports")
            made = {id(o) for o in imported}
            assert made and not any(id(o) in made for o in gc.get_objects()), "the imports' objects are not frozen"
            assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
