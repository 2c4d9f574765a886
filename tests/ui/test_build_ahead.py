"""The screens not visited yet are built ahead, hidden, after launch: a first visit is then a
switch to a built screen. A screen built ahead asks nothing of its live sources until it is
first shown, a key pressed while they are being built still switches, and a screen built
ahead shows its data once shown."""

from __future__ import annotations

import pytest

from console.ui import app as app_module
from console.ui.app import SCREENS, ConsoleApp

from .conftest import wait_for
from .fakes_sessions import FakeSessions, sessions_services

pytestmark = pytest.mark.build_ahead


class CountingSessions(FakeSessions):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def info(self):
        self.calls.append("info")
        return super().info()

    def scan(self, pattern, stop):
        self.calls.append("scan")
        yield from super().scan(pattern, stop)


@pytest.fixture(autouse=True)
def _soon(monkeypatch):
    monkeypatch.setattr(app_module, "PREFETCH_AFTER_S", 0.01)
    monkeypatch.setattr(app_module, "BUILD_AHEAD_GAP_S", 0.01)


def _built(app: ConsoleApp) -> set[str]:
    return {m for m, stack in app._screen_stacks.items() if stack and stack[0].is_mounted}


async def test_every_screen_is_built_hidden_and_loads_only_once_shown():
    fake = CountingSessions()
    app = ConsoleApp(sessions_services(fake))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: _built(app) >= {m for m, *_ in SCREENS}, "every screen built ahead")
        await wait_for(pilot, lambda: not any(w.group == "app-build-ahead" and w.is_running for w in app.workers),
                       "the build ahead done")
        assert app.screen.id == "overview"
        sessions = app._screen_stacks["sessions"][0]
        assert fake.calls == [], "a hidden screen built ahead asked its backend"
        assert all(st.tried_at is None for st in sessions.states.values())
        assert sessions.size.width == 120, "laid out off screen"
        await pilot.press("5")
        await wait_for(pilot, lambda: app.screen is sessions, "the screen built ahead shown")
        await wait_for(pilot, lambda: "scan" in fake.calls and "info" in fake.calls, "its sources run once shown")
        table = sessions.query_one("#sessions-table")
        await wait_for(pilot, lambda: table.row_count == len(fake.records), "its rows")


async def test_a_key_pressed_while_the_screens_are_built_switches():
    fake = CountingSessions()
    app = ConsoleApp(sessions_services(fake))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: any(w.group == "app-build-ahead" for w in app.workers) or _built(app) - {"overview"},
                       "the build ahead started")
        await pilot.press("5")
        await wait_for(pilot, lambda: app.screen.id == "sessions", "sessions shown")
        await wait_for(pilot, lambda: _built(app) >= {m for m, *_ in SCREENS}, "every screen built")
        assert len([s for stack in app._screen_stacks.values() for s in stack if s.id == "sessions"]) == 1
        table = app.screen.query_one("#sessions-table")
        await wait_for(pilot, lambda: table.row_count == len(fake.records), "its rows")
        await pilot.press("1")
        await wait_for(pilot, lambda: app.screen.id == "overview", "back to the overview")


async def test_screens_built_ahead_have_nothing_animating_while_idle():
    """A hidden screen costs no CPU: no widget redraws itself on a timer (an idle
    ProgressBar without a total animated at 15 frames a second, shown or not)."""
    app = ConsoleApp(sessions_services(CountingSessions()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: _built(app) >= {m for m, *_ in SCREENS}, "every screen built ahead")
        animated = [(m, type(w).__name__, w.id) for m, stack in app._screen_stacks.items() for s in stack
                    for w in s.walk_children() if w.auto_refresh is not None]
        assert animated == []


async def test_only_the_shown_screen_ticks_each_second(monkeypatch):
    """What moves with time (indicators' ages, countdowns, the tail's rates) runs for the
    screen shown only: one timer a screen, armed only while it is shown (a timer per widget
    woke the event loop a dozen times a second for screens nobody saw). Shown again, its
    ages are brought up to date at once and tick again."""
    from console.ui.live.indicator import LiveIndicator

    app = ConsoleApp(sessions_services(CountingSessions()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: _built(app) >= {m for m, *_ in SCREENS}, "every screen built ahead")
        seen: list[str] = []
        real = LiveIndicator.refresh_text

        def counting(self: LiveIndicator) -> None:
            seen.append(str(self.screen.id))
            real(self)

        monkeypatch.setattr(LiveIndicator, "refresh_text", counting)
        await pilot.pause(2.5)
        assert seen and set(seen) == {"overview"}, seen
        hidden = [s for stack in app._screen_stacks.values() for s in stack
                  if s is not app.screen and hasattr(s, "_second_timer")]
        assert len(hidden) >= len(SCREENS) - 1
        assert [s.id for s in hidden if s._second_timer is not None] == [], "a hidden screen's timer is armed"
        ticking = [(m, type(w).__name__, w.id) for m, stack in app._screen_stacks.items() for s in stack
                   if s is not app.screen for w in (s, *s.walk_children())
                   for t in w._timers if t._active.is_set() and not t._task.done()]
        assert ticking == [], "a widget of a hidden screen has a running timer"
        await pilot.press("5")
        await wait_for(pilot, lambda: app.screen.id == "sessions", "sessions shown")
        seen.clear()
        await pilot.pause(1.5)
        assert set(seen) == {"sessions"}, seen


async def test_a_context_switch_builds_the_screens_again_on_the_new_services(tmp_path):
    from console import config
    from console.ui.context import ContextPicker
    from console.ui.services import Services

    path = tmp_path / "console.toml"
    path.write_text('context = "staging"\nrefresh_interval = 5\n\n[contexts.staging]\n\n[contexts.prod]\n'
                    'production = true\n', encoding="utf-8")
    services = Services.from_settings(config.load(path, env={}))
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: _built(app) >= {m for m, *_ in SCREENS}, "every screen built ahead")
        old = {m: stack[0] for m, stack in app._screen_stacks.items() if m in dict.fromkeys(s[0] for s in SCREENS)}
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(app.screen, ContextPicker), "the context picker")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.services.settings.context == "prod" and app.current_mode == "overview",
                       "the prod context loaded")
        await wait_for(pilot, lambda: _built(app) >= {m for m, *_ in SCREENS}, "every screen built again")
        assert all(app._screen_stacks[m][0] is not old[m] for m in old), "a screen of the old services kept"
        assert all(not s.is_attached for s in old.values())
        await pilot.press("5")
        await wait_for(pilot, lambda: app.screen.id == "sessions", "a screen built on the new services shown")
    app.services.close()


async def test_the_screens_are_built_ahead_only_while_the_shown_one_is_quiet():
    """A scan in flight on the screen shown (a 200,000-key one takes seconds) goes first:
    nothing is built ahead until it is over."""
    import threading

    release = threading.Event()

    class SlowScan(CountingSessions):
        def scan(self, pattern, stop):
            release.wait(30)
            yield from super().scan(pattern, stop)

    fake = SlowScan()
    app = ConsoleApp(sessions_services(fake), initial_mode="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: any(w.group == "app-build-ahead" for w in app.workers), "the build ahead waiting")
        await pilot.pause(0.3)
        assert _built(app) - {"_default"} == {"sessions"}, "built ahead while the scan ran"
        release.set()
        await wait_for(pilot, lambda: _built(app) >= {m for m, *_ in SCREENS}, "every screen built after the scan")


async def test_the_other_screens_are_imported_only_once_the_shown_one_is_quiet(monkeypatch):
    """Launched into Sessions, the background imports of the other screens (the interpreter
    lock held in C for tens of milliseconds per module) wait for the scan to end; with
    nothing in flight they start at once, and a screen never quiet gets them at the latest
    after PREFETCH_WAIT_MAX_S."""
    import threading

    release = threading.Event()

    class SlowScan(CountingSessions):
        def scan(self, pattern, stop):
            self.calls.append("scan-started")
            release.wait(30)
            yield from super().scan(pattern, stop)

    fake = SlowScan()
    app = ConsoleApp(sessions_services(fake), initial_mode="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "scan-started" in fake.calls, "the scan started")
        await pilot.pause(0.3)
        assert not any(w.group == "app-prefetch" for w in app.workers), "imported while the scan ran"
        assert not app.prefetched
        release.set()
        await wait_for(pilot, lambda: app.prefetched, "imported once the scan was over")
    release.clear()
    monkeypatch.setattr(app_module, "PREFETCH_WAIT_MAX_S", 0.2)
    app = ConsoleApp(sessions_services(SlowScan()), initial_mode="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.prefetched, "imported after the longest wait, the scan still running")
        release.set()


async def test_a_screen_that_fails_to_build_ahead_is_built_on_its_visit():
    app = ConsoleApp(sessions_services(CountingSessions()))
    real, calls = app._modes["schema"], []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("not now")
        return real()    # type: ignore[operator]

    app._modes["schema"] = flaky
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: calls, "the build ahead tried schema")
        await wait_for(pilot, lambda: not any(w.group == "app-build-ahead" and w.is_running for w in app.workers),
                       "the build ahead stopped")
        assert "schema" not in _built(app)
        await pilot.press("2")
        await wait_for(pilot, lambda: app.screen.id == "schema" and app.screen.is_mounted, "schema built on its visit")


@pytest.mark.parametrize("run", range(3))
async def test_quitting_while_the_screens_are_built_ahead(run, monkeypatch):
    """Textual closes every screen stack on quit; a screen built ahead in the middle of that
    broke the quit (``dictionary changed size during iteration``). Nothing is built once the
    app is quitting."""
    app = ConsoleApp(sessions_services(CountingSessions()))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(_built(app) - {"_default"}) >= 2 + run, "the build ahead under way")
        # the pause before the next screen is where a quit lands
        monkeypatch.setattr(app_module, "BUILD_AHEAD_GAP_S", 0.0)
    assert not app.is_running


async def test_a_query_that_finds_nothing_while_closing_is_no_crash():
    """A screen built ahead can still be mounting when the user quits; its mount's query
    for a widget the shutdown already removed is logged, not a traceback and exit code 1.
    Any other error, or a failed query while running, still is one."""
    from textual.css.query import NoMatches

    app = ConsoleApp(sessions_services(CountingSessions()))
    async with app.run_test(size=(80, 24)):
        pass
    assert not app.is_running
    app._handle_exception(NoMatches("No nodes match '#overview-summary'"))
    assert app._exception is None and app.return_code in (0, None)

    running = ConsoleApp(sessions_services(CountingSessions()))
    with pytest.raises(NoMatches):
        async with running.run_test(size=(80, 24)):
            running._handle_exception(NoMatches("a real bug"))
