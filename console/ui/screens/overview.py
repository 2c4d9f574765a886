"""Overview: every configured backend with reachability, latency and version, and the
counts that need attention.

Each backend's probe and each attention count is a live source (console.ui.live): run in
its own thread worker, never overlapping, so a dead server (which may take the whole
connect timeout) never delays the others; a failing backend is retried with the interval
doubling up to a minute and shows a countdown to the next retry. Nothing runs while the
screen is hidden or paused.

Columns as the width shrinks: Status, Backend, Latency and Address/error stay; Version,
then Kind, then Next go first (the detail line below shows the highlighted backend whole)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Header, Static

from ...backends.base import Health
from ...core import format as fmt
from ...core import text
from ...core.attention import Count
from ...core.attention import Source as AttentionSource
from ...core.health import HealthCheck
from .. import keymap
from ..live import LiveIndicator, LiveScreen, Source, State
from ..widgets.footer import ConsoleFooter
from ..widgets.lists import Col, ListFilter, ListTable

COLUMNS = (Col("Status", 8), Col("Backend", 10), Col("Kind", 9, drop=2), Col("Latency", 10),
           Col("Version", 20, drop=3), Col("Next", 9, drop=1), Col("Address / error", 20, flex=True))


def status_cell(st: State[Health] | None) -> Text:
    h = st.value if st is not None else None
    if h is None:
        return Text("… checking", style="dim")
    if h.ok:
        return Text("● up", style="bold green")
    return Text("✖ down", style="bold red")


def latency_cell(h: Health | None) -> Text:
    if h is None or h.latency_ms is None:
        return Text("—", style="dim")
    return Text(f"{h.latency_ms:,.1f} ms", justify="right")


def _probe(check: HealthCheck) -> Health:
    """A check never raises (core.health turns backend errors into a failed Health); a
    bug in one still must not look like a healthy backend."""
    try:
        return check.run()
    except Exception as exc:
        return Health(check.name, check.kind, check.address, ok=False, error=text.error_text(exc))


class OverviewScreen(ListFilter, LiveScreen):
    """The landing screen."""

    LIST_ID = "health"
    FILTER_LIST = "#health"
    BINDINGS = keymap.bindings("refresh", "filter", "pause", tooltip={"refresh": "Probe every backend and recount now"})

    DEFAULT_CSS = """
    #overview-body { padding: 0 1; }
    #overview-summary { height: 1; }
    #health { height: auto; max-height: 10; }
    #overview-detail { height: auto; max-height: 3; padding: 0 1; background: $panel; }
    #overview-attention-age { margin-top: 1; }
    #overview-attention { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    #overview-hint { color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__(id="overview")
        self.checks: dict[str, HealthCheck] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="overview-body"):
            yield LiveIndicator(id="overview-summary", extra=self._summary)
            yield ListTable(COLUMNS, id="health")
            yield Static("", id="overview-detail")
            yield LiveIndicator(id="overview-attention-age", label="Needs attention")
            yield Static("", id="overview-attention")
            yield Static("", id="overview-hint")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        if self.services.ready:
            self._start()
            return
        # The backends (driver imports) are built after the first frame, off the UI thread.
        self.query_one("#overview-summary", LiveIndicator).extra = lambda: Text("starting…", style="dim")
        self.call_after_refresh(lambda: self.run_worker(
            self._build_services, thread=True, exit_on_error=False, group="overview-build",
            description="build the backends"))

    def _build_services(self) -> None:
        try:
            self.services.ensure_built()
        except Exception as exc:  # noqa: BLE001 - said on screen, never a traceback
            self.app.call_from_thread(self._build_failed, text.error_text(exc))
            return
        self.app.call_from_thread(self._start)

    def _build_failed(self, error: str) -> None:
        self.query_one("#overview-summary", LiveIndicator).extra = lambda: text.plain(
            f"backends not built: {error}", "red")
        self.query_one("#overview-summary", LiveIndicator).refresh_text()

    def _start(self) -> None:
        s = self.services
        self.query_one("#overview-summary", LiveIndicator).extra = self._summary
        table = self.query_one("#health", ListTable)
        self.checks = {c.key: c for c in s.health_checks}
        table.set_rows([(k, self._cells(k)) for k in self.checks])
        if not self.checks:
            self.query_one("#overview-hint", Static).update(
                "No backend is configured. Write a console.toml (see README: Configuration) or run `console demo`.")
        every = s.settings.refresh_interval_s
        for key, check in self.checks.items():
            self.add_source(Source(f"probe:{key}", fetch=_probe, params=(check,), every=every,
                                   paint=self._paint_probes))
        for src in s.attention:
            self.add_source(Source(f"count:{src.key}", fetch=src.collect, every=src.every_s,
                                   paint=self._render_counts))
        self.query_one("#overview-summary", LiveIndicator).source_names = [f"probe:{k}" for k in self.checks]
        # the counts' own age: the oldest (or failing) count speaks for the panel
        self.query_one("#overview-attention-age", LiveIndicator).source_names = [f"count:{src.key}"
                                                                                 for src in s.attention]
        self.query_one("#overview-attention-age").display = bool(s.attention)
        self._render_counts(None)
        self.every_second(self._tick)

    # ---------------------------------------------------------------- rendering

    def _probe_state(self, key: str) -> State[Health] | None:
        return self.states.get(f"probe:{key}")

    def _cells(self, key: str) -> list[Any]:
        check = self.checks[key]
        st = self._probe_state(key)
        h = st.value if st is not None else None
        version = text.plain(h.version) if h and h.version else Text("—", style="dim")
        return [status_cell(st), text.plain(check.name, "bold"), check.kind, latency_cell(h), version,
                self._next(st), self._address_or_error(check, h)]

    def _next(self, st: State[Health] | None) -> Text:
        h = st.value if st is not None else None
        if st is None or h is None or h.ok:
            return Text("")
        if st.running:
            return Text("retrying", style="yellow")
        if st.next_at is None:
            return Text("paused" if self.paused else "", style="yellow")
        return Text(f"retry {fmt.age(max(0.0, st.next_at - self.clock()))}", style="yellow")

    @staticmethod
    def _address_or_error(check: HealthCheck, h: Health | None) -> Text:
        if h is None or h.ok:
            return text.plain(check.address, "dim")
        kind = f"{h.error_kind.value}: " if h.error_kind else ""
        return text.plain(f"{kind}{h.error}", "red")

    def _paint_probes(self) -> None:
        table = self.query_one("#health", ListTable)
        table.set_rows([(k, self._cells(k)) for k in self.checks])
        if table.cursor_key in self.checks:
            self._render_detail()

    def _tick(self) -> None:
        """Once a second while shown (``every_second``): move the retry countdowns of
        failing backends."""
        table = self.query_one("#health", ListTable)
        for key in self.checks:
            st = self._probe_state(key)
            if st is not None and st.value is not None and not st.value.ok:
                table.set_cell(key, "Next", self._next(st))

    def on_live_changed(self, name: str | None) -> None:
        super().on_live_changed(name)
        if name and name.startswith("probe:") and self.is_mounted:
            key = name.removeprefix("probe:")
            if key in self.checks:
                self.query_one("#health", ListTable).set_cell(key, "Next", self._next(self._probe_state(key)))

    @on(DataTable.RowHighlighted, "#health")
    def _on_highlight(self, _event: DataTable.RowHighlighted) -> None:
        self._render_detail()

    def _render_detail(self) -> None:
        """The highlighted backend in full: its address, last check, whole error."""
        key = self.query_one("#health", ListTable).cursor_key
        if key is None or key not in self.checks:
            return
        check = self.checks[key]
        st = self._probe_state(key)
        t = Text()
        t.append_text(text.plain(check.name, "bold"))
        t.append(f" ({check.kind})  ", style="dim")
        t.append_text(text.plain(check.address, "dim"))
        t.append("\n")
        h = st.value if st is not None else None
        if h is None:
            t.append("first check running…", style="dim")
        elif h.ok:
            t.append_text(text.plain(h.version))
            t.append(f" · {h.latency_ms or 0:,.1f} ms round trip · checked {fmt.clock(h.checked_at)} UTC")
        else:
            n = st.failures if st is not None and st.failures else 1
            t.append(f"down since the check at {fmt.clock(h.checked_at)} UTC · {n} failed in a row · ",
                     style="red")
            kind = h.error_kind.value if h.error_kind else "error"
            t.append_text(text.plain(f"{kind}: {h.error}", "red"))
        self.query_one("#overview-detail", Static).update(t)

    def _summary(self) -> Text:
        vals = [self._probe_state(k) for k in self.checks]
        up = sum(1 for s in vals if s and s.value and s.value.ok)
        down = sum(1 for s in vals if s and s.value and not s.value.ok)
        pending = len(vals) - up - down
        t = Text()
        t.append(f" {up} up ", style="bold black on green" if up else "dim")
        t.append(" ")
        t.append(f" {down} down ", style="bold white on red" if down else "dim")
        if pending:
            t.append(f"  {pending} checking", style="dim")
        return t

    def _render_counts(self, _st: State[list[Count]] | None = None) -> None:
        sources: list[AttentionSource] = self.services.attention
        if not sources:
            return
        t = Text()          # its heading and age are the #overview-attention-age indicator above
        for src in sources:
            st = self.states.get(f"count:{src.key}")
            counts: list[Count] | None = st.value if st is not None else None
            if counts is None:
                t.append(f"  {src.label:<28}", style="dim")
                t.append(("✖ " + st.error) if st is not None and st.error else "counting…", style="dim")
                t.append("\n")
                continue
            for c in counts:
                t.append(f"  {c.label:<28}")
                if c.error and c.value is None:
                    t.append(f"{'unknown':>9}", style="yellow")
                    t.append("  ")
                    t.append_text(text.plain(c.error, "red"))
                    t.append("\n")
                    continue
                value = f"{fmt.count(c.value)}{'+' if c.approximate else ''}"
                informational = c.key == "sessions"
                style = "bold" if informational else ("bold green" if c.value == 0 else "bold yellow")
                t.append(f"{value:>9}", style=style)
                if c.detail:
                    t.append("  ")
                    t.append_text(text.plain(c.detail, "dim"))
                if c.error:
                    t.append("  (partial: ")
                    t.append_text(text.plain(c.error, "red"))
                    t.append(")")
                if st is not None and st.stale:
                    t.append(f"  stale · {st.error}", style="red")
                t.append("\n")
        t.rstrip()
        self.query_one("#overview-attention", Static).update(t)


SCREEN = OverviewScreen
