"""The Diffs screen's one batch action over the selection: approve (``A``), execute
(``X``), reject (``R``) and reconcile (``C``).

Every action: the plan is read in a worker (core.zengin.batch: order, totals per type and
table, the diffs that will not go and why, excluded), shown with who acts
(:func:`console.core.identity.confirmation_note`), confirmed, then run in a worker with a
progress bar, and ends in ONE summary notification. Approving diffs whose live row differs
from the recorded one (STALE) needs a second, explicit confirmation, or is refused outright
under ``[zengin] stale_approvals = "refuse"`` (the preview says so; the others still go)."""

from __future__ import annotations

from typing import Any, Callable

from textual import work
from textual.message import Message
from textual.widgets import ProgressBar

from ...core import identity, text
from ...core.ports import DiffsPort
from ...core.zengin.batch import BatchPlan, BatchResult
from ...core.zengin.batch_approve import stale_refusal
from ...core.zengin.executor import DryRun
from ...core.zengin.reconcile import ReconcileReport
from ...core.zengin.records import DiffRecord
from ...core.zengin.workflow import Ref
from ..widgets.confirm import ConfirmModal
from ..widgets.diffs_queue import codes, names, plan_preview
from ..widgets.diffs_reason import ReasonPrompt

DRY_RUN_MAX = 20        # dry runs (rolled back) shown in the execute preview for up to this many diffs


class PlanReady(Message):
    def __init__(self, action: str, plan: BatchPlan | None, dry: list[DryRun], error: str | None,
                 reconcile: ReconcileReport | None = None) -> None:
        self.action, self.plan, self.dry, self.error, self.reconcile = action, plan, dry, error, reconcile
        super().__init__()


class BatchDone(Message):
    def __init__(self, action: str, summary: str, ok: bool, failures: list[str], done: set[tuple[str, str]]) -> None:
        self.action, self.summary, self.ok, self.failures, self.done = action, summary, ok, failures, done
        super().__init__()


class BatchProgress(Message):
    def __init__(self, step: int, total: int) -> None:
        self.step, self.total = step, total
        super().__init__()


class DiffsActions:
    """Mixed into :class:`console.ui.screens.diffs.DiffsScreen`."""

    svc: DiffsPort | None
    services: Any
    busy: bool
    actor: identity.Principal | None
    actor_error: str | None
    selected: set[tuple[str, str]]
    app: Any
    notify: Callable[..., Any]
    refresh_bindings: Callable[[], None]
    query_one: Callable[..., Any]
    post_message: Callable[..., Any]
    run_source: Callable[[str], None]

    def targets(self, status: str) -> list[DiffRecord]:      # the screen's
        raise NotImplementedError

    def set_busy(self, busy: bool) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ who

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "reject", "execute", "reconcile"):
            if self.svc is None or self.svc.read_only or self.busy:
                return None            # shown disabled in the footer
        return True

    def who(self) -> identity.Principal | None:
        if self.actor is None:
            if self.actor_error:
                self.notify(self.actor_error, title="Who are you?", severity="error", timeout=10)
            else:
                self.notify("still finding out who you are (AWS caller identity); try again in a moment",
                            title="Who are you?", severity="warning")
        return self.actor

    def _start(self, action: str, status: str) -> tuple[list[Ref], identity.Principal] | None:
        if self.svc is None or self.svc.read_only:
            return None
        recs = self.targets(status)
        if not recs:
            self.notify(f"Highlight or select {status} diffs to {action}.", severity="warning")
            return None
        who = self.who()
        if who is None:
            return None
        return [Ref(r.id, r.timestamp) for r in recs], who

    # ------------------------------------------------------------------ approve / execute

    def action_approve(self) -> None:
        got = self._start("approve", "pending")
        if got is not None and self.svc is not None:
            self.set_busy(True)
            self._plan_worker(self.svc, "approve", got[0], got[1])

    def action_execute(self) -> None:
        got = self._start("execute", "approved")
        if got is not None and self.svc is not None:
            self.set_busy(True)
            self._plan_worker(self.svc, "execute", got[0], got[1])

    def action_reconcile(self) -> None:
        if self.svc is None or self.svc.read_only:
            return
        if self.who() is None:
            return
        self.set_busy(True)
        self._plan_worker(self.svc, "reconcile", [], self.actor)

    @work(thread=True, exit_on_error=False, group="diffs-action")
    def _plan_worker(self, svc: DiffsPort, action: str, refs: list[Ref], who: Any) -> None:
        try:
            if action == "reconcile":
                self.post_message(PlanReady(action, None, [], None, svc.reconcile_preview()))
                return
            plan = svc.plan(action, refs, who)
            dry: list[DryRun] = []
            if action == "execute" and len(plan.items) <= DRY_RUN_MAX:
                for it in plan.items:
                    try:
                        dry.append(svc.dry_run(it.ref, who))
                    except Exception as exc:  # shown in the preview
                        dry.append(DryRun(it.ref, None, None, None, text.error_text(exc)))
            self.post_message(PlanReady(action, plan, dry, None))
        except Exception as exc:  # shown, never a traceback
            self.post_message(PlanReady(action, None, [], text.error_text(exc)))

    def on_plan_ready(self, msg: PlanReady) -> None:
        self.set_busy(False)
        who = self.actor
        note = identity.confirmation_note(who)
        if msg.error is not None:
            self.notify(msg.error, title=f"{msg.action}: could not plan", severity="error", timeout=10)
            return
        if msg.reconcile is not None:
            self._confirm_reconcile(msg.reconcile, note)
            return
        plan = msg.plan
        if plan is None or who is None:
            return
        preview = plan_preview(plan)
        for d in msg.dry:
            if d.error:
                preview += f"\n-- WILL FAIL, nothing applied, marked failed: {d.ref.id}: {d.error}"
            elif d.applied:
                per = "; ".join(f"{t}: " + ", ".join(f"{v} {k}" for k, v in c.items() if v)
                                for t, c in d.applied.per_table().items() if any(c.values()))
                preview += f"\n-- {d.ref.id}: dry run (rolled back): {per or 'no rows'}"
        if msg.action == "execute" and not msg.dry and plan.items:
            preview += f"\n(no per-diff dry run for more than {DRY_RUN_MAX} diffs)"
        go = [i.ref for i in plan.items]
        stale = [i.ref for i in plan.excluded if i.kind == "stale"]
        if stale and msg.action == "approve":
            policy = stale_refusal(self.services.settings)
            if policy:
                # [zengin] stale_approvals = "refuse": no second confirmation is offered.
                preview += f"\n\n{len(stale)} STALE diff(s) will NOT be approved: {policy}"
                stale = []
        refused = None
        if not go and not stale:
            refused = "Nothing would go:\n" + "\n".join(i.reason for i in plan.excluded[:10])
        verb = "Approve" if msg.action == "approve" else "Execute"
        title = f"{verb} {len(go)} diff(s)? {note}"

        def first(ok: bool | None) -> None:
            if not ok:
                return
            if stale and msg.action == "approve":
                self._confirm_stale(go, stale, who)
            elif go:
                self._run(msg.action, go, who)
        self.app.push_screen(ConfirmModal(title, f"{note}\n\n{preview}", confirm_label=verb,
                                          refused=refused), first)

    def _confirm_stale(self, go: list[Ref], stale: list[Ref], who: identity.Principal) -> None:
        ids = "\n".join(f"  {r.id}" for r in stale[:40]) + (f"\n  … {len(stale) - 40} more" if len(stale) > 40 else "")

        def second(ok: bool | None) -> None:
            if ok:
                self._run("approve", go + stale, who, allow_stale=True)
            elif go:
                self._run("approve", go, who)
        self.app.push_screen(ConfirmModal(
            f"Also approve {len(stale)} STALE diff(s)? {identity.confirmation_note(who)}",
            "Their live PostgreSQL row differs from the currentData they recorded; executed as they are they "
            f"will fail. Cancel approves only the {len(go)} other diff(s).\n\n{ids}",
            confirm_label="Approve stale too", type_to_confirm="stale"), second)

    # ------------------------------------------------------------------ reject

    def action_reject(self) -> None:
        got = self._start("reject", "pending")
        if got is None:
            return
        refs, who = got
        recs = self.targets("pending")

        def got_reason(reason: str | None) -> None:
            if not reason:
                return
            note = identity.confirmation_note(who)
            preview = (f"{note}\npending -> rejected, each a DynamoDB conditional write (status = pending), "
                       f"with the reason recorded on the diff and in the audit log.\n\nreason: {reason}\n\n"
                       + "\n".join(f"{r.id}  {r.diffType}  {codes(r)}  {names(r)}" for r in recs[:200]))

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self._run("reject", refs, who, reason=reason)
            self.app.push_screen(ConfirmModal(f"Reject {len(refs)} diff(s)? {note}", preview,
                                              confirm_label="Reject"), confirmed)
        self.app.push_screen(ReasonPrompt(", ".join(r.id for r in recs[:3]) + (" …" if len(recs) > 3 else "")),
                             got_reason)

    # ------------------------------------------------------------------ reconcile

    def _confirm_reconcile(self, report: ReconcileReport, note: str) -> None:
        lines = [f"{s.id}: {s.before} -> {s.after} ({s.reason})" for s in report.items]
        lines += [f"error: {e}" for e in report.errors]
        who = self.actor
        refused = None if report.items else "Nothing to reconcile: no diff is left in executing."

        def done(ok: bool | None) -> None:
            if ok and who is not None:
                self._run("reconcile", [], who)
        self.app.push_screen(ConfirmModal(f"Reconcile {len(report.items)} diff(s) left in executing? {note}",
                                          f"{note}\n\nfrom change_history (nothing applied again):\n"
                                          + ("\n".join(lines) or "(none)"),
                                          confirm_label="Reconcile", refused=refused), done)

    # ------------------------------------------------------------------ running

    def _run(self, action: str, refs: list[Ref], who: identity.Principal, *, allow_stale: bool = False,
             reason: str | None = None) -> None:
        if self.svc is None:
            return
        self.set_busy(True)
        bar = self.query_one("#diffs-progress", ProgressBar)
        bar.add_class("running")
        bar.update(total=max(1, len(refs)), progress=0)
        self._run_worker(self.svc, action, refs, who, allow_stale, reason)

    @work(thread=True, exit_on_error=False, group="diffs-action")
    def _run_worker(self, svc: DiffsPort, action: str, refs: list[Ref], who: identity.Principal,
                    allow_stale: bool, reason: str | None) -> None:
        def progress(_what: str, step: int, total: int) -> None:
            self.post_message(BatchProgress(step, total))
        try:
            if action == "reconcile":
                rep = svc.reconcile(who)
                fails = list(rep.errors) + ([f"audit: {rep.audit_error}"] if rep.audit_error else [])
                self.post_message(BatchDone(action, f"reconcile: {len(rep.items)} diff(s) settled", not fails,
                                            fails, set()))
                return
            res: BatchResult
            if action == "reject":
                res = svc.reject_many(refs, who, reason or "", progress=progress)
            elif action == "approve":
                res = svc.approve_many(refs, who, allow_stale=allow_stale, progress=progress)
            else:
                res = svc.execute_many(refs, who, progress=progress)
            fails = [o.message for o in res.outcomes if o.outcome not in ("ok", "skipped")]
            if res.audit_error:
                fails.insert(0, f"done, but its audit record could not be settled: {res.audit_error}")
            self.post_message(BatchDone(action, res.summary(), not fails, fails,
                                        {(o.ref.id, o.ref.timestamp or "") for o in res.outcomes}))
        except Exception as exc:  # shown, never a traceback
            self.post_message(BatchDone(action, f"{action} stopped: {text.error_text(exc)}", False, [], set()))

    def on_batch_progress(self, msg: BatchProgress) -> None:
        self.query_one("#diffs-progress", ProgressBar).update(total=max(1, msg.total), progress=msg.step)

    def on_batch_done(self, msg: BatchDone) -> None:
        self.set_busy(False)
        self.query_one("#diffs-progress", ProgressBar).remove_class("running")
        body = msg.summary
        if msg.failures:
            body += "\n" + "\n".join(text.cut(f, 160) for f in msg.failures[:5])
            if len(msg.failures) > 5:
                body += f"\n… {len(msg.failures) - 5} more (diffs list / the audit log)"
        self.notify(body, title=msg.action, severity="information" if msg.ok else "warning", timeout=10)
        self.selected -= msg.done
        self.run_source("queue")
