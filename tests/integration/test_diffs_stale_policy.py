"""``[zengin] stale_approvals = "refuse"``: a STALE diff is never approved — the core
refuses the request (recorded), the CLI exits 4, the others still go without
--allow-stale. Against real PostgreSQL and moto."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from console.cli import main
from console.config import ConfigError, load as load_settings
from console.core.zengin import batch
from console.core.zengin.batch_approve import StaleApprovalRefused

from .test_diffs_cli import write_config
from .test_diffs_helpers import NOW, bank, branch, make_zen, ref, set_row, update

A = "approver-1"


@pytest.fixture
def zen(stack, fresh_db):
    return make_zen(stack, fresh_db)


def _stale_and_fresh(zen):
    stale = zen.put(update(branch("0001", "004", "丸の内中央", "マルノウチチユウオウ"), branchName="丸の内"))
    set_row(zen.pg, "UPDATE branches SET branch_kana = 'マルノウチ' WHERE bank_code = '0001' AND branch_code = '004'")
    fresh = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"),
                    when=NOW + timedelta(seconds=1))
    return stale, fresh


def refusing(tmp_path, zen) -> str:
    cfg = write_config(tmp_path, zen)
    with open(cfg, "a", encoding="utf-8") as f:
        f.write('stale_approvals = "refuse"\n')
    return cfg


def test_core_refuses_allow_stale_by_configuration_and_records_it(zen):
    stale, fresh = _stale_and_fresh(zen)
    z = dataclasses.replace(zen.settings.zengin, stale_approvals="refuse")
    settings = dataclasses.replace(zen.settings, zengin=z)
    before = len(zen.audit("diffs.approve"))
    with pytest.raises(StaleApprovalRefused) as exc:
        batch.approve_many(settings, zen.pg, zen.dynamo, zen.s3, [ref(stale), ref(fresh)], A, allow_stale=True)
    assert "stale_approvals" in exc.value.message
    assert zen.get(stale).status == "pending" and zen.get(fresh).status == "pending"
    rows = zen.audit("diffs.approve")[before:]
    assert [(r["outcome"], r["detail"].get("policy")) for r in rows] == [("refused", "zengin.stale_approvals")]
    # without allow_stale the fresh diff goes and the stale one is left out with its reason
    res = batch.approve_many(settings, zen.pg, zen.dynamo, zen.s3, [ref(stale), ref(fresh)], A)
    assert res.counts() == {"ok": 1, "refused": 1}
    assert zen.get(fresh).status == "approved" and zen.get(stale).status == "pending"
    # the default ("confirm") still approves it with the second confirmation
    res = batch.approve_many(zen.settings, zen.pg, zen.dynamo, zen.s3, [ref(stale)], A, allow_stale=True)
    assert res.counts() == {"ok": 1} and zen.get(stale).extra["staleAcknowledgedBy"] == A


def test_cli_exits_4_and_approves_nothing(tmp_path, zen, capsys):
    stale, fresh = _stale_and_fresh(zen)
    cfg = refusing(tmp_path, zen)
    assert main(["--config", cfg, "--as", A, "diffs", "approve", stale.id, fresh.id, "--allow-stale"]) == 4
    err = capsys.readouterr().err
    assert "refused" in err and "stale_approvals" in err
    assert zen.get(stale).status == "pending" and zen.get(fresh).status == "pending"
    assert main(["--config", cfg, "--as", A, "diffs", "approve", stale.id, fresh.id, "--json"]) == 1
    res = {r["id"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert res[stale.id]["outcome"] == "refused" and "STALE" in res[stale.id]["message"]
    assert res[fresh.id]["outcome"] == "ok" and zen.get(stale).status == "pending"


def test_config_accepts_only_confirm_or_refuse(tmp_path, zen):
    cfg = refusing(tmp_path, zen)
    assert load_settings(cfg, env={}).zengin.stale_approvals == "refuse"
    bad = tmp_path / "bad.toml"
    bad.write_text(open(cfg, encoding="utf-8").read().replace('"refuse"', '"ask"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="stale_approvals"):
        load_settings(str(bad), env={})
