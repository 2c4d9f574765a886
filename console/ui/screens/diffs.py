"""Zengin diffs (seed 003): a queue an approver can work through.

- One sub-tab per status (``]``/``[``), each showing its count from ``COUNT`` queries (no
  cap); the list reads the tab lazily, a page at a time, as the cursor reaches its end.
- ``/`` filters by code, name, type and validity (:func:`..widgets.diffs_queue.parse_filter`;
  a filter reads the whole tab so "all matching" means all), ``s`` sorts, ``space`` selects,
  ``v`` selects from the last selected row to here, ``a`` selects every row shown.
- ONE batch action over the selection (or the highlighted diff): ``A`` approve, ``X``
  execute, ``R`` reject; ``C`` reconciles diffs left in executing
  (:mod:`.diffs_actions`): a plan with totals per type and table and the diffs that will
  not go, a confirmation saying who acts, a progress bar, one summary notification.
- The detail shows the diff, and the LIVE PostgreSQL row next to the recorded
  ``currentData`` with a STALE badge where they differ; a bulk diff's records, each with
  its name, filtered with ``/`` while the records list has the focus.

Every DynamoDB / S3 / PostgreSQL / STS call runs in a worker. The cursor stays on the same
diff across refreshes (rows are keyed by id and timestamp)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Input, Static, Tab, Tabs

from ...core import format as fmt
from ...core import identity, text
from ...core.ports import DiffsPort
from ...core.zengin.live import Mark
from ...core.zengin.queue import sort as sort_recs
from ...core.zengin.records import DiffRecord
from ...core.zengin.service import Detail
from ...core.zengin.validate import record_problems
from ...core.zengin.workflow import TABS, Ref
from .. import keymap
from ..live import LiveIndicator, LiveScreen, Source, State
from ..widgets.diffs_detail import STATUS_STYLE, detail_renderable, record_cells
from ..widgets.diffs_queue import FILTER_HELP, SORTS, codes, entry_name, names, \
    parse_filter, record_matches, stale_badge
from ..widgets.footer import ConsoleFooter
from ..widgets.progress import QuietProgressBar
from ..widgets.lists import Col, ListTable
from .diffs_actions import DiffsActions
from ..typeahead import FilterInput

PAGE = 500               # diffs read per page of a tab
RECORDS_PAGE = 200
LIST_COLUMNS = (Col("", 1), Col("Id", 20), Col("Time (UTC)", 14, drop=3), Col("Type", 11, drop=2),
                Col("Codes", 11), Col("Names", 10, flex=True), Col("✓", 1), Col("TTL", 7, drop=4),
                Col("By", 20, drop=5))
RECORD_COLUMNS = (Col("#", 5), Col("Op", 8), Col("Table", 8, drop=1), Col("Key", 8), Col("Name", 16),
                  Col("Changes", 20, flex=True, drop=2))


def row_key(rec: DiffRecord) -> str:
    return f"{rec.id}@{rec.timestamp}"


@dataclass
class TabPage:
    """What the queue source read: counts of every tab, the shown tab's diffs (as far as
    asked) and whether more exist."""

    tab: str
    counts: dict[str, int]
    recs: list[DiffRecord]
    more: bool


@dataclass
class DetailView:
    detail: Detail
    mark: Mark | None
    orphan: str | None


def _fitted(value: str) -> Text:
    """A cell the table cuts to its column's width as drawn, with an ellipsis (a text cut to
    the width the column had when the rows were built was cut short, or without its
    ellipsis, when the column's width changed afterwards); whole in the detail pane."""
    cell = text.plain(value, width=400)
    cell.overflow = "ellipsis"
    return cell


class DiffsScreen(DiffsActions, LiveScreen):
    LIST_ID = "diffs-list"
    BINDINGS = keymap.bindings("diffs.approve", "diffs.reject", "diffs.execute", "select", "filter",
                               "diffs.select_all", "diffs.select_to", "clear_filter", "diffs.sort", "tab_next", "tab_prev",
                               "page_next", "page_prev", "refresh", "pause", "diffs.reconcile",
                               tooltip={"tab_next": "Next status tab", "tab_prev": "Previous status tab",
                                        "page_next": "Next page of a bulk diff's records",
                                        "page_prev": "Previous page of a bulk diff's records",
                                        "refresh": "Read the queue again now"},
                               describe={"page_next": "Records ▶", "diffs.select_all": "All",
                                         "diffs.select_to": "Range"})

    DEFAULT_CSS = """
    #diffs-status { height: 1; padding: 0 1; }
    #diffs-tabs { height: 2; }
    #diffs-filter { display: none; height: 3; }
    #diffs-filter.open { display: block; }
    #diffs-list { height: 2fr; min-height: 4; }
    #diffs-lower { height: 3fr; border-top: solid $panel-lighten-2; }
    #diffs-detail-scroll { width: 1fr; height: 100%; padding: 0 1; }
    #diffs-records-box { width: 2fr; height: 100%; display: none; border-left: solid $panel-lighten-2; }
    #diffs-records-box.bulk { display: block; }
    #diffs-records-page { height: 1; padding: 0 1; }
    #diffs-records { height: 1fr; }
    #diffs-progress { height: 1; display: none; padding: 0 1; }
    #diffs-progress.running { display: block; }
    """

    def __init__(self) -> None:
        super().__init__(id="diffs")
        self.svc: DiffsPort | None = None
        self.tab = "pending"
        self.limit: int | None = PAGE
        self.qfilter = parse_filter("")
        self.records_filter = ""
        self.filter_target = "queue"
        self.sort_by = "newest"
        self.rows: dict[str, DiffRecord] = {}        # row key -> record, of the shown tab
        self.shown: list[DiffRecord] = []
        self.selected: set[tuple[str, str]] = set()
        self.range_anchor: str | None = None
        self.detail_ref: Ref | None = None
        self.records_page = 0
        self.busy = False
        self.actor: identity.Principal | None = None
        self.actor_error: str | None = None

    @property
    def page(self) -> TabPage | None:
        p: TabPage | None = self.state("queue").value
        return p if p is not None and p.tab == self.tab else None

    @property
    def view(self) -> DetailView | None:
        d: DetailView | None = self.state("detail").value
        if d is None or self.detail_ref is None or Ref.of(d.detail.record) != self.detail_ref:
            return None
        return d

    def compose(self) -> ComposeResult:
        yield Header()
        yield LiveIndicator("queue", id="diffs-status", extra=self._status_text)
        yield Tabs(*[Tab(t, id=f"tab-{t}") for t in TABS], id="diffs-tabs")
        yield FilterInput(placeholder=FILTER_HELP, id="diffs-filter")
        yield ListTable(LIST_COLUMNS, id="diffs-list")
        with Horizontal(id="diffs-lower"):
            with VerticalScroll(id="diffs-detail-scroll"):
                yield Static("", id="diffs-detail")
            with Vertical(id="diffs-records-box"):
                yield Static("", id="diffs-records-page")
                yield ListTable(RECORD_COLUMNS, id="diffs-records")
        yield QuietProgressBar(id="diffs-progress")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.svc = self.services.source("diffs")
        self.query_one("#diffs-tabs", Tabs).can_focus = False     # ] / [ switch tabs; keys go to the list
        self.query_one("#diffs-list", ListTable).focus()
        if self.svc is None:
            self.query_one("#diffs-detail", Static).update(Text(
                "Zengin is not configured: add a [zengin] table (and its PostgreSQL target) to console.toml.",
                style="yellow"))
            return
        interval = max(5.0, self.services.settings.refresh_interval_s * 2)
        self.add_source(Source("queue", fetch=self._fetch_page, args=lambda: (self.tab, self.limit),
                               every=interval, render=self._on_queue, panel="#diffs-list"))
        self.add_source(Source("detail", fetch=self._fetch_detail, args=lambda: (self.detail_ref,),
                               every=None, render=self._on_detail), start=False)
        self._resolve_actor()

    # ------------------------------------------------------------------ workers' reads

    def _fetch_page(self, tab: str, limit: int | None) -> TabPage:
        assert self.svc is not None
        counts = self.svc.counts()
        recs, more = self.svc.tab(tab, limit)
        return TabPage(tab, counts, recs, more)

    def _fetch_detail(self, ref: Ref | None) -> DetailView | None:
        if ref is None or self.svc is None:
            return None
        d = self.svc.detail(ref)
        mark = orphan = None
        try:
            mark = self.svc.live_marks([d.record]).get((d.record.id, d.record.timestamp))
            if d.record.status == "pending":
                orphan = self.svc.orphans([d.record]).get((d.record.id, d.record.timestamp))
        except Exception as exc:  # the diff is still shown; the live side says why not
            mark = Mark(False, [f"live row not read: {text.error_text(exc)}"])
        return DetailView(d, mark, orphan)

    @work(thread=True, exit_on_error=False, group="diffs-identity", exclusive=True)
    def _resolve_actor(self) -> None:
        """The declared name (when allowed) or the AWS caller identity: an STS call, so
        never on the UI thread."""
        try:
            who, err = identity.for_cli(self.services.settings, "aws"), None
        except Exception as exc:  # shown when an action needs it
            who, err = None, text.error_text(exc)
        self.app.call_from_thread(self._set_actor, who, err)

    def _set_actor(self, who: identity.Principal | None, err: str | None) -> None:
        self.actor, self.actor_error = who, err
        self.query_one("#diffs-status", LiveIndicator).refresh_text()

    # ------------------------------------------------------------------ queue

    def _status_text(self) -> Text:
        t = Text()
        z = self.services.settings.zengin
        t.append_text(text.plain(z.table if z else "?", "bold"))
        p = self.page
        if p is not None:
            t.append(f" {fmt.count(len(self.shown))} shown of {fmt.count(p.counts.get(self.tab, 0))}"
                     + (" (more as you scroll)" if p.more else ""), style="dim")
        t.append(f" · sort {self.sort_by}", style="dim")
        if self.qfilter.active:
            t.append(" · filter ", style="cyan")
            t.append_text(text.plain(self.qfilter.text, "cyan", width=30))
        if self.selected:
            t.append(f"  {len(self.selected)} selected", style="bold cyan")
        if self.busy:
            t.append("  working (plan / action) …", style="bold yellow")
        if self.svc is not None and self.svc.read_only:
            t.append("  READ-ONLY: approve, reject, execute, reconcile disabled", style="bold red")
        if self.actor is not None:
            t.append("  as ", style="dim")
            t.append_text(text.plain(self.actor.label(), "dim", width=50))
        return t

    def _on_queue(self, _st: State[TabPage]) -> None:
        p: TabPage | None = self.state("queue").value
        if p is not None:
            for name in TABS:          # exact, from COUNT queries (the list reads pages lazily)
                self.query_one(f"#tab-{name}", Tab).label = f"{name} {fmt.count(p.counts.get(name, 0))}"
        self._render_list()

    def _render_list(self) -> None:
        t = self.query_one("#diffs-list", ListTable)
        p = self.page
        recs = [r for r in (p.recs if p is not None else []) if self.qfilter.filter.matches(r, record_problems(r))]
        recs = sort_recs(recs, self.sort_by)
        self.shown = recs
        now = self.svc.now() if self.svc is not None else None
        self.rows = {row_key(r): r for r in recs}
        rows = []
        for rec in recs:
            mark = Text("✓", style="green") if not record_problems(rec) else Text("✗", style="bold red")
            sel = "●" if (rec.id, rec.timestamp) in self.selected else ""
            ttl = fmt.ttl_until(rec.ttl, now) if now is not None else "—"
            rows.append((row_key(rec), [
                Text(sel, style="bold cyan"), text.plain(rec.id), rec.timestamp[5:19].replace("T", " "),
                text.plain(rec.diffType or "?", "bold" if rec.is_bulk else "", width=11),
                text.plain(codes(rec), width=11), _fitted(names(rec)), mark,
                Text(ttl, style="red" if now is not None and rec.is_expired(now) else ""),
                text.plain(rec.executedBy or rec.rejectedBy or rec.approvedBy or "", width=20)]))
        t.set_rows(rows)
        self.query_one("#diffs-status", LiveIndicator).refresh_text()
        if rows:
            self._show_detail_for(t.cursor_key)
        else:
            self.detail_ref = None
            empty = f"no {self.tab} diffs" + (" match the filter" if self.qfilter.active else "")
            self.query_one("#diffs-detail", Static).update(Text(empty, style="dim"))
            self.query_one("#diffs-records-box").set_class(False, "bulk")

    @on(Tabs.TabActivated, "#diffs-tabs")
    def _tab_changed(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-pending").removeprefix("tab-")
        if name != self.tab:
            self.tab = name
            self.limit = None if self.qfilter.active else PAGE
            self._render_list()
            self.run_source("queue")

    def action_tab(self, step: int) -> None:
        i = (TABS.index(self.tab) + step) % len(TABS)
        self.query_one("#diffs-tabs", Tabs).active = f"tab-{TABS[i]}"

    def action_sort(self) -> None:
        self.sort_by = SORTS[(SORTS.index(self.sort_by) + 1) % len(SORTS)]
        self._render_list()

    # ------------------------------------------------------------------ filter

    def action_filter(self) -> None:
        focused = self.focused
        self.filter_target = "records" if focused is not None and focused.id == "diffs-records" else "queue"
        inp = self.query_one("#diffs-filter", Input)
        inp.value = self.records_filter if self.filter_target == "records" else self.qfilter.text
        inp.placeholder = ("records: type:addition|update|deletion, a code prefix or a name — Enter applies"
                           if self.filter_target == "records" else FILTER_HELP)
        inp.add_class("open")
        self.set_focus(inp)         # now: keys typed right behind `/` go into the filter (ui.typeahead)

    def action_clear_filter(self) -> None:
        inp = self.query_one("#diffs-filter", Input)
        was_open = inp.has_class("open")
        inp.remove_class("open")
        if self.filter_target == "records" and self.records_filter:
            self.records_filter = ""
            self.records_page = 0
            self._render_detail()
        elif self.qfilter.active:
            self._apply_filter("")
        elif not was_open:
            return
        self.focus_list()

    @on(Input.Submitted, "#diffs-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.input.remove_class("open")
        if self.filter_target == "records":
            self.records_filter = event.value.strip()
            self.records_page = 0
            self._render_detail()
            self.query_one("#diffs-records", ListTable).focus()
            return
        self._apply_filter(event.value)
        self.focus_list()

    def _apply_filter(self, raw: str) -> None:
        self.qfilter = parse_filter(raw)
        # "all matching the filter" must mean all: a filter reads the whole tab.
        want = None if self.qfilter.active else PAGE
        changed = want != self.limit
        self.limit = want
        self._render_list()
        if changed:
            self.run_source("queue")

    # ------------------------------------------------------------------ detail

    @on(DataTable.RowHighlighted, "#diffs-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail_for(event.row_key.value if event.row_key is not None else None)
        p = self.page
        t = self.query_one("#diffs-list", ListTable)
        if p is not None and p.more and self.limit is not None and event.cursor_row >= t.row_count - 1:
            self.limit += PAGE           # the next page, read lazily when the cursor reaches the end
            self.run_source("queue")

    def current(self) -> DiffRecord | None:
        return self.rows.get(self.query_one("#diffs-list", ListTable).cursor_key or "")

    def _show_detail_for(self, key: str | None) -> None:
        rec = self.rows.get(key or "")
        if rec is None or self.svc is None:
            return
        ref = Ref(rec.id, rec.timestamp)
        if ref == self.detail_ref and self.view is not None:
            return
        self.detail_ref = ref
        self.records_page = 0
        self.records_filter = ""
        self.query_one("#diffs-detail", Static).update(Text.assemble(("reading ", "dim"), text.plain(rec.id, "dim"),
                                                                     (" …", "dim")))
        self.run_source("detail")

    def _on_detail(self, st: State[DetailView]) -> None:
        box = self.query_one("#diffs-detail", Static)
        if st.error is not None:
            box.update(text.plain(f"{self.detail_ref}: {st.error}", "red", newlines=True))
            self.query_one("#diffs-records-box").set_class(False, "bulk")
            return
        self._render_detail()

    def _render_detail(self) -> None:
        v = self.view
        if v is None or self.svc is None:
            return
        d = v.detail
        now = self.svc.now()
        status = d.record.display_status(now)
        open_ = status in ("pending", "approved")
        live: Any = {}
        if open_ and not d.record.is_bulk and d.entries and d.entries[0].key is not None and v.mark is not None \
                and d.entries[0].key in v.mark.live:
            live = {"live": v.mark.live[d.entries[0].key]}
        parts: list[Any] = [detail_renderable(d.record, status, d.validation.problems, d.entries, d.history, now,
                                              **live)]
        if open_:
            parts[:0] = [stale_badge(v.mark, bulk=d.record.is_bulk)]
        if not d.record.is_bulk:
            whole = entry_name(d.record.zenginData or d.record.currentData)
            if whole:
                parts.insert(0, text.plain(whole, "bold", newlines=True))
        if v.orphan:
            parts += [Text(""), text.plain("✗ " + v.orphan, "bold red", newlines=True)]
        self.query_one("#diffs-detail", Static).update(Group(*parts))
        rt = self.query_one("#diffs-records", ListTable)
        if d.record.is_bulk and d.entries:
            idx = [i for i, e in enumerate(d.entries) if not self.records_filter or record_matches(e, self.records_filter)]
            pages = max(1, -(-len(idx) // RECORDS_PAGE))
            self.records_page = min(self.records_page, pages - 1)
            start = self.records_page * RECORDS_PAGE
            part = idx[start:start + RECORDS_PAGE]
            rt.set_rows([(str(i), list(record_cells(i, d.entries[i]))) for i in part])
            self.query_one("#diffs-records-box").set_class(True, "bulk")
            head = Text(f"records {start + 1 if part else 0}–{start + len(part)} of {len(idx)}", style="bold")
            if self.records_filter:
                head.append(f" matching (of {len(d.entries)})", style="bold cyan")
            head.append(f" · page {self.records_page + 1}/{pages}, < > to page, / filters", style="dim")
            self.query_one("#diffs-records-page", Static).update(head)
        else:
            self.query_one("#diffs-records-box").set_class(False, "bulk")

    def action_page(self, step: int) -> None:
        v = self.view
        if v is None or not v.detail.record.is_bulk:
            return
        n = sum(1 for e in v.detail.entries if not self.records_filter or record_matches(e, self.records_filter))
        pages = max(1, -(-n // RECORDS_PAGE))
        new = min(max(self.records_page + step, 0), pages - 1)
        if new != self.records_page:
            self.records_page = new
            self._render_detail()

    # ------------------------------------------------------------------ selection

    def _mark_rows(self, keys: list[str]) -> None:
        t = self.query_one("#diffs-list", ListTable)
        for k in keys:
            rec = self.rows.get(k)
            if rec is not None:
                t.set_cell(k, "", Text("●" if (rec.id, rec.timestamp) in self.selected else "", style="bold cyan"))
        self.query_one("#diffs-status", LiveIndicator).refresh_text()

    def action_select(self) -> None:
        rec = self.current()
        if rec is None:
            return
        key = (rec.id, rec.timestamp)
        self.selected.symmetric_difference_update({key})
        self.range_anchor = row_key(rec)
        self._mark_rows([row_key(rec)])

    def action_select_to(self) -> None:
        """Select every row from the anchor (the last row space toggled) to the cursor."""
        rec = self.current()
        if rec is None:
            return
        keys = [row_key(r) for r in self.shown]
        here = keys.index(row_key(rec))
        start = keys.index(self.range_anchor) if self.range_anchor in keys else here
        lo, hi = sorted((start, here))
        span = self.shown[lo:hi + 1]
        self.selected |= {(r.id, r.timestamp) for r in span}
        self.range_anchor = row_key(rec)
        self._mark_rows([row_key(r) for r in span])

    def action_select_all(self) -> None:
        shown = {(r.id, r.timestamp) for r in self.shown}
        if shown and shown <= self.selected:
            self.selected -= shown
        else:
            self.selected |= shown
        self._mark_rows([row_key(r) for r in self.shown])
        p = self.page
        if p is not None and p.more:
            self.notify(f"{len(shown)} shown are selected; more {self.tab} diffs exist — type / and a filter to "
                        "read the whole tab", severity="warning")

    def targets(self, status: str) -> list[DiffRecord]:
        """Selected diffs of ``status`` on the shown tab, else the highlighted one."""
        if self.svc is None:
            return []
        now = self.svc.now()
        if self.selected:
            p = self.page
            recs = p.recs if p is not None else []
            return sorted((r for r in recs if (r.id, r.timestamp) in self.selected and r.display_status(now) == status),
                          key=lambda r: r.timestamp)
        rec = self.current()
        return [rec] if rec is not None and rec.display_status(now) == status else []

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.refresh_bindings()
        self.query_one("#diffs-status", LiveIndicator).refresh_text()


SCREEN = DiffsScreen

__all__ = ["SCREEN", "DiffsScreen", "STATUS_STYLE"]
