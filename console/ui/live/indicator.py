"""The one stale/age indicator: a one-line widget showing how old the data of one or more
live sources is (``● 12s ago``, ``⟳ loading…``, ``✖ stale 3m05s · timeout: …``,
``⏸ paused``). Every panel of every screen uses it; the screen updates it when a source
starts or finishes, and while shown when its text can next change (the age moves:
``LiveScreen``'s one timer, armed by ``quiet_for``; an indicator on another screen keeps a
timer of its own)."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.widgets import Static

from ..widgets.show import show
from .state import State, age_text, quiet_for


class LiveIndicator(Static):
    DEFAULT_CSS = """
    LiveIndicator { height: 1; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *sources: str, label: str = "", extra: Callable[[], Text | None] | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.source_names = list(sources)
        self.label = label
        self.extra = extra

    def on_mount(self) -> None:
        registry = getattr(self.screen, "indicators", None)
        self._registry: list[Any] | None = registry if isinstance(registry, list) else None
        if self._registry is not None:
            self._registry.append(self)       # the screen wakes it when its text can change
            arm = getattr(self.screen, "arm_second", None)
            if arm is not None:
                arm()
        else:
            self.set_interval(1.0, self._tick)
        self.refresh_text()

    def on_unmount(self) -> None:
        # the list kept at mount: the screen may already be gone while this unmounts
        registry = getattr(self, "_registry", None)
        if registry is not None and self in registry:
            registry.remove(self)

    def _tick(self) -> None:
        if self.screen.is_current:
            self.refresh_text()

    def _worst(self, states: dict[str, State[Any]]) -> State[Any] | None:
        """The state that speaks for several sources: a failing one, else the oldest."""
        names = self.source_names or list(states)
        picked = [states[n] for n in names if n in states]
        if not picked:
            return None
        failing = [s for s in picked if s.stale]
        if failing:
            return failing[0]
        never = [s for s in picked if s.ok_at is None]
        if never:
            return never[0]
        return min(picked, key=lambda s: s.ok_at or 0.0)

    def _shown_state(self) -> tuple[State[Any] | None, float, float | None]:
        """(the state this indicator speaks for, the screen's clock, that source's interval)."""
        screen: Any = self.screen
        st = self._worst(getattr(screen, "states", {}))
        now = screen.clock() if hasattr(screen, "clock") else 0.0
        every = None
        if st is not None and st.name in getattr(screen, "sources", {}):
            every = screen.sources[st.name].interval()
        return st, now, every

    def quiet_for(self) -> float:
        """Seconds for which the text stays as it is unless a source changes (``inf``: only a
        change can change it); the screen wakes its indicators then, not every second. An
        ``extra`` text may move with time: a second."""
        if self.extra is not None:
            return 1.0
        st, now, every = self._shown_state()
        return quiet_for(st, now, every=every)

    def refresh_text(self) -> None:
        st, now, every = self._shown_state()
        t = age_text(st, now, label=self.label, every=every)
        if self.extra is not None:
            more = self.extra()
            if more is not None:
                t = Text.assemble(t, "  ", more)
        show(self, t)         # nothing when unchanged; one line repainted, never a layout
