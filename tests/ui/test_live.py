"""The one live-data layer (console.ui.live), driven through Pilot with a tiny app: never
two runs of a source at once, nothing armed while hidden or paused, a first load that
failed while hidden reloads when shown, back-off after failures, one age text."""

from __future__ import annotations

import threading

from hypothesis import given, settings
from hypothesis import strategies as hst

from textual.app import App
from textual.screen import Screen
from textual.widgets import Static

from console.config import Settings
from console.ui import keymap
from console.ui.live import LiveIndicator, LiveScreen, Source, State, age_text
from console.ui.live.state import quiet_for
from console.ui.services import Services

from .conftest import wait_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Fetcher:
    """Fails the first ``fail`` calls; can be held mid-run; counts overlapping runs."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.calls = 0
        self.running = 0
        self.max_running = 0
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()

    def __call__(self) -> str:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            n = self.calls
        try:
            self.gate.wait(10)
            if n <= self.fail:
                raise ConnectionError(f"refused [/bold] \x1b]0;pwned\x07 #{n}")
            return f"value {n}"
        finally:
            with self.lock:
                self.running -= 1


class Probe(LiveScreen):
    BINDINGS = keymap.bindings("refresh", "pause")

    def __init__(self, fetch: Fetcher, every: float = 30.0) -> None:
        super().__init__(id="probe")
        self.fetch, self.every = fetch, every
        self.rendered: list[State[str]] = []

    def compose(self):
        yield LiveIndicator("x", id="age")
        yield Static("", id="panel")

    def on_mount(self) -> None:
        self.add_source(Source("x", fetch=self.fetch, every=lambda: self.every, render=self.rendered.append,
                               panel="#panel"))


class Host(App):
    def __init__(self, fetch: Fetcher, clock: Clock, every: float = 30.0) -> None:
        super().__init__()
        self.services = Services(settings=Settings(), clock=clock)
        self.fetch, self.every = fetch, every

    def on_mount(self) -> None:
        self.install_screen(Probe(self.fetch, self.every), "probe")
        self.install_screen(Screen(id="other"), "other")
        self.push_screen("probe")


def st(app) -> State[str]:
    return app.get_screen("probe").states["x"]


async def test_first_load_failing_while_hidden_reloads_when_shown():
    fetch, clock = Fetcher(fail=1), Clock()
    fetch.gate.clear()                                   # hold the first run
    app = Host(fetch, clock)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: fetch.running == 1, "first run started")
        await app.push_screen("other")                   # hidden while it runs
        fetch.gate.set()
        await wait_for(pilot, lambda: st(app).error is not None, "the failure recorded")
        assert st(app).value is None and st(app).next_at is None, "nothing armed while hidden"
        assert "␛" in st(app).error and "\x1b" not in st(app).error, "controls made visible"
        app.pop_screen()
        await wait_for(pilot, lambda: st(app).value == "value 2", "reloaded on show")
        assert st(app).error is None and not st(app).stale
        assert st(app).next_at is not None, "armed again while shown"


async def test_never_two_runs_at_once_and_refresh_runs_once_more():
    fetch, clock = Fetcher(), Clock()
    fetch.gate.clear()
    app = Host(fetch, clock)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: fetch.running == 1, "first run started")
        screen = app.get_screen("probe")
        for _ in range(5):
            screen.run_source("x")                       # r pressed five times while it runs
        fetch.gate.set()
        await wait_for(pilot, lambda: fetch.calls == 2 and not st(app).running, "one more run")
        assert fetch.max_running == 1 and fetch.calls == 2


async def test_pause_disarms_and_unpause_runs_what_is_old():
    fetch, clock = Fetcher(), Clock()
    app = Host(fetch, clock, every=30.0)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: st(app).value == "value 1", "first value")
        screen = app.get_screen("probe")
        await pilot.press("p")                           # the shared pause key
        await wait_for(pilot, lambda: screen.paused, "paused")
        assert st(app).next_at is None and "paused" in str(screen.query_one("#age").render())
        clock.now += 31                                  # older than the interval
        await pilot.press("p")
        await wait_for(pilot, lambda: st(app).value == "value 2", "ran at once on unpause")


async def test_failure_keeps_the_value_marks_stale_and_backs_off():
    fetch, clock = Fetcher(), Clock()
    app = Host(fetch, clock, every=5.0)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: st(app).value == "value 1", "first value")
        screen = app.get_screen("probe")
        fetch.fail = 10
        for n in (1, 2, 3):
            screen.run_source("x")
            await wait_for(pilot, lambda n=n: st(app).failures == n, f"failure {n}")
        s = st(app)
        assert s.value == "value 1" and s.stale
        assert screen.query_one("#panel").has_class("stale")
        assert s.next_at == clock.now + 20.0             # 5 s doubled twice
        assert "stale" in str(screen.query_one("#age").render())


def test_age_text_spellings():
    s = State("x")
    assert age_text(s, 10).plain == "⟳ loading…"
    s.ok_at = 0.0
    assert age_text(s, 200_000).plain == "● 2d07h ago"
    # a refresh in flight: marked only once it has taken a while (a quick one drew nothing)
    s.running, s.tried_at = True, 199_999.8
    assert age_text(s, 200_000).plain == "● 2d07h ago"
    assert age_text(s, 200_001).plain == "● 2d07h ago ⟳"
    s.running = False
    # refreshed every few seconds: on schedule it is "just now" (no count restarting each
    # refresh, no redraw each second); late, it counts; a long interval always counts
    assert age_text(s, 2.9, every=2).plain == "● just now · every 2s"
    assert age_text(s, 3.0, every=2).plain == "● 3s ago · every 2s"
    assert age_text(s, 4.5, every=5).plain == "● just now · every 5s"
    assert age_text(s, 12, every=30).plain == "● 12s ago · every 30s"
    assert age_text(s, 12).plain == "● 12s ago"
    s.paused = True
    assert age_text(s, 0.4).plain == "⏸ paused · just now"     # not "now ago"
    assert age_text(s, 40).plain == "⏸ paused · 40s ago"
    s.paused = False
    s.error = "timeout: slow"
    assert age_text(s, 65).plain == "✖ stale 1m05s · timeout: slow"


class Fleet(LiveScreen):
    """Forty sources feeding one costly redraw, as Activity's targets feed one table."""

    def __init__(self, fetchers: list[Fetcher]) -> None:
        super().__init__(id="fleet")
        self.fetchers = fetchers
        self.painted: list[dict[str, str | None]] = []

    def compose(self):
        yield Static("", id="panel")

    def on_mount(self) -> None:
        for i, f in enumerate(self.fetchers):
            self.add_source(Source(f"t{i}", fetch=f, every=None, paint=self.paint))

    def paint(self) -> None:
        self.painted.append({n: s.value for n, s in self.states.items()})


class FleetHost(App):
    def __init__(self, fetchers: list[Fetcher]) -> None:
        super().__init__()
        self.services = Services(settings=Settings(), clock=Clock())
        self.fetchers = fetchers

    def on_mount(self) -> None:
        self.push_screen(Fleet(self.fetchers))


async def test_many_sources_answering_together_paint_once_or_twice_with_every_value():
    fetchers = [Fetcher() for _ in range(40)]
    for f in fetchers:
        f.gate.clear()                                    # hold every first run
    app = FleetHost(fetchers)
    async with app.run_test() as pilot:
        screen = app.screen
        assert isinstance(screen, Fleet)
        await wait_for(pilot, lambda: all(s.running for s in screen.states.values()), "every run started")
        for f in fetchers:
            f.gate.set()                                  # all answer within a moment
        await wait_for(pilot, lambda: not any(s.running for s in screen.states.values())
                       and not screen.paint_pending, "every result painted")
        assert 1 <= len(screen.painted) <= 10, f"{len(screen.painted)} paints for 40 results"
        assert all(v == "value 1" for v in screen.painted[-1].values()), "the last paint has every value"
        assert len(screen.painted[-1]) == 40


def test_state_doctests():
    import doctest

    from console.ui.live import state
    assert doctest.testmod(state).failed == 0


_AGO = hst.one_of(hst.none(), hst.floats(min_value=0, max_value=12), hst.floats(min_value=0, max_value=1e6))
_states = hst.tuples(_AGO, hst.sampled_from([None, "timeout: slow"]), hst.booleans(), hst.booleans(), _AGO)


def _state(ok, err, paused, running, tried):
    s = State("x")
    s.ok_at, s.error, s.paused, s.running, s.tried_at = ok, err, paused, running, tried
    return s


@settings(max_examples=500, deadline=None)
@given(_states, hst.floats(min_value=0, max_value=1e6), hst.one_of(hst.none(), hst.sampled_from([0.5, 1, 2, 5, 6, 30])),
       hst.floats(min_value=0, max_value=1))
def test_an_age_text_stays_what_it_is_for_as_long_as_quiet_for_says(ago, now, every, frac):
    """A screen wakes its indicators only when their text can change (``quiet_for``), not
    every second: anywhere in that window the text must be what it was at its start.
    (Loaded and tried some seconds before ``now``, mostly: where the thresholds are.)"""
    ok_ago, err, paused, running, tried_ago = ago
    s = _state(None if ok_ago is None else now - ok_ago, err, paused, running,
               None if tried_ago is None else now - tried_ago)
    q = quiet_for(s, now, every=every)
    assert q > 0
    at_start = age_text(s, now, every=every)
    end = min(q, 1e6) - 1e-6        # clock arithmetic rounds: the screen wakes 5 ms after
    for d in (0.0, frac * end, end) if end > 0 else (0.0,):
        later = age_text(s, now + d, every=every)
        assert (later.plain, later.spans) == (at_start.plain, at_start.spans), (d, q)


def test_a_source_on_schedule_is_quiet_until_it_is_late():
    s = _state(100.0, None, False, False, None)
    assert quiet_for(s, 100.5, every=2) == 2.5        # "just now" until 3 s old, no tick between
    assert quiet_for(s, 103.25, every=2) == 0.75      # late: it counts each second
    s.running, s.tried_at = True, 100.25
    assert quiet_for(s, 100.5, every=2) == 0.75       # a refresh running for 1 s shows its ⟳ then


async def test_the_screen_wakes_for_an_age_only_when_its_text_can_change(monkeypatch):
    """Refreshed every 0.5 s, a source reads "just now" while on schedule: nothing wakes the
    screen between its refreshes (one timer a second did, for a text that did not change).
    Held, the refresh shows its ⟳ after a second and the age counts once it is late, with
    no other event to redraw it: the screen woke for each."""
    import time as _time

    ticks: list[float] = []
    real = LiveScreen._tick_second

    def counting(self) -> None:
        ticks.append(_time.monotonic())
        real(self)

    monkeypatch.setattr(LiveScreen, "_tick_second", counting)
    fetch = Fetcher()
    app = Host(fetch, _time.monotonic, every=0.5)         # type: ignore[arg-type]
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: fetch.calls >= 2, "refreshing")
        ticks.clear()
        calls = fetch.calls
        await pilot.pause(2.0)
        assert fetch.calls >= calls + 3, "still refreshing every 0.5 s"
        assert ticks == [], "woken between refreshes"
        assert "just now" in str(app.screen.query_one("#age").render())
        fetch.gate.clear()                                # the next refresh hangs
        try:
            await wait_for(pilot, lambda: fetch.running == 1, "a refresh held")
            await wait_for(pilot, lambda: "⟳" in str(app.screen.query_one("#age").render()), "slow marker", 5)
            await wait_for(pilot, lambda: " ago" in str(app.screen.query_one("#age").render()), "late: counting", 5)
            assert ticks, "the screen woke for them"
        finally:
            fetch.gate.set()
