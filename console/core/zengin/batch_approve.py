"""pending -> approved, and pending -> rejected, for many diffs at once (and, from :mod:`.batch`'s plan, the
reasons the rest do not go): conditional UpdateItems a few at a time, one audit record per
diff written in one transaction, and the batch's write-ahead intent. Split out of
:mod:`.batch`, which re-exports :func:`approve_many`."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from ...backends.base import BackendError, ErrorKind
from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend
from ...backends.s3 import S3Backend
from ...config import Settings
from .. import audit
from . import live as live_mod
from .batch import (CHUNK, WORKERS, BatchPlan, BatchResult, Item, Progress, _audit_many, _excluded_outcomes, _settle_intent,
                    _why, concurrent, load, plan, queued_deletion_keys, update)
from .records import DiffRecord, iso_utc
from .workflow import APPROVE, MAX_REASON, REJECT, Outcome, Ref, Refused, get_item, landed, principal_attrs


class _Unknown(Exception):
    """A write whose outcome could not be learned (timed out, and the read-back failed)."""

    def __init__(self, exc: BackendError):
        super().__init__(exc.message)
        self.exc = exc


STALE_POLICY_KEY = "zengin.stale_approvals"


class StaleApprovalRefused(BackendError):
    """``allow_stale`` asked for while ``[zengin] stale_approvals = "refuse"``: the whole
    request is refused (recorded), nothing is approved."""

    def __init__(self, message: str):
        super().__init__("console", ErrorKind.REFUSED, message)


def stale_refusal(settings: Settings) -> str | None:
    """Why a STALE diff may not be approved at all under this configuration, or None when
    it may with a second confirmation (``stale_approvals = "confirm"``, the default). The
    one statement of the rule: approve_many enforces it, the CLI and the screen say it."""
    z = settings.zengin
    if z is not None and z.stale_approvals == "refuse":
        return ("approving a STALE diff is refused by configuration (zengin.stale_approvals = \"refuse\"): "
                "its live PostgreSQL row differs from the currentData it recorded; reject it and generate "
                "it again from the live rows")
    return None


def approve_many(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, s3: S3Backend | None,
                 refs: Iterable[Ref] | None, actor: str, *, now: datetime | None = None, allow_stale: bool = False,
                 progress: Progress | None = None, workers: int = WORKERS) -> BatchResult:
    """pending -> approved for ``refs`` (None: every pending diff). Invalid, stale (unless
    ``allow_stale``), orphan-making and expired diffs are left out with their reason."""
    t0 = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    target = f"dynamodb:{dynamo.table}"
    refs = None if refs is None else list(refs)
    why = stale_refusal(settings) if allow_stale else None
    if why:
        i = audit.refuse(settings, APPROVE, target=target, reason="stale approvals refused by configuration",
                         principal=actor, audit_pg=pg,
                         detail={"batch": True, "refs": None if refs is None else len(refs), "allow_stale": True,
                                 "policy": STALE_POLICY_KEY})
        err = StaleApprovalRefused(why + (f" ({i.settle_error})" if i.settle_error else ""))
        err.audit_id = i.id  # type: ignore[attr-defined]
        raise err
    # Write-ahead for the whole batch: refused in read-only mode or for a declared name that
    # is not allowed, and nothing is changed when the intent cannot be written.
    intent = audit.begin(settings, APPROVE, target=target, principal=actor, audit_pg=pg,
                         detail={"batch": True, "refs": None if refs is None else len(refs),
                                 "allow_stale": allow_stale})
    recs, missing = load(dynamo, refs, "pending")
    statuses = ("approved", "executing") if refs is None else ("pending", "approved", "executing")
    p = plan(settings, pg, dynamo, s3, "approve", recs, actor=actor, now=now, allow_stale=allow_stale,
             queued_deletions=lambda: queued_deletion_keys(dynamo, statuses, recs if refs is None else ()))
    p.excluded = missing + p.excluded
    res = BatchResult(p, [])
    stale_ok = set()
    if allow_stale:
        marks = live_mod.stale_marks(pg, [(i.rec, i.entries) for i in p.items])
        stale_ok = {k for k, m in marks.items() if m.stale}
    at = iso_utc(now)

    def sets_of(it: Item) -> dict[str, Any]:
        sets = {**principal_attrs("approved", actor), "approvedAt": at, "updatedAt": at}
        if (it.rec.id, it.rec.timestamp) in stale_ok:
            sets["staleAcknowledgedBy"] = str(actor)
        return sets

    def ok_detail(r: DiffRecord) -> dict[str, Any]:
        return {"id": r.id, "timestamp": r.timestamp, "diffType": r.diffType, "batch": True,
                "staleAcknowledged": (r.id, r.timestamp) in stale_ok}

    return _pending_batch(pg, dynamo, APPROVE, "approved", "approvedAt", res, intent, actor, now, at, sets_of,
                          ok_detail, progress, workers, t0)


def reject_many(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, refs: Iterable[Ref], actor: str,
                reason: str, *, now: datetime | None = None, progress: Progress | None = None,
                workers: int = WORKERS) -> BatchResult:
    """pending -> rejected with ``reason`` for ``refs``, as ONE batch: one write-ahead intent,
    conditional UpdateItems a few at a time, one audit record per diff written together, one
    summary. An invalid diff can be rejected (that is what rejection is for); an expired or
    no longer pending one is left out with its reason. A missing or over-long reason refuses
    the whole request (recorded)."""
    t0 = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    target = f"dynamodb:{dynamo.table}"
    refs = list(refs)
    reason = (reason or "").strip()
    problem = ("a rejection needs a reason" if not reason else
               f"the reason is longer than {MAX_REASON} characters" if len(reason) > MAX_REASON else None)
    if problem:
        i = audit.refuse(settings, REJECT, target=target, reason=problem, principal=actor, audit_pg=pg,
                         detail={"batch": True, "refs": len(refs)})
        err = BackendError("console", ErrorKind.REFUSED, f"{REJECT.name} refused: {problem}"
                           + (f" ({i.settle_error})" if i.settle_error else ""))
        err.audit_id = i.id  # type: ignore[attr-defined]
        raise err
    intent = audit.begin(settings, REJECT, target=target, principal=actor, audit_pg=pg,
                         detail={"batch": True, "refs": len(refs), "reason": reason})
    recs, missing = load(dynamo, refs, "pending")
    go: list[Item] = []
    out: list[Item] = list(missing)
    for rec in recs:
        it = Item(rec)
        if rec.display_status(now) == "expired":
            it.kind, it.reason = "refused", f"{rec.id}: expired (ttl passed); it cannot be rejected"
        elif rec.status != "pending":
            it.kind, it.reason = "refused", f"{rec.id}: is {rec.status}, only a pending diff can be rejected"
        (go if it.kind == "go" else out).append(it)
    res = BatchResult(BatchPlan("reject", go, out), [])
    at = iso_utc(now)

    def sets_of(it: Item) -> dict[str, Any]:
        return {**principal_attrs("rejected", actor), "rejectionReason": reason, "rejectedAt": at, "updatedAt": at}

    def ok_detail(r: DiffRecord) -> dict[str, Any]:
        return {"id": r.id, "timestamp": r.timestamp, "diffType": r.diffType, "batch": True, "reason": reason}

    return _pending_batch(pg, dynamo, REJECT, "rejected", "rejectedAt", res, intent, actor, now, at, sets_of,
                          ok_detail, progress, workers, t0)


def _pending_batch(pg: PostgresBackend, dynamo: DynamoBackend, act: audit.Action, new: str, at_attr: str,
                   res: BatchResult, intent: audit.Intent, actor: str, now: datetime, at: str,
                   sets_of: Callable[[Item], dict[str, Any]], ok_detail: Callable[[DiffRecord], dict[str, Any]],
                   progress: Progress | None, workers: int, t0: float) -> BatchResult:
    """pending -> ``new`` for every item of ``res.plan``: conditional UpdateItems ``workers``
    at a time (a write whose answer was lost is read back before anything is said), then
    one audit record per diff — done, refused or left out — in one transaction, and the
    batch's intent settled."""
    p = res.plan
    by_attr = "approvedBy" if new == "approved" else "rejectedBy"
    read_back: set[tuple[str, str]] = set()

    def one(it: Item) -> DiffRecord:
        try:
            return update(dynamo, it.rec, "pending", new, now=now, sets=sets_of(it))
        except (Refused, BackendError) as exc:
            # A timeout, or a "conflict" that is only botocore retrying a write whose answer
            # was lost: read the item back before saying anything.
            if isinstance(exc, BackendError) and audit.outcome_of(exc) != audit.UNKNOWN:
                raise
            got = landed(dynamo, it.rec, new, by_attr, actor)
            if got:
                back = get_item(dynamo, it.rec.id, it.rec.timestamp)
                if back is not None and (getattr(back, at_attr, None) or back.extra.get(at_attr)) == at:
                    read_back.add((back.id, back.timestamp))
                    return back
            if isinstance(exc, BackendError):
                if got is None:
                    raise _Unknown(exc) from None
                raise BackendError(exc.backend, exc.kind,
                                   f"{exc.message} (read back: the diff did not change)") from None
            raise

    audit_rows: list[tuple[str, dict[str, Any]]] = []
    done = 0
    for i in range(0, len(p.items), CHUNK):
        chunk = p.items[i:i + CHUNK]
        for it, r in zip(chunk, concurrent(one, chunk, workers)):
            if isinstance(r, _Unknown):
                msg = (f"{it.rec.id}: the outcome is UNKNOWN ({r.exc.kind.value}: {r.exc.message}; read back "
                       f"failed too): check it with `console diffs show {it.rec.id}@{it.rec.timestamp}`")
                res.outcomes.append(Outcome(it.ref, act.name, "unknown", msg, None, it.rec))
                audit_rows.append(("unknown", {"id": it.rec.id, "timestamp": it.rec.timestamp, "error": r.exc.message}))
            elif isinstance(r, DiffRecord):
                note = (" (the write timed out; read back: it landed)"
                        if (r.id, r.timestamp) in read_back else "")
                res.outcomes.append(Outcome(Ref.of(r), act.name, "ok", f"{r.id}: {new} by {actor}{note}", None, r))
                audit_rows.append(("ok", ok_detail(r)))
            else:
                res.outcomes.append(Outcome(it.ref, act.name, "refused" if isinstance(r, Refused) else "failed",
                                            _why(r), None, getattr(r, "record", None) or it.rec))
                audit_rows.append(("refused" if isinstance(r, Refused) else "failed",
                                   {"id": it.rec.id, "timestamp": it.rec.timestamp, "reason": _why(r)}))
        done += len(chunk)
        if progress:
            progress(new, done, len(p.items))
    audit_rows += [("refused", {"id": i.rec.id, "timestamp": i.rec.timestamp, "reason": i.reason, "kind": i.kind})
                   for i in p.excluded]
    res.outcomes += _excluded_outcomes(p, act)
    try:
        for o, aid in zip(res.outcomes, _audit_many(pg, actor, act, f"dynamodb:{dynamo.table}", audit_rows)):
            o.audit_id = aid
    except BackendError as exc:
        intent.settle_error = f"per-diff records not written: {exc.message}"
    res.elapsed_ms = int((time.perf_counter() - t0) * 1000)
    return _settle_intent(intent, res)
