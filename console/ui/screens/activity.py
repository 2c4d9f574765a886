"""Activity: every backend of every PostgreSQL target (pg_stat_activity), with filter, sort,
minimum duration, hide idle, the blocking chain of the highlighted session, cancel (``C``)
and terminate (``K``); sub-tabs for top statements (pg_stat_statements) and replication /
maintenance progress with the WAL rate chart.

Each target is one live source (``act:<target>``): one query per target per tick, under
the target's statement_timeout (console.core.activity). Statements and replication are
sources too, run only while their tab is shown. Cancel / terminate build the core's plan
from the last sample (the preview), confirm (terminate: type the pid), and run in a
worker through the core (write-ahead audited, refused in read-only); a replay has no
backend, so the keys are not offered at all."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Header, Input, Static, TabbedContent, TabPane

from ...core import text
from ...core.activity import ActivityFilter, ActivitySample, Backend, SignalPlan, apply_filter, plan_signal
from ...core.activity import sort_rows as core_sort
from ...core.activity.maintenance import MaintenanceSample
from ...core.activity.statements import StatementsSample, deltas
from .. import keymap
from ..data.activity import ActivityScreenPort
from ..live import LiveIndicator, LiveScreen, Source, State
from ..widgets.chart import Series, TimeChart
from ..widgets.confirm import ConfirmModal
from ..widgets.footer import ConsoleFooter
from ..widgets.show import show
from ..widgets.lists import ListTable
from ..widgets.linepane import LinePane
from . import activity_panels as panels
from ..typeahead import FilterInput

@dataclass(frozen=True)
class WalView:
    """A replication sample and the WAL-rate history before it; ``recorded`` is what a
    recording keeps (the sample)."""

    sample: MaintenanceSample
    history: list[tuple[datetime, float | None]]

    @property
    def recorded(self) -> MaintenanceSample:
        return self.sample


TABS = ("tab-sessions", "tab-statements", "tab-repl")
WAL_HISTORY = 120


class ActivityScreen(LiveScreen):
    LIST_ID = "activity-table"
    BINDINGS = keymap.bindings("refresh", "filter", "clear_filter", "select", "pause", "tab_next", "tab_prev",
                               "activity.sort", "activity.order", "activity.idle", "activity.min",
                               "activity.cancel", "activity.terminate",
                               tooltip={"tab_next": "Next tab: sessions, top statements, replication"},
                               hide=("activity.order",))

    DEFAULT_CSS = """
    #activity-status { height: 1; padding: 0 1; }
    #activity-tabs { height: 1fr; }
    #activity-tabs TabPane { padding: 0; height: 1fr; }
    #activity-summary { height: 1; padding: 0 1; }
    #activity-filter { display: none; height: 3; }
    #activity-filter.open { display: block; }
    #activity-table { height: 1fr; }
    #activity-detail { height: 40%; min-height: 6; border-top: solid $panel-lighten-2; padding: 0 1; }
    #statements-pane, #repl-pane { padding: 0 1; }
    #repl-chart { height: 12; }
    """

    class Done(Message):
        def __init__(self, plan: SignalPlan, results: list[Any] | None, error: str | None) -> None:
            self.plan, self.results, self.error = plan, results, error
            super().__init__()

    def __init__(self) -> None:
        super().__init__(id="activity")
        self.filter_text = ""
        self.hide_idle = False
        self.min_index = 0
        self.sort_index = 0
        self.descending = True
        self.selected: set[str] = set()
        self.visible_rows: dict[str, tuple[str, Backend]] = {}
        self._cells = panels.RowCells()
        self.prev_statements: dict[str, StatementsSample] = {}
        self.statement_deltas: dict[str, Any] = {}
        self.wal: dict[str, deque[tuple[datetime, float | None]]] = {}

    @property
    def port(self) -> ActivityScreenPort | None:
        return self.services.source("activity")

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header()
        yield LiveIndicator(id="activity-status")
        with TabbedContent(id="activity-tabs"):
            with TabPane("Sessions", id="tab-sessions"):
                with Vertical():
                    yield Static("", id="activity-summary")
                    yield FilterInput(placeholder="filter: regex over any field, or field:regex (user: db: app: "
                                      "state: wait: query: client: pid: blocked:) — Enter applies, Esc clears",
                                      id="activity-filter")
                    yield ListTable(panels.COLUMNS, id="activity-table")
                    with VerticalScroll(id="activity-detail"):
                        yield LinePane("", id="activity-detail-text")
            with TabPane("Top statements", id="tab-statements"):
                with VerticalScroll(id="statements-pane"):
                    yield Static("", id="statements-body")
            with TabPane("Replication", id="tab-repl"):
                with VerticalScroll(id="repl-pane"):
                    yield TimeChart(title="WAL generated", unit="bytes/s", id="repl-chart")
                    yield Static("", id="repl-body")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(TabbedContent).query_one("Tabs").can_focus = False
        port = self.port
        if port is None:
            self.query_one("#activity-summary", Static).update(
                Text("No PostgreSQL target is configured: nothing to show.", style="dim"))
            return
        every = self.services.settings.refresh_interval_s
        names = []
        for t in port.targets:
            self.wal[t] = deque(maxlen=WAL_HISTORY)
            names.append(f"act:{t}")
            self.add_source(Source(f"act:{t}", fetch=port.sample, params=(t,), every=every,
                                   paint=self._render_sessions, panel="#activity-table",
                                   record=("activity", t)))
            self.add_source(Source(f"stm:{t}", fetch=port.statements, params=(t,),
                                   every=lambda: max(10.0, every) if self._tab() == "tab-statements" else None,
                                   render=self._render_statements, panel="#statements-pane",
                                   record=("statements", t)), start=False)
            self.add_source(Source(f"mnt:{t}", fetch=self._fetch_maintenance, params=(port, t),
                                   every=lambda: every if self._tab() == "tab-repl" else None,
                                   render=self._render_maintenance, panel="#repl-pane",
                                   record=("maintenance", t)), start=False)
        self.query_one("#activity-status", LiveIndicator).source_names = names
        self.query_one("#activity-detail").can_focus = False
        self.query_one("#activity-table", ListTable).focus()

    def _tab(self) -> str:
        try:
            return str(self.query_one("#activity-tabs", TabbedContent).active)
        except Exception:  # not composed yet
            return "tab-sessions"

    # ---------------------------------------------------------------- sessions

    def samples(self) -> dict[str, ActivitySample | None]:
        port = self.port
        return {t: self.state(f"act:{t}").value for t in (port.targets if port else [])}

    def _render_sessions(self, _st: State[ActivitySample] | None = None) -> None:
        flt = ActivityFilter(self.filter_text, panels.MIN_DURATIONS[self.min_index], self.hide_idle)
        problem = None
        try:
            flt.compiled()
        except ValueError as exc:
            problem, flt = str(exc), ActivityFilter("", flt.min_duration_s, flt.hide_idle)
        key, label = panels.SORTS[self.sort_index]
        samples = self.samples()
        rows: list[tuple[str, Backend]] = []
        total = 0
        seen: set[tuple[int, object]] = set()     # a server's background processes, once
        for target, s in samples.items():
            if s is None:
                continue
            own = []
            for r in s.rows:
                if r.datname is None:
                    if (r.pid, r.backend_start) in seen:
                        continue
                    seen.add((r.pid, r.backend_start))
                own.append(r)
            total += len(own)
            rows.extend((target, r) for r in apply_filter(own, flt))
        if key == "target":
            rows.sort(key=lambda tr: (tr[0], tr[1].pid), reverse=self.descending)
        else:
            order = {id(r): i for i, r in enumerate(core_sort([r for _, r in rows], key, descending=self.descending))}
            rows.sort(key=lambda tr: order[id(tr[1])])
        blocking = {b for s in samples.values() if s for r in s.rows for b in r.blocked_by}
        self.visible_rows = {f"{t}:{r.pid}": (t, r) for t, r in rows}
        self.selected &= set(self.visible_rows) | self.selected
        table = self.query_one("#activity-table", ListTable)
        qcol = next((c for c in table.columns.values() if str(c.label) == "Query"), None)
        qwidth = qcol.width if qcol is not None else 40
        out = []
        stale = {t: self.state(f"act:{t}").stale for t in samples}
        for k, (t, r) in self.visible_rows.items():
            cells = self._cells(k, t, r, blocking, stale[t], qwidth)
            if k in self.selected:
                cells[0] = Text("✓", style="bold cyan") + cells[0]
            out.append((k, cells))
        self._cells.keep(set(self.visible_rows))
        table.set_rows(out)
        show(self.query_one("#activity-summary", Static), panels.status(
            samples, len(rows), total, self.filter_text, label, self.descending, self.hide_idle,
            panels.MIN_DURATIONS[self.min_index], problem))
        self._render_detail()

    def highlighted(self) -> tuple[str, Backend] | None:
        key = self.query_one("#activity-table", ListTable).cursor_key
        return self.visible_rows.get(key or "")

    @on(DataTable.RowHighlighted, "#activity-table")
    def _on_highlight(self, _event: DataTable.RowHighlighted) -> None:
        self._render_detail()

    def _render_detail(self) -> None:
        h = self.highlighted()
        body = self.query_one("#activity-detail-text", LinePane)
        if h is None:
            body.set_text(panels.detail(None, None, None))
            return
        st = self.state(f"act:{h[0]}")
        body.set_text(panels.detail(st.value, h[1], st.error, max(40, self.size.width - 4)))

    # ---------------------------------------------------------------- other tabs

    def _render_statements(self, st: State[StatementsSample]) -> None:
        target = st.name.removeprefix("stm:")
        if st.error is None and st.value is not None:
            prev = self.prev_statements.get(target)
            if prev is None or prev.taken_at != st.value.taken_at:
                self.statement_deltas[target] = deltas(prev, st.value)
                self.prev_statements[target] = st.value
        parts = []
        for name, s in self.states.items():
            if name.startswith("stm:") and (s.loaded or s.error):
                t = name.removeprefix("stm:")
                parts.append(panels.statements(t, s.value, self.statement_deltas.get(t), s.error, self.size.width))
        from rich.console import Group
        self.query_one("#statements-body", Static).update(Group(*parts))

    @staticmethod
    def _fetch_maintenance(port: ActivityScreenPort, target: str) -> WalView:
        """In the worker: the sample, and the history up to it (a replay's recorded WAL
        rates; nothing live)."""
        return WalView(port.maintenance(target), port.wal_history(target))

    def _render_maintenance(self, st: State[WalView]) -> None:
        target = st.name.removeprefix("mnt:")
        m = st.value.sample if st.value is not None else None
        if st.error is None and st.value is not None and m is not None:
            hist = self.wal.setdefault(target, deque(maxlen=WAL_HISTORY))
            if st.value.history:
                # A replay: what was recorded up to the cursor, every time (the cursor jumps
                # both ways; points after it must not stay, skipped ones must appear).
                hist.clear()
            for at, rate in st.value.history:
                if not hist or at > hist[-1][0]:
                    hist.append((at, rate))
            if not hist or hist[-1][0] < m.taken_at:
                hist.append((m.taken_at, m.wal_bytes_s))
        self.query_one("#repl-chart", TimeChart).set_series(
            [Series(t, tuple(h)) for t, h in self.wal.items() if h], title="WAL generated per second",
            unit="bytes/s")
        from rich.console import Group
        parts = [panels.maintenance(name.removeprefix("mnt:"), s.value.sample if s.value else None, s.error)
                 for name, s in self.states.items()
                 if name.startswith("mnt:") and (s.loaded or s.error)]
        self.query_one("#repl-body", Static).update(Group(*parts))

    # ---------------------------------------------------------------- keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("cancel", "terminate"):
            port = self.port
            if port is None or not port.can_signal:
                return False          # a replay: nothing to act on, the keys are not offered
            if port.read_only:
                return None           # shown disabled; the core refuses too
        return True

    def action_tab(self, step: int) -> None:
        tabs = self.query_one("#activity-tabs", TabbedContent)
        i = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(i + step) % len(TABS)]
        self.list_id = "activity-table" if tabs.active == "tab-sessions" else None
        prefix = {"tab-statements": "stm:", "tab-repl": "mnt:"}.get(tabs.active)
        if prefix:
            self.refresh_all([n for n in self.sources if n.startswith(prefix)])
            # the keys go to the shown pane (scrolls); a focus left on the hidden table would
            # make TabbedContent switch back to it
            self.query_one("#statements-pane" if prefix == "stm:" else "#repl-pane").focus()
        self.focus_list()

    def action_refresh_now(self) -> None:
        prefix = {"tab-statements": "stm:", "tab-repl": "mnt:"}.get(self._tab(), "act:")
        self.refresh_all([n for n in self.sources if n.startswith(("act:", prefix))])

    def action_filter(self) -> None:
        self.query_one("#activity-tabs", TabbedContent).active = "tab-sessions"
        self.list_id = "activity-table"
        inp = self.query_one("#activity-filter", Input)
        inp.add_class("open")
        inp.value = self.filter_text
        self.set_focus(inp)         # now: keys typed right behind `/` go into the filter

    def action_clear_filter(self) -> None:
        inp = self.query_one("#activity-filter", Input)
        inp.remove_class("open")
        inp.value = ""
        self.filter_text = ""
        self._render_sessions()
        self.focus_list()

    @on(Input.Submitted, "#activity-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.filter_text = event.value.strip()
        if not self.filter_text:
            event.input.remove_class("open")
        self._render_sessions()
        self.query_one("#activity-table", ListTable).focus()

    def action_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(panels.SORTS)
        self._render_sessions()

    def action_order(self) -> None:
        self.descending = not self.descending
        self._render_sessions()

    def action_hide_idle(self) -> None:
        self.hide_idle = not self.hide_idle
        self._render_sessions()

    def action_min_duration(self) -> None:
        self.min_index = (self.min_index + 1) % len(panels.MIN_DURATIONS)
        self._render_sessions()

    def action_select(self) -> None:
        h = self.query_one("#activity-table", ListTable).cursor_key
        if h is None or h not in self.visible_rows:
            return
        self.selected ^= {h}
        self._render_sessions()

    # ---------------------------------------------------------------- cancel / terminate

    def action_cancel(self) -> None:
        self._signal("cancel")

    def action_terminate(self) -> None:
        self._signal("terminate")

    def _signal(self, kind: str) -> None:
        port = self.port
        if port is None or not port.can_signal:
            return
        keys = [k for k in self.visible_rows if k in self.selected] or (
            [k] if (k := self.query_one("#activity-table", ListTable).cursor_key) in self.visible_rows else [])
        if not keys:
            self.notify("No session highlighted or selected.", severity="warning")
            return
        targets = {self.visible_rows[k][0] for k in keys}
        if len(targets) > 1:
            self.notify("The selection spans several targets: select sessions of one target at a time.",
                        severity="warning")
            return
        target = targets.pop()
        sample = self.state(f"act:{target}").value
        if sample is None:
            return
        plan = plan_signal(sample, [self.visible_rows[k][1].pid for k in keys], kind)
        pids = " ".join(str(s.pid) for s in plan.sessions)
        refused = None
        if port.read_only:
            refused = "Refused: the console is in read-only mode."
        elif not plan.sessions:
            refused = "Refused: no session of the selection may be signalled (see the reasons above)."
        what = "Cancel the running query of" if kind == "cancel" else "Terminate"
        preview = plan.text() + "\n\n-- One audit record per session is written before each signal."

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_signal(port, plan)
            self.focus_list()

        self.app.push_screen(ConfirmModal(f"{what} {len(plan.sessions)} session(s) on {target}: {pids}", preview,
                                          confirm_label="Cancel query" if kind == "cancel" else "Terminate",
                                          preview_sql=True, refused=refused,
                                          type_to_confirm=pids if kind == "terminate" else None), answered)

    def _run_signal(self, port: ActivityScreenPort, plan: SignalPlan) -> None:
        def work() -> None:
            try:
                results = port.signal(plan)
            except Exception as exc:  # shown; a worker never dies silently
                self.post_message(self.Done(plan, None, text.error_text(exc)))
                return
            self.post_message(self.Done(plan, results, None))
        self.run_worker(work, thread=True, exit_on_error=False, group="activity-signal")

    @on(Done)
    def _on_done(self, m: Done) -> None:
        if m.error is not None:
            self.notify(m.error, title=f"{m.plan.kind} refused or failed", severity="error", timeout=10)
        else:
            for r in m.results or []:
                self.notify(f"pid {r.pid}: {r.outcome}: {r.message} (audit #{r.audit_id})"
                            + (f"; audit not settled: {r.audit_error}" if r.audit_error else ""),
                            severity="information" if r.ok else "error")
        self.selected.clear()
        self.run_source(f"act:{m.plan.target}")
        self.focus_list()


SCREEN = ActivityScreen
