"""The diff producer behind ``console diffs generate``: compare a zengin source (the
``zengin-code`` package, or a JSON file of the same shape) with the PostgreSQL master
(``banks`` / ``branches``) and queue the differences as pending diffs.

Pure part (no I/O, testable without servers): :func:`master_from_source`,
:func:`master_from_rows`, :func:`compare`, :func:`plan_diffs`, :func:`build_records`.
Thin I/O part: :func:`read_master`, :func:`write_plan`, :func:`generate`.

Ids are ``diff-YYYYMMDD-NNNNNN``. The table's key is ``id`` + ``timestamp``, so a
conditional put with ``attribute_not_exists(id)`` only guards that exact key: two producers
writing the same id with different timestamps would both succeed. Numbers are therefore
taken from an atomic per-day counter item (``sequence#diff-YYYYMMDD``, no ``status``, so it
never appears in ``StatusIndex``), and every put is still conditional; a conflict (someone
wrote that id without the counter) takes the next number. A bulk document is written to S3
with ``If-None-Match: *`` before its item, so it can never overwrite another diff's data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from psycopg import sql

from ...backends.base import BackendError, ErrorKind
from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend
from ...backends.s3 import S3Backend
from ...config import Settings
from .. import audit
from ..plan import Plan, Step
from .records import (BANK_COMPARED, BRANCH_COMPARED, DiffEntry, DiffRecord, build_bulk_document,
                      iso_utc, summarize, ttl_for)

GENERATE = audit.action("diffs.generate", "compare a zengin source with PostgreSQL and queue pending diffs")

SEQUENCE_WIDTH = 6
MAX_SEQUENCE = 10 ** SEQUENCE_WIDTH - 1
SEQUENCE_TIMESTAMP = "sequence"

# The master tables as sql/zengin defines them.
BANKS = sql.Identifier("public", "banks")
BRANCHES = sql.Identifier("public", "branches")

Source = Mapping[str, Mapping[str, Any]]
"""zengin-code's shape: ``{bank_code: {code, name, kana, hira, roma, branches:
{branch_code: {code, name, kana, hira, roma}}}}``."""


class SourceError(ValueError):
    """The source data set does not have zengin-code's shape."""


# --------------------------------------------------------------------------- sources


def load_zengin_code() -> tuple[dict[str, Any], str]:
    """The ``zengin-code`` package's banks and branches, and its data version."""
    import zengin_code

    source = {
        code: {"code": b.code, "name": b.name, "kana": b.kana, "hira": b.hira, "roma": b.roma,
               "branches": {bc: {"code": br.code, "name": br.name, "kana": br.kana, "hira": br.hira,
                                 "roma": br.roma} for bc, br in b.branches.items()}}
        for code, b in zengin_code.Bank.all.items()
    }
    return source, str(zengin_code.__version__)


def load_source_file(path: str | Path) -> dict[str, Any]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise SourceError(f"{path}: not JSON: {exc}") from None
    check_source(raw, str(path))
    return raw


def check_source(raw: Any, where: str = "source") -> None:
    """Shape only; the content (4-digit codes, kana) is judged on the diffs by validation,
    so that a bad source row shows up in review instead of vanishing here."""
    if not isinstance(raw, Mapping):
        raise SourceError(f"{where}: must be an object of banks keyed by bank code")
    for code, bank in raw.items():
        at = f"{where}: bank {code!r}"
        if not isinstance(bank, Mapping):
            raise SourceError(f"{at}: must be an object")
        if bank.get("code", code) != code:
            raise SourceError(f"{at}: its code {bank.get('code')!r} differs from its key")
        if not isinstance(bank.get("name"), str):
            raise SourceError(f"{at}: name must be a string")
        if bank.get("kana") is not None and not isinstance(bank["kana"], str):
            raise SourceError(f"{at}: kana must be a string")
        branches = bank.get("branches", {})
        if not isinstance(branches, Mapping):
            raise SourceError(f"{at}: branches must be an object keyed by branch code")
        for bcode, br in branches.items():
            bat = f"{at} branch {bcode!r}"
            if not isinstance(br, Mapping):
                raise SourceError(f"{bat}: must be an object")
            if br.get("code", bcode) != bcode:
                raise SourceError(f"{bat}: its code {br.get('code')!r} differs from its key")
            if not isinstance(br.get("name"), str):
                raise SourceError(f"{bat}: name must be a string")
            if br.get("kana") is not None and not isinstance(br["kana"], str):
                raise SourceError(f"{bat}: kana must be a string")


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Master:
    """Banks and branches as seed 003 payloads (bankCode, bankName, bankKana; branches add
    branchCode, branchName, branchKana to their bank's fields)."""

    banks: Mapping[str, Mapping[str, Any]]
    branches: Mapping[tuple[str, str], Mapping[str, Any]]


def bank_payload(code: str, name: Any, kana: Any) -> dict[str, Any]:
    return {"bankCode": code, "bankName": name, "bankKana": kana}


def branch_payload(bank: Mapping[str, Any], code: str, name: Any, kana: Any) -> dict[str, Any]:
    return {**bank, "branchCode": code, "branchName": name, "branchKana": kana}


def master_from_source(source: Source) -> Master:
    banks: dict[str, dict[str, Any]] = {}
    branches: dict[tuple[str, str], dict[str, Any]] = {}
    for code, b in source.items():
        bank = bank_payload(code, b.get("name"), b.get("kana"))
        banks[code] = bank
        for bcode, br in (b.get("branches") or {}).items():
            branches[(code, bcode)] = branch_payload(bank, bcode, br.get("name"), br.get("kana"))
    return Master(banks, branches)


def master_from_rows(bank_rows: Iterable[Mapping[str, Any]],
                     branch_rows: Iterable[Mapping[str, Any]]) -> Master:
    """From ``banks`` / ``branches`` rows (snake_case columns). CHAR(n) codes are
    stripped of padding."""
    banks = {r["bank_code"].strip(): bank_payload(r["bank_code"].strip(), r["bank_name"], r["bank_kana"])
             for r in bank_rows}
    branches: dict[tuple[str, str], dict[str, Any]] = {}
    for r in branch_rows:
        code, bcode = r["bank_code"].strip(), r["branch_code"].strip()
        bank = banks.get(code) or bank_payload(code, None, None)
        branches[(code, bcode)] = branch_payload(bank, bcode, r["branch_name"], r["branch_kana"])
    return Master(banks, branches)


def _changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None,
             compared: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    out = {}
    for name in compared:
        o = old.get(name) if old else None
        n = new.get(name) if new else None
        if old is None or new is None or o != n:
            out[name] = {"old": o, "new": n}
    return out


def compare(incoming: Master, current: Master) -> list[DiffEntry]:
    """Every row that differs, in an order that can be applied one by one: bank additions
    and updates, branch additions, updates and deletions, bank deletions."""
    bank_add, bank_upd, bank_del = [], [], []
    for code in sorted(incoming.banks.keys() | current.banks.keys()):
        new, old = incoming.banks.get(code), current.banks.get(code)
        changes = _changes(old, new, BANK_COMPARED)
        if old is None:
            bank_add.append(DiffEntry("addition", new, None, changes))
        elif new is None:
            bank_del.append(DiffEntry("deletion", None, old, changes))
        elif changes:
            bank_upd.append(DiffEntry("update", new, old, changes))
    br_add, br_upd, br_del = [], [], []
    for key in sorted(incoming.branches.keys() | current.branches.keys()):
        new, old = incoming.branches.get(key), current.branches.get(key)
        changes = _changes(old, new, BRANCH_COMPARED)
        if old is None:
            br_add.append(DiffEntry("addition", new, None, changes))
        elif new is None:
            br_del.append(DiffEntry("deletion", None, old, changes))
        elif changes:
            br_upd.append(DiffEntry("update", new, old, changes))
    return bank_add + bank_upd + br_add + br_upd + br_del + bank_del


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class DiffPlan:
    """What a run will write: one item per entry, or one bulk item (``bulk``) whose
    entries go to S3 because together they exceed the threshold."""

    entries: tuple[DiffEntry, ...]
    bulk: bool
    size_bytes: int                    # the entries as one bulk document
    now: datetime
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def item_count(self) -> int:
        return (1 if self.entries else 0) if self.bulk else len(self.entries)

    @property
    def summary(self) -> dict[str, Any]:
        return summarize(self.entries)

    def preview(self, table: str, bucket: str) -> Plan:
        """The writes as a :class:`~console.core.plan.Plan` (``--dry-run``, the confirm
        dialog). Nothing here is destructive: every write is conditional on being new."""
        s = self.summary
        counts = f"{s['additions']} additions, {s['updates']} updates, {s['deletions']} deletions"
        day = day_of(self.now)
        steps = [Step(f"take {self.item_count} diff number(s) for {day}", target=table,
                      call=f"DynamoDB UpdateItem {table} sequence#diff-{day}: ADD lastSequence :n")]
        if self.bulk:
            steps.append(Step(f"store the {len(self.entries)} records ({self.size_bytes} bytes) in S3",
                              call=f"S3 PutObject s3://{bucket}/diffs/<id>.json If-None-Match: *",
                              lock="the key must not exist", target=bucket))
        if self.entries:
            steps.append(Step(f"queue {self.item_count} pending {'bulk_update diff' if self.bulk else 'diff(s)'}",
                              call=f"DynamoDB PutItem {table} x{self.item_count}",
                              lock="attribute_not_exists(id)", target=table))
        return Plan(GENERATE.name, f"queue {len(self.entries)} change(s): {counts}", tuple(steps))


def plan_diffs(entries: Iterable[DiffEntry], *, now: datetime, threshold_bytes: int = 400 * 1024,
               metadata: Mapping[str, Any] | None = None) -> DiffPlan:
    entries = tuple(entries)
    size = len(build_bulk_document("diff-00000000-000000", iso_utc(now), entries)) if entries else 0
    return DiffPlan(entries, bulk=size > threshold_bytes, size_bytes=size, now=now,
                    metadata=dict(metadata or {}))


def diff_id(day: str, number: int) -> str:
    if not 1 <= number <= MAX_SEQUENCE:
        raise ValueError(f"diff sequence {number} is outside 1..{MAX_SEQUENCE}")
    return f"diff-{day}-{number:0{SEQUENCE_WIDTH}d}"


def day_of(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime("%Y%m%d")


def item_timestamp(plan: DiffPlan, index: int) -> str:
    """One millisecond apart, so StatusIndex (status + timestamp) orders a run's items
    the way they were computed."""
    return iso_utc(plan.now + timedelta(milliseconds=index))


def build_record(plan: DiffPlan, index: int, diff_id_: str) -> DiffRecord:
    """The item for ``plan.entries[index]`` (a row diff)."""
    e = plan.entries[index]
    return DiffRecord(id=diff_id_, timestamp=item_timestamp(plan, index), status="pending",
                      diffType=e.diffType, zenginData=e.zenginData, currentData=e.currentData,
                      changes=e.changes, metadata=plan.metadata or None, ttl=ttl_for(plan.now))


def build_bulk_record(plan: DiffPlan, diff_id_: str, bucket: str) -> tuple[DiffRecord, str, bytes]:
    """The bulk item, its S3 key and the document to store there."""
    ts = item_timestamp(plan, 0)
    key = f"diffs/{diff_id_}.json"
    doc = build_bulk_document(diff_id_, ts, plan.entries)
    rec = DiffRecord(id=diff_id_, timestamp=ts, status="pending", diffType="bulk_update",
                     metadata=plan.metadata or None, ttl=ttl_for(plan.now),
                     dataLocation=f"s3://{bucket}/{key}", dataSize=len(doc), dataSummary=plan.summary)
    return rec, key, doc


def build_records(plan: DiffPlan, ids: list[str], bucket: str) -> list[tuple[DiffRecord, str | None, bytes | None]]:
    """Pure: the items (with S3 key and document for a bulk item) given their ids."""
    if plan.bulk:
        return [build_bulk_record(plan, ids[0], bucket)] if plan.entries else []
    return [(build_record(plan, i, ids[i]), None, None) for i in range(len(plan.entries))]


# --------------------------------------------------------------------------- I/O


def read_master(pg: PostgresBackend) -> Master:
    banks = pg.fetch(sql.SQL("SELECT bank_code, bank_name, bank_kana FROM {}").format(BANKS))
    branches = pg.fetch(sql.SQL("SELECT bank_code, branch_code, branch_name, branch_kana FROM {}")
                        .format(BRANCHES))
    return master_from_rows(banks, branches)


class IdAllocator:
    """Day-scoped diff numbers from an atomic counter item in the diff table."""

    def __init__(self, dynamo: DynamoBackend, now: datetime):
        self.dynamo = dynamo
        self.day = day_of(now)
        self.ttl = ttl_for(now)

    def take(self, count: int) -> list[str]:
        if count <= 0:
            return []
        resp = self.dynamo.call(
            "update_item", TableName=self.dynamo.table,
            Key={"id": {"S": f"sequence#diff-{self.day}"}, "timestamp": {"S": SEQUENCE_TIMESTAMP}},
            UpdateExpression="ADD #seq :n SET #ttl = :ttl",
            ExpressionAttributeNames={"#seq": "lastSequence", "#ttl": "ttl"},
            ExpressionAttributeValues={":n": {"N": str(count)}, ":ttl": {"N": str(self.ttl)}},
            ReturnValues="UPDATED_NEW")
        last = int(resp["Attributes"]["lastSequence"]["N"])
        if last > MAX_SEQUENCE:
            raise BackendError(self.dynamo.name, ErrorKind.REFUSED,
                               f"more than {MAX_SEQUENCE} diffs on {self.day}: the sequence is exhausted")
        return [diff_id(self.day, n) for n in range(last - count + 1, last + 1)]


def put_new(dynamo: DynamoBackend, record: DiffRecord) -> bool:
    """Conditional put; False when an item with this key already exists."""
    try:
        dynamo.call("put_item", TableName=dynamo.table, Item=record.to_item(),
                    ConditionExpression="attribute_not_exists(id)")
    except BackendError as exc:
        if exc.kind is ErrorKind.CONFLICT:
            return False
        raise
    return True


def _put_new_object(s3: S3Backend, key: str, data: bytes) -> bool:
    try:
        s3.call("put_object", Bucket=s3.bucket, Key=key, Body=data, ContentType="application/json",
                IfNoneMatch="*")
    except BackendError as exc:
        if exc.kind is ErrorKind.CONFLICT or exc.message.startswith("PreconditionFailed"):
            return False
        raise
    return True


@dataclass
class WriteResult:
    ids: list[str] = field(default_factory=list)
    bulk: bool = False
    data_location: str | None = None
    data_size: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    conflicts: int = 0                 # ids found taken and skipped
    audit_id: int | None = None
    audit_error: str | None = None     # queued, but the audit record could not be settled


MakeRecord = Callable[[str], tuple[DiffRecord, "str | None", "bytes | None"]]


def write_record(dynamo: DynamoBackend, allocator: IdAllocator, make: MakeRecord, *,
                 s3: S3Backend | None = None, max_attempts: int = 20) -> tuple[DiffRecord, int]:
    """Write ``make(id) -> (record, s3_key, document)`` under a fresh id, taking the next
    number while ids turn out taken. Returns the record and the number of conflicts."""
    for attempt in range(max_attempts):
        (rid,) = allocator.take(1)
        record, key, doc = make(rid)
        if key is not None:
            if s3 is None or doc is None:
                raise ValueError("a record with an S3 document needs the S3 backend")
            if not _put_new_object(s3, key, doc):
                continue
        if put_new(dynamo, record):
            return record, attempt
        if key is not None and s3 is not None:
            s3.call("delete_object", Bucket=s3.bucket, Key=key)   # ours: If-None-Match made it
    raise BackendError(dynamo.name, ErrorKind.CONFLICT, f"no free diff id after {max_attempts} attempts")


def _single(plan: DiffPlan, index: int, diff_id_: str) -> tuple[DiffRecord, None, None]:
    return build_record(plan, index, diff_id_), None, None


def write_plan(dynamo: DynamoBackend, s3: S3Backend, plan: DiffPlan) -> WriteResult:
    """Write a plan's items (and a bulk document). Numbers come from the counter in one
    block; an id found taken is replaced by the next free number."""
    result = WriteResult(bulk=plan.bulk, summary=plan.summary)
    if not plan.entries:
        return result
    allocator = IdAllocator(dynamo, plan.now)
    if plan.bulk:
        record, conflicts = write_record(
            dynamo, allocator, lambda rid: build_bulk_record(plan, rid, s3.bucket), s3=s3)
        result.ids.append(record.id)
        result.data_location, result.data_size = record.dataLocation, record.dataSize
        result.conflicts += conflicts
        return result
    ids = allocator.take(len(plan.entries))
    for i, rid in enumerate(ids):
        record = build_record(plan, i, rid)
        if not put_new(dynamo, record):
            record, conflicts = write_record(dynamo, allocator, partial(_single, plan, i))
            result.conflicts += conflicts + 1
        result.ids.append(record.id)
    return result


def generate(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, s3: S3Backend,
             source: Source, *, now: datetime, actor: str, source_name: str = "zengin-code",
             source_version: str = "", processing_node: str = "console", dry_run: bool = False,
             audit_pg: PostgresBackend | None = None) -> tuple[DiffPlan, WriteResult | None]:
    """``console diffs generate``: read the master, compare, and (unless ``dry_run``) queue
    the plan, write-ahead audited on ``audit_pg`` (default: the zengin target): the intent
    (with the digest of the plan's preview) before the first DynamoDB / S3 write, settled
    after. Read-only mode is refused (and audited) before anything is read."""
    target = f"dynamodb:{dynamo.table}"
    apg = audit_pg or pg
    if not dry_run and settings.read_only:
        audit.begin(settings, GENERATE, target=target, principal=actor, audit_pg=apg,
                    detail={"source": source_name})          # raises ReadOnlyError, audited
    threshold = settings.zengin.bulk_threshold_bytes if settings.zengin else 400 * 1024
    entries = compare(master_from_source(source), read_master(pg))
    plan = plan_diffs(entries, now=now, threshold_bytes=threshold,
                      metadata={"source": source_name, "sourceVersion": source_version,
                                "processingNode": processing_node, "generatedBy": str(actor)})
    if dry_run:
        return plan, None
    intent = audit.begin(settings, GENERATE, target=target, principal=actor, audit_pg=apg,
                         plan=plan.preview(dynamo.table, s3.bucket),
                         detail={"source": source_name, "summary": plan.summary})
    try:
        result = write_plan(dynamo, s3, plan)
    except BackendError as exc:
        audit.settle(intent, audit.outcome_of(exc), {"error": exc.message})
        if intent.unsettled:
            exc.message += f" ({intent.settle_error})"
        raise
    audit.settle(intent, audit.OK, {"ids": result.ids[:50], "count": len(result.ids), "bulk": result.bulk,
                                    "dataLocation": result.data_location, "summary": result.summary})
    result.audit_id, result.audit_error = intent.id, intent.settle_error
    return plan, result
