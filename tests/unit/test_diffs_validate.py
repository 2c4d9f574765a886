"""Validation of diffs (pure): codes, names within the sql/ column limits, zengin kana,
changes consistent with both sides, bulk documents; and property tests feeding malformed
items and documents to the reader and the validator, which must never raise."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.core.zengin import executor
from console.core.zengin.records import (DiffEntry, DiffRecord, build_bulk_document, encode_attribute,
                                         parse_bulk_document)
from console.core.zengin.validate import (KANA, bulk_problems, column_limits, entry_problems, validate)

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
BR = {"bankCode": "0001", "bankName": "みずほ", "bankKana": "ミズホ", "branchCode": "001",
      "branchName": "本店", "branchKana": "ホンテン"}


def upd(old, **new):
    return DiffEntry("update", {**old, **new}, dict(old), {k: {"old": old.get(k), "new": v} for k, v in new.items()})


def test_column_limits_come_from_sql():
    assert column_limits() == {"bank_name": 100, "bank_kana": 100, "branch_name": 100, "branch_kana": 100}


def test_real_zengin_kana_accepted():
    for kana in ("ミツビシユ－エフジエイ", "ＳＢＩシンセイ", "ホンテン　エイギヨウブ", "ﾐｽﾞﾎ", "エ．ピ－．", "ホンテンエイギョウブ"):
        assert KANA.match(kana), kana
    for kana in ("ほんてん", "本店", "ホンテン!", ""):
        assert not KANA.match(kana), kana


def test_entry_rules():
    assert entry_problems(upd(BR, branchName="東京")) == []
    probs = entry_problems(upd({**BR, "bankCode": "001", "branchCode": "1"}, branchKana="とうきよう"))
    assert any("bankCode '001' is not 4 digits" in p for p in probs)
    assert any("branchCode '1' is not 3 digits" in p for p in probs)
    assert any("not zengin katakana" in p for p in probs)
    assert any("is 101 characters, the column holds 100" in p
               for p in entry_problems(upd(BR, branchName="長" * 101)))
    assert any("branchName is empty" in p for p in entry_problems(upd(BR, branchName=" ")))
    bad = DiffEntry("update", {**BR, "branchName": "X"}, dict(BR), {"branchName": {"old": "違う", "new": "X"}})
    assert any("changes.branchName.old disagrees" in p for p in entry_problems(bad))
    bank_in_branch = DiffEntry("update", {**BR, "bankName": "新"}, dict(BR), {"bankName": {"old": "旧", "new": "新"}})
    assert any("bankName.old disagrees" in p for p in entry_problems(bank_in_branch))
    assert any("cannot change bankName" in p for p in entry_problems(
        DiffEntry("addition", BR, None, {"bankName": {"old": None, "new": "みずほ"}})))


def test_bulk_duplicates_and_conflicts():
    a = upd(BR, branchName="東京")
    doc = parse_bulk_document(build_bulk_document("diff-20260101-000001", "t", [a, a]))
    assert any("already changed by record 1" in p for p in bulk_problems(doc))
    b1 = DiffEntry("update", {**BR, "bankName": "新1"}, dict(BR), {"bankName": {"old": "みずほ", "new": "新1"}})
    b2 = DiffEntry("update", {**BR, "branchCode": "002", "bankName": "新2"}, {**BR, "branchCode": "002"},
                   {"bankName": {"old": "みずほ", "new": "新2"}})
    doc = parse_bulk_document(build_bulk_document("diff-20260101-000001", "t", [b1, b2]))
    assert any("conflicting changes to bank 0001" in p for p in bulk_problems(doc))


def _bulk_item(doc: bytes, rid="diff-20260101-000001", **kw):
    parsed = json.loads(doc)
    return DiffRecord(id=rid, timestamp=parsed.get("timestamp", "t"), status="pending", diffType="bulk_update",
                      dataLocation=f"s3://b/diffs/{rid}.json", dataSize=len(doc),
                      dataSummary=parsed.get("summary"), ttl=int(NOW.timestamp()) + 10, **kw)


def test_validate_bulk_with_fetch():
    doc = build_bulk_document("diff-20260101-000001", "2026-01-01T00:00:00.000Z", [upd(BR, branchName="東京")])
    rec = _bulk_item(doc)
    assert validate(rec, bucket="b", fetch=lambda b, k: doc).ok
    v = validate(rec, bucket="other", fetch=lambda b, k: doc)
    assert any("not the configured 'other'" in p for p in v.problems)
    v = validate(rec, bucket="b", fetch=lambda b, k: doc + b" ")
    assert any("dataSize says" in p for p in v.problems)
    v = validate(rec, bucket="b", fetch=lambda b, k: (_ for _ in ()).throw(RuntimeError("boom")))
    assert any("cannot be read" in p for p in v.problems)


def test_rows_of_bank_field_in_branch_record():
    e = DiffEntry("update", {**BR, "bankName": "新", "branchName": "東京"}, dict(BR),
                  {"bankName": {"old": "みずほ", "new": "新"}, "branchName": {"old": "本店", "new": "東京"}})
    rows = executor.rows_of([e])
    assert [(r[1], r[2]) for r in rows] == [("update", "branches"), ("bank_field", "banks")]
    assert rows[1][13:] == (True, False, True)      # set_bank_name, set_bank_kana, guarded


def test_plan_without_connection_has_sql():
    rec = DiffRecord(id="diff-20260101-000001", timestamp="t", status="approved", diffType="update",
                     zenginData={**BR, "branchName": "東京"}, currentData=BR,
                     changes={"branchName": {"old": "本店", "new": "東京"}})
    from console.config import Settings
    plan = executor.build_plan(rec, (rec.entry,), "x", Settings(), None, None)
    text = plan.text()
    assert 'UPDATE "public"."branches"' in text and "change_history" in text and "COPY" in text
    assert 'DELETE' not in text                       # only the statements this diff needs


# --------------------------------------------------------------------------- properties

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20)
                     | st.floats(allow_nan=True),
                     lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=4),
                     max_leaves=20)
_field_names = st.sampled_from(["id", "timestamp", "status", "diffType", "zenginData", "currentData", "changes",
                                "ttl", "dataLocation", "dataSize", "dataSummary", "approvedBy", "executionResult",
                                "bankCode", "x"])
_typed = st.recursive(
    st.builds(lambda s: {"S": s}, st.text(max_size=200)) | st.builds(lambda n: {"N": n}, st.text(max_size=50))
    | st.builds(lambda b: {"BOOL": b}, st.booleans()) | st.just({"NULL": True}) | _json,
    lambda c: st.builds(lambda m: {"M": m}, st.dictionaries(_field_names, c, max_size=6))
    | st.builds(lambda l: {"L": l}, st.lists(c, max_size=4)),
    max_leaves=30)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(_field_names, _typed, max_size=12))
def test_reader_and_validator_never_raise_on_items(item):
    rec = DiffRecord.from_item(item)
    v = validate(rec, bucket="b", fetch=lambda b, k: b"{}")
    assert isinstance(v.problems, tuple)
    if not v.ok:
        assert all(isinstance(p, str) for p in v.problems)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(["addition", "update", "deletion", "bogus", ""]),
       st.dictionaries(st.sampled_from(list(BR) + ["x"]), _json, max_size=7),
       st.dictionaries(st.sampled_from(list(BR) + ["x"]), _json, max_size=7),
       st.dictionaries(st.sampled_from(list(BR) + ["x"]), _json, max_size=3))
def test_validator_never_raises_on_payloads(diff_type, z, c, ch):
    item = {"id": {"S": "diff-20260101-000001"}, "timestamp": {"S": "2026-01-01T00:00:00.000Z"},
            "status": {"S": "pending"}, "diffType": {"S": diff_type}}
    for name, value in (("zenginData", z), ("currentData", c), ("changes", ch)):
        try:
            item[name] = encode_attribute(value)
        except Exception:  # noqa: BLE001 - values boto3 cannot encode are not items
            return
    rec = DiffRecord.from_item(item)
    v = validate(rec)
    if v.ok:                                          # a valid diff must be executable as rows
        assert rec.entry is not None
        executor.rows_of([rec.entry])


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(st.binary(max_size=300), _json.map(lambda v: json.dumps(v).encode()),
                 st.lists(st.dictionaries(st.sampled_from(["diffType", "zenginData", "currentData", "changes"]),
                                          _json, max_size=4), max_size=5)
                 .map(lambda recs: json.dumps({"format": "zengin-diff-bulk/1", "id": "diff-20260101-000001",
                                               "summary": {}, "records": recs}).encode())))
def test_bulk_documents_never_raise(data):
    rec = DiffRecord(id="diff-20260101-000001", timestamp="t", status="pending", diffType="bulk_update",
                     dataLocation="s3://b/diffs/x.json", dataSize=len(data),
                     dataSummary={"totalRecords": 0, "additions": 0, "updates": 0, "deletions": 0})
    v = validate(rec, bucket="b", fetch=lambda b, k: data)
    assert isinstance(v.ok, bool)


def test_huge_values_do_not_crash():
    item = {"id": {"S": "diff-20260101-000001"}, "timestamp": {"S": "2026"}, "status": {"S": "pending"},
            "diffType": {"S": "update"}, "zenginData": {"M": {"bankCode": {"S": "9" * 100000}}},
            "ttl": {"N": "9" * 60}}
    v = validate(DiffRecord.from_item(item))
    assert not v.ok and all(len(p) < 500 for p in v.problems)


# --------------------------------------------------------------------------- the fast paths


def test_printable_names_skip_only_clean_characters():
    """A name that is printable and has none of _PRINTABLE_REFUSED is taken without a look
    at each character: every code point that passes that test must be one the per-character
    rule accepts (all 1,114,112 checked)."""
    from console.core.zengin import validate as v

    for o in range(0x110000):
        ch = chr(o)
        if ch.isprintable() and not v._PRINTABLE_REFUSED.search(ch):
            assert v._name_char_kind(ch) is None, hex(o)
    for refused in ("\u3164", "\u115f", "\u034f", "\u200b", "\u202e", "\x1b", "\u2028"):
        probs = v.name_char_problems("zenginData.branchName", f"本{refused}店")
        assert probs and "position 2" in probs[0], refused


def test_bulk_document_is_utf8_json_nested_no_deeper_than_its_format():
    rec = DiffEntry("update", {**BR, "branchName": "東京"}, BR, {"branchName": {"old": "本店", "new": "東京"}})
    data = build_bulk_document("diff-20260101-000001", "t", [rec])
    assert parse_bulk_document(data).records[0] == rec and not parse_bulk_document(data).problems
    # the standard library guessed UTF-16 / UTF-32 from the bytes; the format is UTF-8 (a BOM is ignored)
    assert parse_bulk_document(data.decode("utf-8").encode("utf-16")).problems[0].startswith("not JSON")
    assert parse_bulk_document(b"\xef\xbb\xbf" + data).records[0] == rec
    deep = b'{"format":"zengin-diff-bulk/1","records":[{"changes":{"x":{"old":' + b"[" * 200 + b"]" * 200 + b"}}}]}"
    assert parse_bulk_document(deep).problems == ("not read: JSON nested deeper than 64 levels",)
    # what orjson refuses but Python's json reads (NaN) still reads, and is judged a record problem
    nan = data.replace(b'"new":"\xe6\x9d\xb1\xe4\xba\xac"', b'"new":NaN')
    assert nan != data and parse_bulk_document(nan).records[0].changes["branchName"]["new"] != 0


def test_a_bulk_document_is_read_with_the_collector_on_and_parsed_with_it_off():
    """The cyclic collector is held off while the document's tree is built and checked
    (core.collector), never across the S3 read, which may take long."""
    import gc

    from console.core.zengin import bulk

    rec_ = DiffEntry("update", {**BR, "branchName": "東京"}, BR, {"branchName": {"old": "本店", "new": "東京"}})
    data = build_bulk_document("diff-20260101-000001", "t", [rec_])
    seen: list[tuple[str, bool]] = []

    def fetch(_bucket, _key):
        seen.append(("read", gc.isenabled()))
        return data

    parse = bulk.parse_bulk_document

    def parsed(*a, **k):
        seen.append(("parse", gc.isenabled()))
        return parse(*a, **k)

    import console.core.zengin.records as records_mod
    old = records_mod.parse_bulk_document
    records_mod.parse_bulk_document = parsed
    try:
        rec = DiffRecord(id="diff-20260101-000001", timestamp="t", status="pending", diffType="bulk_update",
                         dataLocation="s3://b/diffs/x.json", dataSize=len(data),
                         dataSummary={"totalRecords": 1, "additions": 0, "updates": 1, "deletions": 0})
        v = validate(rec, bucket="b", fetch=fetch)
    finally:
        records_mod.parse_bulk_document = old
    assert v.ok, v.problems
    assert seen == [("read", True), ("parse", False)] and gc.isenabled()
