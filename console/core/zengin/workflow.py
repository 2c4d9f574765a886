"""The diff status machine and the review queue.

::

    pending --approve--> approved --claim--> executing --commit--> completed
       |                                         \\--error--> failed
       \\--reject--> rejected
    (expired: derived from ``ttl``, never stored; an expired diff is never approved or run)

Every change is a DynamoDB ``UpdateItem`` whose ``ConditionExpression`` names the status the
change starts from (and, for approve / reject / claim, that ``ttl`` has not passed), so two
approvers or two consoles can never both approve, reject or claim one diff: the loser gets
ConditionalCheckFailed and is told the diff's new state. Each change carries who and when
(``approvedBy``/``approvedAt``, ``rejectedBy``/``rejectionReason``, ``executedBy``/
``executedAt``, ``updatedAt``).

The queue is read through ``StatusIndex`` (Query on ``status``, ``ScanIndexForward=False``:
newest first, paginated with ``LastEvaluatedKey``). A GSI is eventually consistent, so a
diff's detail and every action re-read the item by its full key with ``ConsistentRead``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from ...backends.base import BackendError, ErrorKind, ReadOnlyError
from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend
from ...backends.s3 import S3Backend
from ...config import Settings
from .. import audit
from ..identity import Principal
from .records import EXPIRED, STATUSES, DiffRecord, encode_attribute, iso_utc
from .validate import MAX_S3_BYTES, Validation, validate

APPROVE = audit.action("diffs.approve", "approve a pending zengin diff (DynamoDB conditional write)")
REJECT = audit.action("diffs.reject", "reject a pending zengin diff with a reason (DynamoDB conditional write)")

TABS = ("pending", "approved", "executing", "completed", "failed", "rejected", EXPIRED)
PAGE = 100
MAX_REASON = 1000


# --------------------------------------------------------------------------- references


@dataclass(frozen=True)
class Ref:
    """A diff as the user names it: ``diff-20240101-000001`` or ``…@<timestamp>``."""

    id: str
    timestamp: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Ref":
        rid, _, ts = str(text).strip().partition("@")
        return cls(rid, ts or None)

    @classmethod
    def of(cls, rec: DiffRecord) -> "Ref":
        return cls(rec.id, rec.timestamp)

    def __str__(self) -> str:
        return self.id if self.timestamp is None else f"{self.id}@{self.timestamp}"


@dataclass
class Outcome:
    """What one action on one diff did."""

    ref: Ref
    action: str
    outcome: str                      # ok | refused | failed | unknown | skipped
    message: str
    audit_id: int | None = None
    record: DiffRecord | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    audit_error: str | None = None    # the change is done but its audit record could not be settled

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.ref.id, "timestamp": self.ref.timestamp or (self.record.timestamp if self.record else None),
                "action": self.action, "outcome": self.outcome, "message": self.message,
                "audit_id": self.audit_id, "audit_error": self.audit_error,
                "status": self.record.status if self.record else None, **self.detail}


class Refused(Exception):
    """An action refused by a rule (wrong status, expired, invalid, self-execution,
    lost race). Caught by the action functions and turned into an Outcome."""

    def __init__(self, message: str, record: DiffRecord | None = None):
        super().__init__(message)
        self.message = message
        self.record = record


# --------------------------------------------------------------------------- reading


def get_item(dynamo: DynamoBackend, rid: str, timestamp: str) -> DiffRecord | None:
    resp = dynamo.call("get_item", TableName=dynamo.table, ConsistentRead=True,
                       Key={"id": {"S": rid}, "timestamp": {"S": timestamp}})
    item = resp.get("Item")
    return DiffRecord.from_item(item) if item else None


def find(dynamo: DynamoBackend, ref: Ref) -> DiffRecord:
    """The item, read by its full key (consistent). Without a timestamp the id's items are
    queried (consistent); more than one is ambiguous."""
    if ref.timestamp:
        rec = get_item(dynamo, ref.id, ref.timestamp)
        if rec is None:
            raise Refused(f"{ref}: no such diff")
        return rec
    resp = dynamo.call("query", TableName=dynamo.table, ConsistentRead=True, Limit=5,
                       KeyConditionExpression="#id = :id", ExpressionAttributeNames={"#id": "id"},
                       ExpressionAttributeValues={":id": {"S": ref.id}})
    items = [DiffRecord.from_item(i) for i in resp.get("Items", [])]
    items = [r for r in items if r.status]            # not the sequence counter
    if not items:
        raise Refused(f"{ref}: no such diff")
    if len(items) > 1:
        raise Refused(f"{ref}: {len(items)} items share this id; name one as ID@TIMESTAMP "
                      f"({', '.join(r.timestamp for r in items)})")
    return items[0]


def query_status(dynamo: DynamoBackend, status: str, *, limit: int = PAGE,
                 start_key: dict | None = None) -> tuple[list[DiffRecord], dict | None]:
    """One page of ``status`` from StatusIndex, newest first, and the key of the next."""
    kw: dict[str, Any] = {}
    if start_key:
        kw["ExclusiveStartKey"] = start_key
    resp = dynamo.call("query", TableName=dynamo.table, IndexName="StatusIndex",
                       KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                       ExpressionAttributeValues={":s": {"S": status}}, ScanIndexForward=False,
                       Limit=limit, **kw)
    return [DiffRecord.from_item(i) for i in resp.get("Items", [])], resp.get("LastEvaluatedKey")


@dataclass
class Queue:
    """Every tab's diffs (newest first) and whether a status had more than the cap."""

    tabs: dict[str, list[DiffRecord]]
    capped: dict[str, bool]
    read_at: datetime

    def counts(self) -> dict[str, int]:
        return {t: len(self.tabs.get(t, [])) for t in TABS}


def load_queue(dynamo: DynamoBackend, now: datetime, *, cap: int = 2000, page: int = PAGE,
               statuses: Iterable[str] = STATUSES) -> Queue:
    """Every stored status read page by page (up to ``cap`` items each) and sorted into the
    tabs by display status (a passed ``ttl`` moves a diff to *expired*)."""
    tabs: dict[str, list[DiffRecord]] = {t: [] for t in TABS}
    capped: dict[str, bool] = {t: False for t in TABS}
    for status in statuses:
        start: dict | None = None
        seen = 0
        while True:
            recs, start = query_status(dynamo, status, limit=min(page, cap - seen), start_key=start)
            seen += len(recs)
            for r in recs:
                shown = r.display_status(now)
                tabs.setdefault(shown if shown in tabs else status, []).append(r)
            if not start:
                break
            if seen >= cap:
                capped[status] = True
                break
    tabs[EXPIRED].sort(key=lambda r: r.timestamp, reverse=True)
    return Queue(tabs, capped, now)


def s3_fetcher(s3: S3Backend | None) -> Callable[[str, str], bytes | None] | None:
    """``fetch(bucket, key)``: the object's bytes, or None when it is too large to read."""
    if s3 is None:
        return None

    def fetch(bucket: str, key: str) -> bytes | None:
        resp = s3.call("get_object", Bucket=bucket, Key=key)
        body = resp["Body"]
        try:
            if int(resp.get("ContentLength") or 0) > MAX_S3_BYTES:
                return None
            return body.read()
        finally:
            body.close()
    return fetch


def check(rec: DiffRecord, s3: S3Backend | None, bucket: str | None = None) -> Validation:
    return validate(rec, bucket=bucket or (s3.bucket if s3 is not None else None), fetch=s3_fetcher(s3))


# --------------------------------------------------------------------------- writing


def transition(dynamo: DynamoBackend, rec: DiffRecord, expected: str, new: str, *,
               sets: dict[str, Any] | None = None, removes: Iterable[str] = (),
               now: datetime, require_live_ttl: bool = True,
               conditions: dict[str, tuple[str, Any]] | None = None, fetch_new: bool = True) -> DiffRecord:
    """Conditional UpdateItem ``expected -> new``. ``conditions`` adds
    ``{attribute: (operator, value)}`` clauses (``"<>"`` with a value also passes when the
    attribute is absent). Raises Refused (with the item as it is now) when the condition
    fails. ``fetch_new=False`` asks DynamoDB for nothing back (batches: parsing the whole item
    costs more than the write) and returns ``rec`` unchanged; the caller applies the change."""
    names: dict[str, str] = {"#s": "status"}
    values: dict[str, Any] = {":from": {"S": expected}, ":to": {"S": new}}
    set_parts = ["#s = :to"]
    for i, (k, v) in enumerate((sets or {}).items()):
        names[f"#a{i}"] = k
        values[f":v{i}"] = encode_attribute(v)
        set_parts.append(f"#a{i} = :v{i}")
    expr = "SET " + ", ".join(set_parts)
    rem = []
    for i, k in enumerate(removes):
        names[f"#r{i}"] = k
        rem.append(f"#r{i}")
    if rem:
        expr += " REMOVE " + ", ".join(rem)
    cond = ["#s = :from"]
    if require_live_ttl:
        names["#ttl"] = "ttl"
        values[":now"] = {"N": str(int(now.timestamp()))}
        cond.append("(attribute_not_exists(#ttl) OR #ttl > :now)")
    for i, (k, (op, v)) in enumerate((conditions or {}).items()):
        names[f"#c{i}"] = k
        values[f":c{i}"] = encode_attribute(v)
        if op == "<>":
            cond.append(f"(attribute_not_exists(#c{i}) OR #c{i} <> :c{i})")
        else:
            cond.append(f"#c{i} {op} :c{i}")
    try:
        resp = dynamo.call("update_item", TableName=dynamo.table, Key=rec.key, UpdateExpression=expr,
                           ConditionExpression=" AND ".join(cond), ExpressionAttributeNames=names,
                           ExpressionAttributeValues=values, ReturnValues="ALL_NEW" if fetch_new else "NONE")
    except BackendError as exc:
        if exc.kind is not ErrorKind.CONFLICT:
            raise
        now_rec = get_item(dynamo, rec.id, rec.timestamp)
        if now_rec is None:
            raise Refused(f"{rec.id}: the diff no longer exists") from None
        state = now_rec.display_status(now)
        who = changed_by(now_rec)
        raise Refused(f"{rec.id}: changed meanwhile (now {state}" + (f", {who}" if who else "")
                      + f"); {expected} -> {new} not done", now_rec) from None
    return DiffRecord.from_item(resp.get("Attributes", {})) if fetch_new else rec


def changed_by(rec: DiffRecord) -> str:
    """Who moved the diff into its current status, named for that status."""
    role = {"approved": ("approved", rec.approvedBy), "rejected": ("rejected", rec.rejectedBy),
            "executing": ("claimed for execution", rec.executedBy),
            "completed": ("executed", rec.executedBy), "failed": ("executed", rec.executedBy)}.get(rec.status)
    if not role or not role[1]:
        return ""
    return f"{role[0]} by {role[1]}"


def audit_write(pg: PostgresBackend | None, *, actor: str, act: audit.Action, target: str, outcome: str,
                detail: dict[str, Any], read_only: bool = False) -> int | None:
    """One audit row in its own transaction on the zengin target."""
    if pg is None:
        return None
    with pg.connection() as conn:
        return audit.record(conn, actor=actor, act=act, target=target, outcome=outcome, detail=detail,
                            read_only=read_only)


def audit_target(dynamo: DynamoBackend, ref: Ref | DiffRecord) -> str:
    rid = ref.id
    return f"dynamodb:{dynamo.table}:{rid}"


def refuse_read_only(settings: Settings, act: audit.Action, pg: PostgresBackend | None, actor: str,
                     target: str, detail: dict[str, Any]) -> None:
    """For callers not converted to :func:`audit.begin` yet (the executor): in read-only
    mode record the refusal and raise ReadOnlyError (saying when the refusal could not be
    recorded); refuse when there is nowhere to write the audit record."""
    if settings.read_only:
        i = audit.refuse(settings, act, target=target, reason="read-only", principal=actor, detail=detail,
                         audit_pg=pg, read_only=True)
        raise audit._refusal_error(ReadOnlyError(act.name), i)
    if pg is None:
        raise BackendError("console", ErrorKind.REFUSED,
                           f"{act.name} refused: no PostgreSQL target for audit records "
                           "(set [zengin] target to a configured [postgres.*] target)")


def _pending_checks(rec: DiffRecord, s3: S3Backend | None, now: datetime, verb: str,
                    validate_content: bool = True) -> None:
    shown = rec.display_status(now)
    if shown == EXPIRED:
        raise Refused(f"{rec.id}: expired (ttl passed); it cannot be {verb}", rec)
    if rec.status != "pending":
        raise Refused(f"{rec.id}: is {rec.status}, only a pending diff can be {verb}", rec)
    if validate_content:
        v = check(rec, s3)
        if not v.ok:
            raise Refused(f"{rec.id}: invalid, cannot be {verb}: " + "; ".join(v.problems[:10]), rec)


def principal_attrs(prefix: str, actor: Any) -> dict[str, Any]:
    """``<prefix>By`` plus where the name comes from (``<prefix>BySource``: aws-sts /
    declared) so that a declared approval can be told from a verified one."""
    out: dict[str, Any] = {f"{prefix}By": str(actor)}
    if isinstance(actor, Principal):
        out[f"{prefix}BySource"] = actor.source
    return out


def landed(dynamo: DynamoBackend, rec: DiffRecord, new: str, by_attr: str, actor: str) -> bool | None:
    """After a write that timed out or lost its connection: read the item back. True when
    the write landed (status ``new`` by ``actor``), False when it did not, None when the
    read-back fails too."""
    try:
        now_rec = get_item(dynamo, rec.id, rec.timestamp)
    except BackendError:
        return None
    if now_rec is None:
        return False
    return now_rec.status == new and getattr(now_rec, by_attr, None) == str(actor)


def _change(settings: Settings, act: audit.Action, dynamo: DynamoBackend, audit_pg: PostgresBackend | None,
            ref: Ref, actor: Any, detail: dict[str, Any],
            prepare: Callable[[], tuple[DiffRecord, Callable[[DiffRecord], DiffRecord]]],
            new: str, by_attr: str, done_text: str) -> Outcome:
    """The write-ahead shape of approve / reject: intent (refused in read-only mode, no
    intent no change), checks (a refusal settles the intent as refused), the conditional
    write, the intent settled; a timeout is read back before anything is reported."""
    target = audit_target(dynamo, ref)
    if audit_pg is None and not settings.read_only:
        raise BackendError("console", ErrorKind.REFUSED,
                           f"{act.name} refused: no PostgreSQL target for audit records "
                           "(set [zengin] target to a configured [postgres.*] target)")
    intent = audit.begin(settings, act, target=target, principal=actor, detail=detail, audit_pg=audit_pg)
    rec: DiffRecord | None = None
    try:
        rec, write = prepare()
        rec = write(rec)
    except Refused as r:
        audit.settle(intent, audit.REFUSED, {"reason": r.message})
        return Outcome(ref, act.name, "refused", r.message, intent.id, r.record or rec,
                       audit_error=intent.settle_error)
    except BackendError as exc:
        outcome = audit.outcome_of(exc)
        msg = f"{exc.kind.value}: {exc.message}"
        if outcome == audit.UNKNOWN and rec is not None:
            got = landed(dynamo, rec, new, by_attr, actor)
            if got is True:
                audit.settle(intent, audit.OK, {"id": rec.id, "read_back": True, "error": exc.message})
                return Outcome(Ref.of(rec), act.name, "ok", f"{rec.id}: {done_text} by {actor} "
                               f"(the write timed out; read back: it landed)", intent.id, get_item(dynamo, rec.id, rec.timestamp),
                               audit_error=intent.settle_error)
            if got is False:
                outcome = audit.FAILED
                msg += " (read back: the diff did not change)"
            else:
                msg += (f"; the outcome is UNKNOWN (read back failed too): check it with "
                        f"`console diffs show {rec.id}@{rec.timestamp}` before doing anything else")
        audit.settle(intent, outcome, {"error": exc.message})
        return Outcome(ref, act.name, "unknown" if outcome == audit.UNKNOWN else "failed", msg, intent.id, rec,
                       audit_error=intent.settle_error)
    audit.settle(intent, audit.OK, {"id": rec.id, "timestamp": rec.timestamp, "diffType": rec.diffType})
    return Outcome(Ref.of(rec), act.name, "ok", f"{rec.id}: {done_text} by {actor}", intent.id, rec,
                   audit_error=intent.settle_error)


def approve(settings: Settings, dynamo: DynamoBackend, s3: S3Backend | None, audit_pg: PostgresBackend | None,
            ref: Ref, actor: Any, *, now: datetime | None = None) -> Outcome:
    """pending -> approved (validated, not expired), one audit record (write-ahead)."""
    now = now or datetime.now(timezone.utc)

    def prepare():
        rec = find(dynamo, ref)
        _pending_checks(rec, s3, now, "approved")
        at = iso_utc(now)
        return rec, lambda r: transition(dynamo, r, "pending", "approved", now=now,
                                         sets={**principal_attrs("approved", actor), "approvedAt": at,
                                               "updatedAt": at})
    return _change(settings, APPROVE, dynamo, audit_pg, ref, actor, {"ref": str(ref)}, prepare,
                   "approved", "approvedBy", "approved")


def reject(settings: Settings, dynamo: DynamoBackend, s3: S3Backend | None, audit_pg: PostgresBackend | None,
           ref: Ref, actor: Any, reason: str, *, now: datetime | None = None) -> Outcome:
    """pending -> rejected with a reason, one audit record (write-ahead). An invalid diff
    can be rejected (that is what rejection is for); an expired one cannot."""
    now = now or datetime.now(timezone.utc)
    reason = (reason or "").strip()

    def prepare():
        if not reason:
            raise Refused(f"{ref}: a rejection needs a reason")
        if len(reason) > MAX_REASON:
            raise Refused(f"{ref}: the reason is longer than {MAX_REASON} characters")
        rec = find(dynamo, ref)
        _pending_checks(rec, s3, now, "rejected", validate_content=False)
        at = iso_utc(now)
        return rec, lambda r: transition(dynamo, r, "pending", "rejected", now=now,
                                         sets={**principal_attrs("rejected", actor), "rejectionReason": reason,
                                               "rejectedAt": at, "updatedAt": at})
    return _change(settings, REJECT, dynamo, audit_pg, ref, actor, {"ref": str(ref), "reason": reason[:MAX_REASON]},
                   prepare, "rejected", "rejectedBy", "rejected")
