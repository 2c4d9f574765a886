"""The one refresh loop: :class:`LiveScreen` runs every declared :class:`Source` in the shared
live threads (:mod:`.pool`, a fixed number for the whole app), never two runs of one source at once, re-armed with a one-shot timer only while
the screen is shown and not paused.

The rules, in one place:

- a run starts on mount, on ``refresh()`` (a refresh key, after an action), and when its
  timer fires; a run asked for while one is running runs once more right after it;
- after a run the result is kept (value, or error with the last value kept), the panel's
  ``stale`` class set, the source's ``render`` called, the indicator updated, and the next
  run armed: the interval when healthy, doubling after failures (back-off);
- hidden (another screen or a dialog on top) or paused: no timer is armed; a run in flight
  finishes and is rendered;
- shown again or unpaused: every source whose data is older than its interval, or whose
  last try failed, or that never loaded, runs now; the others are armed for what is left
  of their interval. (So a source whose first load failed while hidden reloads on show.)
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable, Iterable

from textual import on
from textual.events import ScreenResume
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import DataTable, Input, Tree

from ..compositor import LeanCompositor
from ...core.text import error_text
from .pool import POOL
from .state import Call, Source, State



log = logging.getLogger("console.ui")

PAINT_GAP_S = 0.25          # a Source's paint() runs at most this often (see state.Source)
SECOND_SLACK_S = 0.005      # the second timer wakes this much after a text can change (clock rounding)

class LiveResult(Message):
    def __init__(self, name: str, value: Any, error: str | None) -> None:
        self.name, self.value, self.error = name, value, error
        super().__init__()


class LiveScreen(Screen):
    """A screen with live sources. Subclasses call :meth:`add_source` (usually in
    ``on_mount``) and implement ``action_refresh_now`` by calling :meth:`refresh_all` if
    they need more than that. ``LIST_ID`` names the list that gets the focus back after
    every dialog."""

    LIST_ID: str | None = None      # may change with the sub-tab shown

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compositor = LeanCompositor()     # a refresh renders its dirty lines only (ui/compositor.py)
        self.sources: dict[str, Source[Any]] = {}
        self.states: dict[str, State[Any]] = {}
        self._live_timers: dict[str, Timer] = {}
        self._painted_at: dict[Callable[[], None], float] = {}
        self._paint_due: set[Callable[[], None]] = set()
        self.indicators: list[Any] = []     # LiveIndicators register here on mount (no DOM walk a tick)
        self._each_second: list[Callable[[], None]] = []   # see every_second
        self._second_timer: Timer | None = None     # see arm_second
        self._second_due = 0.0
        self._panels: dict[str, list[Widget]] = {}    # a source's panel selector -> its widgets
        self.paused = False
        self._shown = False
        self._styled_for: tuple[Any, ...] | None = None     # see on_screen_resume
        self.list_id: str | None = self.LIST_ID

    @property
    def AUTO_FOCUS(self) -> str | None:      # noqa: N802 - Textual's name
        """The list gets the focus when the screen is shown; focusing the first focusable
        widget first (Textual's default) and then the list restyled both (~10 ms each)."""
        return f"#{self.list_id}" if self.list_id else "*"

    @AUTO_FOCUS.setter
    def AUTO_FOCUS(self, _value: str | None) -> None:     # noqa: N802 - follows list_id only
        pass

    # ------------------------------------------------------------------ declaring

    @property
    def services(self) -> Any:
        return self.app.services           # type: ignore[attr-defined]

    def clock(self) -> float:
        return float(self.services.clock())

    def add_source(self, source: Source[Any], *, start: bool = True) -> State[Any]:
        self.sources[source.name] = source
        state = self.states.setdefault(source.name, State(source.name))
        state.paused = self.paused
        if start and self.is_current:
            self.run_source(source.name)    # a screen built ahead (hidden) loads when first shown
        return state

    def remove_source(self, name: str) -> None:
        self._disarm(name)
        self.sources.pop(name, None)
        self.states.pop(name, None)

    def state(self, name: str) -> State[Any]:
        return self.states.setdefault(name, State(name))

    # ------------------------------------------------------------------ running

    def run_source(self, name: str) -> None:
        """Run ``name`` now (or once more right after the run in flight)."""
        src, st = self.sources.get(name), self.states.get(name)
        if src is None or st is None:
            return
        if st.running:
            st.again = True
            return
        self._disarm(name)
        st.running = True
        st.again = False
        st.tried_at = self.clock()
        args = (*src.params, *src.args())
        POOL.submit(lambda: self._fetch(name, src, args))
        self.on_live_changed(name)

    def _fetch(self, name: str, src: Source[Any], args: tuple[Any, ...]) -> None:
        """In the worker thread: never raises, never touches screen state."""
        try:
            value = src.fetch(*args)
        except Exception as exc:  # a worker never dies silently
            self.post_message(LiveResult(name, None, error_text(exc)))
            return
        self.post_message(LiveResult(name, value, None))

    @on(LiveResult)
    def _on_live_result(self, m: LiveResult) -> None:
        m.stop()
        src, st = self.sources.get(m.name), self.states.get(m.name)
        if src is None or st is None:
            return
        st.running = False
        if m.error is None:
            if src.record is not None:
                self._record(src.record, m.value)
            st.value, st.error, st.failures = m.value, None, 0
            st.ok_at = self.clock()
            st.ok_wall = self._wall()
        else:
            if st.error is None:            # log when a source starts failing, not every retry
                log.warning("%s: %s failed", type(self).__name__, m.name,
                            extra={"op": m.name, "outcome": "error", "error": m.error})
            st.error = m.error
            st.failures += 1
        if src.panel:
            panels = self._panels.get(src.panel)
            if not panels or not all(w.is_attached for w in panels):
                panels = self._panels[src.panel] = list(self.query(src.panel))
            for w in panels:
                w.set_class(st.stale, "stale")
        if src.render is not None:
            src.render(st)
        if src.paint is not None:
            self.paint_soon(src.paint)
        if st.again:
            st.again = False
            self.run_source(m.name)
            return
        self._arm(m.name)
        self.on_live_changed(m.name)

    def paint_soon(self, paint: Callable[[], None]) -> None:
        """Run ``paint`` now if it has not run for PAINT_GAP_S (or only one source feeds it),
        else once when that gap ends (however many results arrive in it)."""
        if paint in self._paint_due:
            return
        if sum(1 for s in self.sources.values() if s.paint == paint) <= 1:
            paint()                     # fed by one source only: nothing to gather
            return
        now = time.monotonic()
        last = self._painted_at.get(paint)
        if last is None or now - last >= PAINT_GAP_S:
            self._painted_at[paint] = now
            paint()
            return
        self._paint_due.add(paint)
        self.set_timer(PAINT_GAP_S - (now - last), Call(self._paint_now, paint), name="live:paint")

    def _paint_now(self, paint: Callable[[], None]) -> None:
        if paint in self._paint_due:
            self._paint_due.discard(paint)
            self._painted_at[paint] = time.monotonic()
            paint()

    @property
    def paint_pending(self) -> bool:
        """A coalesced redraw is waiting for its gap to end (tests wait for it)."""
        return bool(self._paint_due)

    def _record(self, where: tuple[str, str], value: Any) -> None:
        """While the app records (console.ui.recorder), hand it the good value (a queue:
        the file is written by its own thread, never here)."""
        rec = getattr(self.app, "recorder", None)
        if rec is not None:
            rec.put(where[0], where[1], getattr(value, "recorded", value))

    def _wall(self) -> Any:
        from datetime import datetime, timezone
        return datetime.now(timezone.utc)

    def refresh_all(self, names: Iterable[str] | None = None) -> None:
        for name in list(names if names is not None else self.sources):
            self.run_source(name)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        for st in self.states.values():
            st.paused = paused
        if paused:
            for name in list(self._live_timers):
                self._disarm(name)
        else:
            self._catch_up()
        self.on_live_changed(None)

    # ------------------------------------------------------------------ timers

    def _can_arm(self) -> bool:
        return self._shown and not self.paused

    def _interval(self, name: str) -> float | None:
        src = self.sources.get(name)
        return None if src is None else src.interval()

    def _arm(self, name: str, delay: float | None = None) -> None:
        self._disarm(name)
        st = self.states[name]
        every = self._interval(name)
        if every is None or not self._can_arm():
            st.next_at = None
            return
        if delay is None:
            delay = st.delay(every, self.sources[name].backoff_cap_s)
        st.next_at = self.clock() + delay
        self._live_timers[name] = self.set_timer(delay, Call(self.run_source, name), name=f"live:{name}")

    def _disarm(self, name: str) -> None:
        t = self._live_timers.pop(name, None)
        if t is not None:
            t.stop()
        st = self.states.get(name)
        if st is not None:
            st.next_at = None

    def rearm(self) -> None:
        """The intervals changed (e.g. Metrics' +/-): re-arm pending timers."""
        for name in list(self._live_timers):
            self._arm(name)
        self.arm_second()

    def _catch_up(self) -> None:
        if not self._can_arm():
            return
        now = self.clock()
        for name, st in self.states.items():
            if name not in self.sources or st.running or name in self._live_timers:
                continue
            every = self._interval(name)
            age = st.age(now)
            if st.error is not None or age is None:
                self.run_source(name)
            elif every is not None:
                if age >= every:
                    self.run_source(name)
                else:
                    self._arm(name, every - age)

    def on_mount(self) -> None:
        self._shown = self.is_current       # (safe while the app closes its screens)
        self._styled_for = self._style_inputs()     # every node was styled as it mounted
        self.arm_second()

    def every_second(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` once a second while this screen is shown (and once when it is
        shown again). Returns the function that stops it (call it on unmount)."""
        self._each_second.append(callback)
        self.arm_second()

        def stop() -> None:
            if callback in self._each_second:
                self._each_second.remove(callback)
        return stop

    def arm_second(self) -> None:
        """One timer a screen for what moves with time (indicators' ages, countdowns), armed
        for when the next of it can change: a second while a callback ticks each second,
        else when an indicator's text can next change (``LiveIndicator.quiet_for``; a source
        refreshed every 2 s reads "just now" while on schedule, so nothing wakes between
        its refreshes); none while hidden, or when only a source's change (which re-arms it)
        can change anything. A timer per widget, and then one a second per screen, woke the
        event loop for screens nobody saw and for texts that did not change."""
        if not self._shown:
            return
        wait = 1.0 if self._each_second else min((ind.quiet_for() for ind in self.indicators), default=math.inf)
        due = None if wait == math.inf else time.monotonic() + wait + SECOND_SLACK_S
        timer = self._second_timer
        if timer is not None:
            # Kept unless it would wake too late, or a second or more before anything can
            # change: a timer moved later at every call (a callback's "in a second" asked
            # for again by each source that starts or finishes) would never fire.
            if due is not None and self._second_due - 10 * SECOND_SLACK_S <= due <= self._second_due + 1.0:
                return
            timer.stop()
            self._second_timer = None
        if due is not None:
            self._second_due = due
            self._second_timer = self.set_timer(due - time.monotonic(), Call(self._tick_second), name="live:second")

    def _stop_second(self) -> None:
        if self._second_timer is not None:
            self._second_timer.stop()
            self._second_timer = None

    def _tick_second(self) -> None:
        self._second_timer = None
        if not self.is_current:
            return
        for ind in list(self.indicators):
            ind.refresh_text()
        for callback in list(self._each_second):
            callback()
        self.arm_second()

    def on_screen_suspend(self) -> None:
        self._shown = False
        self._styled_for = self._style_inputs()
        for name in list(self._live_timers):
            self._disarm(name)
        self._stop_second()

    def _style_inputs(self) -> tuple[Any, ...]:
        """What a hidden screen's styles depend on outside the screen: the app's CSS
        generation (theme, reparsed CSS), its pseudo-classes (focus, dark/light, ansi) and
        its classes. Changes inside the screen restyle their own nodes as they happen, shown
        or not."""
        app = self.app
        return (getattr(app, "_css_update_count", None), app.pseudo_classes, frozenset(app.classes))

    def on_screen_resume(self, event: ScreenResume) -> None:
        # Textual (8.2, pinned) restyles every node of a screen switched back to (~100 ms on
        # a full screen), in case something app-wide changed while it was hidden; it is
        # skipped when nothing did. (This handler runs before Screen's, which reads the flag.)
        if self._styled_for is not None and self._styled_for == self._style_inputs():
            event.refresh_styles = False
        self._shown = True
        self._catch_up()
        self._tick_second()          # the ages moved while hidden; armed again from here
        self.focus_list()

    # ------------------------------------------------------------------ hooks

    def on_live_changed(self, name: str | None) -> None:
        """A source started, finished, or the pause changed: update indicators, and wake
        them next when their text can next change."""
        for ind in list(self.indicators):
            ind.refresh_text()
        self.arm_second()

    def focus_list(self) -> None:
        """After a dialog the keys go to the list again (unless a filter is being typed)."""
        focused = self.focused
        if isinstance(focused, Input) and focused.display:
            return
        if self.list_id is None:
            return
        try:
            target: Widget = self.query_one(f"#{self.list_id}")
        except Exception:  # the screen has no list (yet)
            return
        if focused is not target and isinstance(target, (DataTable, Tree)) and target.display:
            target.focus()

    # ------------------------------------------------------------------ shared actions

    def action_refresh_now(self) -> None:
        self.refresh_all()

    def action_toggle_pause(self) -> None:
        self.set_paused(not self.paused)
