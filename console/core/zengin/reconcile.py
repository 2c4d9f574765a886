"""Settle diffs left in ``executing`` (the executor died between the PostgreSQL commit and
the DynamoDB update, or DynamoDB was unreachable at that moment).

For every item in ``executing`` (StatusIndex, then re-read by its full key):

* a ``change_history`` row exists for (id, timestamp): the transaction committed ->
  ``completed`` with ``executionResult`` reconstructed from the row (rowsAffected; the
  executionTime is the time between the claim and the transaction's start, marked
  ``reconstructed``);
* no row, and a session whose ``application_name`` names this diff is still connected:
  the transaction is still running -> left alone;
* no row, and the claim (``executedAt``) is younger than the threshold (default 15
  minutes) -> left alone: the executor may be between its claim and its commit;
* no row, claim older than the threshold -> back to ``approved`` (``executedBy`` /
  ``executedAt`` removed). Nothing was applied, the approval still holds, and running it
  again is safe: if the transaction did commit after all, the UNIQUE (diff_id,
  diff_timestamp) of change_history turns the second run into a no-op that settles the
  item as completed.

Every write is conditional on the item still being ``executing`` with the same
``executedAt`` (the claim reconcile looked at), so a late executor and reconcile cannot both
settle it. One ``diffs.reconcile`` audit record per run, written ahead (pending) and settled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from psycopg import sql

from ...backends.base import BackendError
from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend
from ...config import Settings
from .. import audit
from .executor import APP_PREFIX, history_row
from .records import DiffRecord, iso_utc, parse_iso
from .workflow import Refused, get_item, query_status, transition

RECONCILE = audit.action("diffs.reconcile", "settle zengin diffs left in executing from change_history")
THRESHOLD = timedelta(minutes=15)


@dataclass
class Settled:
    id: str
    timestamp: str
    before: str
    after: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "timestamp": self.timestamp, "before": self.before, "after": self.after,
                "reason": self.reason}


@dataclass
class ReconcileReport:
    items: list[Settled] = field(default_factory=list)
    audit_id: int | None = None
    errors: list[str] = field(default_factory=list)
    audit_error: str | None = None      # done, but the audit record could not be settled

    def as_dict(self) -> dict[str, Any]:
        return {"items": [i.as_dict() for i in self.items], "audit_id": self.audit_id, "errors": self.errors,
                "audit_error": self.audit_error}


def executing_items(dynamo: DynamoBackend) -> list[DiffRecord]:
    out: list[DiffRecord] = []
    start = None
    while True:
        recs, start = query_status(dynamo, "executing", start_key=start)
        out += recs
        if not start:
            return out


def _still_running(pg: PostgresBackend, rid: str, batch: str | None = None) -> bool:
    """A session named for this diff, or for the batch that claimed it, is connected."""
    names = [(APP_PREFIX + rid)[:63]] + ([(APP_PREFIX + batch)[:63]] if batch else [])
    rows = pg.fetch(sql.SQL("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = ANY(%s) "
                            "AND pid <> pg_backend_pid()"), (names,))
    return bool(rows and rows[0]["n"])


def reconcile(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, *, actor: str,
              now: datetime | None = None, threshold: timedelta = THRESHOLD,
              dry_run: bool = False) -> ReconcileReport:
    """Settle every item in executing. ``dry_run``: the preview — what would happen to each
    item, nothing written and no audit record (allowed in read-only mode)."""
    now = now or datetime.now(timezone.utc)
    target = f"dynamodb:{dynamo.table}"
    report = ReconcileReport()
    intent = None
    if not dry_run:
        # no intent, no change; read-only is refused (and audited) here
        intent = audit.begin(settings, RECONCILE, target=target, principal=actor, audit_pg=pg)
        report.audit_id = intent.id
    try:
        candidates = executing_items(dynamo)
    except BackendError as exc:
        report.errors.append(f"{exc.kind.value}: {exc.message}")
        if intent is not None:
            audit.settle(intent, audit.FAILED, {"error": exc.message})
            report.audit_error = intent.settle_error
        return report
    for listed in candidates:
        try:
            rec = get_item(dynamo, listed.id, listed.timestamp)      # the GSI may be stale
            if rec is None or rec.status != "executing":
                continue
            report.items.append(_settle(pg, dynamo, rec, actor, now, threshold, apply=not dry_run))
        except (BackendError, Refused) as exc:
            report.errors.append(f"{listed.id}: {getattr(exc, 'message', exc)}")
    if intent is not None:
        audit.settle(intent, audit.FAILED if report.errors else audit.OK,
                     {"items": [i.as_dict() for i in report.items], "errors": report.errors})
        report.audit_error = intent.settle_error
    return report


def _settle(pg: PostgresBackend, dynamo: DynamoBackend, rec: DiffRecord, actor: str, now: datetime,
            threshold: timedelta, *, apply: bool = True) -> Settled:
    cond = {"executedAt": ("=", rec.executedAt)} if rec.executedAt else None
    at = iso_utc(now)
    hist = history_row(pg, rec)
    if hist is not None:
        claimed = parse_iso(rec.executedAt or "")
        started = hist["executed_at"]
        ms = int((started - claimed).total_seconds() * 1000) if claimed and started else 0
        result = {"success": True, "rowsAffected": int(hist["rows_affected"] or 0), "executionTime": max(ms, 0),
                  "reconstructed": True, "changeHistoryId": int(hist["id"])}
        if apply:
            transition(dynamo, rec, "executing", "completed", now=now, require_live_ttl=False, conditions=cond,
                       sets={"executionResult": result, "updatedAt": at, "reconciledBy": actor, "reconciledAt": at})
        return Settled(rec.id, rec.timestamp, "executing", "completed",
                       f"change_history #{hist['id']} shows the transaction committed at {hist['executed_at']}")
    batch = rec.extra.get("executionBatch")
    if _still_running(pg, rec.id, batch if isinstance(batch, str) else None):
        return Settled(rec.id, rec.timestamp, "executing", "executing",
                       "its transaction is still running (a session names this diff); left alone")
    claimed = parse_iso(rec.executedAt or "")
    age = (now - claimed) if claimed else None
    if age is not None and age < threshold:
        return Settled(rec.id, rec.timestamp, "executing", "executing",
                       f"claimed {int(age.total_seconds())} s ago, under the {int(threshold.total_seconds())} s "
                       "threshold; left alone")
    if apply:
        transition(dynamo, rec, "executing", "approved", now=now, require_live_ttl=False, conditions=cond,
                   sets={"updatedAt": at, "reconciledBy": actor, "reconciledAt": at,
                         "reconcileNote": f"claim by {rec.executedBy} at {rec.executedAt} never committed"},
                   removes=("executedBy", "executedAt", "executionBatch"))
    return Settled(rec.id, rec.timestamp, "executing", "approved",
                   "no change_history row and no running transaction: nothing was applied; approved again")
