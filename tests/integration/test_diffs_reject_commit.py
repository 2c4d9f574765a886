"""Reject as ONE batch (one intent, conditional writes, one record per diff, one summary),
and a batch whose PostgreSQL COMMIT fails: every diff of the chunk is left in a stated,
recorded state — not applied, approved again with the reason on the item and a per-diff
audit record — and a second run applies each exactly once. Real PostgreSQL and moto."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from console.backends.base import BackendError
from console.cli import main

from .test_diffs_cli import write_config
from .test_diffs_helpers import NOW, bank, branch, make_zen, ref, set_row, update

A, B = "approver-1", "executor-2"


@pytest.fixture
def zen(stack, fresh_db):
    return make_zen(stack, fresh_db)


def test_reject_many_is_one_batch_with_one_record_per_diff(zen):
    r1 = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    bad = zen.put(update(bank("0005", "三菱ＵＦＪ", "ミツビシユ－エフジエイ"), bankKana="みつびし"),
                  when=NOW + timedelta(seconds=1))
    done = zen.put(update(branch("0001", "001", "東京営業部", "トウキヨウ"), branchName="東京"),
                   status="approved", approvedBy=A, when=NOW + timedelta(seconds=2))
    res = zen.svc.reject_many([ref(r1), ref(bad), ref(done)], A, "  名称未確認 ")
    assert res.counts() == {"ok": 2, "refused": 1}, res.summary()
    assert res.summary().startswith("reject: 2 ok, 1 refused")
    for rec in (r1, bad):       # an invalid diff can be rejected: that is what rejection is for
        item = zen.get(rec)
        assert (item.status, item.rejectedBy, item.rejectionReason) == ("rejected", A, "名称未確認")
    assert zen.get(done).status == "approved"
    rows = zen.audit("diffs.reject")
    intents = [r for r in rows if r["detail"].get("batch") is True and "id" not in r["detail"]]
    per_diff = sorted((r["detail"]["id"], r["outcome"]) for r in rows if "id" in r["detail"])
    assert [r["outcome"] for r in intents] == ["ok"]
    assert per_diff == sorted([(r1.id, "ok"), (bad.id, "ok"), (done.id, "refused")])
    # a second reject of the same diffs: refused each, nothing changes
    again = zen.svc.reject_many([ref(r1)], A, "again")
    assert again.counts() == {"refused": 1} and zen.get(r1).rejectionReason == "名称未確認"


def test_reject_without_a_reason_is_refused_as_a_whole(tmp_path, zen, capsys):
    r1 = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    with pytest.raises(BackendError, match="needs a reason"):
        zen.svc.reject_many([ref(r1)], A, "   ")
    assert zen.get(r1).status == "pending"
    assert [r["outcome"] for r in zen.audit("diffs.reject")] == ["refused"]
    cfg = write_config(tmp_path, zen)
    assert main(["--config", cfg, "--as", A, "diffs", "reject", r1.id, "--reason", " "]) == 4
    assert "needs a reason" in capsys.readouterr().err and zen.get(r1).status == "pending"
    assert main(["--config", cfg, "--as", A, "diffs", "reject", r1.id, "--reason", "重複", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"ok": 1} and out["summary"].startswith("reject: 1 ok")
    assert zen.get(r1).status == "rejected"


FAIL_AT_COMMIT = """
CREATE FUNCTION public.fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.branch_name = 'BOOM' THEN RAISE EXCEPTION 'deferred check: BOOM is not a branch name'; END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER fail_at_commit AFTER INSERT OR UPDATE ON public.branches
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.fail_at_commit();
"""


def test_a_failed_chunk_commit_leaves_every_diff_approved_with_its_reason_recorded(zen):
    """A deferred constraint fails at COMMIT, after every savepoint succeeded: nothing of the
    chunk is applied; each diff is approved again (not failed, not executing) with the
    reason on the item (waitsFor) and a per-diff ``failed`` audit record saying it was not
    applied. Once the cause is gone, one more run applies each exactly once."""
    recs = [zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"),
                    status="approved", approvedBy=A),
            zen.put(update(branch("0001", "001", "東京営業部", "トウキヨウ"), branchName="BOOM"),
                    status="approved", approvedBy=A, when=NOW + timedelta(seconds=1)),
            zen.put(update(branch("0001", "004", "丸の内中央", "マルノウチチユウオウ"), branchName="丸の内"),
                    status="approved", approvedBy=A, when=NOW + timedelta(seconds=2))]
    for stmt in FAIL_AT_COMMIT.split(";\nCREATE CONSTRAINT"):
        set_row(zen.pg, stmt if stmt.startswith("\nCREATE FUNCTION") else "CREATE CONSTRAINT" + stmt)
    before = zen.snapshot()
    res = zen.svc.execute_many([ref(r) for r in recs], B)
    assert res.counts() == {"waiting": 3}, res.summary()
    assert zen.snapshot() == before
    for r, o in zip(recs, sorted(res.outcomes, key=lambda o: o.ref.timestamp)):
        item = zen.get(r)
        assert item.status == "approved" and item.approvedBy == A and item.executedBy is None
        assert "did not commit" in item.extra["waitsFor"] and "BOOM" in item.extra["waitsFor"]
        assert zen.history(r) == []
        assert o.audit_id is not None and "did not commit" in o.message
    rows = zen.audit("diffs.execute")
    per_diff = {r["detail"]["id"]: r for r in rows if "id" in r["detail"]}
    assert sorted(per_diff) == sorted(r.id for r in recs)
    for r in per_diff.values():
        assert r["outcome"] == "failed" and r["detail"]["applied"] is False and r["detail"]["status"] == "approved"
        assert "BOOM" in r["detail"]["reason"]
    (intent,) = [r for r in rows if r["detail"].get("batch") is True and "id" not in r["detail"]]
    assert intent["outcome"] == "failed"

    set_row(zen.pg, "DROP TRIGGER fail_at_commit ON public.branches")
    res = zen.svc.execute_many([ref(r) for r in recs], B)
    assert res.counts() == {"ok": 3}, res.summary()
    for r in recs:
        assert zen.get(r).status == "completed" and len(zen.history(r)) == 1
        assert "waitsFor" not in zen.get(r).extra
    assert zen.master().branches[("0001", "001")]["branchName"] == "BOOM"
