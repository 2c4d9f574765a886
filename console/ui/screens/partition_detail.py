"""One partitioned table: its interval and who maintains it, the coverage strip per
interval, every partition with its bounds as values (time slots, integer ranges, LIST
values), and an exact count on request.

Columns as the width shrinks: Partition, Est. rows and Status stay; Idx, Size, Exact (the
status line below says the count too), then Bounds go first."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from ...core import format as fmt
from ...core import text
from ...core.partitions import TableInfo
from ...core.ports import PartitionsSource
from .. import keymap
from ..widgets.confirm import ConfirmModal
from ..widgets.footer import ConsoleFooter
from ..widgets.lists import Col, ListTable
from ..widgets.partition_strip import status_line, strip

CHILD_COLUMNS = (Col("Partition", 18, flex=True), Col("Bounds", 20, drop=1),
                 Col("Est. rows", 10), Col("Exact", 9, drop=2), Col("Size", 9, drop=3), Col("Idx", 4, drop=4),
                 Col("Status", 14))


def _slot_order(item: tuple[Any, int]) -> tuple[bool, Any]:
    """Default-row counts by slot, the NULL key (None) last."""
    return (item[0] is None, 0 if item[0] is None else item[0])


class Counted(Message):
    def __init__(self, name: str, rows: int | None, error: str | None = None) -> None:
        self.name, self.rows, self.error = name, rows, error
        super().__init__()


class PartitionDetailScreen(Screen):
    DEFAULT_CSS = """
    #pdetail-body { padding: 0 1; }
    #pdetail-title { height: auto; max-height: 5; }
    #pdetail-strip { height: auto; padding: 0 1; border: round $panel-lighten-2; }
    #pdetail-children { height: 1fr; }
    #pdetail-status { height: auto; max-height: 2; }
    """

    BINDINGS = keymap.bindings("back", "partitions.count", "partitions.maintain",
                               describe={"partitions.maintain": "Maintain table"},
                               tooltip={"partitions.maintain": "Plan maintenance of this table only: preview "
                                                               "every step, confirm, run (audited)"})

    def __init__(self, table: TableInfo, source: PartitionsSource,
                 on_plan: Callable[[list[TableInfo]], None]) -> None:
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
            yield ListTable(CHILD_COLUMNS, id="pdetail-children")
            yield Static(id="pdetail-status")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        t = self.table_info
        title = Text.assemble(text.plain(f"{t.target} · {t.qualified}", "bold"), "  ", text.plain(t.key_def),
                              "  ", text.plain(f"naming {t.naming} ({t.naming_source})", "dim"))
        pol = t.policy
        title.append("\n")
        title.append_text(status_line(t))
        if t.interval_source:
            title.append_text(text.plain(f" ({t.interval_source})", "dim"))
        title.append("\n")
        title.append_text(text.plain(f"policy: {t.policy_text()}", "dim"))
        if pol.retention_schema:
            title.append_text(text.plain(f", move to {pol.retention_schema}", "dim"))
        if t.default is not None:
            dr = "not counted" if t.default_rows is None else (
                ", ".join(f"{t.slot_label(m)}: {n:,}" for m, n in sorted(t.default_rows.items(), key=_slot_order)
                          if n) or "empty")
            title.append("\ndefault ")
            title.append_text(text.plain(f"{t.default.name}: {dr}", "magenta" if t.default_row_total else "dim"))
        self.query_one("#pdetail-title", Static).update(title)
        self.query_one("#pdetail-strip", Static).update(strip(t))
        parts = [*t.pending_detach, *reversed(t.partitions), *([t.default] if t.default is not None else [])]
        table = self.query_one("#pdetail-children", ListTable)
        table.set_rows([(p.name, self._cells(p)) for p in parts])
        table.focus()

    def _all(self) -> list[Any]:
        t = self.table_info
        return [*t.partitions, *t.pending_detach, *([t.default] if t.default else [])]

    def _cells(self, p: Any) -> list[Any]:
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
        est = Text("—", style="dim") if p.est_rows is None else Text(fmt.count(p.est_rows), justify="right")
        return [text.plain(p.name), text.plain(t.bounds_text(p), width=40), est, Text(self.exact.get(p.name, ""), justify="right"),
                Text(fmt.size(p.size_bytes), justify="right"), str(len(p.indexes)), status]

    def _highlighted(self) -> Any:
        key = self.query_one("#pdetail-children", ListTable).cursor_key
        return next((p for p in self._all() if p.name == key), None)

    def action_count(self) -> None:
        p = self._highlighted()
        if p is None:
            return
        est = "unknown" if p.est_rows is None else f"~{fmt.count(p.est_rows)}"
        preview = (f"SELECT count(*) FROM {p.qualified};\n\n-- scans the whole partition: {est} rows, "
                   f"{fmt.size(p.size_bytes)}; read-only, runs under a 60 s statement_timeout")

        def go(ok: bool | None) -> None:
            if ok:
                self.exact[p.name] = "counting…"
                self._refresh_row(p)
                self._count(p)
        self.app.push_screen(ConfirmModal(f"Exact row count of {p.name}", preview, confirm_label="Count",
                                          preview_sql=True), go)

    @work(thread=True, exit_on_error=False, group="partitions-count")
    def _count(self, p: Any) -> None:
        try:
            n = self.source.count_rows(self.table_info.target, p.schema, p.name)
            self.post_message(Counted(p.name, n))
        except Exception as exc:  # shown in the row
            self.post_message(Counted(p.name, None, text.error_text(exc)))

    @on(Counted)
    def _on_counted(self, m: Counted) -> None:
        self.exact[m.name] = fmt.count(m.rows) if m.rows is not None else "failed"
        p = next((x for x in self._all() if x.name == m.name), None)
        if p is not None:
            self._refresh_row(p)
        status = self.query_one("#pdetail-status", Static)
        if m.rows is not None:
            status.update(text.plain(f"{m.name}: {fmt.count(m.rows)} rows (exact)"))
        else:
            status.update(text.plain(f"{m.name}: {m.error}", "red"))

    def _refresh_row(self, p: Any) -> None:
        self.query_one("#pdetail-children", ListTable).set_cell(p.name, "Exact", self._cells(p)[3])

    def action_plan(self) -> None:
        self.app.pop_screen()
        self.on_plan([self.table_info])
