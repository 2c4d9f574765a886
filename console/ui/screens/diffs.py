"""Zengin diffs (seed 003): the review queue, one tab per status, the detail of the
highlighted diff (re-read by its full key: StatusIndex may be stale), approve / reject /
execute with a preview and a confirmation.

Every DynamoDB / S3 / PostgreSQL call runs in a thread worker; results come back as
messages. The queue refreshes on a one-shot timer after each load (never overlapping) and
stops while the screen is hidden. A failed refresh keeps the last queue, dimmed, with the
error. Actions are disabled in read-only mode (and refused by the core anyway)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, ProgressBar, Static, Tab, Tabs

from ...backends.base import BackendError
from ..errors import error_text
from ...core.zengin.validate import record_problems
from ...core.zengin.workflow import TABS, Ref
from ..widgets.confirm import ConfirmModal
from ..widgets.diffs_detail import (STATUS_STYLE, detail_renderable, record_cells, ttl_left)
from ..widgets.diffs_reason import ReasonPrompt

RECORDS_PAGE = 200
LIST_COLUMNS = (("", 1), ("Id", 20), ("Time (UTC)", 14), ("Type", 11), ("Codes", 11), ("Names", 30),
                ("✓", 1), ("TTL", 7), ("By", 20))


def make_service(services) -> Any:
    from ...core.zengin.service import DiffsService

    s = services.settings
    if s.zengin is None or services.backends is None:
        return None
    return DiffsService.from_settings(s, services.backends)


def _codes(rec) -> str:
    if rec.is_bulk:
        s = rec.dataSummary if isinstance(rec.dataSummary, dict) else {}
        return f"{s.get('totalRecords', '?')} records"
    e = rec.entry
    if e is None or e.key is None:
        return "?"
    k = e.key
    return k[0] if k[1] is None else f"{k[0]}-{k[1]}"


def _names(rec) -> str:
    if rec.is_bulk:
        s = rec.dataSummary if isinstance(rec.dataSummary, dict) else {}
        return f"+{s.get('additions', 0)} ~{s.get('updates', 0)} -{s.get('deletions', 0)}"
    side = rec.zenginData or rec.currentData
    if not isinstance(side, dict):
        return ""
    if "branchCode" in side:
        return f"{side.get('bankName') or ''} {side.get('branchName') or ''}".strip()
    return str(side.get("bankName") or "")


class DiffsScreen(Screen):
    BINDINGS = [
        Binding("a", "approve", "Approve", id="diffs.approve",
                tooltip="Approve the highlighted or selected pending diffs (conditional write, audited)"),
        Binding("r", "reject", "Reject", id="diffs.reject",
                tooltip="Reject the highlighted or selected pending diffs with a reason (audited)"),
        Binding("x", "execute", "Execute", id="diffs.execute",
                tooltip="Dry-run, show the SQL and rows per table, then execute approved diffs (audited)"),
        Binding("space", "select", "Select", id="diffs.select", tooltip="Select / unselect the highlighted diff"),
        Binding("n", "tab(1)", "Next tab", id="diffs.next_tab", tooltip="Next status tab"),
        Binding("p", "tab(-1)", "Prev tab", id="diffs.prev_tab", tooltip="Previous status tab"),
        Binding("right_square_bracket", "records_page(1)", "Records ▶", id="diffs.next_page", key_display="]",
                tooltip="Next page of a bulk diff's records"),
        Binding("left_square_bracket", "records_page(-1)", "◀ Records", id="diffs.prev_page", key_display="[",
                tooltip="Previous page of a bulk diff's records"),
        Binding("f5", "refresh_now", "Reload", id="diffs.refresh", tooltip="Read the queue again now"),
    ]

    DEFAULT_CSS = """
    #diffs-status { height: 1; padding: 0 1; }
    #diffs-tabs { height: 2; }
    #diffs-list { height: 2fr; min-height: 5; }
    #diffs-lower { height: 3fr; border-top: solid $panel-lighten-2; }
    #diffs-detail-scroll { width: 1fr; height: 100%; padding: 0 1; }
    #diffs-records-box { width: 2fr; height: 100%; display: none; border-left: solid $panel-lighten-2; }
    #diffs-records-box.bulk { display: block; }
    #diffs-records-page { height: 1; padding: 0 1; }
    #diffs-records { height: 1fr; }
    #diffs-progress { height: 1; display: none; padding: 0 1; }
    #diffs-progress.running { display: block; }
    .stale { opacity: 60%; }
    """

    # ------------------------------------------------------------------ messages

    class QueueLoaded(Message):
        def __init__(self, queue: Any, error: str | None) -> None:
            self.queue, self.error = queue, error
            super().__init__()

    class DetailLoaded(Message):
        def __init__(self, ref: Ref, detail: Any, error: str | None) -> None:
            self.ref, self.detail, self.error = ref, detail, error
            super().__init__()

    class DryRunsReady(Message):
        def __init__(self, runs: list) -> None:
            self.runs = runs
            super().__init__()

    class ActionDone(Message):
        def __init__(self, action: str, outcomes: list, error: str | None) -> None:
            self.action, self.outcomes, self.error = action, outcomes, error
            super().__init__()

    class Progress(Message):
        def __init__(self, what: str, step: int, total: int) -> None:
            self.what, self.step, self.total = what, step, total
            super().__init__()

    # ------------------------------------------------------------------ state

    def __init__(self) -> None:
        super().__init__(id="diffs")
        self._svc: Any = None
        self._queue: Any = None
        self._error: str | None = None
        self._tab = "pending"
        self._rows: list = []                    # records of the current tab, as shown
        self._selected: set[tuple[str, str]] = set()
        self._timer: Timer | None = None
        self._loading = False
        self._detail: Any = None
        self._detail_ref: Ref | None = None
        self._records_page = 0
        self._busy = False
        self._actor: str | None = None
        self._actor_error: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="diffs-status")
        yield Tabs(*[Tab(t, id=f"tab-{t}") for t in TABS], id="diffs-tabs")
        yield DataTable(id="diffs-list", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="diffs-lower"):
            with VerticalScroll(id="diffs-detail-scroll"):
                yield Static("", id="diffs-detail")
            with Vertical(id="diffs-records-box"):
                yield Static("", id="diffs-records-page")
                yield DataTable(id="diffs-records", cursor_type="row", zebra_stripes=True)
        yield ProgressBar(id="diffs-progress", show_eta=False)
        yield Footer()

    def on_mount(self) -> None:
        self._svc = self.app.services.source("diffs", make_service)
        t = self.query_one("#diffs-list", DataTable)
        for col, width in LIST_COLUMNS:
            t.add_column(col, key=col or "sel", width=width)
        rt = self.query_one("#diffs-records", DataTable)
        for col, width in (("#", 5), ("Op", 8), ("Table", 8), ("Key", 8), ("Changes", 50)):
            rt.add_column(col, key=col, width=width)
        self.query_one("#diffs-records-box").set_class(False, "bulk")
        self.query_one("#diffs-tabs", Tabs).can_focus = False     # n / p switch tabs; keys go to the list
        t.focus()
        if self._svc is None:
            self.query_one("#diffs-status", Static).update(Text(
                "Zengin is not configured: add a [zengin] table (and its PostgreSQL target) to console.toml.",
                style="yellow"))
            return
        self._render_status()
        self._load_queue()
        self._resolve_actor(self._svc)

    @work(thread=True, exit_on_error=False, group="diffs-identity", exclusive=True)
    def _resolve_actor(self, svc) -> None:
        """--as, the configured operator, else the AWS caller identity: the last one is an
        STS call, so never on the UI thread."""
        try:
            who, err = svc.actor(), None
        except Exception as exc:  # noqa: BLE001 - shown when an action needs it
            who, err = None, error_text(exc)
        self.app.call_from_thread(self._set_actor, who, err)

    def _set_actor(self, who: str | None, err: str | None) -> None:
        self._actor, self._actor_error = who, err

    def on_screen_suspend(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def on_screen_resume(self) -> None:
        if not isinstance(self.focused, DataTable):
            self.query_one("#diffs-list", DataTable).focus()
        if self._svc is not None and not self._loading and self._timer is None and self._queue is not None:
            self._load_queue()

    # ------------------------------------------------------------------ queue

    def _interval(self) -> float:
        return max(5.0, self.app.services.settings.refresh_interval_s * 2)

    def _load_queue(self) -> None:
        if self._loading or self._svc is None:
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._loading = True
        self._queue_worker(self._svc)

    @work(thread=True, exit_on_error=False, group="diffs-queue")
    def _queue_worker(self, svc) -> None:
        try:
            self.post_message(self.QueueLoaded(svc.queue(), None))
        except BackendError as exc:
            self.post_message(self.QueueLoaded(None, f"{exc.kind.value}: {exc.message}"))
        except Exception as exc:  # noqa: BLE001 - shown, never a traceback
            self.post_message(self.QueueLoaded(None, f"{type(exc).__name__}: {exc}"))

    @on(QueueLoaded)
    def _queue_loaded(self, msg: QueueLoaded) -> None:
        self._loading = False
        if msg.queue is not None:
            self._queue, self._error = msg.queue, None
        else:
            self._error = msg.error
        self._render_tabs()
        self._render_list()
        self._render_status()
        if self.is_current:
            self._timer = self.set_timer(self._interval(), self._load_queue)

    def _render_status(self) -> None:
        if self._svc is None:
            return
        t = Text()
        s = self.app.services.settings
        z = s.zengin
        t.append(f"{z.table if z else '?'}", style="bold")
        if self._queue is not None:
            t.append(f"  read {self._queue.read_at:%H:%M:%S}")
        if self._selected:
            t.append(f"  {len(self._selected)} selected", style="bold cyan")
        if self._svc.read_only:
            t.append("  READ-ONLY: approve, reject and execute are disabled", style="bold red")
        elif self._svc.forbid_self_execution:
            t.append("  the approver of a diff may not execute it", style="dim")
        if self._error:
            t.append(f"  STALE — last refresh failed: {self._error}", style="bold red")
        self.query_one("#diffs-status", Static).update(t)
        self.query_one("#diffs-list").set_class(bool(self._error), "stale")

    def _render_tabs(self) -> None:
        if self._queue is None:
            return
        counts = self._queue.counts()
        for name in TABS:
            tab = self.query_one(f"#tab-{name}", Tab)
            capped = "+" if self._queue.capped.get(name) else ""
            tab.label = f"{name} {counts.get(name, 0)}{capped}"

    def _render_list(self) -> None:
        t = self.query_one("#diffs-list", DataTable)
        keep = t.cursor_row
        t.clear()
        self._rows = list(self._queue.tabs.get(self._tab, [])) if self._queue is not None else []
        now = self._svc.now()
        for rec in self._rows:
            problems = record_problems(rec)
            sel = "●" if (rec.id, rec.timestamp) in self._selected else ""
            mark = Text("✓", style="green") if not problems else Text("✗", style="bold red")
            if rec.is_bulk and not problems:
                mark = Text("✓", style="green")
            t.add_row(Text(sel, style="bold cyan"), rec.id, rec.timestamp[5:19].replace("T", " "),
                      Text(rec.diffType or "?", style="bold" if rec.is_bulk else ""),
                      _codes(rec)[:11], _names(rec)[:30], mark,
                      Text(ttl_left(rec.ttl, now), style="red" if rec.is_expired(now) else ""),
                      (rec.executedBy or rec.rejectedBy or rec.approvedBy or "")[:20],
                      key=f"{rec.id}@{rec.timestamp}")
        if self._rows:
            t.move_cursor(row=min(max(keep, 0), len(self._rows) - 1))
            self._show_detail_for(min(max(keep, 0), len(self._rows) - 1))
        else:
            self._detail_ref = None
            self.query_one("#diffs-detail", Static).update(Text(f"no {self._tab} diffs", style="dim"))
            self.query_one("#diffs-records-box").set_class(False, "bulk")

    @on(Tabs.TabActivated, "#diffs-tabs")
    def _tab_changed(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-pending").removeprefix("tab-")
        if name != self._tab:
            self._tab = name
            self._render_list()

    def action_tab(self, step: int) -> None:
        i = (TABS.index(self._tab) + step) % len(TABS)
        self._tab = TABS[i]
        self.query_one("#diffs-tabs", Tabs).active = f"tab-{TABS[i]}"
        self._render_list()

    def action_refresh_now(self) -> None:
        self._load_queue()

    # ------------------------------------------------------------------ detail

    @on(DataTable.RowHighlighted, "#diffs-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail_for(event.cursor_row)

    def _current(self):
        t = self.query_one("#diffs-list", DataTable)
        if not self._rows or t.cursor_row is None or not 0 <= t.cursor_row < len(self._rows):
            return None
        return self._rows[t.cursor_row]

    def _show_detail_for(self, row: int) -> None:
        if not 0 <= row < len(self._rows) or self._svc is None:
            return
        rec = self._rows[row]
        ref = Ref(rec.id, rec.timestamp)
        if ref == self._detail_ref and self._detail is not None:
            return
        self._detail_ref = ref
        self._records_page = 0
        self.query_one("#diffs-detail", Static).update(Text(f"reading {rec.id} …", style="dim"))
        self._detail_worker(self._svc, ref)

    @work(thread=True, exclusive=True, exit_on_error=False, group="diffs-detail")
    def _detail_worker(self, svc, ref: Ref) -> None:
        try:
            self.post_message(self.DetailLoaded(ref, svc.detail(ref), None))
        except BackendError as exc:
            self.post_message(self.DetailLoaded(ref, None, f"{exc.kind.value}: {exc.message}"))
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.DetailLoaded(ref, None, getattr(exc, "message", f"{type(exc).__name__}: {exc}")))

    @on(DetailLoaded)
    def _detail_loaded(self, msg: DetailLoaded) -> None:
        if msg.ref != self._detail_ref:
            return
        if msg.detail is None:
            self._detail = None
            self.query_one("#diffs-detail", Static).update(Text(f"{msg.ref}: {msg.error}", style="red"))
            self.query_one("#diffs-records-box").set_class(False, "bulk")
            return
        self._detail = msg.detail
        self._render_detail()

    def _render_detail(self) -> None:
        d = self._detail
        if d is None:
            return
        now = self._svc.now()
        status = d.record.display_status(now)
        self.query_one("#diffs-detail", Static).update(
            detail_renderable(d.record, status, d.validation.problems, d.entries, d.history, now))
        rt = self.query_one("#diffs-records", DataTable)
        page_label = self.query_one("#diffs-records-page", Static)
        if d.record.is_bulk and d.entries:
            pages = max(1, -(-len(d.entries) // RECORDS_PAGE))
            self._records_page = min(self._records_page, pages - 1)
            start = self._records_page * RECORDS_PAGE
            rt.clear()
            for i in range(start, min(start + RECORDS_PAGE, len(d.entries))):
                rt.add_row(*record_cells(i, d.entries[i]))
            self.query_one("#diffs-records-box").set_class(True, "bulk")
            page_label.update(Text(f"records {start + 1}–{min(start + RECORDS_PAGE, len(d.entries))} of "
                                   f"{len(d.entries)} (page {self._records_page + 1}/{pages}, [ ] to page)",
                                   style="bold"))
        else:
            self.query_one("#diffs-records-box").set_class(False, "bulk")

    def action_records_page(self, step: int) -> None:
        if self._detail is None or not self._detail.record.is_bulk:
            return
        pages = max(1, -(-len(self._detail.entries) // RECORDS_PAGE))
        new = min(max(self._records_page + step, 0), pages - 1)
        if new != self._records_page:
            self._records_page = new
            self._render_detail()

    # ------------------------------------------------------------------ selection

    def action_select(self) -> None:
        rec = self._current()
        if rec is None:
            return
        key = (rec.id, rec.timestamp)
        self._selected.symmetric_difference_update({key})
        t = self.query_one("#diffs-list", DataTable)
        t.update_cell(f"{rec.id}@{rec.timestamp}", "sel",
                      Text("●" if key in self._selected else "", style="bold cyan"))
        self._render_status()

    def _targets(self, status: str) -> list:
        """Selected diffs of ``status`` (any tab), else the highlighted one."""
        if self._selected and self._queue is not None:
            out = [r for rs in self._queue.tabs.values() for r in rs
                   if (r.id, r.timestamp) in self._selected and r.display_status(self._svc.now()) == status]
            return sorted(out, key=lambda r: r.timestamp)
        rec = self._current()
        return [rec] if rec is not None and rec.display_status(self._svc.now()) == status else []

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("approve", "reject", "execute"):
            if self._svc is None or self._svc.read_only or self._busy:
                return None            # shown disabled in the footer
        return True

    def _who(self) -> str | None:
        if self._actor is None:
            if self._actor_error:
                self.notify(self._actor_error, title="Who are you?", severity="error", timeout=10)
            else:
                self.notify("still finding out who you are (AWS caller identity); try again in a moment",
                            title="Who are you?", severity="warning")
                self._resolve_actor(self._svc)
        return self._actor

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
        if who is None:
            return
        self._busy = True
        self.refresh_bindings()
        self.query_one("#diffs-status", Static).update(Text(f"dry run of {len(recs)} diff(s) …", style="bold"))
        self._dry_worker(self._svc, [Ref(r.id, r.timestamp) for r in recs], who)

    @work(thread=True, exit_on_error=False, group="diffs-action")
    def _dry_worker(self, svc, refs: list[Ref], who: str) -> None:
        runs = []
        for ref in refs:
            try:
                runs.append(svc.dry_run(ref, who))
            except Exception as exc:  # noqa: BLE001 - shown; a dead worker would leave the screen busy
                from ...core.zengin.executor import DryRun
                runs.append(DryRun(ref, None, None, None, error_text(exc)))
        self.post_message(self.DryRunsReady(runs))

    @on(DryRunsReady)
    def _dry_ready(self, msg: DryRunsReady) -> None:
        self._busy = False
        self.refresh_bindings()
        self._render_status()
        who = self._actor or "?"
        parts, problems, warnings, destructive = [], [], [], False
        for d in msg.runs:
            rec = d.record
            if self._svc.forbid_self_execution and rec is not None and rec.approvedBy == who:
                problems.append(f"{d.ref.id}: approved by you ({who}); the approver may not execute it")
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
        self._busy = True
        self.refresh_bindings()
        bar = self.query_one("#diffs-progress", ProgressBar)
        bar.add_class("running")
        bar.update(total=max(1, len(refs)), progress=0)
        self._action_worker(self._svc, action, refs, who, reason)

    @work(thread=True, exit_on_error=False, group="diffs-action")
    def _action_worker(self, svc, action: str, refs: list[Ref], who: str, reason: str | None) -> None:
        outs = []
        try:
            for i, ref in enumerate(refs):
                if action == "approve":
                    outs.append(svc.approve(ref, who))
                elif action == "reject":
                    outs.append(svc.reject(ref, who, reason or ""))
                else:
                    def progress(what: str, step: int, total: int, i=i) -> None:
                        self.post_message(self.Progress(f"{ref.id}: {what}", i * total + step, len(refs) * total))
                    outs.append(svc.execute(ref, who, progress=progress))
                self.post_message(self.Progress(f"{ref.id}: {outs[-1].outcome}", i + 1, len(refs)))
            self.post_message(self.ActionDone(action, outs, None))
        except BackendError as exc:
            self.post_message(self.ActionDone(action, outs, f"{exc.kind.value}: {exc.message}"))
        except Exception as exc:  # noqa: BLE001
            self.post_message(self.ActionDone(action, outs, f"{type(exc).__name__}: {exc}"))

    @on(Progress)
    def _progress(self, msg: Progress) -> None:
        bar = self.query_one("#diffs-progress", ProgressBar)
        bar.update(total=max(1, msg.total), progress=msg.step)

    @on(ActionDone)
    def _action_done(self, msg: ActionDone) -> None:
        self._busy = False
        self.refresh_bindings()
        self.query_one("#diffs-progress", ProgressBar).remove_class("running")
        for o in msg.outcomes:
            sev = "information" if o.outcome in ("ok", "skipped") else "error"
            self.notify(o.message[:400], title=f"{msg.action}: {o.outcome}", severity=sev, timeout=8)
        if msg.error:
            self.notify(msg.error, title=f"{msg.action} stopped", severity="error", timeout=10)
        done = {(o.ref.id, o.ref.timestamp) for o in msg.outcomes}
        self._selected -= done
        self._detail = None
        self._detail_ref = None
        self._load_queue()


SCREEN = DiffsScreen

__all__ = ["SCREEN", "DiffsScreen", "STATUS_STYLE"]
