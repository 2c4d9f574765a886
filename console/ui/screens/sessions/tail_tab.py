"""The live tail of the pub/sub channels: the last messages (newest first), a rate
sparkline per channel, and the subscription's state with the gaps it had. Reactive state:
``paused`` (the shared pause key), ``channel`` (``c`` cycles), ``status``; messages come in
through :meth:`add` and are drawn at most once a second."""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Sparkline, Static

from ....core import format as fmt
from ....core import sessions as core
from ....core import text

TAIL_KEEP = 1000
TAIL_SHOWN = 200
TAIL_FILTERS = ("all", *core.CHANNELS, "expired")
STYLE = {"error_events": "red", "session_events": "cyan", "expired": "magenta"}


def chan_key(channel: str) -> str:
    return "expired" if channel.startswith("__keyevent@") else channel


class TailTab(Vertical):
    DEFAULT_CSS = """
    TailTab { height: 1fr; }
    #tail-status { height: auto; max-height: 5; }
    #tail-rates { height: 3; }
    .tail-rate { width: 1fr; padding: 0 1; }
    .tail-rate-label { height: 1; }
    .tail-rate Sparkline { height: 2; }
    #tail-log { height: 1fr; border: round $panel-lighten-2; padding: 0 1; text-wrap: nowrap;
                text-overflow: ellipsis; }
    """

    paused = reactive(False, init=False, repaint=False)
    channel = reactive(0, init=False, repaint=False)
    status: reactive[core.TailStatus | None] = reactive(None, always_update=True, init=False, repaint=False)
    keyevents = reactive(False, init=False, repaint=False)

    def __init__(self, clock: Callable[[], float], **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.messages: deque[core.TailMessage] = deque(maxlen=TAIL_KEEP)
        self.notes: deque[str] = deque(maxlen=3)
        self.rates = core.ChannelRates(60)
        self.new_while_paused = 0
        self._dirty = False

    def compose(self) -> ComposeResult:
        yield Static("", id="tail-status")
        with Horizontal(id="tail-rates"):
            for ch in core.CHANNELS:
                with Vertical(classes="tail-rate"):
                    yield Static(ch, id=f"rate-label-{ch}", classes="tail-rate-label")
                    yield Sparkline([0] * 60, id=f"rate-{ch}", summary_function=max)
        yield Static("", id="tail-log")

    def on_mount(self) -> None:
        every_second = getattr(self.screen, "every_second", None)
        if every_second is not None:
            self._stop_ticks = every_second(self._tick)     # the screen's one timer, only while shown
        else:
            self.set_interval(1.0, self._tick)
        self._draw()

    def on_unmount(self) -> None:
        stop = getattr(self, "_stop_ticks", None)
        if stop is not None:
            stop()

    # ---------------------------------------------------------------- input

    def add(self, ev: core.TailMessage | core.TailStatus) -> None:
        if isinstance(ev, core.TailStatus):
            if ev.state == "reconnected" and ev.since is not None:
                self.notes.appendleft(f"{fmt.clock(ev.at)} reconnected after {ev.gap_s:.1f}s: messages published "
                                      f"between {fmt.clock(ev.since)} and {fmt.clock(ev.at)} were missed")
            elif ev.state == "disconnected":
                self.notes.appendleft(f"{fmt.clock(ev.at)} subscription lost: {text.visible(ev.error)}")
            self.status = ev
            return
        self.messages.appendleft(ev)
        self.rates.add(chan_key(ev.channel), self.clock())
        if self.paused:
            self.new_while_paused += 1
        self._dirty = True
        if len(self.messages) <= 50:
            self._draw()

    def note(self, line: str) -> None:
        self.notes.appendleft(line)
        self._draw()

    def clear(self) -> None:
        self.messages.clear()
        self.rates.clear()
        self.notes.clear()
        self._draw()
        self._render_rates()

    def watch_paused(self) -> None:
        self.new_while_paused = 0
        self._draw()

    def watch_channel(self) -> None:
        self._draw()

    def watch_status(self) -> None:
        self._draw()

    def watch_keyevents(self) -> None:
        self._draw()

    # ---------------------------------------------------------------- rendering

    def _tick(self) -> None:
        if not self.screen.is_current:
            return
        self._render_rates()
        if self._dirty:
            self._draw()

    def _render_rates(self) -> None:
        now = self.clock()
        for ch in core.CHANNELS:
            self.query_one(f"#rate-{ch}", Sparkline).data = [float(x) for x in self.rates.series(ch, now)]
            self.query_one(f"#rate-label-{ch}", Static).update(
                Text.assemble((ch, "bold"), f"  {self.rates.rate(ch, now):.1f}/s", no_wrap=True, overflow="ellipsis"))

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        t = Text()
        s = self.status
        if s is None:
            t.append("subscribing…", style="dim")
        elif s.state in ("connected", "reconnected"):
            t.append("● subscribed ", style="bold green")
            t.append_text(text.plain(", ".join(s.channels), "dim"))
        else:
            t.append("✖ disconnected, reconnecting with back-off: ", style="bold red")
            t.append_text(text.plain(s.error or "", "red"))
        flt = TAIL_FILTERS[self.channel]
        t.append(f"\nshowing {flt} (c)", style="cyan" if flt != "all" else "dim")
        if not self.keyevents:
            t.append(" · expiry events off (notify-keyspace-events lacks Ex)", style="dim")
        if self.paused:
            t.append(f" · PAUSED ({self.new_while_paused} new)", style="bold yellow")
        for line in self.notes:
            t.append("\n")
            t.append_text(text.plain(line, "yellow"))
        self.query_one("#tail-status", Static).update(t)
        if self.paused:
            return
        self._dirty = False
        log = Text(no_wrap=True, overflow="ellipsis")
        shown = 0
        for msg in self.messages:
            key = chan_key(msg.channel)
            if flt != "all" and key != flt:
                continue
            style = STYLE.get(key, "")
            log.append(f"{fmt.clock(msg.at)} ", style="dim")
            log.append(f"{key:<15} ", style=style or "green")
            log.append_text(text.plain(msg.data[:300], style))
            log.append("\n")
            shown += 1
            if shown >= TAIL_SHOWN:
                break
        if not shown:
            log.append("no messages yet", style="dim")
        self.query_one("#tail-log", Static).update(log)
