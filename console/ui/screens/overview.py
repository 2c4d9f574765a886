"""Overview: every configured backend with reachability, latency and version.

Each backend is probed in its own thread worker; when a probe finishes the screen renders
the result and schedules that backend's next probe with a one-shot timer, so probes never
overlap and a dead server (which may take the whole connect timeout) never delays the
others. A failing backend shows its error and a countdown to the next retry, with the
retry interval doubling up to a minute. Probing pauses while the screen is hidden."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Static

from ...backends.base import Health
from ...core.attention import Count, Source
from ...core.health import HealthCheck, next_delay

# (label, width); the last column takes what is left and is cut, the detail pane below
# shows the highlighted backend in full.
COLUMNS = (("Status", 8), ("Backend", 12), ("Kind", 9), ("Latency", 10), ("Version", 24),
           ("Next", 10), ("Address / error", 60))


@dataclass
class _State:
    check: HealthCheck
    last: Health | None = None
    failures: int = 0
    next_at: float | None = None
    running: bool = False
    timer: Timer | None = None


def status_cell(state: _State) -> Text:
    if state.last is None:
        return Text("… checking", style="dim")
    if state.last.ok:
        return Text("● up", style="bold green")
    return Text("✖ down", style="bold red")


def latency_cell(h: Health | None) -> Text:
    if h is None or h.latency_ms is None:
        return Text("—", style="dim")
    return Text(f"{h.latency_ms:,.1f} ms", justify="right")


class OverviewScreen(Screen):
    """The landing screen."""

    BINDINGS = [
        Binding("r", "refresh_now", "Refresh now", id="overview.refresh",
                tooltip="Probe every backend immediately"),
    ]

    class Counted(Message):
        def __init__(self, key: str, counts: list[Count]) -> None:
            self.key = key
            self.counts = counts
            super().__init__()

    class Probed(Message):
        def __init__(self, key: str, health: Health) -> None:
            self.key = key
            self.health = health
            super().__init__()

    def __init__(self) -> None:
        super().__init__(id="overview")
        self._states: dict[str, _State] = {}
        self._ticker: Timer | None = None
        self._counts: dict[str, list[Count]] = {}
        self._count_timers: dict[str, Timer] = {}
        self._counting: set[str] = set()

    @property
    def services(self):
        return self.app.services

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="overview-body"):
            yield Static("", id="overview-summary")
            yield DataTable(id="health", cursor_type="row", zebra_stripes=True)
            yield Static("", id="overview-detail")
            yield Static("", id="overview-attention")
            yield Static("", id="overview-hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#health", DataTable)
        for col, width in COLUMNS:
            table.add_column(col, key=col, width=width)
        for check in self.services.health_checks:
            st = _State(check)
            self._states[check.key] = st
            table.add_row(*self._cells(st), key=check.key)
        if not self._states:
            self.query_one("#overview-hint", Static).update(
                "No backend is configured. Write a console.toml (see README: Configuration) "
                "or run `console demo`.")
        self._update_summary()
        self._ticker = self.set_interval(1.0, self._tick)
        for key in self._states:
            self._probe(key)
        self._render_attention()
        for src in self.services.attention:
            self._count(src)

    # ---------------------------------------------------------------- probing

    def _probe(self, key: str) -> None:
        st = self._states[key]
        if st.running:
            return
        if st.timer is not None:
            st.timer.stop()
            st.timer = None
        st.running = True
        st.next_at = None
        self._run_check(key, st.check)

    @work(thread=True, exit_on_error=False, group="health")
    def _run_check(self, key: str, check: HealthCheck) -> None:
        try:
            health = check.run()
        except Exception as exc:  # noqa: BLE001 - a bug in a check must not kill the screen
            health = Health(check.name, check.kind, check.address, ok=False,
                            error=f"{type(exc).__name__}: {exc}")
        self.post_message(self.Probed(key, health))

    @on(Probed)
    def _on_probed(self, message: Probed) -> None:
        st = self._states.get(message.key)
        if st is None:
            return
        st.running = False
        st.last = message.health
        st.failures = 0 if message.health.ok else st.failures + 1
        self._schedule(st)
        self._render_row(st)
        self._update_summary()

    def _schedule(self, st: _State) -> None:
        if not self.is_current:
            # Hidden: the next probe is made when the screen is shown again.
            st.next_at = None
            return
        delay = next_delay(self.services.settings.refresh_interval_s, st.failures)
        st.next_at = self.services.clock() + delay
        st.timer = self.set_timer(delay, lambda key=st.check.key: self._probe(key))

    def on_screen_resume(self) -> None:
        if self._ticker is not None:
            self._ticker.resume()
        for key, st in self._states.items():
            if not st.running and st.timer is None:
                self._probe(key)
        for src in self.services.attention:
            if src.key not in self._counting and src.key not in self._count_timers:
                self._count(src)

    def on_screen_suspend(self) -> None:
        if self._ticker is not None:
            self._ticker.pause()
        for st in self._states.values():
            if st.timer is not None:
                st.timer.stop()
                st.timer = None
            st.next_at = None
        for t in self._count_timers.values():
            t.stop()
        self._count_timers.clear()

    def action_refresh_now(self) -> None:
        for key in self._states:
            self._probe(key)
        for src in self.services.attention:
            self._count(src)

    # ---------------------------------------------------------------- attention counts

    def _count(self, src: Source) -> None:
        if src.key in self._counting:
            return
        timer = self._count_timers.pop(src.key, None)
        if timer is not None:
            timer.stop()
        self._counting.add(src.key)
        self._run_count(src)

    @work(thread=True, exit_on_error=False, group="attention")
    def _run_count(self, src: Source) -> None:
        self.post_message(self.Counted(src.key, src.collect()))

    @on(Counted)
    def _on_counted(self, message: Counted) -> None:
        self._counting.discard(message.key)
        self._counts[message.key] = message.counts
        self._render_attention()
        src = next((s for s in self.services.attention if s.key == message.key), None)
        if src is not None and self.is_current:
            self._count_timers[src.key] = self.set_timer(src.every_s, lambda s=src: self._count(s))

    def _render_attention(self) -> None:
        if not self.services.attention:
            return
        t = Text()
        t.append("Needs attention", style="bold")
        t.append("  (recounted every minute; schema every 5 minutes)\n", style="dim")
        for src in self.services.attention:
            counts = self._counts.get(src.key)
            if counts is None:
                t.append(f"  {src.label:<30}", style="dim")
                t.append("counting…\n", style="dim")
                continue
            for c in counts:
                t.append(f"  {c.label:<30}")
                if c.error and c.value is None:
                    t.append(f"{'unknown':>10}", style="yellow")
                    t.append(f"  {c.error}\n", style="red")
                    continue
                value = f"{c.value:,}{'+' if c.approximate else ''}"
                informational = c.key == "sessions"
                style = "bold" if informational else ("bold green" if c.value == 0 else "bold yellow")
                t.append(f"{value:>10}", style=style)
                if c.detail:
                    t.append(f"  {c.detail}", style="dim")
                if c.error:
                    t.append(f"  (partial: {c.error})", style="red")
                t.append("\n")
        self.query_one("#overview-attention", Static).update(t)

    # ---------------------------------------------------------------- rendering

    def _cells(self, st: _State) -> tuple:
        h = st.last
        return (status_cell(st), Text(st.check.name, style="bold"), st.check.kind,
                latency_cell(h), Text(h.version or "—") if h and h.version else Text("—", style="dim"),
                self._next(st), self._address_or_error(st))

    def _next(self, st: _State) -> Text:
        if st.running and st.last is not None and not st.last.ok:
            return Text("retrying", style="yellow")
        if st.last is None or st.last.ok or st.next_at is None:
            return Text("")
        remaining = max(0, int(round(st.next_at - self.services.clock())))
        return Text(f"retry {remaining}s", style="yellow")

    @staticmethod
    def _address_or_error(st: _State) -> Text:
        h = st.last
        if h is None or h.ok:
            return Text(st.check.address, style="dim")
        kind = f"{h.error_kind.value}: " if h.error_kind else ""
        return Text(f"{kind}{h.error}", style="red")

    def _render_row(self, st: _State) -> None:
        table = self.query_one("#health", DataTable)
        for (col, _), value in zip(COLUMNS, self._cells(st)):
            table.update_cell(st.check.key, col, value)
        self._render_detail()

    def _tick(self) -> None:
        """Once a second: move the retry countdowns of failing backends."""
        table = self.query_one("#health", DataTable)
        for st in self._states.values():
            if st.last is not None and not st.last.ok:
                table.update_cell(st.check.key, "Next", self._next(st))

    def on_resize(self) -> None:
        """The last column takes the width the others leave, so nothing scrolls sideways."""
        table = self.query_one("#health", DataTable)
        fixed = sum(w for _, w in COLUMNS[:-1]) + 2 * len(COLUMNS) + 8
        last = table.columns.get(COLUMNS[-1][0])
        if last is not None:
            last.width = max(20, self.size.width - fixed)
            last.auto_width = False
            width = sum(c.get_render_width(table) for c in table.columns.values())
            table.virtual_size = Size(width, table.virtual_size.height)
            table.refresh()

    @on(DataTable.RowHighlighted, "#health")
    def _on_highlight(self, event: DataTable.RowHighlighted) -> None:
        self._render_detail()

    def _render_detail(self) -> None:
        """The highlighted backend in full: its address, last check, whole error."""
        table = self.query_one("#health", DataTable)
        if not self._states or table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        st = self._states.get(key)
        if st is None:
            return
        t = Text()
        t.append(f"{st.check.name}", style="bold")
        t.append(f" ({st.check.kind})  {st.check.address}\n", style="dim")
        h = st.last
        if h is None:
            t.append("first check running…", style="dim")
        elif h.ok:
            t.append(f"up · {h.version} · {h.latency_ms:,.1f} ms round trip · checked {h.checked_at:%H:%M:%S} UTC")
        else:
            t.append(f"down since check at {h.checked_at:%H:%M:%S} UTC"
                     f" · {st.failures} failed check{'s' if st.failures != 1 else ''} in a row\n", style="red")
            kind = h.error_kind.value if h.error_kind else "error"
            t.append(f"{kind}: {h.error}", style="red")
        self.query_one("#overview-detail", Static).update(t)

    def _update_summary(self) -> None:
        states = list(self._states.values())
        up = sum(1 for s in states if s.last and s.last.ok)
        down = sum(1 for s in states if s.last and not s.last.ok)
        pending = len(states) - up - down
        t = Text()
        t.append(f" {up} up ", style="bold black on green" if up else "dim")
        t.append("  ")
        t.append(f" {down} down ", style="bold white on red" if down else "dim")
        if pending:
            t.append(f"   {pending} checking", style="dim")
        t.append(f"   refresh every {self.services.settings.refresh_interval_s:g}s", style="dim")
        self.query_one("#overview-summary", Static).update(t)
