"""Partitions: every partitioned table of every target with its coverage (months created
ahead, gaps, rows in the default partition, partitions past retention), a drill-in with the
partitions and a month-by-month strip, and maintenance planned, previewed and run here.

Discovery runs in a thread worker; the next one is scheduled by a one-shot timer after the
last one rendered (never overlapping) and not while the screen is hidden. A failed refresh
keeps the last tables, dimmed, with the error (stale)."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, ProgressBar, RichLog, Static

from ...core import audit
from ...core.partitions import Discovery, PartitionService, TableInfo, human_bytes
from ...core.partitions.runner import refused_message
from ..widgets.confirm import ConfirmModal
from ..widgets.partition_strip import strip

REFRESH_S = 60.0

COLUMNS = (("Target", 10), ("Table", 24), ("Key", 19), ("Parts", 5), ("Range", 17), ("Ahead", 6),
           ("Gaps", 5), ("Default rows", 12), ("Past ret.", 9), ("Size", 9))


def _source(services) -> PartitionService:
    backends = services.backends.postgres if services.backends else {}
    return PartitionService.from_settings(services.settings, backends)


def table_cells(t: TableInfo) -> tuple:
    c = t.coverage
    rng = Text(f"{c.first:%Y-%m} → {c.last:%Y-%m}") if c.first and c.last else Text("—", style="dim")
    if not t.supported:
        ahead = Text("n/a", style="dim")
    elif c.missing_ahead:
        ahead = Text(f"{c.horizon}/{t.policy.premake}", style="bold red")
    else:
        ahead = Text(f"{c.horizon}/{t.policy.premake}", style="green")
    gap_n = sum(len(g.months) for g in c.gaps)
    gaps = Text(str(gap_n), style="bold yellow") if gap_n else Text("0", style="dim")
    if t.default is None:
        dflt = Text("no default", style="dim")
    elif t.default_rows is None:
        dflt = Text("not counted", style="yellow")
    elif t.default_row_total:
        dflt = Text(f"{t.default_row_total:,}", style="bold magenta")
    else:
        dflt = Text("0", style="dim")
    past = Text(str(len(c.past_retention)), style="bold") if c.past_retention else \
        Text("0" if t.policy.retention is not None else "—", style="dim")
    name = Text(t.qualified, style="bold")
    if t.pending_detach:
        name.append(" ⚠", style="bold red")
    return (t.target, name, t.key_def, str(len(t.partitions)), rng, ahead, gaps, dflt, past,
            Text(human_bytes(t.total_size), justify="right"))


class Loaded(Message):
    def __init__(self, discovery: Discovery) -> None:
        self.discovery = discovery
        super().__init__()


class LoadFailed(Message):
    def __init__(self, error: str) -> None:
        self.error = error
        super().__init__()


class StepProgress(Message):
    def __init__(self, index: int, total: int, title: str, ok: bool | None, text: str) -> None:
        self.index, self.total, self.title, self.ok, self.text = index, total, title, ok, text
        super().__init__()


class RunFinished(Message):
    def __init__(self, ok: bool, summary: str) -> None:
        self.ok, self.summary = ok, summary
        super().__init__()


class Counted(Message):
    def __init__(self, name: str, rows: int | None, error: str | None = None) -> None:
        self.name, self.rows, self.error = name, rows, error
        super().__init__()


class PartitionDetailScreen(Screen):
    """One table: the strip, every partition, and an exact count on request."""

    DEFAULT_CSS = """
    #pdetail-body { padding: 0 1; }
    #pdetail-title { height: auto; margin: 1 0; }
    #pdetail-strip { height: auto; padding: 0 1; border: round $panel-lighten-2; margin-bottom: 1; }
    #pdetail-children { height: 1fr; }
    #pdetail-status { height: auto; }
    """

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="partitions.back", tooltip="Back to every table"),
        Binding("c", "count", "Exact count", id="partitions.count",
                tooltip="Count the highlighted partition's rows exactly (scans it; asks first)"),
        Binding("p", "plan", "Plan this table", id="partitions.plan_table",
                tooltip="Plan maintenance of this table only: preview every step, then run"),
    ]

    CHILD_COLUMNS = (("Partition", 28), ("From", 17), ("To", 17), ("Est. rows", 11), ("Exact", 11),
                     ("Size", 9), ("Idx", 4), ("Status", 16))

    def __init__(self, table: TableInfo, source, on_plan) -> None:
        super().__init__(id="partitions-detail")
        self.table_info = table
        self.source = source
        self.on_plan = on_plan
        self.exact: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="pdetail-body"):
            yield Static(id="pdetail-title")
            yield Static(id="pdetail-strip")
            yield DataTable(id="pdetail-children", cursor_type="row", zebra_stripes=True)
            yield Static(id="pdetail-status")
        yield Footer()

    def on_mount(self) -> None:
        t = self.table_info
        title = Text.assemble((f"{t.target} · {t.qualified}", "bold"), f"  {t.key_def}  ",
                              (f"naming {t.naming} ({t.naming_source})", "dim"))
        pol = t.policy
        title.append(f"\npolicy: premake {pol.premake}, retention "
                     f"{'none' if pol.retention is None else f'{pol.retention} months'}"
                     + (", keep table" if pol.retention_keep_table else "")
                     + (f", move to {pol.retention_schema}" if pol.retention_schema else ""), style="dim")
        if t.default is not None:
            dr = "not counted" if t.default_rows is None else (
                ", ".join(f"{m:%Y-%m}: {n:,}" for m, n in sorted(t.default_rows.items()) if n) or "empty")
            title.append(f"\ndefault {t.default.name}: {dr}",
                         style="magenta" if t.default_row_total else "dim")
        self.query_one("#pdetail-title", Static).update(title)
        self.query_one("#pdetail-strip", Static).update(strip(t))
        dt = self.query_one("#pdetail-children", DataTable)
        for col, w in self.CHILD_COLUMNS:
            dt.add_column(col, key=col, width=w)
        for p in (*t.pending_detach, *reversed(t.partitions)):
            dt.add_row(*self._cells(p), key=p.name)
        if t.default is not None:
            dt.add_row(*self._cells(t.default), key=t.default.name)

    def _cells(self, p) -> tuple:
        t = self.table_info
        status = Text("ok", style="green")
        if p.is_default:
            status = Text("default", style="magenta")
        elif p.detach_pending:
            status = Text("pending detach", style="bold red")
        elif p.name in t.coverage.past_retention:
            status = Text("past retention", style="grey62")
        elif not p.understood:
            status = Text("bound not parsed", style="yellow")
        est = Text("—", style="dim") if p.est_rows is None else Text(f"{p.est_rows:,}", justify="right")
        lo = f"{p.lower:%Y-%m-%d %H:%M}" if p.lower else ("DEFAULT" if p.is_default else "MINVALUE")
        hi = f"{p.upper:%Y-%m-%d %H:%M}" if p.upper else ("" if p.is_default else "MAXVALUE")
        return (p.name, lo, hi, est, Text(self.exact.get(p.name, ""), justify="right"),
                Text(human_bytes(p.size_bytes), justify="right"), str(len(p.indexes)), status)

    def _highlighted(self):
        dt = self.query_one("#pdetail-children", DataTable)
        if dt.row_count == 0:
            return None
        key = dt.coordinate_to_cell_key(dt.cursor_coordinate).row_key.value
        t = self.table_info
        return next((p for p in (*t.partitions, *t.pending_detach, *([t.default] if t.default else []))
                     if p.name == key), None)

    def action_count(self) -> None:
        p = self._highlighted()
        if p is None:
            return
        est = "unknown" if p.est_rows is None else f"~{p.est_rows:,}"
        text = (f"SELECT count(*) FROM {p.qualified};\n\n-- scans the whole partition: {est} rows, "
                f"{human_bytes(p.size_bytes)}; read-only, runs under a 60 s statement_timeout")

        def go(ok: bool | None) -> None:
            if ok:
                self.exact[p.name] = "counting…"
                self._refresh_row(p)
                self._count(p)
        self.app.push_screen(ConfirmModal(f"Exact row count of {p.name}", text, confirm_label="Count",
                                          preview_sql=True), go)

    @work(thread=True, exit_on_error=False, group="partitions-count")
    def _count(self, p) -> None:
        try:
            n = self.source.count_rows(self.table_info.target, p.schema, p.name)
            self.post_message(Counted(p.name, n))
        except Exception as exc:  # noqa: BLE001 - shown in the row
            self.post_message(Counted(p.name, None, str(exc)))

    @on(Counted)
    def _on_counted(self, m: Counted) -> None:
        self.exact[m.name] = f"{m.rows:,}" if m.rows is not None else "failed"
        p = next((x for x in (*self.table_info.partitions, *self.table_info.pending_detach,
                              self.table_info.default) if x is not None and x.name == m.name), None)
        if p is not None:
            self._refresh_row(p)
        self.query_one("#pdetail-status", Static).update(
            Text(f"{m.name}: {m.rows:,} rows (exact)") if m.rows is not None else Text(f"{m.name}: {m.error}",
                                                                                       style="red"))

    def _refresh_row(self, p) -> None:
        dt = self.query_one("#pdetail-children", DataTable)
        dt.update_cell(p.name, "Exact", self._cells(p)[4])

    def action_plan(self) -> None:
        self.app.pop_screen()
        self.on_plan([self.table_info])


class PartitionsScreen(Screen):
    DEFAULT_CSS = """
    #partitions-body { padding: 0 1; }
    #part-summary { height: auto; margin: 1 0; }
    #part-tables { height: auto; max-height: 1fr; }
    #part-tables.stale { opacity: 60%; }
    #part-strip { height: auto; margin-top: 1; padding: 0 1; border: round $panel-lighten-2; }
    #part-progress { margin-top: 1; }
    #part-log { height: 8; border: round $panel-lighten-2; }
    """

    BINDINGS = [
        Binding("r", "refresh_now", "Refresh", id="partitions.refresh", tooltip="Read the catalogs again now"),
        Binding("enter", "drill", "Partitions", id="partitions.drill",
                tooltip="Show the highlighted table's partitions and month strip"),
        Binding("p", "plan", "Plan maintenance", id="partitions.plan",
                tooltip="Plan maintenance of every table: preview each step's SQL and lock, confirm, run"),
    ]

    def __init__(self) -> None:
        super().__init__(id="partitions")
        self._pt_tables: list[TableInfo] = []
        self._pt_errors: dict[str, str] = {}
        self._pt_stale: str | None = None
        self._pt_loading = False
        self._pt_loaded = False
        self._pt_running = False
        self._pt_timer: Timer | None = None

    @property
    def source(self):
        return self.app.services.source("partitions", _source)

    @property
    def settings(self):
        return self.app.services.settings

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="partitions-body"):
            yield Static("loading partitioned tables…", id="part-summary")
            yield DataTable(id="part-tables", cursor_type="row", zebra_stripes=True)
            yield Static(id="part-strip")
            yield ProgressBar(id="part-progress", show_eta=False)
            yield RichLog(id="part-log", wrap=True, markup=False, max_lines=500)
        yield Footer()

    def on_mount(self) -> None:
        dt = self.query_one("#part-tables", DataTable)
        for col, w in COLUMNS:
            dt.add_column(col, key=col, width=w)
        self.query_one("#part-progress").display = False
        self.query_one("#part-log").display = False
        self._load()

    # ------------------------------------------------------------ loading

    def _load(self) -> None:
        if self._pt_loading:
            return
        if self._pt_timer is not None:
            self._pt_timer.stop()
            self._pt_timer = None
        self._pt_loading = True
        self._discover(self.source)        # built here, on the UI thread, not in the worker

    @work(thread=True, exit_on_error=False, group="partitions-load", exclusive=True)
    def _discover(self, source) -> None:
        try:
            self.post_message(Loaded(source.discover()))
        except Exception as exc:  # noqa: BLE001 - shown as stale/failed
            self.post_message(LoadFailed(f"{type(exc).__name__}: {exc}"))

    @on(Loaded)
    def _on_loaded(self, m: Loaded) -> None:
        self._pt_loading, self._pt_loaded, self._pt_stale = False, True, None
        errors = m.discovery.errors
        # A target that failed this time keeps its last tables, shown as stale, instead of
        # vanishing from the list.
        kept = [t for t in self._pt_tables if t.target in errors]
        self._pt_tables, self._pt_errors = m.discovery.tables + kept, errors
        if kept:
            self._pt_stale = "; ".join(f"{n}: last known tables kept" for n in sorted({t.target for t in kept}))
        self._render_tables()
        self._schedule()

    @on(LoadFailed)
    def _on_failed(self, m: LoadFailed) -> None:
        self._pt_loading, self._pt_stale = False, m.error
        self._render_tables()
        self._schedule()

    def _schedule(self) -> None:
        if self.is_current and not self._pt_running:
            self._pt_timer = self.set_timer(max(REFRESH_S, self.settings.refresh_interval_s), self._load)

    def on_screen_suspend(self) -> None:
        if self._pt_timer is not None:
            self._pt_timer.stop()
            self._pt_timer = None

    def on_screen_resume(self) -> None:
        if self._pt_loaded and self._pt_timer is None and not self._pt_loading:
            self._load()

    def action_refresh_now(self) -> None:
        self._load()

    # ------------------------------------------------------------ rendering

    def _render_tables(self) -> None:
        dt = self.query_one("#part-tables", DataTable)
        cursor = dt.cursor_row
        dt.clear()
        for t in self._pt_tables:
            dt.add_row(*table_cells(t), key=t.key)
        if self._pt_tables:
            dt.move_cursor(row=min(cursor, len(self._pt_tables) - 1))
        dt.set_class(self._pt_stale is not None, "stale")
        self._summary()
        self._render_strip()

    def _summary(self) -> None:
        s = Text()
        if self._pt_stale and not self._pt_loaded:
            s.append(f"failed to read partitions: {self._pt_stale}", style="bold red")
            self.query_one("#part-summary", Static).update(s)
            return
        need = [t for t in self._pt_tables if t.attention()]
        s.append(f" {len(self._pt_tables)} partitioned tables ", style="bold")
        s.append(" ")
        s.append(f" {len(need)} need attention ", style="bold white on red" if need else "bold black on green")
        missing = sum(len(t.coverage.missing_ahead) for t in self._pt_tables)
        dflt = sum(t.default_row_total or 0 for t in self._pt_tables)
        past = sum(len(t.coverage.past_retention) for t in self._pt_tables)
        s.append(f"   {missing} month(s) missing ahead · {dflt:,} default row(s) · {past} past retention",
                 style="dim")
        if self.settings.read_only:
            s.append("   read-only: maintenance disabled", style="yellow")
        for name, err in self._pt_errors.items():
            s.append(f"\n{name}: {err}", style="red")
        if self._pt_stale:
            s.append(f"\nstale — last refresh failed: {self._pt_stale}", style="yellow")
        self.query_one("#part-summary", Static).update(s)

    def _current(self) -> TableInfo | None:
        dt = self.query_one("#part-tables", DataTable)
        if dt.row_count == 0:
            return None
        key = dt.coordinate_to_cell_key(dt.cursor_coordinate).row_key.value
        return next((t for t in self._pt_tables if t.key == key), None)

    @on(DataTable.RowHighlighted, "#part-tables")
    def _on_highlight(self, _event) -> None:
        self._render_strip()

    def _render_strip(self) -> None:
        t = self._current()
        box = self.query_one("#part-strip", Static)
        if t is None:
            box.update(Text("no partitioned table found" if self._pt_loaded else "", style="dim"))
            return
        head = Text.assemble((f"{t.target} · {t.qualified}", "bold"), "  ",
                             (", ".join(t.attention()) or "all good", "red" if t.attention() else "green"), "\n")
        box.update(head + strip(t))

    @on(DataTable.RowSelected, "#part-tables")
    def _on_selected(self, _event) -> None:
        self.action_drill()

    def action_drill(self) -> None:
        t = self._current()
        if t is not None:
            self.app.push_screen(PartitionDetailScreen(t, self.source, self._plan_for))

    # ------------------------------------------------------------ maintenance

    def action_plan(self) -> None:
        self._plan_for(self._pt_tables)

    def _plan_for(self, tables: list[TableInfo]) -> None:
        if self._pt_running:
            self.notify("maintenance is already running", severity="warning")
            return
        if not tables:
            self.notify("nothing loaded yet", severity="warning")
            return
        plan = self.source.plan(tables)
        if not plan:
            self.notify(plan.summary.splitlines()[0], title="Partitions")
            return
        refused = refused_message() if self.settings.read_only else None
        destructive = any(s.destructive for s in plan.steps)

        def go(ok: bool | None) -> None:
            if ok and not self.settings.read_only:
                self._start_run(plan)
        self.app.push_screen(ConfirmModal(
            f"Partition maintenance: {len(plan.steps)} step(s)", plan.text(), confirm_label="Run",
            preview_sql=True, type_to_confirm="drop" if destructive else None, refused=refused), go)

    def _start_run(self, plan) -> None:
        self._pt_running = True
        if self._pt_timer is not None:
            self._pt_timer.stop()
            self._pt_timer = None
        bar = self.query_one("#part-progress", ProgressBar)
        bar.display = True
        bar.update(total=len(plan.steps), progress=0)
        log = self.query_one("#part-log", RichLog)
        log.display = True
        log.clear()
        self._run(plan)

    @work(thread=True, exit_on_error=False, group="partitions-run")
    def _run(self, plan) -> None:
        def progress(i, total, step, res) -> None:
            if res is None:
                self.post_message(StepProgress(i, total, step.title, None, "running"))
            else:
                tries = f" ({res.attempts} attempts)" if res.attempts > 1 else ""
                self.post_message(StepProgress(i, total, step.title, res.ok if not res.skipped else None,
                                               res.message + tries))
        try:
            report = self.source.run(plan, actor=audit.actor_name(self.settings), progress=progress)
            done = sum(1 for r in report.results if r.ok)
            self.post_message(RunFinished(report.ok, f"{done}/{len(report.results)} step(s) done"
                                          + ("" if report.ok else f"; {len(report.failed_groups)} table(s) stopped")))
        except Exception as exc:  # noqa: BLE001 - reported in the log
            self.post_message(RunFinished(False, f"{type(exc).__name__}: {exc}"))

    @on(StepProgress)
    def _on_progress(self, m: StepProgress) -> None:
        if m.text == "running":
            return
        self.query_one("#part-progress", ProgressBar).update(progress=m.index + 1)
        mark, style = ("✔", "green") if m.ok else (("–", "dim") if m.ok is None else ("✖", "red"))
        self.query_one("#part-log", RichLog).write(
            Text.assemble((f"{mark} ", style), f"[{m.index + 1}/{m.total}] {m.title}: ", (m.text, style)))

    @on(RunFinished)
    def _on_finished(self, m: RunFinished) -> None:
        self._pt_running = False
        self.query_one("#part-log", RichLog).write(
            Text(f"{'done' if m.ok else 'finished with failures'}: {m.summary}", style="bold green" if m.ok
                 else "bold red"))
        self.notify(m.summary, title="Partition maintenance", severity="information" if m.ok else "error")
        self._load()


SCREEN = PartitionsScreen

__all__ = ["SCREEN", "PartitionsScreen", "PartitionDetailScreen"]
