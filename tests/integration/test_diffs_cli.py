"""`console diffs ...` end to end against real PostgreSQL and moto, including separate
processes: a crash between commit and the DynamoDB update, then reconcile; two executors
started together; generated diffs from two data sets applied in full."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from console.cli import main
from console.core.zengin import generator as gen
from console.core.zengin import workflow
from console.core.zengin.records import iso_utc

from .test_diffs_helpers import NOW, SOURCE, bank, branch, make_zen, ref, update

A, B = "approver-1", "executor-2"


def write_config(tmp_path, zen, operator: str | None = None, allow_declared: bool = True) -> str:
    z = zen.settings.zengin
    path = tmp_path / ("c.toml" if allow_declared else "strict.toml")
    path.write_text((f'operator = "{operator}"\n' if operator else "")
                    + ("[identity]\nallow_declared = true\n" if allow_declared else "")
                    + f'[postgres.{zen.pg.target.name}]\ndsn = "{zen.pg.target.dsn}"\nsystem = "zengin"\n'
                    + f'[zengin]\nenv = "{z.env}"\nendpoint_url = "{z.endpoint_url}"\ntarget = "{zen.pg.target.name}"\n')
    return str(path)


def run(cfg, *args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console.cli", "--config", cfg, *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture
def zen(stack, fresh_db):
    return make_zen(stack, fresh_db)


def test_list_show_approve_reject_execute_json(tmp_path, zen, capsys):
    cfg = write_config(tmp_path, zen)
    r1 = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    r2 = zen.put(update(branch("0001", "001", "東京営業部", "トウキヨウ"), branchName="東京"),
                 when=NOW + timedelta(seconds=1))
    bad = zen.put(update(bank("0005", "三菱ＵＦＪ", "ミツビシユ－エフジエイ"), bankKana="みつびし"),
                  when=NOW + timedelta(seconds=2))
    assert main(["--config", cfg, "diffs", "list", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["pending"] == 3 and [d["id"] for d in out["diffs"]] == [bad.id, r2.id, r1.id]
    assert [d["valid"] for d in out["diffs"]] == [False, True, True]
    assert main(["--config", cfg, "diffs", "show", r2.id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["codes"] == "0001-001" and shown["changes"]["branchName"]["new"] == "東京"

    assert main(["--config", cfg, "--as", A, "diffs", "approve", r1.id, r2.id, bad.id, "--json"]) == 1
    res = json.loads(capsys.readouterr().out)["results"]
    assert [r["outcome"] for r in res] == ["ok", "ok", "refused"]
    assert main(["--config", cfg, "diffs", "reject", bad.id, "--reason", "かなが不正", "--as", A]) == 0
    capsys.readouterr()
    # the approver cannot execute
    assert main(["--config", cfg, "--as", A, "diffs", "execute", r1.id]) == 1
    assert "forbid_self_execution" in capsys.readouterr().out
    assert main(["--config", cfg, "diffs", "execute", "--all-approved", "--dry-run", "--as", B]) == 0
    assert "would succeed" in capsys.readouterr().out
    assert main(["--config", cfg, "diffs", "execute", "--all-approved", "--as", B, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)["results"]
    assert [(r["id"], r["outcome"], r["status"]) for r in res] == [(r1.id, "ok", "completed"), (r2.id, "ok", "completed")]
    assert main(["--config", cfg, "diffs", "list", "--status", "completed", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["diffs"]) == 2
    assert main(["--config", cfg, "--read-only", "diffs", "approve", r1.id]) == 4
    assert "read-only" in capsys.readouterr().err


def test_identity_from_aws_caller(tmp_path, zen, capsys):
    cfg = write_config(tmp_path, zen)
    r1 = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    assert main(["--config", cfg, "diffs", "approve", r1.id]) == 0
    assert zen.get(r1).approvedBy.startswith("arn:aws:")
    # the configured operator wins over STS, --as over both
    cfg2 = write_config(tmp_path, zen, operator="dba-jane")
    r2 = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友2"), when=NOW + timedelta(seconds=1))
    r3 = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友3"), when=NOW + timedelta(seconds=2))
    assert main(["--config", cfg2, "diffs", "approve", r2.id]) == 0
    assert main(["--config", cfg2, "diffs", "approve", r3.id, "--as", "x"]) == 0
    assert (zen.get(r2).approvedBy, zen.get(r3).approvedBy) == ("dba-jane", "x")


def test_crash_after_commit_then_reconcile(tmp_path, zen):
    cfg = write_config(tmp_path, zen)
    rec = zen.put(update(branch("0001", "004", "丸の内中央", "マルノウチチユウオウ"), branchName="丸の内"),
                  status="approved", approvedBy=A)
    p = run(cfg, "--as", B, "diffs", "execute", rec.id, env={"CONSOLE_TEST_CRASH_AFTER_COMMIT": "77"})
    assert p.returncode == 77, p.stderr
    item = zen.get(rec)
    assert item.status == "executing" and item.executedBy == B
    assert len(zen.history(rec)) == 1 and zen.master().branches[("0001", "004")]["branchName"] == "丸の内"
    # executing cannot be executed again
    assert run(cfg, "--as", B, "diffs", "execute", rec.id).returncode == 1
    p = run(cfg, "--as", "ops", "diffs", "reconcile", "--json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert [(i["id"], i["after"]) for i in rep["items"]] == [(rec.id, "completed")]
    item = zen.get(rec)
    assert item.status == "completed" and item.executionResult["success"] is True
    assert item.executionResult["rowsAffected"] == 1 and item.executionResult["reconstructed"] is True
    assert len(zen.history(rec)) == 1
    # per diff: the crashed run's record (committed with the change) and the refusal; each
    # batch run also wrote its write-ahead intent first — the crashed one stays pending
    rows = zen.audit()
    per_diff = [(r["action"], r["outcome"]) for r in rows if r["action"] == "diffs.execute" and "id" in r["detail"]]
    assert per_diff == [("diffs.execute", "ok"), ("diffs.execute", "refused")]
    intents = [r["outcome"] for r in rows if r["action"] == "diffs.execute" and r["detail"].get("batch") is True]
    assert intents == ["pending", "refused"] and rows[-1]["action"] == "diffs.reconcile"


def test_reconcile_absent_claim_goes_back_to_approved_after_threshold(zen):
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"),
                  status="approved", approvedBy=A)
    # reconcile compares with the real clock: the claim is 5 minutes before *now*, not
    # before the module's import time
    claim = iso_utc(datetime.now(timezone.utc) - timedelta(minutes=5))
    workflow.transition(zen.dynamo, zen.get(rec), "approved", "executing", now=NOW,
                        sets={"executedBy": B, "executedAt": claim})
    rep = zen.svc.reconcile("ops")                                    # 15 min threshold: too young
    assert [i.after for i in rep.items] == ["executing"] and zen.get(rec).status == "executing"
    rep = zen.svc.reconcile("ops", threshold=timedelta(minutes=1))
    assert [i.after for i in rep.items] == ["approved"]
    item = zen.get(rec)
    assert item.status == "approved" and item.executedBy is None and item.approvedBy == A
    assert zen.svc.execute(ref(rec), B).outcome == "ok"
    assert len(zen.history(rec)) == 1
    assert len(zen.audit("diffs.reconcile")) == 2


def test_reconcile_leaves_a_running_transaction_alone(zen):
    from console.core.zengin.executor import APP_PREFIX

    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"),
                  status="approved", approvedBy=A)
    workflow.transition(zen.dynamo, zen.get(rec), "approved", "executing", now=NOW,
                        sets={"executedBy": B, "executedAt": iso_utc(NOW - timedelta(hours=1))})
    with zen.pg.connect(application_name=APP_PREFIX + rec.id):
        rep = zen.svc.reconcile("ops", threshold=timedelta(seconds=0))
    assert [i.after for i in rep.items] == ["executing"] and "still running" in rep.items[0].reason


def test_two_executors_apply_each_diff_once(tmp_path, zen):
    cfg = write_config(tmp_path, zen)
    recs = [zen.put(update(branch("0001", c, n, k), branchName=n + "新"), status="approved", approvedBy=A,
                    when=NOW + timedelta(milliseconds=i))
            for i, (c, n, k) in enumerate((("001", "東京営業部", "トウキヨウ"), ("004", "丸の内中央", "マルノウチチユウオウ"),
                                           ("005", "丸之内", "マルノウチ")))]
    recs.append(zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"), status="approved",
                        approvedBy=A, when=NOW + timedelta(milliseconds=5)))
    cmd = [sys.executable, "-m", "console.cli", "--config", cfg, "--as", B, "diffs", "execute", "--all-approved",
           "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    results = [r for o, _ in outs for r in json.loads(o)["results"]]
    ok = [r["id"] for r in results if r["outcome"] == "ok"]
    assert sorted(ok) == sorted(r.id for r in recs)                  # each exactly once
    assert all(r["outcome"] in ("ok", "skipped") for r in results)
    for r in recs:
        assert zen.get(r).status == "completed" and len(zen.history(r)) == 1
    rows = zen.audit("diffs.execute")
    assert len([r for r in rows if "id" in r["detail"]]) == len(results)       # one record per result
    assert len([r for r in rows if r["detail"].get("batch") is True]) == 2     # one intent per run
    assert zen.master().branches[("0001", "001")]["branchName"] == "東京営業部新"


def _changed(source):
    out = copy.deepcopy(source)
    out["0001"]["branches"]["001"]["name"] = "東京中央"
    out["0001"]["branches"]["001"]["kana"] = "トウキヨウチユウオウ"
    del out["0001"]["branches"]["005"]
    out["0001"]["branches"]["900"] = {"code": "900", "name": "駅前", "kana": "エキマエ"}
    out["0005"]["name"] = "三菱ＵＦＪ銀行"
    del out["0009"]
    out["0600"] = {"code": "0600", "name": "デモネット", "kana": "デモネツト",
                   "branches": {"001": {"code": "001", "name": "本店", "kana": "ホンテン"}}}
    return out


@pytest.mark.parametrize("bulk", [False, True])
def test_generated_diffs_applied_make_master_equal_newer_data_set(tmp_path, stack, fresh_db, capsys, bulk):
    zen = make_zen(stack, fresh_db)
    newer = _changed(SOURCE)
    src = tmp_path / "newer.json"
    src.write_text(json.dumps(newer, ensure_ascii=False))
    cfg = write_config(tmp_path, zen)
    if bulk:
        with open(cfg, "a") as f:
            f.write("bulk_threshold_bytes = 100\n")
    assert main(["--config", cfg, "--as", "gen", "diffs", "generate", "--source", str(src), "--dry-run"]) == 0
    assert "queue" in capsys.readouterr().out
    assert main(["--config", cfg, "--as", "gen", "diffs", "generate", "--source", str(src), "--json"]) == 0
    ids = json.loads(capsys.readouterr().out)["ids"]
    assert len(ids) == (1 if bulk else 7)
    assert main(["--config", cfg, "--as", A, "diffs", "approve", *ids]) == 0
    capsys.readouterr()
    assert main(["--config", cfg, "--as", B, "diffs", "execute", "--all-approved", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)["results"]
    assert all(r["outcome"] == "ok" for r in res), res
    assert zen.master() == gen.master_from_source(newer)
    # nothing left to generate
    assert main(["--config", cfg, "--as", "gen", "diffs", "generate", "--source", str(src), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ids"] == []
