"""Partitions: every partitioned table of every target with its coverage (months created
ahead, gaps, rows in the default partition, partitions past retention), a drill-in with the
partitions and a month-by-month strip, and maintenance planned, previewed and run here.

Discovery is one live source (console.ui.live). A target that fails keeps its last tables,
dimmed, with the error; the indicator says how old they are.

Columns as the width shrinks: Table, Ahead, Gaps, Default rows, Past ret., Size and Target
stay (they are what the screen is for); Range, then Key, then Parts go first."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Header, ProgressBar, RichLog, Static
from textual.widgets.data_table import ColumnKey

from ...core import audit, text
from ...core import format as fmt
from ...core.partitions import Discovery, TableInfo
from ...core.partitions.runner import refused_message
from ...core.ports import PartitionsSource
from .. import keymap
from ..live import LiveIndicator, LiveScreen, Source, State
from ..widgets.confirm import ConfirmModal
from ..widgets.footer import ConsoleFooter
from ..widgets.progress import QuietProgressBar
from ..widgets.lists import Col, ListFilter, ListTable
from ..widgets.partition_preview import plan_preview
from ..widgets.partition_strip import attention_without_status, status_line, strip
from .partition_detail import PartitionDetailScreen

REFRESH_S = 60.0

COLUMNS = (Col("Target", 9, drop=1), Col("Table", 13, flex=True), Col("Interval", 8, drop=3),
           Col("Key", 19, drop=5), Col("Parts", 5, drop=4), Col("Range", 23, drop=6), Col("Ahead", 5), Col("Gaps", 4),
           Col("Default rows", 12), Col("Past ret.", 9), Col("Size", 9, drop=2))


def table_cells(t: TableInfo, name_w: int | None = None) -> list[Any]:
    c = t.coverage
    rng = text.plain(t.range_text, width=23) if c.first is not None and c.last is not None else Text("—", style="dim")
    if t.managed_by and not t.supported:
        ahead = Text("n/a", style="cyan")
    elif not t.supported:
        ahead = Text("n/a", style="yellow")
    elif c.missing_ahead:
        ahead = Text(f"{c.horizon}/{t.policy.premake}", style="bold red")
    else:
        ahead = Text(f"{c.horizon}/{t.policy.premake}", style="green")
    gap_n = sum(len(g.slots) or 1 for g in c.gaps)
    gaps = Text(str(gap_n), style="bold yellow") if gap_n else Text("0", style="dim")
    if t.default is None:
        dflt = Text("no default", style="dim")
    elif t.default_rows is None:
        dflt = Text("not counted", style="yellow")
    elif t.default_row_total:
        dflt = Text(fmt.count(t.default_row_total), style="bold magenta")
    else:
        dflt = Text("0", style="dim")
    past = Text(str(len(c.past_retention)), style="bold") if c.past_retention else \
        Text("0" if t.policy.retention is not None else "—", style="dim")
    name = text.plain(t.qualified, "bold", width=None if name_w is None else name_w - (2 if t.pending_detach else 0))
    if t.pending_detach:
        name.append(" ⚠", style="bold red")
    iv = Text(t.interval.unit if t.interval and t.interval.unit != "int" else ("integer" if t.interval else "—"),
              style="" if t.interval else "yellow")
    return [text.plain(t.target), name, iv, text.plain(t.key_def), str(len(t.partitions)), rng, ahead, gaps, dflt,
            past, Text(fmt.size(t.total_size), justify="right")]


class StepProgress(Message):
    def __init__(self, index: int, total: int, title: str, ok: bool | None, text: str) -> None:
        self.index, self.total, self.title, self.ok, self.text = index, total, title, ok, text
        super().__init__()


class RunFinished(Message):
    def __init__(self, ok: bool, summary: str, audit_errors: dict[str, str] | None = None) -> None:
        self.ok, self.summary, self.audit_errors = ok, summary, dict(audit_errors or {})
        super().__init__()


class PartitionsScreen(ListFilter, LiveScreen):
    LIST_ID = "part-tables"
    DEFAULT_CSS = """
    #partitions-body { padding: 0 1; }
    #part-age { height: 1; }
    #part-summary { height: auto; max-height: 4; }
    #part-tables { height: auto; max-height: 1fr; }
    #part-strip { height: auto; padding: 0 1; border: round $panel-lighten-2; }
    #part-log { height: 8; border: round $panel-lighten-2; }
    """

    FILTER_LIST = "#part-tables"
    BINDINGS = keymap.bindings("refresh", "filter", "open", "pause", "partitions.maintain",
                               describe={"open": "Partitions"},
                               tooltip={"open": "Show the highlighted table's partitions and month strip"})

    def __init__(self) -> None:
        super().__init__(id="partitions")
        self.tables: list[TableInfo] = []
        self.errors: dict[str, str] = {}
        self.kept: list[str] = []          # targets whose tables are from an earlier discovery
        self.running = False

    @property
    def source(self) -> PartitionsSource:
        return self.services.source("partitions")

    @property
    def settings(self) -> Any:
        return self.services.settings

    @property
    def discovery(self) -> State[Discovery]:
        return self.state("discover")

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="partitions-body"):
            yield LiveIndicator("discover", id="part-age")
            yield Static("loading partitioned tables…", id="part-summary")
            yield ListTable(COLUMNS, id="part-tables")
            yield Static(id="part-strip")
            yield QuietProgressBar(id="part-progress")
            yield RichLog(id="part-log", wrap=True, markup=False, max_lines=500)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#part-progress").display = False
        self.query_one("#part-log").display = False
        self.query_one("#part-tables", ListTable).focus()
        src = self.source
        self.add_source(Source("discover", fetch=src.discover, render=self._on_discovered, panel="#part-tables",
                               every=lambda: None if self.running else max(REFRESH_S,
                                                                           self.settings.refresh_interval_s)))

    # ------------------------------------------------------------ loading

    def _on_discovered(self, st: State[Discovery]) -> None:
        if st.error is None and st.value is not None:
            errors = st.value.errors
            # A target that failed this time keeps its last tables, shown as stale.
            kept = [t for t in self.tables if t.target in errors]
            self.tables = st.value.tables + kept
            self.errors = dict(errors)
            self.kept = sorted({t.target for t in kept})
            self.query_one("#part-tables").set_class(bool(kept), "stale")
        self._render_tables()

    # ------------------------------------------------------------ rendering

    @on(ListTable.ColumnsResized, "#part-tables")
    def _on_columns_resized(self, _m: ListTable.ColumnsResized) -> None:
        if self.tables:
            self._render_tables()         # the names are cut to the Table column's width

    def _render_tables(self) -> None:
        lt = self.query_one("#part-tables", ListTable)
        col = lt.columns.get(ColumnKey("Table"))
        name_w = col.width if col is not None and col.width > 2 else None     # cut with an ellipsis
        lt.set_rows([(t.key, table_cells(t, name_w)) for t in self.tables])
        self._summary()
        self._render_strip()

    def _summary(self) -> None:
        s = Text()
        st = self.discovery
        if not st.loaded and st.error:
            s.append("failed to read partitions", style="bold red")
            self.query_one("#part-summary", Static).update(s)
            return
        need = [t for t in self.tables if t.attention()]
        s.append(f" {len(self.tables)} tables ", style="bold")
        s.append(" ")
        s.append(f" {len(need)} need attention ", style="bold white on red" if need else "bold black on green")
        missing = sum(len(t.coverage.missing_ahead) for t in self.tables)
        dflt = sum(t.default_row_total or 0 for t in self.tables)
        past = sum(len(t.coverage.past_retention) for t in self.tables)
        s.append(f"  {missing} missing ahead · {fmt.count(dflt)} default rows · {past} past retention", style="dim")
        if self.settings.read_only:
            s.append("\nread-only: maintenance disabled", style="yellow")
        for name, err in self.errors.items():
            s.append("\n")
            s.append_text(text.plain(f"{name}: {err}", "red"))
        if self.kept:
            s.append(f"\nlast known tables kept for {', '.join(self.kept)}", style="yellow")
        self.query_one("#part-summary", Static).update(s)

    def _current(self) -> TableInfo | None:
        key = self.query_one("#part-tables", ListTable).cursor_key
        return next((t for t in self.tables if t.key == key), None)

    @on(DataTable.RowHighlighted, "#part-tables")
    def _on_highlight(self, _event: DataTable.RowHighlighted) -> None:
        self._render_strip()

    def _render_strip(self) -> None:
        t = self._current()
        box = self.query_one("#part-strip", Static)
        if t is None:
            box.update(Text("no partitioned table found" if self.discovery.loaded else "", style="dim"))
            return
        head = Text.assemble(text.plain(f"{t.target} · {t.qualified}", "bold"), "  ", status_line(t), "  ",
                             text.plain(", ".join(attention_without_status(t)) or ("all good" if t.supported else ""),
                                        "red" if attention_without_status(t) else "green"),
                             "\n")
        box.update(head + strip(t, width=max(40, box.size.width - 4)))

    @on(DataTable.RowSelected, "#part-tables")
    def _on_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        t = self._current()
        if t is not None:
            self.app.push_screen(PartitionDetailScreen(t, self.source, self._plan_for))

    # ------------------------------------------------------------ maintenance

    def action_plan(self) -> None:
        self._plan_for(self.tables)

    def _plan_for(self, tables: list[TableInfo]) -> None:
        if self.running:
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
            f"Partition maintenance: {len(plan.steps)} step(s)", plan_preview(plan), confirm_label="Run",
            preview_sql=True, type_to_confirm="drop" if destructive else None, refused=refused), go)

    def _start_run(self, plan: Any) -> None:
        self.running = True
        self._disarm("discover")
        bar = self.query_one("#part-progress", ProgressBar)
        bar.display = True
        bar.update(total=len(plan.steps), progress=0)
        log = self.query_one("#part-log", RichLog)
        log.display = True
        log.clear()
        self._run(plan)

    @work(thread=True, exit_on_error=False, group="partitions-run")
    def _run(self, plan: Any) -> None:
        def progress(i: int, total: int, step: Any, res: Any) -> None:
            if res is None:
                self.post_message(StepProgress(i, total, step.title, None, "running"))
            else:
                tries = f" ({res.attempts} attempts)" if res.attempts > 1 else ""
                self.post_message(StepProgress(i, total, step.title, res.ok if not res.skipped else None,
                                               res.message + tries))
        try:
            report = self.source.run(plan, actor=audit.actor_name(self.settings), progress=progress)
            done = sum(1 for r in report.results if r.ok)
            self.post_message(RunFinished(report.ok and not report.audit_errors,
                                          f"{done}/{len(report.results)} step(s) done"
                                          + ("" if report.ok else f"; {len(report.failed_groups)} table(s) stopped"),
                                          report.audit_errors))
        except Exception as exc:  # reported in the log
            self.post_message(RunFinished(False, text.error_text(exc)))

    @on(StepProgress)
    def _on_progress(self, m: StepProgress) -> None:
        if m.text == "running":
            return
        self.query_one("#part-progress", ProgressBar).update(progress=m.index + 1)
        mark, style = ("✔", "green") if m.ok else (("–", "dim") if m.ok is None else ("✖", "red"))
        self.query_one("#part-log", RichLog).write(
            Text.assemble((f"{mark} ", style), f"[{m.index + 1}/{m.total}] ", text.plain(m.title), ": ",
                          text.plain(m.text, style)))

    @on(RunFinished)
    def _on_finished(self, m: RunFinished) -> None:
        self.running = False
        log = self.query_one("#part-log", RichLog)
        log.write(Text.assemble((f"{'done' if m.ok else 'finished with failures'}: ", "bold green" if m.ok else "bold red"),
                                text.plain(m.summary)))
        summary = m.summary
        for target, why in m.audit_errors.items():
            # The changes are done; their audit record is not settled. Say so, never swallow it.
            line = f"done, but the audit record of {target} could not be settled: {why}"
            log.write(text.plain(line, "bold red"))
            summary += "\n" + line
        self.notify(summary, title="Partition maintenance", severity="information" if m.ok else "error")
        self.run_source("discover")


SCREEN = PartitionsScreen

__all__ = ["SCREEN", "PartitionsScreen", "PartitionDetailScreen"]
