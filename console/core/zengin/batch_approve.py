"""pending -> approved for many diffs at once (and, from :mod:`.batch`'s plan, the
reasons the rest do not go): conditional UpdateItems a few at a time, one audit record per
diff written in one transaction, and the batch's write-ahead intent. Split out of
:mod:`.batch`, which re-exports :func:`approve_many`."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Iterable

from ...backends.base import BackendError, ErrorKind
from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend
from ...backends.s3 import S3Backend
from ...config import Settings
from .. import audit
from . import live as live_mod
from .batch import (CHUNK, WORKERS, BatchResult, Item, Progress, _audit_many, _excluded_outcomes, _settle_intent,
                    _why, concurrent, load, plan, queued_deletion_keys, update)
from .records import DiffRecord, iso_utc
from .workflow import APPROVE, Outcome, Ref, Refused, get_item, landed, principal_attrs


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
    read_back: set[tuple[str, str]] = set()

    def one(it: Item) -> DiffRecord:
        sets = {**principal_attrs("approved", actor), "approvedAt": at, "updatedAt": at}
        if (it.rec.id, it.rec.timestamp) in stale_ok:
            sets["staleAcknowledgedBy"] = str(actor)
        try:
            return update(dynamo, it.rec, "pending", "approved", now=now, sets=sets)
        except (Refused, BackendError) as exc:
            # A timeout, or a "conflict" that is only botocore retrying a write whose answer
            # was lost: read the item back before saying anything.
            if isinstance(exc, BackendError) and audit.outcome_of(exc) != audit.UNKNOWN:
                raise
            got = landed(dynamo, it.rec, "approved", "approvedBy", actor)
            if got:
                back = get_item(dynamo, it.rec.id, it.rec.timestamp)
                if back is not None and back.approvedAt == at:
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
                res.outcomes.append(Outcome(it.ref, APPROVE.name, "unknown", msg, None, it.rec))
                audit_rows.append(("unknown", {"id": it.rec.id, "timestamp": it.rec.timestamp, "error": r.exc.message}))
            elif isinstance(r, DiffRecord):
                note = (" (the write timed out; read back: it landed)"
                        if (r.id, r.timestamp) in read_back else "")
                res.outcomes.append(Outcome(Ref.of(r), APPROVE.name, "ok", f"{r.id}: approved by {actor}{note}",
                                            None, r))
                audit_rows.append(("ok", {"id": r.id, "timestamp": r.timestamp, "diffType": r.diffType,
                                          "batch": True, "staleAcknowledged": (r.id, r.timestamp) in stale_ok}))
            else:
                res.outcomes.append(Outcome(it.ref, APPROVE.name, "refused" if isinstance(r, Refused) else "failed",
                                            _why(r), None, getattr(r, "record", None) or it.rec))
                audit_rows.append(("refused" if isinstance(r, Refused) else "failed",
                                   {"id": it.rec.id, "timestamp": it.rec.timestamp, "reason": _why(r)}))
        done += len(chunk)
        if progress:
            progress("approved", done, len(p.items))
    audit_rows += [("refused", {"id": i.rec.id, "timestamp": i.rec.timestamp, "reason": i.reason, "kind": i.kind})
                   for i in p.excluded]
    res.outcomes += _excluded_outcomes(p, APPROVE)
    try:
        for o, aid in zip(res.outcomes, _audit_many(pg, actor, APPROVE, target, audit_rows)):
            o.audit_id = aid
    except BackendError as exc:
        intent.settle_error = f"per-diff records not written: {exc.message}"
    res.elapsed_ms = int((time.perf_counter() - t0) * 1000)
    return _settle_intent(intent, res)
