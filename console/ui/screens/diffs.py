"""Zengin diffs (seed 003): the review queue, one sub-tab per status (``]``/``[``), the
detail of the highlighted diff (re-read by its full key: StatusIndex may be stale), and
approve (``A``) / reject (``R``) / execute (``X``) with a preview and a confirmation.

The queue and the highlighted diff's detail are live sources (console.ui.live): every
DynamoDB / S3 / PostgreSQL call runs in a thread worker, the queue refreshes while the
screen is shown and keeps its last good state, dimmed, when a refresh fails. Actions are
disabled in read-only mode (and refused by the core anyway). The four-eyes rule is the
core's (``executor.self_execution_refusal``), previewed here.

Columns as the width shrinks: selection, Id, Codes, Names and the validity mark stay;
By, then TTL, Time and Type go first (the detail pane shows them)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Header, ProgressBar, Static, Tab, Tabs

from ...core import format as fmt
from ...core import text
from ...core.ports import DiffsPort
from ...core.zengin.executor import DryRun, self_execution_refusal
from ...core.zengin.records import DiffRecord
from ...core.zengin.service import Detail
from ...core.zengin.validate import record_problems
from ...core.zengin.workflow import TABS, Queue, Ref
from .. import keymap
from ..live import LiveIndicator, LiveScreen, Source, State
from ..widgets.confirm import ConfirmModal
from ..widgets.diffs_detail import STATUS_STYLE, detail_renderable, record_cells
from ..widgets.diffs_reason import ReasonPrompt
from ..widgets.footer import ConsoleFooter
from ..widgets.lists import Col, ListTable

RECORDS_PAGE = 200
LIST_COLUMNS = (Col("", 1), Col("Id", 20), Col("Time (UTC)", 14, drop=3), Col("Type", 11, drop=2),
                Col("Codes", 11), Col("Names", 10, flex=True), Col("✓", 1), Col("TTL", 7, drop=4),
                Col("By", 20, drop=5))
RECORD_COLUMNS = (Col("#", 5), Col("Op", 8), Col("Table", 8, drop=1), Col("Key", 8), Col("Changes", 20, flex=True))


def _codes(rec: DiffRecord) -> str:
    if rec.is_bulk:
        s = rec.dataSummary if isinstance(rec.dataSummary, dict) else {}
        return f"{s.get('totalRecords', '?')} records"
    e = rec.entry
    if e is None or e.key is None:
        return "?"
    k = e.key
    return k[0] if k[1] is None else f"{k[0]}-{k[1]}"


def _names(rec: DiffRecord) -> str:
    if rec.is_bulk:
        s = rec.dataSummary if isinstance(rec.dataSummary, dict) else {}
        return f"+{s.get('additions', 0)} ~{s.get('updates', 0)} -{s.get('deletions', 0)}"
    side = rec.zenginData or rec.currentData
    if not isinstance(side, dict):
        return ""
    if "branchCode" in side:
        return f"{side.get('bankName') or ''} {side.get('branchName') or ''}".strip()
    return str(side.get("bankName") or "")


def row_key(rec: DiffRecord) -> str:
    return f"{rec.id}@{rec.timestamp}"


class DiffsScreen(LiveScreen):
    LIST_ID = "diffs-list"
    BINDINGS = keymap.bindings("diffs.approve", "diffs.reject", "diffs.execute", "select", "tab_next", "tab_prev",
                               "page_next", "page_prev", "refresh", "pause",
                               tooltip={"tab_next": "Next status tab", "tab_prev": "Previous status tab",
                                        "page_next": "Next page of a bulk diff's records",
                                        "page_prev": "Previous page of a bulk diff's records",
                                        "refresh": "Read the queue again now"},
                               describe={"page_next": "Records ▶"})

    DEFAULT_CSS = """
    #diffs-status { height: 1; padding: 0 1; }
    #diffs-tabs { height: 2; }
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

    class DryRunsReady(Message):
        def __init__(self, runs: list[DryRun]) -> None:
            self.runs = runs
            super().__init__()

    class ActionDone(Message):
        def __init__(self, action: str, outcomes: list[Any], error: str | None) -> None:
            self.action, self.outcomes, self.error = action, outcomes, error
            super().__init__()

    class Progress(Message):
        def __init__(self, what: str, step: int, total: int) -> None:
            self.what, self.step, self.total = what, step, total
            super().__init__()

    def __init__(self) -> None:
        super().__init__(id="diffs")
        self.svc: DiffsPort | None = None
        self.tab = "pending"
        self.rows: dict[str, DiffRecord] = {}        # row key -> record, of the shown tab
        self.selected: set[tuple[str, str]] = set()
        self.detail_ref: Ref | None = None
        self.records_page = 0
        self.busy = False
        self.actor: str | None = None
        self.actor_error: str | None = None

    @property
    def queue(self) -> Queue | None:
        return self.state("queue").value

    @property
    def detail(self) -> Detail | None:
        d: Detail | None = self.state("detail").value
        if d is None or self.detail_ref is None or Ref(d.record.id, d.record.timestamp) != self.detail_ref:
            return None
        return d

    def compose(self) -> ComposeResult:
        yield Header()
        yield LiveIndicator("queue", id="diffs-status", extra=self._status_text)
        yield Tabs(*[Tab(t, id=f"tab-{t}") for t in TABS], id="diffs-tabs")
        yield ListTable(LIST_COLUMNS, id="diffs-list")
        with Horizontal(id="diffs-lower"):
            with VerticalScroll(id="diffs-detail-scroll"):
                yield Static("", id="diffs-detail")
            with Vertical(id="diffs-records-box"):
                yield Static("", id="diffs-records-page")
                yield ListTable(RECORD_COLUMNS, id="diffs-records")
        yield ProgressBar(id="diffs-progress", show_eta=False)
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
        self.add_source(Source("queue", fetch=self.svc.queue, every=interval, render=self._on_queue,
                               panel="#diffs-list"))
        self.add_source(Source("detail", fetch=self.svc.detail, args=lambda: (self.detail_ref,),
                               every=None, render=self._on_detail), start=False)
        self._resolve_actor(self.svc)

    @work(thread=True, exit_on_error=False, group="diffs-identity", exclusive=True)
    def _resolve_actor(self, svc: DiffsPort) -> None:
        """--as, the configured operator, else the AWS caller identity: the last one is an
        STS call, so never on the UI thread."""
        try:
            who, err = svc.actor(), None
        except Exception as exc:  # shown when an action needs it
            who, err = None, text.error_text(exc)
        self.app.call_from_thread(self._set_actor, who, err)

    def _set_actor(self, who: str | None, err: str | None) -> None:
        self.actor, self.actor_error = who, err

    # ------------------------------------------------------------------ queue

    def _status_text(self) -> Text:
        t = Text()
        z = self.services.settings.zengin
        t.append_text(text.plain(z.table if z else "?", "bold"))
        q = self.queue
        if q is not None:
            t.append(f" read {fmt.clock(q.read_at)}", style="dim")
        if self.selected:
            t.append(f"  {len(self.selected)} selected", style="bold cyan")
        if self.busy:
            t.append("  working (dry run / action) …", style="bold yellow")
        if self.svc is not None and self.svc.read_only:
            t.append("  READ-ONLY: approve, reject, execute disabled", style="bold red")
        elif self.svc is not None and self.svc.forbid_self_execution:
            t.append("  an approver may not execute", style="dim")
        return t

    def _on_queue(self, _st: State[Queue]) -> None:
        q = self.queue
        if q is not None:
            counts = q.counts()
            for name in TABS:
                capped = "+" if q.capped.get(name) else ""
                self.query_one(f"#tab-{name}", Tab).label = f"{name} {counts.get(name, 0)}{capped}"
        self._render_list()

    def _render_list(self) -> None:
        t = self.query_one("#diffs-list", ListTable)
        q = self.queue
        recs = list(q.tabs.get(self.tab, [])) if q is not None else []
        now = self.svc.now() if self.svc is not None else None
        self.rows = {row_key(r): r for r in recs}
        rows = []
        for rec in recs:
            mark = Text("✓", style="green") if not record_problems(rec) else Text("✗", style="bold red")
            sel = "●" if (rec.id, rec.timestamp) in self.selected else ""
            ttl = fmt.ttl_until(rec.ttl, now) if now is not None else "—"
            rows.append((row_key(rec), [
                Text(sel, style="bold cyan"), text.plain(rec.id), rec.timestamp[5:19].replace("T", " "),
                text.plain(rec.diffType or "?", "bold" if rec.is_bulk else ""), text.plain(_codes(rec)[:11]),
                text.plain(_names(rec)[:30]), mark,
                Text(ttl, style="red" if now is not None and rec.is_expired(now) else ""),
                text.plain((rec.executedBy or rec.rejectedBy or rec.approvedBy or "")[:20])]))
        t.set_rows(rows)
        if rows:
            self._show_detail_for(t.cursor_key)
        else:
            self.detail_ref = None
            self.query_one("#diffs-detail", Static).update(Text(f"no {self.tab} diffs", style="dim"))
            self.query_one("#diffs-records-box").set_class(False, "bulk")

    @on(Tabs.TabActivated, "#diffs-tabs")
    def _tab_changed(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-pending").removeprefix("tab-")
        if name != self.tab:
            self.tab = name
            self._render_list()

    def action_tab(self, step: int) -> None:
        i = (TABS.index(self.tab) + step) % len(TABS)
        self.query_one("#diffs-tabs", Tabs).active = f"tab-{TABS[i]}"

    # ------------------------------------------------------------------ detail

    @on(DataTable.RowHighlighted, "#diffs-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail_for(event.row_key.value if event.row_key is not None else None)

    def _current(self) -> DiffRecord | None:
        return self.rows.get(self.query_one("#diffs-list", ListTable).cursor_key or "")

    def _show_detail_for(self, key: str | None) -> None:
        rec = self.rows.get(key or "")
        if rec is None or self.svc is None:
            return
        ref = Ref(rec.id, rec.timestamp)
        if ref == self.detail_ref and self.detail is not None:
            return
        self.detail_ref = ref
        self.records_page = 0
        self.query_one("#diffs-detail", Static).update(Text.assemble(("reading ", "dim"), text.plain(rec.id, "dim"),
                                                                     (" …", "dim")))
        self.run_source("detail")

    def _on_detail(self, st: State[Detail]) -> None:
        box = self.query_one("#diffs-detail", Static)
        if st.error is not None:
            box.update(text.plain(f"{self.detail_ref}: {st.error}", "red", newlines=True))
            self.query_one("#diffs-records-box").set_class(False, "bulk")
            return
        self._render_detail()

    def _render_detail(self) -> None:
        d = self.detail
        if d is None or self.svc is None:
            return
        now = self.svc.now()
        status = d.record.display_status(now)
        self.query_one("#diffs-detail", Static).update(
            detail_renderable(d.record, status, d.validation.problems, d.entries, d.history, now))
        rt = self.query_one("#diffs-records", ListTable)
        if d.record.is_bulk and d.entries:
            pages = max(1, -(-len(d.entries) // RECORDS_PAGE))
            self.records_page = min(self.records_page, pages - 1)
            start = self.records_page * RECORDS_PAGE
            end = min(start + RECORDS_PAGE, len(d.entries))
            rt.set_rows([(str(i), list(record_cells(i, d.entries[i]))) for i in range(start, end)])
            self.query_one("#diffs-records-box").set_class(True, "bulk")
            self.query_one("#diffs-records-page", Static).update(Text(
                f"records {start + 1}–{end} of {len(d.entries)} (page {self.records_page + 1}/{pages}, < > to page)",
                style="bold"))
        else:
            self.query_one("#diffs-records-box").set_class(False, "bulk")

    def action_page(self, step: int) -> None:
        d = self.detail
        if d is None or not d.record.is_bulk:
            return
        pages = max(1, -(-len(d.entries) // RECORDS_PAGE))
        new = min(max(self.records_page + step, 0), pages - 1)
        if new != self.records_page:
            self.records_page = new
            self._render_detail()

    # ------------------------------------------------------------------ selection

    def action_select(self) -> None:
        rec = self._current()
        if rec is None:
            return
        key = (rec.id, rec.timestamp)
        self.selected.symmetric_difference_update({key})
        self.query_one("#diffs-list", ListTable).set_cell(row_key(rec), "", Text(
            "●" if key in self.selected else "", style="bold cyan"))
        self.query_one("#diffs-status", LiveIndicator).refresh_text()

    def _targets(self, status: str) -> list[DiffRecord]:
        """Selected diffs of ``status`` (any tab), else the highlighted one."""
        if self.svc is None:
            return []
        now = self.svc.now()
        q = self.queue
        if self.selected and q is not None:
            out = [r for rs in q.tabs.values() for r in rs
                   if (r.id, r.timestamp) in self.selected and r.display_status(now) == status]
            return sorted(out, key=lambda r: r.timestamp)
        rec = self._current()
        return [rec] if rec is not None and rec.display_status(now) == status else []

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "reject", "execute"):
            if self.svc is None or self.svc.read_only or self.busy:
                return None            # shown disabled in the footer
        return True

    def _who(self) -> str | None:
        if self.actor is None:
            if self.actor_error:
                self.notify(self.actor_error, title="Who are you?", severity="error", timeout=10)
            else:
                self.notify("still finding out who you are (AWS caller identity); try again in a moment",
                            title="Who are you?", severity="warning")
                if self.svc is not None:
                    self._resolve_actor(self.svc)
        return self.actor

    def action_approve(self) -> None:
        recs = self._targets("pending")
        if not recs:
            self.notify("Highlight or select pending diffs to approve.", severity="warning")
            return
        who = self._who()
        if who is None:
            return
        bad = [r.id for r in recs if record_problems(r)]
        lines = [f"{r.id}  {r.diffType}  {_codes(r)}  {_names(r)}" for r in recs]
        preview = (f"As {who}: pending -> approved, each a DynamoDB conditional write "
                   f"(status = pending AND ttl not passed); validation is repeated first.\n\n" + "\n".join(lines))
        refused = f"Invalid, cannot be approved: {', '.join(bad)}" if bad else None

        def done(ok: bool | None) -> None:
            if ok:
                self._act("approve", [Ref(r.id, r.timestamp) for r in recs], who)
        self.app.push_screen(ConfirmModal(f"Approve {len(recs)} diff(s)?", preview, confirm_label="Approve",
                                          refused=refused), done)

    def action_reject(self) -> None:
        recs = self._targets("pending")
        if not recs:
            self.notify("Highlight or select pending diffs to reject.", severity="warning")
            return
        who = self._who()
        if who is None:
            return
        refs = [Ref(r.id, r.timestamp) for r in recs]

        def got_reason(reason: str | None) -> None:
            if not reason:
                return
            preview = (f"As {who}: pending -> rejected, each a DynamoDB conditional write "
                       f"(status = pending), with the reason recorded on the diff and in the audit log.\n\n"
                       f"reason: {reason}\n\n" + "\n".join(f"{r.id}  {r.diffType}  {_codes(r)}" for r in recs))

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self._act("reject", refs, who, reason)
            self.app.push_screen(ConfirmModal(f"Reject {len(refs)} diff(s)?", preview, confirm_label="Reject"),
                                 confirmed)
        self.app.push_screen(ReasonPrompt(", ".join(r.id for r in recs[:3]) + (" …" if len(recs) > 3 else "")),
                             got_reason)

    def action_execute(self) -> None:
        recs = self._targets("approved")
        if not recs:
            self.notify("Highlight or select approved diffs to execute.", severity="warning")
            return
        who = self._who()
        if who is None or self.svc is None:
            return
        self.busy = True
        self.refresh_bindings()
        self.query_one("#diffs-status", LiveIndicator).refresh_text()
        self._dry_worker(self.svc, [Ref(r.id, r.timestamp) for r in recs], who)

    @work(thread=True, exit_on_error=False, group="diffs-action")
    def _dry_worker(self, svc: DiffsPort, refs: list[Ref], who: str) -> None:
        runs = []
        for ref in refs:
            try:
                runs.append(svc.dry_run(ref, who))
            except Exception as exc:  # shown; a dead worker would leave the screen busy
                runs.append(DryRun(ref, None, None, None, text.error_text(exc)))
        self.post_message(self.DryRunsReady(runs))

    @on(DryRunsReady)
    def _dry_ready(self, msg: DryRunsReady) -> None:
        self.busy = False
        self.refresh_bindings()
        self.query_one("#diffs-status", LiveIndicator).refresh_text()
        who = self.actor or "?"
        forbid = self.svc.forbid_self_execution if self.svc is not None else True
        parts, problems, warnings, destructive = [], [], [], False
        for d in msg.runs:
            refusal = self_execution_refusal(forbid, d.record, who) if d.record is not None else None
            if refusal:
                problems.append(refusal)
            if d.error:
                # The dry run failed (stale currentData, a constraint): executing it applies
                # nothing and marks it failed with this reason, which takes it out of the
                # approved queue. Say so; do not block the others.
                warnings.append(f"-- WILL FAIL, nothing applied, marked failed: {d.ref.id}: {d.error}")
            if d.applied:
                per = "; ".join(f"{t}: " + ", ".join(f"{v} {k}" for k, v in c.items() if v)
                                for t, c in d.applied.per_table().items() if any(c.values()))
                parts.append(f"-- {d.ref.id}: dry run (rolled back): {per or 'no rows'}")
            if d.plan:
                parts.append(d.plan.text())
                destructive = destructive or any(s.destructive for s in d.plan.steps)
        preview = "\n".join(warnings + parts) or "(no plan)"
        refused = "\n".join(problems) if problems else None
        refs = [d.ref for d in msg.runs]
        title = f"Execute {len(refs)} diff(s) as {who}? Each runs in one PostgreSQL transaction."

        def done(ok: bool | None) -> None:
            if ok:
                self._act("execute", refs, who)
        self.app.push_screen(ConfirmModal(title, preview, confirm_label="Execute", preview_sql=True,
                                          type_to_confirm="execute" if destructive else None,
                                          refused=refused), done)

    def _act(self, action: str, refs: list[Ref], who: str, reason: str | None = None) -> None:
        if self.svc is None:
            return
        self.busy = True
        self.refresh_bindings()
        bar = self.query_one("#diffs-progress", ProgressBar)
        bar.add_class("running")
        bar.update(total=max(1, len(refs)), progress=0)
        self._action_worker(self.svc, action, refs, who, reason)

    @work(thread=True, exit_on_error=False, group="diffs-action")
    def _action_worker(self, svc: DiffsPort, action: str, refs: list[Ref], who: str, reason: str | None) -> None:
        outs: list[Any] = []
        try:
            for i, ref in enumerate(refs):
                if action == "approve":
                    outs.append(svc.approve(ref, who))
                elif action == "reject":
                    outs.append(svc.reject(ref, who, reason or ""))
                else:
                    def progress(what: str, step: int, total: int, i: int = i, ref: Ref = ref) -> None:
                        self.post_message(self.Progress(f"{ref.id}: {what}", i * total + step, len(refs) * total))
                    outs.append(svc.execute(ref, who, progress=progress))
                self.post_message(self.Progress(f"{ref.id}: {outs[-1].outcome}", i + 1, len(refs)))
            self.post_message(self.ActionDone(action, outs, None))
        except Exception as exc:  # shown, never a traceback
            self.post_message(self.ActionDone(action, outs, text.error_text(exc)))

    @on(Progress)
    def _progress(self, msg: Progress) -> None:
        self.query_one("#diffs-progress", ProgressBar).update(total=max(1, msg.total), progress=msg.step)

    @on(ActionDone)
    def _action_done(self, msg: ActionDone) -> None:
        self.busy = False
        self.refresh_bindings()
        self.query_one("#diffs-status", LiveIndicator).refresh_text()
        self.query_one("#diffs-progress", ProgressBar).remove_class("running")
        for o in msg.outcomes:
            ok = o.outcome in ("ok", "skipped")
            self.notify(o.message[:400], title=f"{msg.action}: {o.outcome}",
                        severity="information" if ok else "error", timeout=8)
        if msg.error:
            self.notify(msg.error, title=f"{msg.action} stopped", severity="error", timeout=10)
        self.selected -= {(o.ref.id, o.ref.timestamp) for o in msg.outcomes}
        self.detail_ref = None
        self.run_source("queue")


SCREEN = DiffsScreen

__all__ = ["SCREEN", "DiffsScreen", "STATUS_STYLE"]
