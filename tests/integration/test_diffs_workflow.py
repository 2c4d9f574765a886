"""The status machine and the executor against real PostgreSQL and moto: every
transition, every refusal, single and bulk diffs, stale and failing diffs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.backends.base import ReadOnlyError
from console.core.zengin import executor, workflow
from console.core.zengin.records import DiffEntry

from .test_diffs_helpers import (NOW, addition, bank, branch, deletion, make_zen, ref, update)

A, B = "approver-1", "executor-2"


@pytest.fixture
def zen(stack, fresh_db):
    return make_zen(stack, fresh_db)


def approve_ok(zen, rec, who=A):
    out = zen.svc.approve(ref(rec), who)
    assert out.outcome == "ok", out.message
    return out


# --------------------------------------------------------------------------- transitions


def test_approve_then_execute_branch_update(zen):
    rec = zen.put(update(branch("0001", "001", "東京営業部", "トウキヨウ"), branchName="東京中央",
                         branchKana="トウキヨウチユウオウ"))
    out = approve_ok(zen, rec)
    assert out.record.status == "approved" and out.record.approvedBy == A and out.record.approvedAt
    done = zen.svc.execute(ref(rec), B)
    assert done.outcome == "ok", done.message
    item = zen.get(rec)
    assert item.status == "completed" and item.executedBy == B and item.executedAt
    assert item.executionResult["success"] is True and item.executionResult["rowsAffected"] == 1
    assert isinstance(item.executionResult["executionTime"], int)
    assert zen.master().branches[("0001", "001")]["branchName"] == "東京中央"
    (h,) = zen.history(rec)
    assert h["executed_by"] == B and h["rows_affected"] == 1 and h["table_name"] == "branches"
    assert h["record_id"] == "0001-001" and h["old_values"]["branchName"] == "東京営業部"
    assert h["new_values"]["branchName"] == "東京中央" and h["diff_timestamp"] == rec.timestamp
    acts = [(r["action"], r["outcome"]) for r in zen.audit()]
    assert acts == [("diffs.approve", "ok"), ("diffs.execute", "ok")]
    # executing twice: refused, nothing applied again
    again = zen.svc.execute(ref(rec), B)
    assert again.outcome == "refused" and "completed" in again.message
    assert len(zen.history(rec)) == 1


def test_reject_needs_reason_and_pending(zen):
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友ＢＫ"))
    assert zen.svc.reject(ref(rec), A, "  ").outcome == "refused"
    out = zen.svc.reject(ref(rec), A, "名称未確認")
    assert out.outcome == "ok"
    item = zen.get(rec)
    assert (item.status, item.rejectedBy, item.rejectionReason) == ("rejected", A, "名称未確認")
    assert zen.svc.approve(ref(rec), A).outcome == "refused"
    assert zen.svc.reject(ref(rec), A, "again").outcome == "refused"
    assert zen.svc.execute(ref(rec), B).outcome == "refused"
    outcomes = [(r["action"], r["outcome"]) for r in zen.audit()]
    assert outcomes == [("diffs.reject", "refused"), ("diffs.reject", "ok"), ("diffs.approve", "refused"),
                        ("diffs.reject", "refused"), ("diffs.execute", "refused")]


def test_refusals_wrong_status_expired_invalid_self(zen):
    pending = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    out = zen.svc.execute(ref(pending), B)
    assert out.outcome == "refused" and "only an approved" in out.message

    expired = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="古い"), when=NOW - timedelta(days=91))
    out = zen.svc.approve(ref(expired), A)
    assert out.outcome == "refused" and "expired" in out.message
    assert zen.get(expired).status == "pending"
    expired_approved = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="古い2"),
                               when=NOW - timedelta(days=91), status="approved", approvedBy=A)
    out = zen.svc.execute(ref(expired_approved), B)
    assert out.outcome == "refused" and "expired" in out.message

    bad = {"bankCode": "12345", "bankName": "デモ", "bankKana": "でも"}
    invalid = zen.put(DiffEntry("addition", bad, None, {"bankName": {"old": None, "new": "デモ"},
                                                         "bankKana": {"old": None, "new": "でも"}}))
    out = zen.svc.approve(ref(invalid), A)
    assert out.outcome == "refused" and "4 digits" in out.message and "katakana" in out.message
    planted = zen.put(DiffEntry("addition", bad, None, {}), status="approved", approvedBy=A)
    out = zen.svc.execute(ref(planted), B)
    assert out.outcome == "refused" and "invalid" in out.message
    assert zen.get(planted).status == "approved"

    mine = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    approve_ok(zen, mine)
    out = zen.svc.execute(ref(mine), A)
    assert out.outcome == "refused" and "forbid_self_execution" in out.message
    assert zen.get(mine).status == "approved"
    assert zen.master().banks["0009"]["bankName"] == "三井住友"
    assert zen.pg.fetch("SELECT count(*) AS n FROM change_history")[0]["n"] == 0


def test_self_execution_allowed_when_configured(stack, fresh_db):
    zen = make_zen(stack, fresh_db, forbid_self=False)
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    approve_ok(zen, rec)
    assert zen.svc.execute(ref(rec), A).outcome == "ok"


def test_read_only_refused_at_the_core(stack, fresh_db):
    zen = make_zen(stack, fresh_db, read_only=True)
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    for call in (lambda: zen.svc.approve(ref(rec), A), lambda: zen.svc.reject(ref(rec), A, "x"),
                 lambda: zen.svc.execute(ref(rec), B), lambda: zen.svc.reconcile(A)):
        with pytest.raises(ReadOnlyError):
            call()
    assert zen.get(rec).status == "pending"
    assert {r["outcome"] for r in zen.audit()} == {"refused"} and len(zen.audit()) == 4
    # a dry run changes nothing and stays allowed
    assert zen.svc.dry_run(ref(rec)).ok


def test_conditional_write_two_approvers(zen):
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    stale_view = zen.get(rec)
    approve_ok(zen, rec, "a1")
    with pytest.raises(workflow.Refused, match="changed meanwhile"):
        workflow.transition(zen.dynamo, stale_view, "pending", "approved", now=NOW,
                            sets={"approvedBy": "a2"})
    assert zen.get(rec).approvedBy == "a1"


def test_stale_gsi_detail_rereads_by_key(zen, monkeypatch):
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    listed = zen.svc.queue().tabs["pending"]
    approve_ok(zen, rec)
    real = workflow.query_status

    def stale_query(dynamo, status, **kw):          # the GSI still shows the old item
        if status == "pending":
            return listed, None
        return real(dynamo, status, **kw)
    monkeypatch.setattr(workflow, "query_status", stale_query)
    q = zen.svc.queue()
    assert [r.id for r in q.tabs["pending"]] == [rec.id]       # outdated list ...
    assert zen.svc.detail(ref(rec)).record.status == "approved"  # ... the detail is not
    out = zen.svc.approve(ref(rec), "a2")                       # acting on it is refused
    assert out.outcome == "refused" and "approved" in out.message


# --------------------------------------------------------------------------- rows


def test_bank_and_branch_additions_updates_deletions(zen):
    m0 = zen.master()
    diffs = [
        addition(bank("0600", "デモネット", "デモネツト")),
        addition(branch("0600", "001", "本店", "ホンテン", "デモネット", "デモネツト")),
        update(bank("0005", "三菱ＵＦＪ", "ミツビシユ－エフジエイ"), bankName="三菱ＵＦＪ銀行"),
        deletion(branch("0001", "005", "丸之内", "マルノウチ")),
        addition(branch("0001", "700", "駅前", "エキマエ")),
        deletion(bank("0009", "三井住友", "ミツイスミトモ")),
    ]
    recs = [zen.put(d, when=NOW + timedelta(milliseconds=i)) for i, d in enumerate(diffs)]
    for r in recs:
        approve_ok(zen, r)
        out = zen.svc.execute(ref(r), B)
        assert out.outcome == "ok", out.message
    m = zen.master()
    assert m.banks["0600"]["bankName"] == "デモネット" and ("0600", "001") in m.branches
    assert m.banks["0005"]["bankName"] == "三菱ＵＦＪ銀行"
    assert ("0001", "005") not in m.branches and m.branches[("0001", "700")]["branchName"] == "駅前"
    assert "0009" not in m.banks and len(m0.banks) == len(m.banks)
    assert zen.pg.fetch("SELECT count(*) AS n FROM change_history")[0]["n"] == 6


def test_bank_field_inside_branch_record_updates_banks(zen):
    old = branch("0001", "004", "丸の内中央", "マルノウチチユウオウ")
    e = DiffEntry("update", {**old, "bankName": "みずほ銀行", "branchName": "丸の内"}, old,
                  {"bankName": {"old": "みずほ", "new": "みずほ銀行"}, "branchName": {"old": "丸の内中央", "new": "丸の内"}})
    rec = zen.put(e)
    approve_ok(zen, rec)
    out = zen.svc.execute(ref(rec), B)
    assert out.outcome == "ok" and out.record.executionResult["rowsAffected"] == 2
    m = zen.master()
    assert m.banks["0001"]["bankName"] == "みずほ銀行" and m.branches[("0001", "004")]["branchName"] == "丸の内"


def test_stale_current_data_fails_with_nothing_changed(zen):
    rec = zen.put(update(branch("0001", "001", "東京営業部", "トウキヨウ"), branchName="東京中央"))
    approve_ok(zen, rec)
    zen.pg.execute("UPDATE branches SET branch_name = '誰かが変えた' WHERE bank_code = '0001' AND branch_code = '001'")
    before = zen.snapshot()
    out = zen.svc.execute(ref(rec), B)
    assert out.outcome == "failed" and "stale" in out.message and "branches:0001-001" in out.message
    item = zen.get(rec)
    assert item.status == "failed" and item.executionResult["success"] is False
    assert "stale" in item.executionResult["error"]
    assert zen.snapshot() == before
    assert [r["outcome"] for r in zen.audit("diffs.execute")] == ["failed"]


def test_bulk_from_s3_one_transaction(zen):
    entries = [update(branch("0001", c, n, k), branchName=n + "支店", branchKana=k + "シテン")
               for c, n, k in (("001", "東京営業部", "トウキヨウ"), ("004", "丸の内中央", "マルノウチチユウオウ"))]
    entries += [addition(branch("0001", f"{600 + i}", f"新{i}", "シン")) for i in range(20)]
    entries += [deletion(branch("0001", "005", "丸之内", "マルノウチ"))]
    rec = zen.put_bulk(entries)
    assert rec.diffType == "bulk_update" and rec.dataLocation.startswith("s3://")
    d = zen.svc.detail(ref(rec))
    assert d.validation.ok, d.validation.problems
    assert len(d.entries) == 23
    dry = zen.svc.dry_run(ref(rec))
    assert dry.ok and dry.applied.per_table()["branches"] == {"upsert": 20, "update": 2, "delete": 1}
    assert "UPDATE" in dry.plan.text() and "COPY" in dry.plan.text()
    assert zen.pg.fetch("SELECT count(*) AS n FROM change_history")[0]["n"] == 0      # rolled back
    approve_ok(zen, rec)
    out = zen.svc.execute(ref(rec), B)
    assert out.outcome == "ok", out.message
    assert out.record.executionResult["rowsAffected"] == 23
    m = zen.master()
    assert m.branches[("0001", "001")]["branchName"] == "東京営業部支店" and ("0001", "005") not in m.branches
    assert sum(1 for k in m.branches if k[0] == "0001") == 2 + 20
    (h,) = zen.history(rec)
    assert h["table_name"] == "branches" and h["new_values"]["records"] == 23 and len(h["new_values"]["rows"]) == 23


def test_bulk_error_in_record_n_leaves_postgres_untouched(zen):
    entries = [update(branch("0001", "001", "東京営業部", "トウキヨウ"), branchName="東京")]
    entries += [addition(branch("0001", f"{600 + i}", f"新{i}", "シン")) for i in range(10)]
    entries.insert(7, addition(branch("0777", "001", "幽霊", "ユウレイ", "無い銀行", "ナイ")))   # no bank 0777
    rec = zen.put_bulk(entries, status="approved", approvedBy=A)
    before = zen.snapshot()
    out = zen.svc.execute(ref(rec), B)
    assert out.outcome == "failed" and "foreign key" in out.message
    assert zen.get(rec).status == "failed"
    assert zen.snapshot() == before


def test_bulk_stale_lists_keys(zen):
    entries = [update(branch("0001", c, n, k), branchName=n + "X") for c, n, k in
               (("001", "東京営業部", "トウキヨウ"), ("004", "丸の内中央", "マルノウチチユウオウ"), ("005", "丸之内", "マルノウチ"))]
    rec = zen.put_bulk(entries, status="approved", approvedBy=A)
    zen.pg.execute("UPDATE branches SET branch_kana = 'ベツ' WHERE branch_code IN ('004', '005')")
    dry = zen.svc.dry_run(ref(rec))
    assert not dry.ok and dry.applied.stale_count == 2 and dry.applied.stale_keys == ["branches:0001-004",
                                                                                      "branches:0001-005"]
    before = zen.snapshot()
    out = zen.svc.execute(ref(rec), B)
    assert out.outcome == "failed" and out.detail["stale_keys"] == ["branches:0001-004", "branches:0001-005"]
    assert zen.snapshot() == before


def test_bulk_document_problems_make_it_invalid(zen):
    rec = zen.put_bulk([update(branch("0001", "001", "東京営業部", "トウキヨウ"), branchName="東京")])
    key = rec.s3_location[1]
    zen.s3.put_bytes(key, b'{"format": "zengin-diff-bulk/1", "records": "nope"}')
    d = zen.svc.detail(ref(rec))
    assert not d.validation.ok and any("records is not a list" in p for p in d.validation.problems)
    assert zen.svc.approve(ref(rec), A).outcome == "refused"
    zen.s3.call("delete_object", Bucket=zen.s3.bucket, Key=key)
    d = zen.svc.detail(ref(rec))
    assert any("cannot be read" in p for p in d.validation.problems)


def test_already_applied_is_never_applied_twice(zen):
    """change_history holds the diff (reconcile put it back too early): no second apply."""
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    approve_ok(zen, rec)
    assert zen.svc.execute(ref(rec), B).outcome == "ok"
    item = zen.get(rec)
    workflow.transition(zen.dynamo, item, "completed", "approved", now=NOW, require_live_ttl=False)
    zen.pg.execute("UPDATE banks SET bank_name = '三井住友' WHERE bank_code = '0009'")
    out = zen.svc.execute(ref(rec), B)
    assert out.outcome == "refused" and out.detail.get("already_applied")
    assert zen.get(rec).status == "completed"
    assert zen.master().banks["0009"]["bankName"] == "三井住友"      # not applied again
    assert len(zen.history(rec)) == 1


def test_dry_run_plan_has_statements_and_counts(zen):
    rec = zen.put(update(branch("0001", "001", "東京営業部", "トウキヨウ"), branchName="東京中央"))
    dry = zen.svc.dry_run(ref(rec))
    assert dry.ok and dry.applied.per_table() == {"branches": {"upsert": 0, "update": 1, "delete": 0},
                                                  "change_history": {"insert": 1}}
    text = dry.plan.text()
    assert 'INSERT INTO "public"."change_history"' in text and 'UPDATE "public"."branches"' in text
    assert "1 row(s) would change" in text
    assert zen.master().branches[("0001", "001")]["branchName"] == "東京営業部"
    assert zen.get(rec).status == "pending" and zen.audit() == []


def test_queue_tabs_and_pagination(zen):
    for i in range(7):
        zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName=f"名{i}"), when=NOW + timedelta(seconds=i))
    zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="古"), when=NOW - timedelta(days=95))
    q = workflow.load_queue(zen.dynamo, NOW + timedelta(minutes=1), page=3)
    pend = q.tabs["pending"]
    assert len(pend) == 7 and [r.timestamp for r in pend] == sorted((r.timestamp for r in pend), reverse=True)
    assert len(q.tabs["expired"]) == 1 and q.counts()["expired"] == 1
    page, nxt = workflow.query_status(zen.dynamo, "pending", limit=3)
    assert len(page) == 3 and nxt is not None
    q = workflow.load_queue(zen.dynamo, NOW, page=2, cap=4)
    assert q.capped["pending"] and len(q.tabs["pending"]) == 4


def test_execute_all_refs_and_history_row(zen):
    r1 = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    approve_ok(zen, r1)
    out = executor.execute_many(zen.settings, zen.pg, zen.dynamo, zen.s3, [ref(r1)], B)
    assert out[0].ok
    d = zen.svc.detail(ref(r1))
    assert d.history["executed_by"] == B and d.history["rows_affected"] == 1


def test_reconcile_dry_run_changes_nothing(stack, fresh_db):
    from datetime import timedelta

    from console.core.zengin import workflow as wf
    from console.core.zengin.records import iso_utc
    from tests.integration.test_diffs_helpers import NOW, bank, make_zen, update

    zen = make_zen(stack, fresh_db, read_only=True)
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"),
                  status="approved", approvedBy="approver-1")
    wf.transition(zen.dynamo, zen.get(rec), "approved", "executing", now=NOW,
                  sets={"executedBy": "crashed", "executedAt": iso_utc(NOW - timedelta(hours=1))})
    rep = zen.svc.reconcile("ops", dry_run=True)        # a preview is allowed read-only
    assert [(i.id, i.after) for i in rep.items] == [(rec.id, "approved")]
    assert zen.get(rec).status == "executing" and zen.audit("diffs.reconcile") == []


def test_no_audit_target_means_no_status_change(stack, fresh_db):
    """approve / reject / execute with nowhere to write the audit record are refused before
    DynamoDB is touched."""
    import pytest

    from console.backends.base import BackendError, ErrorKind
    from tests.integration.test_diffs_helpers import bank, make_zen, update

    zen = make_zen(stack, fresh_db)
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    for call in (lambda: workflow.approve(zen.settings, zen.dynamo, zen.s3, None, ref(rec), "a1"),
                 lambda: workflow.reject(zen.settings, zen.dynamo, zen.s3, None, ref(rec), "a1", "why")):
        with pytest.raises(BackendError) as info:
            call()
        assert info.value.kind is ErrorKind.REFUSED and "audit" in info.value.message
    assert zen.get(rec).status == "pending"
