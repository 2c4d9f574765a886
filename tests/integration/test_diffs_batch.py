"""Batches against real PostgreSQL and moto: seed-format deletions, dependency order,
waiting diffs, one failing diff failing alone, STALE marks and orphan flags before
approval, the whole queue read lazily."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from console.cli import main
from console.core.zengin.records import DiffEntry, DiffRecord

from .test_diffs_cli import write_config
from .test_diffs_helpers import NOW, addition, bank, branch, deletion, make_zen, ref, set_row, update

A, B = "approver-1", "executor-2"


@pytest.fixture
def zen(stack, fresh_db):
    return make_zen(stack, fresh_db)


def seed_deletion(row: dict, *, with_current: bool = True) -> DiffEntry:
    """Seed 003's producer: a deletion carries zenginData (the row to delete)."""
    fields = ("branchName", "branchKana") if "branchCode" in row else ("bankName", "bankKana")
    return DiffEntry("deletion", dict(row), dict(row) if with_current else None,
                     {k: {"old": row[k], "new": None} for k in fields})


def test_seed_format_deletions_are_accepted_and_applied_by_their_codes(zen):
    mufg = bank("0005", "三菱ＵＦＪ", "ミツビシユ－エフジエイ")
    br = branch("0005", "001", "本店", "ホンテン", "三菱ＵＦＪ", "ミツビシユ－エフジエイ")
    # newest first in the queue: the bank deletion is newer than its branch's deletion
    d_bank = zen.put(seed_deletion(mufg, with_current=False), when=NOW + timedelta(seconds=2))
    d_branch = zen.put(seed_deletion(br), when=NOW + timedelta(seconds=1))
    for r in (d_bank, d_branch):
        assert not r.problems, r.problems
    res = zen.svc.approve_many(None, A)
    assert res.counts() == {"ok": 2}, res.as_dict()
    res = zen.svc.execute_many(None, B)
    assert res.counts() == {"ok": 2}, res.as_dict()
    m = zen.master()
    assert "0005" not in m.banks and ("0005", "001") not in m.branches
    assert [zen.get(r).status for r in (d_bank, d_branch)] == ["completed", "completed"]
    assert len(zen.history(d_bank)) == len(zen.history(d_branch)) == 1


def test_a_deletion_naming_no_row_is_refused_with_the_reason(zen):
    rec = DiffRecord.from_values({"id": "diff-20260101-000001", "timestamp": "2026-01-01T00:00:00.000Z",
                                  "status": "pending", "diffType": "deletion"})
    assert any("neither zenginData nor currentData" in p for p in rec.problems)
    rec = DiffRecord.from_values({"id": "diff-20260101-000001", "timestamp": "2026-01-01T00:00:00.000Z",
                                  "status": "pending", "diffType": "deletion",
                                  "zenginData": bank("0005", "x", None), "currentData": bank("0009", "y", None)})
    assert any("zenginData is row ('0005', None) but currentData is row ('0009', None)" in p for p in rec.problems)


def test_dependency_order_waits_and_a_failure_stays_alone(zen):
    new_bank = bank("0777", "テスト銀行", "テストギンコウ")
    new_branch = {**new_bank, "branchCode": "001", "branchName": "本店", "branchKana": "ホンテン"}
    mizuho = [branch("0001", c, n, k) for c, n, k in (("001", "東京営業部", "トウキヨウ"),
                                                       ("004", "丸の内中央", "マルノウチチユウオウ"),
                                                       ("005", "丸之内", "マルノウチ"))]
    # queued newest-first in exactly the wrong order: deletions of the bank before its branches,
    # the branch addition before its bank's addition
    t = iter(range(100, 0, -1))
    bank_del = zen.put(seed_deletion(bank("0001", "みずほ", "ミズホ")), status="approved", approvedBy=A,
                       when=NOW + timedelta(seconds=next(t)))
    br_dels = [zen.put(deletion(r), status="approved", approvedBy=A, when=NOW + timedelta(seconds=next(t)))
               for r in mizuho]
    br_add = zen.put(addition(new_branch), status="approved", approvedBy=A, when=NOW + timedelta(seconds=next(t)))
    bank_add = zen.put(addition(new_bank), status="approved", approvedBy=A, when=NOW + timedelta(seconds=next(t)))
    upd = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"), status="approved",
                  approvedBy=A, when=NOW + timedelta(seconds=next(t)))
    # one branch changed since its deletion was computed: that deletion is stale
    set_row(zen.pg, "UPDATE branches SET branch_name = '丸之内支店' WHERE bank_code = '0001' AND branch_code = '005'")

    p = zen.svc.plan("execute", None, B)
    assert [i.rec.id for i in p.items] == [upd.id, bank_add.id, br_add.id] + [r.id for r in reversed(br_dels)] + \
        [bank_del.id]
    res = zen.svc.execute_many(None, B)
    by_id = {o.ref.id: o for o in res.outcomes}
    assert by_id[br_dels[2].id].outcome == "failed" and "stale" in by_id[br_dels[2].id].message
    assert by_id[bank_del.id].outcome == "waiting"
    assert f"waits for diff {br_dels[2].id}" in by_id[bank_del.id].message
    assert all(by_id[r.id].outcome == "ok" for r in (bank_add, br_add, upd, br_dels[0], br_dels[1]))
    item = zen.get(bank_del)
    assert item.status == "approved" and item.executedBy is None and br_dels[2].id in item.extra["waitsFor"]
    assert zen.get(br_dels[2]).status == "failed"
    m = zen.master()
    assert ("0777", "001") in m.branches and m.banks["0009"]["bankName"] == "三井住友銀行"
    assert ("0001", "001") not in m.branches and ("0001", "005") in m.branches and "0001" in m.banks
    # each diff: one change_history row when applied, none when failed or waiting; its own audit record
    for r in (bank_add, br_add, upd, br_dels[0], br_dels[1]):
        assert len(zen.history(r)) == 1
    assert zen.history(br_dels[2]) == [] and zen.history(bank_del) == []
    audits = zen.audit("diffs.execute")
    per_diff = [a for a in audits if "id" in a["detail"]]
    assert sorted(a["outcome"] for a in per_diff) == ["failed"] + ["ok"] * 5 + ["refused"]
    assert {a["detail"]["id"] for a in per_diff} == {r.id for r in (bank_add, br_add, upd, bank_del, *br_dels)}
    # the batch's own write-ahead intent, written before anything changed, settled with the counts
    (intent,) = [a for a in audits if "id" not in a["detail"]]
    assert intent["id"] < min(a["id"] for a in per_diff) and intent["outcome"] == "failed"
    assert intent["detail"]["counts"] == {"ok": 5, "failed": 1, "waiting": 1}


def test_stale_needs_a_second_confirmation_and_orphans_are_flagged(tmp_path, zen, capsys):
    cfg = write_config(tmp_path, zen)
    stale = zen.put(update(branch("0001", "004", "丸の内中央", "マルノウチチユウオウ"), branchName="丸の内"))
    set_row(zen.pg, "UPDATE branches SET branch_kana = 'マルノウチ' WHERE bank_code = '0001' AND branch_code = '004'")
    orphan = zen.put(deletion(bank("0001", "みずほ", "ミズホ")), when=NOW + timedelta(seconds=1))
    assert main(["--config", cfg, "diffs", "list", "--json"]) == 0
    rows = {d["id"]: d for d in json.loads(capsys.readouterr().out)["diffs"]}
    assert any("would orphan 3 branch(es)" in p for p in rows[orphan.id]["problems"])
    assert main(["--config", cfg, "diffs", "show", stale.id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["live"]["stale"] and "マルノウチ" in shown["live"]["reasons"][0]
    assert main(["--config", cfg, "--as", A, "diffs", "approve", stale.id, orphan.id, "--json"]) == 1
    res = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert res[stale.id]["outcome"] == "refused" and "STALE" in res[stale.id]["message"]
    assert res[orphan.id]["outcome"] == "refused" and "orphan 3 branch" in res[orphan.id]["message"]
    assert zen.get(stale).status == "pending" and zen.get(orphan).status == "pending"
    assert main(["--config", cfg, "--as", A, "diffs", "approve", stale.id, "--dry-run"]) == 1
    assert "WOULD FAIL" in capsys.readouterr().out and zen.get(stale).status == "pending"
    assert main(["--config", cfg, "--as", A, "diffs", "approve", stale.id, "--allow-stale"]) == 0
    item = zen.get(stale)
    assert item.status == "approved" and item.extra["staleAcknowledgedBy"] == A


def test_the_whole_queue_is_listed_and_counted(tmp_path, zen, capsys):
    cfg = write_config(tmp_path, zen)
    rows = [branch("0001", f"{100 + i:03d}", f"支店{i}", "シテン") for i in range(25)]
    for i, r in enumerate(rows):
        zen.put(addition(r), when=NOW + timedelta(milliseconds=i))
    assert main(["--config", cfg, "diffs", "list", "--status", "pending", "--limit", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["pending"] == 25 and len(out["diffs"]) == 10 and out["more"] == {"pending": True}
    assert main(["--config", cfg, "diffs", "list", "--status", "pending", "--limit", "10"]) == 0
    assert "showing 10 of 25 — more exist" in capsys.readouterr().out
    assert main(["--config", cfg, "diffs", "list", "--status", "pending", "--all", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["diffs"]) == 25 and out["more"] == {}
    assert [d["timestamp"] for d in out["diffs"]] == sorted((d["timestamp"] for d in out["diffs"]), reverse=True)
    from console.core.zengin import queue
    f = queue.Filter(code="0001-10", types=frozenset({"addition"}))
    assert sum(1 for r in queue.iter_status(zen.dynamo, "pending", page=7) if f.matches(r)) == 10


def test_batch_of_one_keeps_exactly_once_on_replay(zen):
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"), status="approved",
                  approvedBy=A)
    zen.pg.execute("INSERT INTO change_history (diff_id, diff_timestamp, operation_type, table_name) "
                   "VALUES (%s, %s, 'update', 'banks')", (rec.id, rec.timestamp))
    res = zen.svc.execute_many([ref(rec)], B)
    (o,) = res.outcomes
    assert o.outcome == "ok" and "not applied again" in o.message
    assert zen.master().banks["0009"]["bankName"] == "三井住友"        # not applied a second time
    assert zen.get(rec).executionResult["reconstructed"] is True and len(zen.history(rec)) == 1
