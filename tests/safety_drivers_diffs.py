"""Drivers for the enumerating safety test: one successful run of each diffs action
against the real stack. ``fn(stack, fresh_db, settings_factory) -> (settings,
audit_backend)``; the audit rows land in ``console.audit_log`` of ``audit_backend`` (the
zengin target). ``settings_factory`` is accepted for the common signature and not needed:
each driver builds its own Settings (a fresh zengin database, a unique moto env)."""

from __future__ import annotations

from datetime import timedelta

from console.core.zengin import workflow
from console.core.zengin.records import iso_utc

from tests.integration.test_diffs_helpers import NOW, bank, make_zen, ref, update

APPROVER, EXECUTOR = "approver-1", "executor-2"


def _entry():
    return update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行")


def drive_approve(stack, fresh_db, settings_factory=None):
    zen = make_zen(stack, fresh_db)
    out = zen.svc.approve(ref(zen.put(_entry())), APPROVER)
    assert out.outcome == "ok", out.message
    return zen.settings, zen.pg


def drive_reject(stack, fresh_db, settings_factory=None):
    zen = make_zen(stack, fresh_db)
    out = zen.svc.reject(ref(zen.put(_entry())), APPROVER, "not confirmed")
    assert out.outcome == "ok", out.message
    return zen.settings, zen.pg


def drive_execute(stack, fresh_db, settings_factory=None):
    zen = make_zen(stack, fresh_db)
    rec = zen.put(_entry(), status="approved", approvedBy=APPROVER)
    out = zen.svc.execute(ref(rec), EXECUTOR)
    assert out.outcome == "ok", out.message
    return zen.settings, zen.pg


def drive_reconcile(stack, fresh_db, settings_factory=None):
    zen = make_zen(stack, fresh_db)
    rec = zen.put(_entry(), status="approved", approvedBy=APPROVER)
    workflow.transition(zen.dynamo, zen.get(rec), "approved", "executing", now=NOW,
                        sets={"executedBy": EXECUTOR, "executedAt": iso_utc(NOW - timedelta(hours=1))})
    rep = zen.svc.reconcile("ops")
    assert [i.after for i in rep.items] == ["approved"] and not rep.errors
    return zen.settings, zen.pg


def drive_generate(stack, fresh_db, settings_factory=None):
    from console.core.zengin import generator as gen
    from tests.integration.test_diffs_helpers import SOURCE

    zen = make_zen(stack, fresh_db)
    newer = {**SOURCE, "0009": {**SOURCE["0009"], "name": "三井住友銀行"}}
    _, result = gen.generate(zen.settings, zen.pg, zen.dynamo, zen.s3, newer, now=NOW, actor="gen")
    assert result is not None and len(result.ids) == 1
    return zen.settings, zen.pg


DRIVERS = {
    "diffs.approve": drive_approve,
    "diffs.reject": drive_reject,
    "diffs.execute": drive_execute,
    "diffs.reconcile": drive_reconcile,
    "diffs.generate": drive_generate,
}
