"""What the live layer knows about one source, and how its age reads (no Textual here)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Generic, TypeVar

from rich.text import Text

from ...core import format as fmt
from ...core.health import next_delay

T = TypeVar("T")


@dataclass
class Source(Generic[T]):
    """One live source, as a screen declares it.

    - ``fetch(*args)`` runs in a thread worker and returns the value (or raises);
    - ``fetch(*params, *args())``: ``params`` are fixed (a target name); ``args()`` runs on
      the UI thread just before each run, so changing parameters (a time range, a filter)
      are read where they are changed, never from the worker;
    - ``every`` (seconds, or a function returning them) is the interval while the source
      is healthy; after failures the delay doubles up to ``backoff_cap_s``
      (:func:`console.core.health.next_delay`); ``None`` means "only when asked" (a refresh
      key, a first show);
    - ``render(state)`` runs on the UI thread after each result, good or bad: keep it
      cheap (what this one result changes: a history, a delta, one row);
    - ``paint()``: the costly redraw of what several sources feed (one table of every
      target's rows). It runs after ``render``, at once when one source feeds it or it
      has not run for ``PAINT_GAP_S``, else once at the end of that gap for every result in it: 40 targets
      answering within a moment give one or two redraws, not 40;
    - ``panel``: CSS selector of the widget that shows this source; the layer sets its
      ``stale`` class (one dimmed look everywhere);
    - ``record``: ``(kind, target)`` of console.core.recording: while the app records
      (``ctrl+s``), every good value is written there.
    """

    name: str
    fetch: Callable[..., T]
    every: float | Callable[[], float | None] | None
    render: Callable[["State[T]"], None] | None = None
    paint: Callable[[], None] | None = None
    args: Callable[[], tuple[Any, ...]] = field(default=lambda: ())
    params: tuple[Any, ...] = ()
    backoff_cap_s: float = 60.0
    panel: str | None = None
    record: tuple[str, str] | None = None

    def interval(self) -> float | None:
        return self.every() if callable(self.every) else self.every


@dataclass
class State(Generic[T]):
    """Value, error, time of the last good sample and a stale flag. Written only on the UI
    thread (by the live layer); read by the screen's render code."""

    name: str
    value: T | None = None
    error: str | None = None
    ok_at: float | None = None           # services.clock() of the last good sample
    ok_wall: datetime | None = None      # wall time of the last good sample
    tried_at: float | None = None        # clock of the last attempt (good or bad)
    failures: int = 0
    running: bool = False
    again: bool = False                  # asked again while running: run once more
    next_at: float | None = None
    paused: bool = False

    @property
    def loaded(self) -> bool:
        return self.ok_at is not None

    @property
    def stale(self) -> bool:
        """The last attempt failed: whatever value is shown is older than the last try."""
        return self.error is not None

    def age(self, now: float) -> float | None:
        return None if self.ok_at is None else max(0.0, now - self.ok_at)

    def delay(self, interval: float, cap: float) -> float:
        return next_delay(interval, self.failures, cap_s=max(cap, interval))


RUNNING_SHOWN_AFTER_S = 1.0     # a refresh in flight longer than this is marked ⟳
# A source refreshed every few seconds reads "just now" while it is on schedule (its age under
# its interval plus a second): a count of seconds that restarts at each refresh said nothing
# new, and redrew the screen every second. Late, it counts again ("● 7s ago · every 2s").
ON_SCHEDULE_MAX_EVERY_S = 5.0


def age_text(state: State[Any] | None, now: float, *, label: str = "", every: float | None = None) -> Text:
    """The one spelling of "how old is what I see": ``● 12s ago``, ``⟳ loading…``,
    ``✖ stale 3m05s · unreachable: …``, ``⏸ paused · 40s ago``.

    >>> s = State("x")
    >>> age_text(s, 10).plain
    '⟳ loading…'
    >>> s.ok_at = 4.0; age_text(s, 10).plain
    '● 6s ago'
    >>> s.running, s.tried_at = True, 9.7; age_text(s, 10).plain
    '● 6s ago'
    >>> age_text(s, 11).plain
    '● 7s ago ⟳'
    >>> s.running = False; age_text(s, 6.9, every=2).plain, age_text(s, 7.1, every=2).plain
    ('● just now · every 2s', '● 3s ago · every 2s')
    >>> s.error = "timeout: slow"; s.failures = 2; age_text(s, 100).plain
    '✖ stale 1m36s · timeout: slow'
    """
    t = Text(no_wrap=True, overflow="ellipsis")
    if label:
        t.append(f"{label} ", style="bold")
    if state is None:
        t.append("—", style="dim")
        return t
    age = state.age(now)
    if state.error is not None:
        t.append("✖ ", style="bold red")
        t.append("stale " + (fmt.age(age) if age is not None else "(never loaded)"), style="bold red")
        t.append(" · ")
        t.append(state.error, style="red")
        return t
    if state.paused:
        t.append("⏸ paused", style="bold yellow")
        if age is not None:
            t.append(f" · {fmt.age(age)} ago" if age >= 1 else " · just now", style="yellow")
        return t
    if age is None:
        t.append("⟳ loading…", style="dim")
        return t
    # A refresh in flight is shown once it has taken a while: a 1 ms query flashing the
    # marker cost a redraw of the screen at each run's start, every tick.
    slow = state.running and state.tried_at is not None and now - state.tried_at >= RUNNING_SHOWN_AFTER_S
    t.append("● ", style="green" if not slow else "cyan")
    on_schedule = every is not None and every <= ON_SCHEDULE_MAX_EVERY_S and age < every + 1
    t.append(f"{fmt.age(age)} ago" if age >= 1 and not on_schedule else "just now", style="dim")
    if slow:
        t.append(" ⟳", style="cyan")
    if every:
        t.append(f" · every {fmt.age(every)}", style="dim")
    return t


def quiet_for(state: State[Any] | None, now: float, *, every: float | None = None) -> float:
    """How long :func:`age_text` keeps saying what it says at ``now`` while the state itself
    does not change (a change redraws its indicator anyway): ``age_text(state, now + d)`` is
    the same text for every ``0 <= d < quiet_for(state, now)``; ``inf`` when only a change of
    the state can change it. A screen wakes for the next change instead of every second: a
    source refreshed every 2 s reads "just now" for as long as it stays on schedule.

    >>> s = State("x"); quiet_for(s, 10)
    inf
    >>> s.ok_at = 4.0; quiet_for(s, 10.25)
    0.75
    >>> quiet_for(s, 6.5, every=2)
    0.5
    >>> s.running, s.tried_at = True, 6.5; quiet_for(s, 6.75, every=5)     # until the ⟳
    0.75
    """
    if state is None:
        return math.inf
    age = state.age(now)
    if age is None:                  # "loading…", "stale (never loaded)": no count runs
        return math.inf
    count = math.floor(age) + 1 - age      # fmt.age counts whole seconds ("just now" the first)
    if state.error is not None or state.paused:
        return count
    quiet = math.inf
    if state.running and state.tried_at is not None:
        slow_in = state.tried_at + RUNNING_SHOWN_AFTER_S - now
        if slow_in > 0:
            quiet = slow_in          # the ⟳ marker appears then
    if every is not None and every <= ON_SCHEDULE_MAX_EVERY_S and age < every + 1:
        return min(quiet, every + 1 - age)       # "just now" while on schedule
    return min(quiet, count)


class Call:
    """``fn(*args)`` as a callback Textual does not inspect on every call. Textual counts
    a callback's parameters with ``inspect.signature`` unless the callable carries
    ``_param_count``; a new lambda per timer meant a signature() on every refresh of
    every source (2-3 % of the Activity screen's CPU in a sampling profile)."""

    __slots__ = ("fn", "args")
    _param_count = 0

    def __init__(self, fn: Any, *args: Any) -> None:
        self.fn, self.args = fn, args

    def __call__(self) -> Any:
        return self.fn(*self.args)
