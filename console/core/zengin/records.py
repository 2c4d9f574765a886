"""The zengin diff record: one item of the DynamoDB table ``zengin-data-diff-{env}``, read
exactly as seed 003 writes it, and the S3 document that holds the records of a large diff.

DynamoDB item (attribute names are seed 003's, camelCase)
---------------------------------------------------------
``id`` (S, partition key)      ``diff-YYYYMMDD-NNNNNN`` (seed 003 shows three digits; six are
                               written, any run of digits is read)
``timestamp`` (S, sort key)    ISO-8601 UTC, ``2024-01-01T09:00:00.000Z``
``status`` (S)                 pending | approved | executing | completed | failed | rejected.
                               "expired" is never stored: it is derived from ``ttl``.
``diffType`` (S)               addition | update | deletion | bulk_update
``zenginData`` (M)             the row as the zengin source has it. For a deletion, seed
                               003's format: the row to delete (its executor runs
                               ``DELETE … WHERE bank_code = zenginData.bankCode``); the
                               console's own format leaves it out
``currentData`` (M)            the row as PostgreSQL had it when the diff was computed
                               (absent for an addition). A deletion with currentData deletes
                               only while the row still equals it; a seed-format deletion
                               without it deletes by the codes of zenginData
``changes`` (M)                ``{field: {old, new}}`` for every field that differs
``approvedBy`` / ``approvedAt`` / ``rejectedBy`` / ``rejectionReason`` / ``executedBy`` /
``executedAt`` / ``updatedAt`` (S)
``executionResult`` (M)        ``{success: BOOL, rowsAffected: N, executionTime: N (ms)}``
``metadata`` (M)               ``{source, sourceVersion, processingNode, ...}``
``ttl`` (N)                    epoch seconds; DynamoDB deletes the item some time after it
``dataLocation`` (S) / ``dataSize`` (N) / ``dataSummary`` (M)
                               bulk_update only: ``s3://bucket/diffs/<id>.json``, its size in
                               bytes, and the summary below

Row payloads (``zenginData`` / ``currentData`` and every bulk record) use seed 003's names:
``bankCode``, ``bankName``, ``bankKana`` for a bank; a branch adds ``branchCode``,
``branchName``, ``branchKana`` to its bank's three fields (as in seed 003's example). A
payload with ``branchCode`` is a branch row (table ``branches``), else a bank row
(``banks``). ``changes`` of a branch diff name branch fields only: a bank's rename is the
bank's own diff. Values are strings, ``bankKana``/``branchKana`` may be null.

S3 bulk document (``zengin-diff-bulk/1``)
-----------------------------------------
A diff whose records together exceed the bulk threshold (400 KB, seed 003) is stored as ONE
``bulk_update`` item; its records live in S3 at ``dataLocation`` as UTF-8 JSON::

    {
      "format": "zengin-diff-bulk/1",
      "id": "diff-20240101-000002",            # the item this document belongs to
      "timestamp": "2024-01-01T09:01:00.000Z",  # the item's sort key
      "summary": {
        "totalRecords": 150, "additions": 50, "updates": 80, "deletions": 20,
        "byTable": {"banks":    {"addition": 0,  "update": 2,  "deletion": 0},
                    "branches": {"addition": 50, "update": 78, "deletion": 20}}
      },
      "records": [
        {"diffType": "update",
         "zenginData":  {"bankCode": "0001", "bankName": "みずほ", "bankKana": "ミズホ",
                         "branchCode": "001", "branchName": "本店", "branchKana": "ホンテン"},
         "currentData": {... same keys, the PostgreSQL values ...},
         "changes": {"branchName": {"old": "本店営業部", "new": "本店"}}},
        {"diffType": "addition", "zenginData": {...}, "currentData": null, "changes": {...}},
        {"diffType": "deletion", "zenginData": null, "currentData": {...}, "changes": {...}},
        {"diffType": "deletion", "zenginData": {codes...}, "currentData": {...}}   # seed format
      ]
    }

``summary`` is also stored on the item as ``dataSummary`` (seed 003's four counts plus
``byTable``); ``dataSize`` is the document's length in bytes. Records are listed in the
order they can be applied: bank additions and updates, then branch additions, updates and
deletions, then bank deletions.

Reading never raises: a malformed item or document yields a record whose ``problems``
names every reason, with whatever could be read kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from collections.abc import Mapping   # not typing.Mapping: isinstance on it is 5x slower
from typing import Any

from .attributes import (TTL_DAYS, _MAX_TTL, decode_attribute, encode_attribute, iso_utc, parse_iso,  # noqa: F401
                         ttl_for)


STATUSES = ("pending", "approved", "executing", "completed", "failed", "rejected")
EXPIRED = "expired"
DIFF_TYPES = ("addition", "update", "deletion", "bulk_update")
ROW_DIFF_TYPES = ("addition", "update", "deletion")

BANK_FIELDS = ("bankCode", "bankName", "bankKana")
BRANCH_FIELDS = ("branchCode", "branchName", "branchKana")
BANK_COMPARED = ("bankName", "bankKana")
BRANCH_COMPARED = ("branchName", "branchKana")

BULK_FORMAT = "zengin-diff-bulk/1"
PAYLOAD_FIELDS = BANK_FIELDS + BRANCH_FIELDS


def is_map(value: Any) -> bool:
    """``isinstance(value, Mapping)``, asking the cheap question first: a bulk document's
    30,000 records are plain dicts, and the ABC check costs ~0.7 µs every time."""
    return isinstance(value, dict) or (value is not None and isinstance(value, Mapping))


ID_RE = re.compile(r"^diff-(\d{8})-(\d+)$")

_STRING_ATTRS = ("approvedBy", "approvedAt", "rejectedBy", "rejectionReason", "executedBy",
                 "executedAt", "updatedAt", "dataLocation")


Payload = Mapping[str, Any]


# --------------------------------------------------------------------------- row diffs


def row_key(payload: Payload | None) -> tuple[str, str | None] | None:
    """``(bankCode, branchCode or None)`` of a payload, or None without a bankCode."""
    if not payload:
        return None
    bank = payload.get("bankCode")
    if not isinstance(bank, str):
        return None
    branch = payload.get("branchCode")
    return bank, branch if isinstance(branch, str) else None


def _payload_problems(name: str, payload: Any) -> list[str]:
    if payload is None:
        return []
    if not is_map(payload):
        return [f"{name} is not a map"]
    out = []
    for key in PAYLOAD_FIELDS:
        v = payload.get(key)
        if v is not None and not isinstance(v, str):
            out.append(f"{name}.{key} is not a string")
    if not isinstance(payload.get("bankCode"), str):
        out.append(f"{name} has no bankCode")
    return out


_OLD_NEW = frozenset(("old", "new"))


def _changes_problems(changes: Any) -> list[str]:
    if changes is None:
        return []
    if not is_map(changes):
        return ["changes is not a map"]
    return [f"changes.{k} is not {{old, new}}" for k, v in changes.items()
            if not (is_map(v) and _OLD_NEW.issuperset(v))]


def entry_problems(diff_type: Any, zengin: Any, current: Any, changes: Any) -> list[str]:
    """Structural problems of one row diff (addition / update / deletion). Content rules
    (4-digit codes, kana) are validation's business, not the reader's."""
    out: list[str] = []
    if diff_type not in ROW_DIFF_TYPES:
        out.append(f"diffType {str(diff_type)[:40]!r} is not one of {', '.join(ROW_DIFF_TYPES)}")
    out += _payload_problems("zenginData", zengin)
    out += _payload_problems("currentData", current)
    out += _changes_problems(changes)
    if diff_type in ("addition", "update") and not zengin:
        out.append(f"{diff_type} without zenginData (the row to write)")
    if diff_type == "update" and not current:
        out.append("update without currentData (the row it expects to find)")
    if diff_type == "deletion" and not zengin and not current:
        out.append("deletion names no row: neither zenginData nor currentData carries its codes")
    if diff_type == "addition" and current:
        out.append("addition with currentData (the row already existed)")
    if is_map(zengin) and is_map(current) and zengin and current:
        zk, ck = row_key(zengin), row_key(current)
        if zk and ck and zk != ck:
            out.append(f"zenginData is row {zk} but currentData is row {ck}")
    if is_map(changes) and not out:
        for name, change in changes.items():
            if is_map(current) and current and current.get(name) != change.get("old"):
                out.append(f"changes.{name}.old disagrees with currentData")
            # A deletion's zenginData names the row to delete (seed 003's executor reads its
            # codes); its changes say the values go (new: null), so "new" is not compared.
            if (diff_type != "deletion" and is_map(zengin) and zengin
                    and zengin.get(name) != change.get("new")):
                out.append(f"changes.{name}.new disagrees with zenginData")
        if diff_type == "update":
            compared = BRANCH_COMPARED if "branchCode" in zengin else BANK_COMPARED
            for name in compared:
                if name not in changes and zengin.get(name) != current.get(name):
                    out.append(f"changes omits {name}, which differs")
    return out


@dataclass(frozen=True)
class DiffEntry:
    """One row change: a single diff item's content, or one record of a bulk document."""

    diffType: str
    zenginData: Payload | None = None
    currentData: Payload | None = None
    changes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    # Worked out once: validation, ordering and the transaction's rows each ask, per record
    # (kept in the instance's dict by hand: functools.cached_property takes a lock per read
    # on Python 3.11).
    @property
    def key(self) -> tuple[str, str | None] | None:
        d = self.__dict__
        try:
            return d["_key"]
        except KeyError:
            key = d["_key"] = row_key(self.zenginData) or row_key(self.currentData)
            return key

    @property
    def table(self) -> str:
        key = self.key
        return "branches" if key and key[1] is not None else "banks"

    def to_json(self) -> dict[str, Any]:
        return {"diffType": self.diffType, "zenginData": _plain(self.zenginData),
                "currentData": _plain(self.currentData), "changes": _plain(self.changes)}

    @classmethod
    def from_json(cls, raw: Any) -> "DiffEntry":
        if not is_map(raw):
            return cls(diffType="", problems=("record is not an object",))
        diff_type = raw.get("diffType")
        zengin, current, changes = raw.get("zenginData"), raw.get("currentData"), raw.get("changes")
        problems = entry_problems(diff_type, zengin, current, changes)
        return cls(
            diffType=diff_type if isinstance(diff_type, str) else "",
            zenginData=dict(zengin) if is_map(zengin) and zengin else None,
            currentData=dict(current) if is_map(current) and current else None,
            changes=dict(changes) if is_map(changes) else {},
            problems=tuple(problems),
        )


def _plain(value: Any) -> Any:
    if is_map(value):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def summarize(entries: list[DiffEntry] | tuple[DiffEntry, ...]) -> dict[str, Any]:
    """Seed 003's ``dataSummary`` counts plus the per-table breakdown."""
    by_table = {t: {k: 0 for k in ROW_DIFF_TYPES} for t in ("banks", "branches")}
    for e in entries:
        if e.diffType in ROW_DIFF_TYPES:
            by_table[e.table][e.diffType] += 1
    total = {k: by_table["banks"][k] + by_table["branches"][k] for k in ROW_DIFF_TYPES}
    return {"totalRecords": len(entries), "additions": total["addition"], "updates": total["update"],
            "deletions": total["deletion"], "byTable": by_table}


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True)
class DiffRecord:
    """One diff item. Mapping fields are to be treated as read-only."""

    id: str = ""
    timestamp: str = ""
    status: str = ""
    diffType: str = ""
    zenginData: Payload | None = None
    currentData: Payload | None = None
    changes: Mapping[str, Mapping[str, Any]] | None = None
    approvedBy: str | None = None
    approvedAt: str | None = None
    rejectedBy: str | None = None
    rejectionReason: str | None = None
    executedBy: str | None = None
    executedAt: str | None = None
    updatedAt: str | None = None
    executionResult: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] | None = None
    ttl: int | None = None
    dataLocation: str | None = None
    dataSize: int | None = None
    dataSummary: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)   # attributes the model does not name
    problems: tuple[str, ...] = ()

    # ---- derived

    @property
    def key(self) -> dict[str, dict[str, str]]:
        """The DynamoDB primary key, typed, for get_item / update_item."""
        return {"id": {"S": self.id}, "timestamp": {"S": self.timestamp}}

    @property
    def is_bulk(self) -> bool:
        return self.diffType == "bulk_update"

    @property
    def entry(self) -> DiffEntry | None:
        """The row change of a single diff (None for a bulk diff: load its document)."""
        if self.is_bulk:
            return None
        return DiffEntry(self.diffType, self.zenginData, self.currentData, dict(self.changes or {}),
                         tuple(entry_problems(self.diffType, self.zenginData, self.currentData,
                                              self.changes)))

    @property
    def s3_location(self) -> tuple[str, str] | None:
        """``(bucket, key)`` of a bulk diff's document."""
        m = re.match(r"^s3://([^/]+)/(.+)$", self.dataLocation or "")
        return (m.group(1), m.group(2)) if m else None

    def is_expired(self, now: datetime) -> bool:
        """TTL passed but DynamoDB has not deleted the item yet (it may take up to two
        days). An executing diff is never hidden as expired: it must be reconciled."""
        return self.ttl is not None and self.ttl < now.timestamp() and self.status != "executing"

    def display_status(self, now: datetime) -> str:
        return EXPIRED if self.is_expired(now) else self.status

    # ---- DynamoDB

    @classmethod
    def from_item(cls, item: Any) -> "DiffRecord":
        """Read a raw DynamoDB item (``{"id": {"S": ...}, ...}``). Never raises."""
        if not isinstance(item, Mapping):
            return cls(problems=(f"item is not a map ({type(item).__name__})",))
        problems: list[str] = []
        values: dict[str, Any] = {}
        for name, raw in item.items():
            if not isinstance(name, str):
                problems.append("item has a non-string attribute name")
                continue
            value, why = decode_attribute(raw)
            if why is not None:
                problems.append(f"attribute {name[:40]!r}: {why}")
                continue
            values[name] = value
        return cls.from_values(values, problems)

    @classmethod
    def from_values(cls, values: Mapping[str, Any], problems: list[str] | None = None) -> "DiffRecord":
        """Build from already-decoded values (plain Python), collecting every problem."""
        problems = list(problems or [])
        known = {f.name for f in fields(cls)} - {"extra", "problems"}
        kw: dict[str, Any] = {}

        def take_str(name: str, required: bool) -> None:
            v = values.get(name)
            if v is None:
                if required:
                    problems.append(f"missing {name}")
                return
            if isinstance(v, str):
                kw[name] = v
            else:
                problems.append(f"{name} is not a string")

        for name in ("id", "timestamp", "status", "diffType"):
            take_str(name, required=True)
        for name in _STRING_ATTRS:
            take_str(name, required=False)

        rid = kw.get("id", "")
        if rid and not ID_RE.match(rid):
            problems.append(f"id {rid[:40]!r} is not diff-YYYYMMDD-NNNNNN")
        if kw.get("timestamp") and parse_iso(kw["timestamp"]) is None:
            problems.append(f"timestamp {kw['timestamp'][:40]!r} is not ISO-8601")
        status = kw.get("status")
        if status is not None and status not in STATUSES:
            problems.append(f"status {status[:40]!r} is not one of {', '.join(STATUSES)}")
        diff_type = kw.get("diffType")
        if diff_type is not None and diff_type not in DIFF_TYPES:
            problems.append(f"diffType {diff_type[:40]!r} is not one of {', '.join(DIFF_TYPES)}")

        for name in ("zenginData", "currentData", "changes", "executionResult", "metadata", "dataSummary"):
            v = values.get(name)
            if v is None:
                continue
            if isinstance(v, Mapping):
                kw[name] = v
            else:
                problems.append(f"{name} is not a map")

        for name in ("ttl", "dataSize"):
            v = values.get(name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                problems.append(f"{name} is not a non-negative integer")
            elif name == "ttl" and v > _MAX_TTL:
                problems.append("ttl is beyond year 9999")
            else:
                kw[name] = v

        if diff_type == "bulk_update":
            problems += _bulk_item_problems(kw)
        elif diff_type in ROW_DIFF_TYPES:
            # Seed 003's create_diff_record writes both maps even when one side is empty.
            for side in ("zenginData", "currentData"):
                if side in kw and not kw[side]:
                    kw[side] = None
            problems += entry_problems(diff_type, kw.get("zenginData"), kw.get("currentData"),
                                       kw.get("changes"))
        result = kw.get("executionResult")
        if result is not None:
            if "success" in result and not isinstance(result["success"], bool):
                problems.append("executionResult.success is not a boolean")
            for n in ("rowsAffected", "executionTime"):
                if n in result and (isinstance(result[n], bool) or not isinstance(result[n], (int, float))):
                    problems.append(f"executionResult.{n} is not a number")

        extra = {k: v for k, v in values.items() if k not in known}
        return cls(**kw, extra=extra, problems=tuple(dict.fromkeys(problems)))

    def to_item(self) -> dict[str, dict[str, Any]]:
        """The raw DynamoDB item; absent (None) attributes are left out."""
        out: dict[str, dict[str, Any]] = {}
        for f in fields(self):
            if f.name in ("extra", "problems"):
                continue
            v = getattr(self, f.name)
            if v is None or (f.name in ("id", "timestamp", "status", "diffType") and v == ""):
                continue
            out[f.name] = encode_attribute(v)
        for k, v in self.extra.items():
            if k not in out:
                out[k] = encode_attribute(v)
        return out


def _bulk_item_problems(kw: Mapping[str, Any]) -> list[str]:
    out = []
    loc = kw.get("dataLocation")
    if loc is None:
        out.append("bulk_update without dataLocation")
    elif not re.match(r"^s3://[^/]+/.+$", loc):
        out.append(f"dataLocation {loc[:60]!r} is not s3://bucket/key")
    if kw.get("dataSize") is None:
        out.append("bulk_update without dataSize")
    summary = kw.get("dataSummary")
    if summary is None:
        out.append("bulk_update without dataSummary")
    else:
        for n in ("totalRecords", "additions", "updates", "deletions"):
            v = summary.get(n)
            if isinstance(v, bool) or not isinstance(v, int):
                out.append(f"dataSummary.{n} is not an integer")
    return out


# The bulk document lives in .bulk; its names stay importable from here.
from .bulk import BulkDocument, build_bulk_document, parse_bulk_document  # noqa: E402,F401
