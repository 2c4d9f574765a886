"""The ``session:*`` tab: one page (PAGE_SIZE rows) of the sorted, filtered scan, the
highlighted session in full and the TTL histogram. Its state is reactive: the screen sets
``records`` / ``scan`` / ``connections``; ``/`` ``s`` ``o`` ``>`` ``<`` set ``filter_text``,
``sort``, ``reverse``, ``page``; every change renders itself.

The view (filter, sort, TTL histogram) of up to SYNC_ROWS rows is computed on the UI
thread; beyond that in one thread worker at a time: changes while it runs are coalesced
into one more run, the table keeps showing the last view until the new one is ready, and
only one page is ever rendered, so a 200,000-key scan or a sort key press never holds the
event loop for the whole list. An order not sorted yet shows its first pages from one
pass over the rows each (``RowView.head``: the first HEAD_PAGES pages); the whole of it is
sorted only when a page past those is asked for ("sorting…" until then; that page is drawn
when it is): a sort of 200,000 rows holds the GIL, and so the UI, for 100-250 ms.

Columns as the width shrinks: Key, TTL, Kind and Value stay; Last activity, then Size and
Notebook go first (the detail pane shows them)."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from ....core import collector
from ....core import format as fmt
from ....core import sessions as core
from ....core import text
from ...widgets.lists import Col, ListTable
from ....core.sessions.view import RowView
from .cells import KIND_STYLE, session_cells
from ...typeahead import FilterInput

PAGE_SIZE = 200
HEAD_PAGES = 5           # pages answered without sorting the whole order (heapq: one pass each)
SYNC_ROWS = 5_000        # up to this many rows the view is computed in place (a few ms)
                         # (a second CPU-bound thread starves the UI thread); off
# While a scan runs its count is redrawn at most this often: a batch of 1,000 keys arrives
# every ~20 ms, and a status line per batch was a frame per batch (~240 frames in a
# 200,000-key scan), each slowed threefold by the scan thread holding the interpreter lock.
SCAN_STATUS_EVERY_S = 0.25
SORTS = ("key", "ttl", "size", "notebook", "activity", "kind")
COLUMNS = (Col("Key", 20), Col("TTL", 7), Col("Size", 9, drop=2), Col("Kind", 6), Col("Notebook", 22, drop=1),
           Col("Last activity", 14, drop=3), Col("Value", 16, flex=True))


class KeysTab(Vertical):
    DEFAULT_CSS = """
    KeysTab { height: 1fr; }
    #sessions-scan { height: 1; width: 1fr; }
    #sessions-filter { display: none; height: 3; }
    #sessions-filter.open { display: block; }
    #sessions-table { height: 1fr; }
    #sessions-lower { height: 9; }
    #sessions-detail { width: 1fr; height: 100%; border: round $panel-lighten-2; padding: 0 1; }
    #sessions-hist { width: 40; height: 100%; border: round $panel-lighten-2; padding: 0 1; }
    """

    records: reactive[list[core.SessionRecord]] = reactive(list, always_update=True, init=False, repaint=False)
    scan: reactive[core.ScanBatch | None] = reactive(None, always_update=True, init=False, repaint=False)
    scan_error: reactive[str | None] = reactive(None, init=False, repaint=False)
    connections: reactive[core.ConnectionsReport | None] = reactive(None, init=False, repaint=False)
    filter_text = reactive("", init=False, repaint=False)
    sort = reactive("key", init=False, repaint=False)
    reverse = reactive(False, init=False, repaint=False)
    page = reactive(0, init=False, repaint=False)

    class ViewReady(Message):
        """The view of generation ``gen``; ``total`` set: only its first rows (``head``), of
        a view ``total`` rows long — the whole of it is sorted for a page past HEAD_PAGES."""
        def __init__(self, gen: int, view: list[core.SessionRecord], hist: list[tuple[str, int]],
                     total: int | None = None) -> None:
            self.gen, self.view, self.hist, self.total = gen, view, hist, total
            super().__init__()

    def __init__(self, scan_cap: int, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.scan_cap = scan_cap
        self._view: list[core.SessionRecord] = []
        self._head_of: int | None = None  # set: ``_view`` is only the first rows of a view this long
        self._rows = RowView([])  # the sorted orders and filter haystack of ``records``
        self._hist: list[tuple[str, int]] = core.ttl_histogram([])
        self._page_rows: list[core.SessionRecord] = []
        self._want = 0            # generation of the inputs (records, filter, sort, order)
        self._have = 0            # generation the shown view was computed from
        self._computing = False
        self._cells: dict[int, Any] = {}      # id(record) -> (record, what it shows, its cells): the page drawn
        self._status_at = 0.0     # monotonic time of the last status line drawn
        self._status_due: Timer | None = None   # the timer of a status line held back (see watch_scan)

    def compose(self) -> ComposeResult:
        yield Static("", id="sessions-scan")
        yield FilterInput(placeholder="filter: text, kind:text, ttl:none — Enter applies, Esc closes",
                          id="sessions-filter")
        yield ListTable(COLUMNS, id="sessions-table")
        with Horizontal(id="sessions-lower"):
            yield Static("", id="sessions-detail")
            yield Static("", id="sessions-hist")

    def on_mount(self) -> None:
        self._invalidate()

    def on_resize(self) -> None:
        """Short terminals keep the table: a smaller detail pane, no histogram."""
        small = self.app.size.height < 30
        self.query_one("#sessions-lower").styles.height = 6 if small else 9
        self.query_one("#sessions-hist").display = self.app.size.width >= 100 and not small

    # ---------------------------------------------------------------- state -> screen

    def watch_records(self) -> None:
        old, recs = self._rows, self.records
        n = len(old.records)
        if 0 < n <= len(recs) and recs[0] is old.records[0] and recs[n - 1] is old.records[n - 1]:
            self._rows = old.extended(recs)      # the scan went on: merge, do not re-sort
        else:
            self._rows = RowView(recs)
        self._invalidate()

    def watch_filter_text(self) -> None:
        self.set_reactive(KeysTab.page, 0)
        self._invalidate()

    def watch_sort(self) -> None:
        self._invalidate()

    def watch_reverse(self) -> None:
        self._invalidate()

    def watch_page(self) -> None:
        if self._known(self.page):
            self._draw()
        else:
            self._schedule()          # past the first rows known: more of them, or the whole view
            self._render_status()

    def _known(self, page: int) -> bool:
        """The rows of ``page`` are in the view computed (the whole view, or its first rows)."""
        return self._head_of is None or page * PAGE_SIZE < len(self._view)

    def watch_scan(self) -> None:
        last = self.scan
        if last is not None and not (last.done or last.capped):
            wait = SCAN_STATUS_EVERY_S - (time.monotonic() - self._status_at)
            if wait > 0:          # drawn when due, with the count of then
                if self._status_due is None:
                    self._status_due = self.set_timer(wait, self._render_status)
                return
        self._render_status()

    def watch_scan_error(self) -> None:
        self._render_status()

    def watch_connections(self) -> None:
        self._render_detail()

    @property
    def view(self) -> list[core.SessionRecord]:
        """The last computed view (filtered, sorted); see ``view_ready``."""
        return self._view

    @property
    def view_ready(self) -> bool:
        """The view shown matches the current records, filter, sort, order and page (for an
        order not sorted yet: its first rows, up to the page shown, ``_head_of`` set)."""
        return self._have == self._want and not self._computing and self._known(self.page)

    @property
    def page_ready(self) -> bool:
        """The page shown is the current one."""
        return self._have == self._want and self._known(self.page)

    @property
    def whole_view(self) -> bool:
        """The whole view is sorted (not only its first rows)."""
        return self.view_ready and self._head_of is None

    @property
    def view_len(self) -> int:
        return len(self._view) if self._head_of is None else self._head_of

    @staticmethod
    def compute_view(rows: RowView, flt: str, sort: str,
                     reverse: bool) -> tuple[list[core.SessionRecord], list[tuple[str, int]]]:
        return rows.view(flt, sort, reverse), rows.histogram()

    def _invalidate(self) -> None:
        self._want += 1
        if not self.is_mounted:
            return
        if len(self.records) <= SYNC_ROWS and not self._computing:
            self._view, self._hist = self.compute_view(self._rows, self.filter_text, self.sort, self.reverse)
            self._have, self._head_of = self._want, None
            self._draw()
        else:
            self._schedule()
            self._render_status()

    def _schedule(self) -> None:
        if self._computing or (self._have == self._want and self._known(self.page)):
            return
        self._computing = True
        head_n = (self.page + 1) * PAGE_SIZE if self.page < HEAD_PAGES else None     # None: the whole view
        self._compute(self._want, self._rows, self.filter_text, self.sort, self.reverse, head_n)

    @work(thread=True, exit_on_error=False, group="sessions-view", description="sessions view")  # no repr of the rows
    def _compute(self, gen: int, rows: RowView, flt: str, sort: str, reverse: bool,
                 head_n: int | None) -> None:
        # Each order, index and key list of a 1,000,000-row view is a list of a million
        # references, and the cycle collector's passes read every one of them (a cache miss
        # per row): while young, 60-140 ms per pass, in whichever thread allocated next —
        # the UI's included. Made with the collector off and frozen before it is back on
        # (collector.kept), like the rows they order: they hold no cycles, and reference
        # counting frees them with the view.
        with collector.kept():
            self._compute_view(gen, rows, flt, sort, reverse, head_n)

    def _compute_view(self, gen: int, rows: RowView, flt: str, sort: str, reverse: bool,
                      head_n: int | None) -> None:
        """Post the view, or its first ``head_n`` rows."""
        try:
            if head_n is not None and not rows.sorted_already(sort, reverse):
                # An order not sorted yet: its first ``head_n`` rows only (a pass over the
                # rows, not a sort of all of them); the whole of it for a page past
                # HEAD_PAGES (_schedule).
                head, total = rows.head(flt, sort, reverse, head_n)
                self.post_message(self.ViewReady(gen, head, rows.histogram(), total))
                rows.prepare_filter()
                return
            view, hist = self.compute_view(rows, flt, sort, reverse)
        except Exception:            # noqa: BLE001 - never leave the view stuck; keep the last one
            view, hist = self._view, self._hist
        self.post_message(self.ViewReady(gen, view, hist))
        rows.prepare_filter()    # while the scan runs, batch by batch: a filter is then one pass

    @on(ViewReady)
    def _on_view(self, m: ViewReady) -> None:
        self._computing = False
        whole = m.total is None or len(m.view) >= m.total      # the first rows were all of them
        self._view, self._hist, self._have, self._head_of = m.view, m.hist, m.gen, None if whole else m.total
        if self._known(self.page):
            self._draw()
        self._schedule()

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        rows, page, _ = core.page(self._view, self.page, PAGE_SIZE)
        if page != self.page:
            self.set_reactive(KeysTab.page, page)
        self._page_rows = rows
        kept, self._cells = self._cells, {}
        self.query_one("#sessions-table", ListTable).set_rows([(r.key, self._row_cells(r, kept)) for r in rows])
        self._render_status()
        self._render_hist()
        self._render_detail()

    def _row_cells(self, r: core.SessionRecord, kept: dict[int, Any]) -> list[object]:
        """A row's cells, the same objects while nothing they show changed: a page is drawn
        again at each handover of a scan (200 rows of 7 cells each made anew, then compared
        cell by cell with the table's). ``kept``: the last page drawn's."""
        sig = (r.key, r.ttl_s, r.size_bytes, r.kind, r.notebook, r.last_activity, r.summary)
        hit = kept.get(id(r))
        if hit is not None and hit[0] is r and hit[1] == sig:
            cells = hit[2]
        else:
            cells = session_cells(r)
        self._cells[id(r)] = (r, sig, cells)
        return cells

    # ---------------------------------------------------------------- actions (from the screen)

    def open_filter(self) -> None:
        inp = self.query_one("#sessions-filter", Input)
        inp.add_class("open")
        inp.value = self.filter_text
        # Now, not in a later turn (Widget.focus): keys typed right behind `/` are queued
        # already and must reach the filter, not the table (tests/ui/test_filter_typeahead.py).
        self.screen.set_focus(inp)

    def clear_filter(self) -> None:
        inp = self.query_one("#sessions-filter", Input)
        inp.value = ""
        inp.remove_class("open")
        self.filter_text = ""
        self.query_one("#sessions-table", ListTable).focus()

    @on(Input.Submitted, "#sessions-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.filter_text = event.value.strip()
        if not self.filter_text:
            event.input.remove_class("open")
        self.query_one("#sessions-table", ListTable).focus()

    def next_sort(self) -> None:
        self.page = 0
        self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]

    def flip_order(self) -> None:
        self.page = 0
        self.reverse = not self.reverse

    def highlighted(self) -> core.SessionRecord | None:
        key = self.query_one("#sessions-table", ListTable).cursor_key
        return next((r for r in self._page_rows if r.key == key), None) if key else None

    # ---------------------------------------------------------------- rendering

    def _render_status(self) -> None:
        if not self.is_mounted:
            return
        if self._status_due is not None:
            self._status_due.stop()
            self._status_due = None
        self._status_at = time.monotonic()
        t = Text()
        last, n = self.scan, len(self.records)
        if last is None and not self.scan_error:
            t.append("scanning session:* …", style="dim")
        elif last is not None and last.capped:
            t.append(f"first {fmt.count(n)} of about {fmt.count(last.estimate or n)} keys", style="bold yellow")
            t.append(f" (scan_cap {fmt.count(self.scan_cap)})", style="dim")
        elif last is not None and last.done:
            t.append(f"{fmt.count(n)} session keys", style="bold")
            t.append(f" · {fmt.count(last.scan_calls)} SCAN calls, {fmt.duration(last.elapsed_s)}", style="dim")
        elif last is not None:
            est = last.estimate or 0
            pct = f" ({min(n / est, 1):.0%} of ≤{fmt.count(est)} keys in db)" if est else ""
            t.append(f"scanning… {fmt.count(n)} keys{pct}", style="yellow")
        if self.scan_error:
            t.append("  scan failed: ", style="bold red")
            t.append_text(text.plain(self.scan_error, "red"))
        pages = max(1, -(-self.view_len // PAGE_SIZE))
        page = max(0, min(self.page, pages - 1))
        arrow = "↓" if self.reverse else "↑"
        t.append(f"  ·  page {page + 1}/{pages} · sort {self.sort} {arrow}", style="dim")
        if not self.view_ready:
            t.append(" · sorting…", style="yellow")
        if self.filter_text:
            t.append(" · filter ", style="cyan")
            t.append_text(text.plain(repr(self.filter_text), "cyan"))
            t.append(f" → {fmt.count(self.view_len)}", style="cyan")
        self.query_one("#sessions-scan", Static).update(t, layout=False)     # fixed size: no relayout

    @on(DataTable.RowHighlighted, "#sessions-table")
    def _on_row(self, _e: DataTable.RowHighlighted) -> None:
        self._render_detail()

    def _render_detail(self) -> None:
        if not self.is_mounted:
            return
        r = self.highlighted()
        w = self.query_one("#sessions-detail", Static)
        if r is None:
            w.update(Text("no session keys" if self.scan and self.scan.done else "", style="dim"), layout=False)
            return
        t = Text()
        t.append_text(text.plain(r.key, "bold"))
        t.append(f"  [{r.kind}]  TTL {fmt.ttl(r.ttl_s)}  {fmt.size(r.size_bytes)}\n")
        t.append("notebook       ")
        t.append_text(text.plain(r.notebook or "—"))
        t.append("\nlast activity  ")
        t.append_text(text.plain(r.last_activity or "—"))
        conn = "—"
        if self.connections is not None:
            users = self.connections.users
            conn = (r.connection_id or "yes") if r.user in users else f"none (no entry in {core.CONNECTIONS_KEY})"
        elif r.connection_id:
            conn = r.connection_id
        t.append("\nconnection     ")
        t.append_text(text.plain(conn, "yellow" if conn.startswith("none") else ""))
        t.append("\nvalue          ")
        t.append_text(text.plain(r.summary or "—", KIND_STYLE.get(r.kind, ""), newlines=True))
        if r.truncated:
            t.append("\n(value larger than 64 KiB: only its start was read)", style="yellow")
        w.update(t, layout=False)

    def _render_hist(self) -> None:
        hist = self._hist
        top = max((n for _, n in hist), default=0) or 1
        t = Text("remaining TTL\n", style="bold")
        for i, (label, n) in enumerate(hist):
            bar = "█" * int(round(18 * n / top)) if n else ""
            t.append(f"{label:>6} ")
            t.append(f"{bar:<18}", style="yellow" if label == "no TTL" else "green")
            t.append(f" {fmt.count(n)}")
            if i < len(hist) - 1:
                t.append("\n")
        self.query_one("#sessions-hist", Static).update(t, layout=False)
