"""The diff producer's pure part: source shape, comparison, planning (single items or one
bulk item), ids and timestamps."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest

from console.core.zengin import generator as gen
from console.core.zengin.records import DiffRecord, parse_bulk_document

NOW = datetime(2024, 1, 1, 9, 0, tzinfo=timezone.utc)

SOURCE = {
    "0001": {"code": "0001", "name": "みずほ", "kana": "ミズホ", "hira": "みずほ", "roma": "mizuho", "branches": {
        "001": {"code": "001", "name": "東京営業部", "kana": "トウキヨウ", "hira": "", "roma": ""},
        "004": {"code": "004", "name": "丸の内中央", "kana": "マルノウチチユウオウ", "hira": "", "roma": ""}}},
    "0005": {"code": "0005", "name": "三菱ＵＦＪ", "kana": "ミツビシユ－エフジエイ", "hira": "", "roma": "", "branches": {
        "001": {"code": "001", "name": "本店", "kana": "ホンテン", "hira": "", "roma": ""}}},
}


def master(source=SOURCE) -> gen.Master:
    return gen.master_from_source(source)


def changed(fn) -> dict:
    s = copy.deepcopy(SOURCE)
    fn(s)
    return s


def test_identical_data_gives_no_diff():
    assert gen.compare(master(), master()) == []


def test_payloads_follow_seed_003_names():
    m = master()
    assert m.banks["0001"] == {"bankCode": "0001", "bankName": "みずほ", "bankKana": "ミズホ"}
    assert m.branches[("0001", "004")] == {"bankCode": "0001", "bankName": "みずほ", "bankKana": "ミズホ",
                                           "branchCode": "004", "branchName": "丸の内中央",
                                           "branchKana": "マルノウチチユウオウ"}


def test_branch_rename_is_one_update_with_only_its_changes():
    incoming = master(changed(lambda s: s["0001"]["branches"]["004"].update(name="丸の内", kana="マルノウチ")))
    (e,) = gen.compare(incoming, master())
    assert (e.diffType, e.table, e.key) == ("update", "branches", ("0001", "004"))
    assert e.changes == {"branchName": {"old": "丸の内中央", "new": "丸の内"},
                         "branchKana": {"old": "マルノウチチユウオウ", "new": "マルノウチ"}}
    assert e.currentData["branchName"] == "丸の内中央" and e.zenginData["branchName"] == "丸の内"
    assert e.problems == ()


def test_bank_rename_does_not_repeat_on_its_branches():
    incoming = master(changed(lambda s: s["0001"].update(name="みずほ銀行")))
    (e,) = gen.compare(incoming, master())
    assert (e.diffType, e.table, e.changes) == ("update", "banks", {"bankName": {"old": "みずほ", "new": "みずほ銀行"}})


def test_kana_only_and_null_kana_changes():
    incoming = master(changed(lambda s: s["0005"]["branches"]["001"].update(kana=None)))
    (e,) = gen.compare(incoming, master())
    assert e.changes == {"branchKana": {"old": "ホンテン", "new": None}}


def test_additions_and_deletions_come_in_applicable_order():
    def change(s):
        s["0009"] = {"code": "0009", "name": "三井住友", "kana": "ミツイスミトモ",
                     "branches": {"100": {"code": "100", "name": "本店", "kana": "ホンテン"}}}
        del s["0005"]
        del s["0001"]["branches"]["001"]
        s["0001"]["branches"]["010"] = {"code": "010", "name": "新宿", "kana": "シンジユク"}
        s["0001"]["name"] = "みずほ銀行"
    got = [(e.diffType, e.table, e.key) for e in gen.compare(master(changed(change)), master())]
    assert got == [
        ("addition", "banks", ("0009", None)),
        ("update", "banks", ("0001", None)),
        ("addition", "branches", ("0001", "010")),
        ("addition", "branches", ("0009", "100")),
        ("deletion", "branches", ("0001", "001")),
        ("deletion", "branches", ("0005", "001")),
        ("deletion", "banks", ("0005", None)),
    ]
    entries = gen.compare(master(changed(change)), master())
    assert entries[0].currentData is None and entries[0].changes["bankName"] == {"old": None, "new": "三井住友"}
    assert entries[-1].zenginData is None and entries[-1].changes["bankKana"]["new"] is None
    assert all(e.problems == () for e in entries)


def test_master_from_rows_strips_char_padding_and_matches_the_source():
    banks = [{"bank_code": "0001", "bank_name": "みずほ", "bank_kana": "ミズホ"},
             {"bank_code": "0005", "bank_name": "三菱ＵＦＪ", "bank_kana": "ミツビシユ－エフジエイ"}]
    branches = [{"bank_code": "0001", "branch_code": "001", "branch_name": "東京営業部", "branch_kana": "トウキヨウ"},
                {"bank_code": "0001", "branch_code": "004", "branch_name": "丸の内中央", "branch_kana": "マルノウチチユウオウ"},
                {"bank_code": "0005", "branch_code": "001", "branch_name": "本店", "branch_kana": "ホンテン"}]
    assert gen.compare(master(), gen.master_from_rows(banks, branches)) == []
    padded = gen.master_from_rows([{"bank_code": "01  ", "bank_name": "x", "bank_kana": None}], [])
    assert list(padded.banks) == ["01"]


def test_source_shape_is_checked():
    gen.check_source(SOURCE)
    for bad, where in ((["x"], "object of banks"),
                       ({"0001": {"code": "0002", "name": "x"}}, "differs from its key"),
                       ({"0001": {"name": 1}}, "name must be a string"),
                       ({"0001": {"name": "x", "branches": []}}, "branches must be an object"),
                       ({"0001": {"name": "x", "branches": {"001": {"name": "y", "kana": 3}}}}, "kana must be a string")):
        with pytest.raises(gen.SourceError, match=where):
            gen.check_source(bad)


def test_source_file(tmp_path):
    p = tmp_path / "zengin.json"
    p.write_text(json.dumps(SOURCE, ensure_ascii=False), encoding="utf-8")
    assert gen.load_source_file(p) == SOURCE
    p.write_text("{", encoding="utf-8")
    with pytest.raises(gen.SourceError, match="not JSON"):
        gen.load_source_file(p)


def test_the_packaged_source_has_the_expected_shape():
    source, version = gen.load_zengin_code()
    gen.check_source(source)
    assert len(source) > 1000 and sum(len(b["branches"]) for b in source.values()) > 20000
    assert version


# --------------------------------------------------------------------------- planning


def many_renames(n: int) -> list:
    s = copy.deepcopy(SOURCE)
    for i in range(n):
        s["0001"]["branches"][f"{100 + i:03d}"] = {"code": f"{100 + i:03d}", "name": f"支店{i}", "kana": "シテン"}
    return gen.compare(master(s), master())


def test_small_runs_become_single_items():
    entries = many_renames(3)
    plan = gen.plan_diffs(entries, now=NOW, threshold_bytes=400 * 1024, metadata={"source": "t"})
    assert not plan.bulk and plan.item_count == 3
    built = gen.build_records(plan, ["diff-20240101-000007", "diff-20240101-000008", "diff-20240101-000009"], "b")
    recs = [r for r, key, doc in built]
    assert [r.id for r in recs] == ["diff-20240101-000007", "diff-20240101-000008", "diff-20240101-000009"]
    assert [r.timestamp for r in recs] == ["2024-01-01T09:00:00.000Z", "2024-01-01T09:00:00.001Z",
                                           "2024-01-01T09:00:00.002Z"]
    assert all(r.status == "pending" and r.ttl == int(NOW.timestamp()) + 90 * 86400 for r in recs)
    assert all(DiffRecord.from_item(r.to_item()) == r and r.problems == () for r in recs)
    assert all(key is None and doc is None for _r, key, doc in built)


def test_over_the_threshold_becomes_one_bulk_item():
    entries = many_renames(40)
    size = gen.plan_diffs(entries, now=NOW).size_bytes
    assert not gen.plan_diffs(entries, now=NOW, threshold_bytes=size).bulk      # "exceeds" is strict
    plan = gen.plan_diffs(entries, now=NOW, threshold_bytes=size - 1)
    assert plan.bulk and plan.item_count == 1
    [(rec, key, doc)] = gen.build_records(plan, ["diff-20240101-000001"], "dev-zengin-diff-data")
    assert rec.diffType == "bulk_update" and rec.zenginData is None
    assert key == "diffs/diff-20240101-000001.json"
    assert rec.dataLocation == "s3://dev-zengin-diff-data/diffs/diff-20240101-000001.json"
    assert rec.dataSize == len(doc) and abs(len(doc) - size) < 10
    assert rec.dataSummary["additions"] == 40 and rec.dataSummary["totalRecords"] == 40
    assert DiffRecord.from_item(rec.to_item()).problems == ()
    parsed = parse_bulk_document(doc, expected_id=rec.id, expected_summary=rec.dataSummary)
    assert parsed.problems == () and list(parsed.records) == entries


def test_empty_plan():
    plan = gen.plan_diffs([], now=NOW)
    assert not plan.bulk and plan.item_count == 0 and gen.build_records(plan, [], "b") == []


def test_ids_are_per_utc_day_and_six_digits():
    assert gen.diff_id("20240101", 1) == "diff-20240101-000001"
    assert gen.diff_id("20240101", 999_999) == "diff-20240101-999999"
    with pytest.raises(ValueError):
        gen.diff_id("20240101", 1_000_000)
    jst = timezone(timedelta(hours=9))
    assert gen.day_of(datetime(2024, 1, 1, 8, 0, tzinfo=jst)) == "20231231"


def test_preview_names_every_write_and_its_condition():
    entries = many_renames(40)
    single = gen.plan_diffs(entries, now=NOW).preview("zengin-data-diff-dev", "dev-zengin-diff-data")
    assert single.action == "diffs.generate" and "40 additions" in single.summary
    assert [s.call.split()[:2] for s in single.steps] == [["DynamoDB", "UpdateItem"], ["DynamoDB", "PutItem"]]
    assert single.steps[-1].lock == "attribute_not_exists(id)" and not any(s.destructive for s in single.steps)
    bulk = gen.plan_diffs(entries, now=NOW, threshold_bytes=100).preview("zengin-data-diff-dev", "dev-zengin-diff-data")
    assert "If-None-Match: *" in bulk.steps[1].call and "s3://dev-zengin-diff-data/diffs/" in bulk.steps[1].call
    assert not gen.plan_diffs([], now=NOW).preview("t", "b").steps[1:]
