"""Many diffs at once: a plan (order, dependencies, what will not go and why), then
:func:`approve_many` / :func:`execute_many` with few round trips.

Order (PRODUCT.md, How execution of a diff must behave): bulk diffs first (their records
are already ordered inside), then bank additions and updates, branch additions and updates,
branch deletions, bank deletions; within a phase oldest first. A diff depends on another in
the same set when the foreign key needs it first: a branch addition or update on a bank
that a diff of the set adds, a bank deletion on the deletions of that bank's branches.

Execution, per chunk of ``chunk`` diffs in that order:

1. claim every diff, ``approved -> executing`` (conditional UpdateItem each, ``workers`` at
   a time; the item as the write returns it is the one applied);
2. ONE PostgreSQL transaction (``application_name`` ``console-exec:batch:<id>``, recorded on
   every claimed item as ``executionBatch`` so reconcile sees it running); per diff a
   SAVEPOINT, its rows, its ``change_history`` row (UNIQUE: a replay is a no-op) and its own
   audit record; a diff that fails (stale, a foreign key, a CHECK) is rolled back to its
   savepoint alone and gets a ``failed`` audit record; a diff whose dependency failed or
   waits in this run is not applied and goes back to ``approved`` with ``waitsFor``;
3. commit; 4. settle every claimed item (``completed`` / ``failed`` / back to
   ``approved``), conditional on its claim (``executedAt``).

A crash between 3 and 4 leaves items in ``executing``; :mod:`.reconcile` settles them from
``change_history`` as for a single diff.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Sequence

from ...backends.base import BackendError
from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend
from ...backends.s3 import S3Backend
from ...config import Settings
from .. import audit
from . import live as live_mod
from . import queue as queue_mod
from .records import DiffEntry, DiffRecord
from .workflow import Outcome, Ref, Refused, check, find, transition

CHUNK = 500
WORKERS = 4
PHASES = ("bulk diffs", "bank additions and updates", "branch additions and updates", "branch deletions",
          "bank deletions")
Progress = Callable[[str, int, int], None]


# --------------------------------------------------------------------------- planning


def phase_of(rec: DiffRecord, entries: Sequence[DiffEntry]) -> int:
    if rec.is_bulk or len(entries) != 1:
        return 0
    e = entries[0]
    if e.table == "banks":
        return 4 if e.diffType == "deletion" else 1
    return 3 if e.diffType == "deletion" else 2


@dataclass
class Item:
    rec: DiffRecord
    entries: tuple[DiffEntry, ...] = ()
    phase: int = 0
    kind: str = "go"          # go | refused | invalid | stale | self | orphan | waits
    reason: str = ""
    depends: list[int] = field(default_factory=list)   # indexes into the plan's items

    @property
    def ref(self) -> Ref:
        return Ref.of(self.rec)


@dataclass
class BatchPlan:
    """The diffs that will go (in order) and those that will not, with the reason."""

    action: str
    items: list[Item]
    excluded: list[Item]

    def totals(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for it in self.items:
            for e in it.entries:
                t = out.setdefault(e.table, {"addition": 0, "update": 0, "deletion": 0})
                if e.diffType in t:
                    t[e.diffType] += 1
        return out

    def excluded_by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for it in self.excluded:
            out[it.kind] = out.get(it.kind, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "go": len(self.items), "totals": self.totals(),
                "excluded": self.excluded_by_kind(),
                "not_going": [{"id": i.rec.id, "timestamp": i.rec.timestamp, "kind": i.kind, "reason": i.reason}
                              for i in self.excluded]}

    def text(self) -> str:
        lines = [f"{self.action} {len(self.items)} diff(s)"]
        for table, t in sorted(self.totals().items()):
            lines.append(f"  {table}: " + ", ".join(f"{n} {k}" for k, n in t.items() if n))
        if self.excluded:
            lines.append(f"  not going: {len(self.excluded)} ("
                         + ", ".join(f"{n} {k}" for k, n in sorted(self.excluded_by_kind().items())) + ")")
        return "\n".join(lines)


def order(items: list[Item]) -> list[Item]:
    """Dependency order, and each item's dependencies inside the list."""
    items = sorted(items, key=lambda i: (i.phase, i.rec.timestamp, i.rec.id))
    bank_adds: dict[str, int] = {}
    branch_dels: dict[str, list[int]] = {}
    for n, it in enumerate(items):
        if it.phase == 1 and it.entries[0].diffType == "addition":
            bank_adds.setdefault(it.entries[0].key[0], n)
        if it.phase == 3:
            branch_dels.setdefault(it.entries[0].key[0], []).append(n)
    for it in items:
        it.depends = []
        if it.phase == 2 and it.entries[0].key[0] in bank_adds:
            it.depends.append(bank_adds[it.entries[0].key[0]])
        if it.phase == 4:
            it.depends += branch_dels.get(it.entries[0].key[0], [])
    return items


def _entries(rec: DiffRecord, s3: S3Backend | None) -> tuple[tuple[DiffEntry, ...], list[str]]:
    v = check(rec, s3)
    if not v.ok:
        return (), list(v.problems)
    if rec.is_bulk:
        return v.entries, []
    e = rec.entry
    return ((e,), []) if e is not None else ((), ["no row change"])


def load(dynamo: DynamoBackend, refs: Iterable[Ref] | None, status: str) -> tuple[list[DiffRecord], list[Item]]:
    """The items named by ``refs`` (consistent reads: BatchGetItem by full key, 100 at a
    time), or every item of ``status`` (StatusIndex, all pages)."""
    if refs is None:
        return list(queue_mod.iter_status(dynamo, status, newest_first=False)), []
    refs = list(refs)
    out: list[DiffRecord] = []
    missing: list[Item] = []
    keyed = [r for r in refs if r.timestamp]
    for r in refs:
        if not r.timestamp:
            try:
                out.append(find(dynamo, r))
            except Refused as exc:
                missing.append(Item(DiffRecord(id=r.id), kind="refused", reason=exc.message))
    for i in range(0, len(keyed), 100):
        want = {(r.id, r.timestamp) for r in keyed[i:i + 100]}
        keys = [{"id": {"S": a}, "timestamp": {"S": b}} for a, b in want]
        got: dict[tuple[str, str], DiffRecord] = {}
        request = {dynamo.table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            resp = dynamo.call("batch_get_item", RequestItems=request)
            for raw in resp.get("Responses", {}).get(dynamo.table, []):
                rec = DiffRecord.from_item(raw)
                got[(rec.id, rec.timestamp)] = rec
            request = resp.get("UnprocessedKeys") or None
        for k in sorted(want):
            if k in got:
                out.append(got[k])
            else:
                missing.append(Item(DiffRecord(id=k[0], timestamp=k[1]), kind="refused",
                                    reason=f"{k[0]}@{k[1]}: no such diff"))
    return out, missing


def plan(settings: Settings, pg: PostgresBackend | None, dynamo: DynamoBackend, s3: S3Backend | None,
         action: str, recs: list[DiffRecord], *, actor: str, now: datetime, allow_stale: bool = False,
         queued_deletions: Callable[[], set] | None = None) -> BatchPlan:
    """Classify ``recs`` for ``action`` (approve | execute): what goes, in which order, and
    why the rest does not (refused, invalid, stale, self-approved, orphan, waits)."""
    want = "pending" if action == "approve" else "approved"
    z = settings.zengin
    forbid_self = True if z is None else z.forbid_self_execution
    go: list[Item] = []
    out: list[Item] = []
    for rec in recs:
        it = Item(rec)
        shown = rec.display_status(now)
        if shown == "expired":
            it.kind, it.reason = "refused", f"{rec.id}: expired (ttl passed)"
        elif rec.status != want:
            it.kind, it.reason = "refused", f"{rec.id}: is {rec.status}, only a {want} diff can be {action}d"
        elif action == "execute" and forbid_self and rec.approvedBy and rec.approvedBy == actor:
            it.kind, it.reason = "self", (f"{rec.id}: approved by {actor}; the approver may not execute it "
                                          "(zengin.forbid_self_execution)")
        else:
            it.entries, problems = _entries(rec, s3)
            if problems:
                it.kind, it.reason = "invalid", f"{rec.id}: invalid: " + "; ".join(problems[:5])
            else:
                it.phase = phase_of(rec, it.entries)
        (go if it.kind == "go" else out).append(it)
    if pg is not None and go:
        if action == "approve":
            marks = live_mod.stale_marks(pg, [(i.rec, i.entries) for i in go])
            keep = []
            for it in go:
                m = marks.get((it.rec.id, it.rec.timestamp))
                if m and m.stale and not allow_stale:
                    it.kind, it.reason = "stale", f"{it.rec.id}: STALE: " + "; ".join(m.reasons[:3])
                    out.append(it)
                else:
                    keep.append(it)
            go = keep
        go, flagged = _preflight(pg, go, action, queued_deletions)
        out += flagged
    return BatchPlan(action, order(go), out)


def _preflight(pg: PostgresBackend, go: list[Item], action: str,
               queued_deletions: Callable[[], set] | None) -> tuple[list[Item], list[Item]]:
    """Against the live database: a bank deletion whose branches would remain (orphan),
    and, for execution, a branch addition whose bank neither exists nor is added here."""
    singles = [i for i in go if i.phase]
    bank_dels = {i.entries[0].key[0] for i in singles if i.phase == 4}
    flagged: list[Item] = []
    drop: set[int] = set()
    if bank_dels:
        deleted = {i.entries[0].key for i in singles if i.phase == 3}
        if queued_deletions is not None:
            deleted |= queued_deletions()
        counts = live_mod.orphans(pg, bank_dels, deleted)
        for n, i in enumerate(go):
            if i.phase == 4 and counts.get(i.entries[0].key[0]):
                i.kind = "orphan" if action == "approve" else "waits"
                i.reason = f"{i.rec.id}: " + live_mod.orphan_problem(i.entries[0].key[0], counts[i.entries[0].key[0]])
                flagged.append(i)
                drop.add(n)
    if action == "execute":
        adds = {i.entries[0].key[0] for i in singles if i.phase == 1 and i.entries[0].diffType == "addition"}
        need = {i.entries[0].key[0] for i in singles if i.phase == 2} - adds
        if need:
            existing = {k[0] for k, v in live_mod.live_rows(pg, {(b, None) for b in need}).items() if v}
            for n, i in enumerate(go):
                if i.phase == 2 and i.entries[0].key[0] in need - existing:
                    i.kind = "waits"
                    i.reason = (f"{i.rec.id}: waits: bank {i.entries[0].key[0]} does not exist and no diff in "
                                "this run adds it")
                    flagged.append(i)
                    drop.add(n)
    return [i for n, i in enumerate(go) if n not in drop], flagged


# --------------------------------------------------------------------------- DynamoDB


def concurrent(fn: Callable[[Any], Any], args: Sequence[Any], workers: int = WORKERS) -> list[Any]:
    """``fn`` over ``args`` with at most ``workers`` in flight; an exception is returned in
    the result list, not raised."""
    def safe(a):
        try:
            return fn(a)
        except Exception as exc:  # noqa: BLE001 - reported per item
            return exc
    if len(args) <= 1 or workers <= 1:
        return [safe(a) for a in args]
    with ThreadPoolExecutor(max_workers=min(workers, len(args))) as ex:
        return list(ex.map(safe, args))


def _why(exc: BaseException) -> str:
    if isinstance(exc, Refused):
        return exc.message
    if isinstance(exc, BackendError):
        return f"{exc.kind.value}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def update(dynamo: DynamoBackend, rec: DiffRecord, expected: str, new: str, *, now: datetime,
           sets: dict[str, Any] | None = None, removes: Sequence[str] = (), require_live_ttl: bool = True,
           conditions: dict[str, tuple[str, Any]] | None = None) -> DiffRecord:
    """:func:`workflow.transition` for batches: the same conditional UpdateItem, but it asks
    for no attributes back (``ReturnValues=NONE``; parsing the whole item back costs more
    than the write on the emulator) and returns ``rec`` with the change applied — the rest
    of a diff item never changes after it is written. On a failed condition the item is
    re-read and Refused says its new state, as transition does."""
    transition(dynamo, rec, expected, new, now=now, sets=sets, removes=removes,
               require_live_ttl=require_live_ttl, conditions=conditions, fetch_new=False)
    known = {f.name for f in dataclasses.fields(DiffRecord)} - {"extra", "problems"}
    direct = {k: (str(v) if isinstance(v, str) else v) for k, v in (sets or {}).items() if k in known}
    extra = {k: v for k, v in rec.extra.items() if k not in removes}
    extra.update({k: (str(v) if isinstance(v, str) else v) for k, v in (sets or {}).items() if k not in known})
    cleared = {k: None for k in removes if k in known}
    return dataclasses.replace(rec, status=new, **direct, **cleared, extra=extra)


# --------------------------------------------------------------------------- results


@dataclass
class BatchResult:
    plan: BatchPlan
    outcomes: list[Outcome] = field(default_factory=list)
    elapsed_ms: int = 0
    batch_id: str = ""
    audit_id: int | None = None          # the batch's write-ahead intent
    audit_error: str | None = None       # done, but that intent could not be settled

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.outcome] = out.get(o.outcome, 0) + 1
        return out

    def summary(self) -> str:
        c = self.counts()
        return (f"{self.plan.action}: " + ", ".join(f"{n} {k}" for k, n in sorted(c.items()))
                + f" in {self.elapsed_ms} ms" if c else f"{self.plan.action}: nothing to do")

    def as_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "counts": self.counts(), "elapsed_ms": self.elapsed_ms,
                "batch": self.batch_id, "audit_id": self.audit_id, "audit_error": self.audit_error, "plan": self.plan.as_dict(), "results": [o.as_dict() for o in self.outcomes]}


def _excluded_outcomes(p: BatchPlan, act: audit.Action) -> list[Outcome]:
    kind = {"waits": "waiting"}
    return [Outcome(i.ref, act.name, kind.get(i.kind, "refused"), i.reason, None, i.rec, {"kind": i.kind})
            for i in p.excluded]


def _audit_many(pg: PostgresBackend, actor: str, act: audit.Action, target: str,
                rows: list[tuple[str, dict[str, Any]]]) -> list[int]:
    """One audit record per entry ``(outcome, detail)``, in one transaction."""
    ids: list[int] = []
    if not rows:
        return ids
    with pg.connection() as conn:
        for outcome, detail in rows:
            ids.append(audit.record(conn, actor=actor, act=act, target=target, outcome=outcome, detail=detail))
    return ids


def _settle_intent(intent, res: BatchResult) -> BatchResult:
    c = res.counts()
    err = intent.settle_error
    not_applied = any(o.detail.get("applied") is False for o in res.outcomes)   # a chunk that did not commit
    outcome = (audit.FAILED if c.get("failed") or not_applied else audit.UNKNOWN if c.get("unknown")
               else audit.REFUSED if c and not c.get("ok") else audit.OK)
    audit.settle(intent, outcome,
                 {"counts": c, "batchId": res.batch_id, "elapsed_ms": res.elapsed_ms})
    res.audit_id, res.audit_error = intent.id, err or intent.settle_error
    return res


def queued_deletion_keys(dynamo: DynamoBackend, statuses: Iterable[str] = ("pending", "approved", "executing"),
                         known: Iterable[DiffRecord] = ()) -> set:
    """Row keys of every deletion (single diffs) in these statuses, read with a projection
    of the codes only; ``known`` records are taken as read."""
    out = {r.entry.key for r in known if r.diffType == "deletion" and r.entry is not None and r.entry.key}
    names = {"#t": "diffType", "#z": "zenginData", "#c": "currentData"}
    proj = "#t, #z.bankCode, #z.branchCode, #c.bankCode, #c.branchCode"
    for status in statuses:
        start: dict | None = None
        while True:
            kw: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
            resp = dynamo.call("query", TableName=dynamo.table, IndexName="StatusIndex",
                               KeyConditionExpression="#s = :s", FilterExpression="#t = :d",
                               ExpressionAttributeNames={"#s": "status", **names},
                               ExpressionAttributeValues={":s": {"S": status}, ":d": {"S": "deletion"}},
                               ProjectionExpression=proj, **kw)
            for item in resp.get("Items", []):
                for side in ("zenginData", "currentData"):
                    m = (item.get(side) or {}).get("M") or {}
                    bank = (m.get("bankCode") or {}).get("S")
                    if bank:
                        branch = (m.get("branchCode") or {}).get("S")
                        out.add((bank, branch))
                        break
            start = resp.get("LastEvaluatedKey")
            if not start:
                break
    return out


# approve_many and reject_many live in .batch_approve; importable from here.
from .batch_approve import approve_many, reject_many  # noqa: E402,F401
