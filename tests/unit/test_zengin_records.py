"""The diff record model: seed 003's items read as they are, round trips through boto3's
serializer, and a reader that never raises on a malformed item or bulk document."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.core.zengin.records import (BULK_FORMAT, DiffEntry, DiffRecord, build_bulk_document,
                                         iso_utc, parse_bulk_document, parse_iso, summarize)

# Seed 003's two example items, verbatim.
SEED_ITEM = {
    "id": {"S": "diff-20240101-001"},
    "timestamp": {"S": "2024-01-01T09:00:00.000Z"},
    "status": {"S": "pending"},
    "diffType": {"S": "addition"},
    "zenginData": {"M": {"bankCode": {"S": "0001"}, "bankName": {"S": "みずほ銀行"}, "branchCode": {"S": "001"},
                         "branchName": {"S": "本店"}, "bankKana": {"S": "ミズホ"}, "branchKana": {"S": "ホンテン"}}},
    "currentData": {"M": {"bankCode": {"S": "0001"}, "bankName": {"S": "みずほ銀行"}, "branchCode": {"S": "001"},
                          "branchName": {"S": "本店営業部"}, "bankKana": {"S": "ミズホ"},
                          "branchKana": {"S": "ホンテンエイギョウブ"}}},
    "changes": {"M": {"branchName": {"M": {"old": {"S": "本店営業部"}, "new": {"S": "本店"}}}}},
    "approvedBy": {"S": "user@example.com"},
    "approvedAt": {"S": "2024-01-01T10:30:00.000Z"},
    "executedAt": {"S": "2024-01-01T23:00:00.000Z"},
    "executionResult": {"M": {"success": {"BOOL": True}, "rowsAffected": {"N": "1"}, "executionTime": {"N": "250"}}},
    "metadata": {"M": {"source": {"S": "zengin-api"}, "sourceVersion": {"S": "2024.01"},
                       "processingNode": {"S": "lambda-001"}}},
    "ttl": {"N": "1712188800"},
}
SEED_BULK_ITEM = {
    "id": {"S": "diff-20240101-002"},
    "timestamp": {"S": "2024-01-01T09:01:00.000Z"},
    "status": {"S": "pending"},
    "diffType": {"S": "bulk_update"},
    "dataLocation": {"S": "s3://dev-zengin-diff-data/diffs/diff-20240101-002.json"},
    "dataSize": {"N": "524288"},
    "dataSummary": {"M": {"totalRecords": {"N": "150"}, "additions": {"N": "50"}, "updates": {"N": "80"},
                          "deletions": {"N": "20"}}},
    "ttl": {"N": "1712188800"},
}

BANK = {"bankCode": "0001", "bankName": "みずほ", "bankKana": "ミズホ"}
BRANCH_OLD = {**BANK, "branchCode": "001", "branchName": "東京営業部", "branchKana": "トウキヨウ"}
BRANCH_NEW = {**BRANCH_OLD, "branchName": "東京中央", "branchKana": "トウキヨウチユウオウ"}


def update_record(**kw) -> DiffRecord:
    base = dict(id="diff-20240101-000001", timestamp="2024-01-01T09:00:00.000Z", status="pending",
                diffType="update", zenginData=BRANCH_NEW, currentData=BRANCH_OLD,
                changes={"branchName": {"old": "東京営業部", "new": "東京中央"},
                         "branchKana": {"old": "トウキヨウ", "new": "トウキヨウチユウオウ"}},
                metadata={"source": "zengin-code"}, ttl=1712188800)
    base.update(kw)
    return DiffRecord(**base)


# --------------------------------------------------------------------------- seed 003 as it is


def test_seed_item_is_read_with_numbers_as_ints():
    r = DiffRecord.from_item(SEED_ITEM)
    assert r.id == "diff-20240101-001" and r.status == "pending" and r.diffType == "addition"
    assert r.zenginData["branchName"] == "本店" and r.currentData["branchKana"] == "ホンテンエイギョウブ"
    assert r.executionResult == {"success": True, "rowsAffected": 1, "executionTime": 250}
    assert type(r.executionResult["rowsAffected"]) is int and r.ttl == 1712188800
    assert r.approvedBy == "user@example.com" and r.metadata["processingNode"] == "lambda-001"
    assert r.key == {"id": {"S": "diff-20240101-001"}, "timestamp": {"S": "2024-01-01T09:00:00.000Z"}}


def test_seed_example_is_flagged_for_its_own_inconsistencies():
    # The seed's example is an "addition" of a row that exists, and its changes leave out
    # branchKana although the kana differ: the reader says so instead of guessing.
    problems = DiffRecord.from_item(SEED_ITEM).problems
    assert "addition with currentData (the row already existed)" in problems


def test_seed_bulk_item_has_no_problems():
    r = DiffRecord.from_item(SEED_BULK_ITEM)
    assert r.problems == ()
    assert r.is_bulk and r.entry is None
    assert r.s3_location == ("dev-zengin-diff-data", "diffs/diff-20240101-002.json")
    assert r.dataSize == 524288 and r.dataSummary["deletions"] == 20


def test_seed_style_empty_map_means_no_row():
    item = update_record(diffType="addition", currentData=None,
                         changes={"branchName": {"old": None, "new": "東京中央"},
                                  "branchKana": {"old": None, "new": "トウキヨウチユウオウ"}}).to_item()
    item["currentData"] = {"M": {}}      # seed 003's create_diff_record always writes both maps
    r = DiffRecord.from_item(item)
    assert r.currentData is None and r.problems == ()


# --------------------------------------------------------------------------- round trips


def test_round_trip_through_boto3_types():
    r = update_record(approvedBy="a@example.com", approvedAt="2024-01-01T10:00:00.000Z",
                      executionResult={"success": True, "rowsAffected": 2, "executionTime": 12.5},
                      metadata={"source": "zengin-code", "big": 10**30, "nested": [1, "x", None, True]},
                      extra={"reviewNote": "ok"})
    item = r.to_item()
    assert item["executionResult"]["M"]["executionTime"] == {"N": "12.5"}
    assert item["zenginData"]["M"]["branchName"] == {"S": "東京中央"}
    assert "rejectedBy" not in item and "problems" not in item
    back = DiffRecord.from_item(item)
    assert back == r and back.problems == ()


def test_null_kana_round_trips():
    old = {**BRANCH_OLD, "branchKana": None}
    r = update_record(currentData=old, changes={"branchName": {"old": "東京営業部", "new": "東京中央"},
                                                "branchKana": {"old": None, "new": "トウキヨウチユウオウ"}})
    assert r.to_item()["currentData"]["M"]["branchKana"] == {"NULL": True}
    assert DiffRecord.from_item(r.to_item()) == r


payload_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@given(name=payload_text, kana=st.one_of(st.none(), payload_text), ttl=st.integers(0, 253402300799),
       ms=st.integers(0, 10**12) | st.floats(0, 1e9).map(lambda f: round(f, 3)))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_well_formed_records_round_trip(name, kana, ttl, ms):
    new = {**BRANCH_OLD, "branchName": name, "branchKana": kana}
    changes = {k: {"old": BRANCH_OLD[k], "new": new[k]} for k in ("branchName", "branchKana")
               if BRANCH_OLD[k] != new[k]}
    r = update_record(zenginData=new, changes=changes, ttl=ttl,
                      executionResult={"success": False, "rowsAffected": 0, "executionTime": ms})
    back = DiffRecord.from_item(r.to_item())
    assert back == r


# --------------------------------------------------------------------------- malformed items


def test_missing_keys_and_wrong_types_are_all_reported():
    r = DiffRecord.from_item({"id": {"S": 1}, "status": {"S": "done"}, "diffType": {"S": "merge"},
                              "ttl": {"S": "soon"}, "changes": {"L": []}})
    assert r.id == ""
    joined = "\n".join(r.problems)
    for expected in ("attribute 'id': S is not a string", "missing timestamp", "status 'done'",
                     "diffType 'merge'", "ttl is not a non-negative integer", "changes is not a map"):
        assert expected in joined


def test_what_can_be_read_is_kept():
    item = dict(SEED_BULK_ITEM, status={"S": "archived"}, dataSize={"N": "not a number"})
    r = DiffRecord.from_item(item)
    assert r.id == "diff-20240101-002" and r.status == "archived" and r.dataLocation.startswith("s3://")
    assert any("dataSize" in p for p in r.problems) and any("archived" in p for p in r.problems)


def test_huge_and_odd_values():
    for bad, why in (({"N": "1e400"}, "range"), ({"N": "NaN"}, "finite"), ({"N": "9" * 39}, "38 digits"),
                     ({"X": "1"}, "unknown type"), ({"S": "a", "N": "1"}, "typed value"), ("plain", "typed value"),
                     ({"M": "x"}, "not a map"), ({"NULL": False}, "NULL")):
        r = DiffRecord.from_item(dict(SEED_ITEM, ttl=bad))
        assert r.ttl is None and any(why in p for p in r.problems), (bad, r.problems)
    far = DiffRecord.from_item(dict(SEED_ITEM, ttl={"N": "1e100"}))
    assert far.ttl is None and "ttl is beyond year 9999" in far.problems
    deep: dict = {"S": "x"}
    for _ in range(200):
        deep = {"L": [deep]}
    assert DiffRecord.from_item(dict(SEED_ITEM, metadata=deep)).problems
    assert DiffRecord.from_item(dict(SEED_ITEM, id={"S": "x" * 500_000})).problems


def test_not_a_map_at_all():
    for raw in (None, [], "item", 42):
        r = DiffRecord.from_item(raw)
        assert r.problems and r.id == ""


def test_row_diff_structure_is_checked():
    cases = {
        "update without currentData": dict(currentData=None),
        "changes.branchName.old disagrees with currentData":
            dict(changes={"branchName": {"old": "x", "new": "東京中央"},
                          "branchKana": {"old": "トウキヨウ", "new": "トウキヨウチユウオウ"}}),
        "changes omits branchKana, which differs": dict(changes={"branchName": {"old": "東京営業部", "new": "東京中央"}}),
        "zenginData is row": dict(zenginData={**BRANCH_NEW, "branchCode": "002"}),
        "zenginData.bankCode is not a string": dict(zenginData={**BRANCH_NEW, "bankCode": 1}),
    }
    for expected, kw in cases.items():
        problems = DiffRecord.from_item(update_record(**kw).to_item()).problems
        assert any(expected in p for p in problems), (expected, problems)


def typed_values(depth: int = 3):
    scalar = st.one_of(
        st.builds(lambda s: {"S": s}, st.text(max_size=5) | st.integers()),
        st.builds(lambda n: {"N": n}, st.text(max_size=6) | st.sampled_from(["1", "-0.5", "1e200", "NaN", "1e-200"])),
        st.builds(lambda b: {"BOOL": b}, st.booleans() | st.none()),
        st.just({"NULL": True}), st.builds(lambda b: {"B": b}, st.binary(max_size=4)),
        st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=3) | st.integers(), max_size=3)),
        st.builds(lambda v: {"NS": v}, st.lists(st.sampled_from(["1", "x", "2.5"]), max_size=3)),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    )
    return st.recursive(scalar, lambda children: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=8), children, max_size=3)),
        st.builds(lambda v: {"L": v}, st.lists(children, max_size=3))), max_leaves=8)


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | st.binary(max_size=4)
anything = st.recursive(scalars,
                        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                        max_leaves=10)
names = st.sampled_from(["id", "timestamp", "status", "diffType", "zenginData", "currentData", "changes",
                         "executionResult", "ttl", "dataLocation", "dataSize", "dataSummary", "metadata",
                         "approvedAt"]) | st.text(max_size=6)


@given(st.dictionaries(names, typed_values() | anything, max_size=10) | anything)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_arbitrary_items_never_raise(item):
    r = DiffRecord.from_item(item)
    assert isinstance(r, DiffRecord)
    assert all(isinstance(p, str) for p in r.problems)
    r.display_status(datetime.now(timezone.utc))
    r.entry, r.s3_location  # noqa: B018 - derived properties must not raise either


KNOWN = {f for f in DiffRecord.__dataclass_fields__} | {"extra", "problems"}


@given(st.dictionaries(st.text(min_size=1, max_size=6).filter(lambda n: n not in KNOWN), typed_values(), max_size=6))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_unknown_attributes_are_kept_and_round_trip(extra_attrs):
    r = DiffRecord.from_item({**update_record().to_item(), **extra_attrs})
    if not r.problems:   # a malformed extra attribute is reported, never kept
        assert set(r.extra) == set(extra_attrs)
        assert DiffRecord.from_item(r.to_item()) == r
    else:
        assert all(p.startswith("attribute ") for p in r.problems)


# --------------------------------------------------------------------------- status and time


def test_expired_is_derived_from_ttl():
    now = datetime(2024, 4, 5, tzinfo=timezone.utc)
    r = update_record(ttl=int(now.timestamp()) - 1)
    assert r.is_expired(now) and r.display_status(now) == "expired"
    assert update_record(ttl=int(now.timestamp()) + 1).display_status(now) == "pending"
    assert update_record(ttl=None).display_status(now) == "pending"
    assert update_record(ttl=0, status="executing").display_status(now) == "executing"


def test_timestamps():
    moment = datetime(2024, 1, 1, 18, 0, 0, 123456, tzinfo=timezone.utc)
    assert iso_utc(moment) == "2024-01-01T18:00:00.123Z"
    assert parse_iso("2024-01-01T18:00:00.123Z") == moment.replace(microsecond=123000)
    assert parse_iso("2024-01-01T18:00:00.123456").tzinfo is timezone.utc   # seed's utcnow().isoformat()
    assert parse_iso("yesterday") is None


# --------------------------------------------------------------------------- bulk documents


def entries() -> list[DiffEntry]:
    return [DiffEntry("update", BRANCH_NEW, BRANCH_OLD,
                      {"branchName": {"old": "東京営業部", "new": "東京中央"},
                       "branchKana": {"old": "トウキヨウ", "new": "トウキヨウチユウオウ"}}),
            DiffEntry("addition", {**BANK, "bankCode": "0999"}, None,
                      {"bankName": {"old": None, "new": "みずほ"}, "bankKana": {"old": None, "new": "ミズホ"}}),
            DiffEntry("deletion", None, {**BRANCH_OLD, "branchCode": "002"},
                      {"branchName": {"old": "東京営業部", "new": None}, "branchKana": {"old": "トウキヨウ", "new": None}})]


def test_bulk_document_round_trip():
    data = build_bulk_document("diff-20240101-000002", "2024-01-01T09:01:00.000Z", entries())
    doc = json.loads(data)
    assert doc["format"] == BULK_FORMAT and doc["summary"]["byTable"]["branches"]["deletion"] == 1
    assert "東京中央" in data.decode("utf-8")          # UTF-8, not \\u escapes
    parsed = parse_bulk_document(data, expected_id="diff-20240101-000002", expected_summary=summarize(entries()))
    assert parsed.problems == () and list(parsed.records) == entries()
    assert [e.table for e in parsed.records] == ["branches", "banks", "branches"]


def test_bulk_document_problems():
    good = build_bulk_document("diff-20240101-000002", "t", entries())
    assert parse_bulk_document(b"{not json").problems[0].startswith("not JSON")
    assert "document is not a JSON object" in parse_bulk_document(b"[]").problems
    assert any("belongs to" in p for p in parse_bulk_document(good, expected_id="diff-20240101-000003").problems)
    tampered = json.loads(good)
    tampered["summary"]["updates"] = 99
    tampered["records"][0]["diffType"] = "merge"
    problems = parse_bulk_document(json.dumps(tampered)).problems
    assert any("summary.updates says 99" in p for p in problems)
    assert "1 of 3 records are malformed" in problems


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                           max_leaves=12)
bulk_like = st.fixed_dictionaries({"format": st.just(BULK_FORMAT) | json_values, "records": json_values
                                   | st.lists(st.dictionaries(st.sampled_from(["diffType", "zenginData",
                                                                              "currentData", "changes"]),
                                                              json_values), max_size=3),
                                   "summary": json_values, "id": json_values})


@given(st.binary(max_size=200) | st.builds(lambda v: json.dumps(v).encode(), json_values | bulk_like))
@settings(max_examples=200)
def test_arbitrary_documents_never_raise(data):
    doc = parse_bulk_document(data, expected_id="diff-20240101-000001", expected_summary={})
    assert isinstance(doc.problems, tuple)
