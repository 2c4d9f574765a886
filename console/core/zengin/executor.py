"""Execute an approved diff: exactly once, all or nothing.

1. Re-read the item (consistent), refuse unless it is ``approved``, not expired, valid, and
   (``zengin.forbid_self_execution``) not approved by the executing identity.
2. Claim it: conditional UpdateItem ``approved -> executing`` (status, live ttl and the
   approver rule in the condition), recording ``executedBy`` / ``executedAt``.
3. ONE PostgreSQL transaction on a dedicated connection (``application_name`` names the
   diff, so ``reconcile`` can see a transaction still running):

   * COPY every record into a temporary table ``pg_temp.zengin_diff_rows``;
   * ``INSERT INTO change_history … ON CONFLICT (diff_id, diff_timestamp) DO NOTHING
     RETURNING id``: no row back means the diff was already applied -> nothing is applied
     again;
   * set-based statements, each reporting the rows of the temporary table it did NOT match
     (the stale check happens inside the statement that changes the rows):
     bank additions (upsert) -> bank updates (guarded by ``currentData``; bank fields listed
     in a branch record's ``changes`` update ``banks`` too) -> branch additions (upsert) ->
     branch updates (guarded) -> branch deletions (guarded) -> bank deletions (guarded);
   * any stale row fails the diff with the list of keys; any error (a foreign key, a CHECK)
     rolls everything back;
   * the audit record (``diffs.execute``) is written inside the same transaction.

4. Commit, then ``executing -> completed`` with ``executionResult`` {success, rowsAffected,
   executionTime (ms)}. On any error: rollback, ``executing -> failed`` with the reason.

A crash between 3 and 4 leaves the item in ``executing``: :mod:`.reconcile` settles it from
``change_history``. A dry run is the same transaction rolled back, reported as a Plan
whose steps carry the SQL and the rows each statement touched.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb  # noqa: F401 - re-exported

from ...backends.base import BackendError
from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend, classify
from ...backends.s3 import S3Backend
from ...config import Settings
from .. import audit
from ..plan import Hazard, Plan, Step
# The SQL of the transaction lives in .apply; its names stay importable from here.
from .apply import (BULK_STATEMENT_TIMEOUT_MS, CHANGE_HISTORY, CREATE_TMP, HISTORY_INSERT, HISTORY_ROWS,  # noqa: F401
                    HISTORY_SELECT, STALE_LISTED, STATEMENTS, TMP, AlreadyApplied, Applied, Stale, Statement,
                    StatementResult, _copy_sql, _FILTERS, apply_in_transaction, history_values, rows_of, statements)
from .records import DiffEntry, DiffRecord, iso_utc
from .workflow import (Outcome, Ref, Refused, audit_target, check, find, get_item, principal_attrs, transition)

EXECUTE = audit.action("diffs.execute", "apply an approved zengin diff to banks/branches in one transaction")
CRASH_ENV = "CONSOLE_TEST_CRASH_AFTER_COMMIT"     # fault injection for the crash test only
APP_PREFIX = "console-exec:"


class _Skipped(Refused):
    """--all-approved: another executor took this diff first (not an error)."""



def _connect(pg: PostgresBackend, rec: DiffRecord) -> psycopg.Connection:
    timeout = (max(pg.target.statement_timeout_ms, BULK_STATEMENT_TIMEOUT_MS) if rec.is_bulk
               else pg.target.statement_timeout_ms)
    return pg.connect(statement_timeout_ms=timeout, application_name=(APP_PREFIX + rec.id)[:63])


# --------------------------------------------------------------------------- preview / dry run


@dataclass
class DryRun:
    ref: Ref
    record: DiffRecord | None
    plan: Plan | None
    applied: Applied | None = None
    error: str | None = None                 # why the real run would fail / is refused
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.applied is not None and not self.applied.stale_count

    def as_dict(self) -> dict[str, Any]:
        a = self.applied
        return {"id": self.ref.id, "timestamp": self.record.timestamp if self.record else self.ref.timestamp,
                "ok": self.ok, "error": self.error, "refused": self.refused,
                "rows_affected": a.rows_affected if a else None, "per_table": a.per_table() if a else None,
                "stale": a.stale_count if a else None, "stale_keys": a.stale_keys if a else None,
                "plan": self.plan.text() if self.plan else None}


def build_plan(rec: DiffRecord, entries: tuple[DiffEntry, ...], actor: str, settings: Settings,
               applied: Applied | None, conn: psycopg.Connection | None) -> Plan:
    rows = rows_of(entries)
    by_name = {r.name: r for r in (applied.statements if applied else [])}
    steps = [Step(f"claim: {rec.id} approved -> executing", target="dynamodb",
                  call="DynamoDB UpdateItem SET status = executing, executedBy, executedAt "
                       "IF status = approved AND ttl > now"
                       + (" AND approvedBy <> you" if settings.zengin and settings.zengin.forbid_self_execution else ""),
                  lock="conditional write on the current status")]
    steps.append(Step("record the execution in change_history (a second run of this diff is a no-op)",
                      sql=HISTORY_INSERT.as_string(conn), target="zengin"))
    steps.append(Step(f"load {len(rows)} row(s) into a temporary table", target="zengin",
                      sql=CREATE_TMP.as_string(conn) + ";\n" + _copy_sql().as_string(conn)))
    for s in STATEMENTS:
        n = sum(1 for r in rows if _FILTERS[s.name](r))
        if not n:
            continue
        res = by_name.get(s.name)
        title = s.title(n)
        if res is not None:
            title += f": {res.changed} row(s) would change" + (f", {res.stale} STALE" if res.stale else "")
        steps.append(Step(title, sql=s.query.as_string(conn), target="zengin",
                          lock=f"ROW EXCLUSIVE on {s.table}",
                          hazard=Hazard.DESTRUCTIVE if s.verb == "delete" else Hazard.NONE,
                          meta={"rows": res.changed if res else None, "stale": res.stale if res else None}))
    steps.append(Step("commit, with the diffs.execute audit record in the same transaction",
                      sql="INSERT INTO console.audit_log (...) VALUES (...);\nCOMMIT", target="zengin"))
    steps.append(Step("executing -> completed with executionResult {success, rowsAffected, executionTime}",
                      call="DynamoDB UpdateItem IF status = executing AND executedAt = <claim>", target="dynamodb"))
    counts = ""
    if applied:
        counts = ", ".join(f"{t}: " + ", ".join(f"{v} {k}" for k, v in c.items() if v)
                           for t, c in applied.per_table().items() if any(c.values()))
    return Plan(EXECUTE.name, f"execute {rec.id} ({rec.diffType}, {len(entries)} record(s))"
                + (f" — dry run: {counts or 'no rows'}" if applied else ""), tuple(steps))


def _entries(rec: DiffRecord, s3: S3Backend | None) -> tuple[DiffEntry, ...]:
    v = check(rec, s3)
    if not v.ok:
        raise Refused(f"{rec.id}: invalid: " + "; ".join(v.problems[:10]), rec)
    if rec.is_bulk:
        return v.entries
    e = rec.entry
    if e is None:
        raise Refused(f"{rec.id}: no row change", rec)
    return (e,)


def dry_run(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, s3: S3Backend | None, ref: Ref, *,
            actor: str = "", now: datetime | None = None) -> DryRun:
    """The execution's transaction, rolled back: rows per table and per statement, stale
    rows, and the Plan (with the SQL) a person reads before confirming. Changes nothing;
    allowed for pending and approved diffs, and in read-only mode."""
    now = now or datetime.now(timezone.utc)
    rec: DiffRecord | None = None
    try:
        rec = find(dynamo, ref)
        if rec.display_status(now) not in ("pending", "approved"):
            raise Refused(f"{rec.id}: is {rec.display_status(now)}; only pending or approved diffs can be run", rec)
        entries = _entries(rec, s3)
    except Refused as r:
        return DryRun(ref, r.record or rec, None, None, r.message, refused=True)
    except BackendError as exc:
        return DryRun(ref, rec, None, None, f"{exc.kind.value}: {exc.message}")
    applied: Applied | None = None
    error: str | None = None
    conn = None
    try:
        conn = _connect(pg, rec)
        try:
            with conn.transaction(force_rollback=True):
                applied = apply_in_transaction(conn, rec, entries, actor or "dry-run", stop_on_stale=False)
        except AlreadyApplied as exc:
            error = str(exc)
        except psycopg.Error as exc:
            error = classify(pg.name, exc).message
        plan = build_plan(rec, entries, actor, settings, applied, conn)
    except BackendError as exc:
        return DryRun(ref, rec, None, None, f"{exc.kind.value}: {exc.message}")
    finally:
        if conn is not None:
            conn.close()
    if applied and applied.stale_count and not error:
        error = str(Stale(applied.stale_count, applied.stale_keys))
    return DryRun(ref, rec, plan, applied, error)


# --------------------------------------------------------------------------- execution


def _fail_reason(exc: BaseException, pg_name: str) -> str:
    if isinstance(exc, (Stale, AlreadyApplied)):
        return str(exc)
    if isinstance(exc, psycopg.Error):
        return classify(pg_name, exc).message
    if isinstance(exc, BackendError):
        return f"{exc.kind.value}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"


def self_execution_refusal(forbid_self: bool, rec: DiffRecord, actor: str) -> str | None:
    """Why ``actor`` may not execute ``rec`` under the four-eyes rule, or None. The one
    statement of the rule: execute() enforces it, the Diffs screen previews it."""
    if forbid_self and rec.approvedBy and rec.approvedBy == actor:
        return (f"{rec.id}: approved by {actor}; the approver may not execute it "
                "(zengin.forbid_self_execution)")
    return None


def execute(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, s3: S3Backend | None, ref: Ref,
            actor: str, *, now: datetime | None = None, lost_claim_is: str = "refused",
            progress: Callable[[str, int, int], None] | None = None) -> Outcome:
    """Execute one approved diff (see the module docstring). Exactly one audit record on
    the zengin target per call, written ahead: the intent before the claim (refused, and
    nothing claimed, when it cannot be written; ReadOnlyError in read-only mode, recorded),
    settled ``ok`` inside the diff's own transaction, or failed / refused after."""
    now = now or datetime.now(timezone.utc)
    target = audit_target(dynamo, ref)
    intent = audit.begin(settings, EXECUTE, target=target, principal=actor, detail={"ref": str(ref)},
                         audit_pg=pg)
    z = settings.zengin
    forbid_self = True if z is None else z.forbid_self_execution
    rec: DiffRecord | None = None
    try:
        rec = find(dynamo, ref)
        shown = rec.display_status(now)
        if shown == "expired":
            raise Refused(f"{rec.id}: expired (ttl passed); it cannot be executed", rec)
        if rec.status != "approved":
            if lost_claim_is == "skipped" and rec.status in ("executing", "completed", "failed"):
                raise _Skipped(f"{rec.id}: already {rec.status} (by {rec.executedBy or '?'}): skipped", rec)
            raise Refused(f"{rec.id}: is {rec.status}, only an approved diff can be executed", rec)
        refusal = self_execution_refusal(forbid_self, rec, actor)
        if refusal:
            raise Refused(refusal, rec)
        entries = _entries(rec, s3)
        claim_at = iso_utc(datetime.now(timezone.utc))
        conditions = {"approvedBy": ("<>", actor)} if forbid_self else None
        try:
            rec = _claim(dynamo, rec, now, conditions, actor, claim_at)
        except Refused as r:
            if lost_claim_is == "skipped" and r.record is not None and r.record.status in (
                    "executing", "completed", "failed"):
                raise _Skipped(r.message, r.record) from None
            raise
    except _Skipped as r:
        audit.settle(intent, audit.REFUSED, {"reason": r.message, "skipped": True})
        return Outcome(ref, EXECUTE.name, "skipped", r.message, intent.id, r.record, audit_error=intent.settle_error)
    except Refused as r:
        audit.settle(intent, audit.REFUSED, {"reason": r.message})
        return Outcome(ref, EXECUTE.name, "refused", r.message, intent.id, r.record or rec,
                       audit_error=intent.settle_error)
    except BackendError as exc:
        outcome = audit.outcome_of(exc)
        msg = f"{exc.kind.value}: {exc.message}"
        if outcome == audit.UNKNOWN:
            msg += (f"; the claim's outcome is UNKNOWN: check it with `console diffs show {ref}`, "
                    f"then `console diffs reconcile`")
        audit.settle(intent, outcome, {"error": exc.message})
        return Outcome(ref, EXECUTE.name, "unknown" if outcome == audit.UNKNOWN else "failed", msg, intent.id, rec,
                       audit_error=intent.settle_error)

    # Claimed: from here on every path ends in completed, failed, or (crash) executing.
    t0 = time.perf_counter()
    conn: psycopg.Connection | None = None
    applied: Applied | None = None
    error: BaseException | None = None
    audit_id: int | None = None
    try:
        conn = _connect(pg, rec)
        with conn.transaction():
            applied = apply_in_transaction(conn, rec, entries, actor, progress=progress)
            # Settled in the change's own transaction: the record says ok exactly when it commits.
            audit.settle(intent, audit.OK, {
                "id": rec.id, "timestamp": rec.timestamp, "diffType": rec.diffType,
                "rowsAffected": applied.rows_affected, "perTable": applied.per_table(),
                "changeHistoryId": applied.history_id}, conn=conn)
            if intent.settle_error:
                raise RuntimeError(f"its audit record could not be settled: {intent.settle_error}")
            audit_id = intent.id
        if os.environ.get(CRASH_ENV):
            os._exit(int(os.environ[CRASH_ENV]) if os.environ[CRASH_ENV].isdigit() else 99)
    except BaseException as exc:  # noqa: BLE001 - every error ends the claim as failed
        error = exc
    elapsed = int((time.perf_counter() - t0) * 1000)

    if error is not None:
        if isinstance(error, AlreadyApplied):
            return _settle_already(settings, pg, dynamo, rec, intent, error, conn, now)
        reason = _fail_reason(error, pg.name)
        try:
            fail_rec = transition(dynamo, rec, "executing", "failed", now=now, require_live_ttl=False,
                                  conditions={"executedAt": ("=", rec.executedAt)},
                                  sets={"executionResult": {"success": False, "rowsAffected": 0,
                                                            "executionTime": elapsed, "error": reason[:2000]},
                                        "updatedAt": iso_utc(datetime.now(timezone.utc))})
        except (Refused, BackendError) as exc2:
            fail_rec = rec
            reason += f" (and DynamoDB could not be set to failed: {getattr(exc2, 'message', exc2)}; run reconcile)"
        if conn is not None:
            conn.close()
        intent.outcome, intent.settle_error = audit.PENDING, None   # the in-transaction settle rolled back
        audit.settle(intent, audit.FAILED, {"id": rec.id, "timestamp": rec.timestamp, "error": reason[:2000]})
        aid = intent.id
        if not isinstance(error, Exception):
            raise error                    # KeyboardInterrupt / SystemExit after recording
        detail: dict[str, Any] = {"executionTime": elapsed}
        if isinstance(error, Stale):
            detail["stale_keys"] = error.keys
        return Outcome(Ref.of(rec), EXECUTE.name, "failed", f"{rec.id}: failed: {reason}", aid, fail_rec, detail,
                       audit_error=intent.settle_error)

    assert applied is not None and conn is not None
    conn.close()
    result = {"success": True, "rowsAffected": applied.rows_affected, "executionTime": elapsed}
    detail = {"rowsAffected": applied.rows_affected, "executionTime": elapsed, "perTable": applied.per_table(),
              "changeHistoryId": applied.history_id}
    try:
        done = transition(dynamo, rec, "executing", "completed", now=now, require_live_ttl=False,
                          conditions={"executedAt": ("=", rec.executedAt)},
                          sets={"executionResult": result, "updatedAt": iso_utc(datetime.now(timezone.utc))})
    except (Refused, BackendError) as exc:
        msg = getattr(exc, "message", str(exc))
        return Outcome(Ref.of(rec), EXECUTE.name, "ok",
                       f"{rec.id}: COMMITTED ({applied.rows_affected} rows) but DynamoDB still says executing "
                       f"({msg}); run `console diffs reconcile`", audit_id, rec,
                       {**detail, "needs_reconcile": True})
    return Outcome(Ref.of(done), EXECUTE.name, "ok",
                   f"{rec.id}: completed, {applied.rows_affected} row(s) in {elapsed} ms", audit_id, done, detail)


def _claim(dynamo: DynamoBackend, rec: DiffRecord, now: datetime, conditions, actor, claim_at: str) -> DiffRecord:
    """approved -> executing. A claim whose answer was lost (a timeout, or a retry that 'lost'
    to the write that had landed) is read back: ours when executing with our executedAt."""
    try:
        return transition(dynamo, rec, "approved", "executing", now=now, conditions=conditions,
                          sets={**principal_attrs("executed", actor), "executedAt": claim_at, "updatedAt": claim_at},
                          removes=("waitsFor",))     # an earlier batch run's reason no longer holds
    except (Refused, BackendError) as exc:
        if isinstance(exc, BackendError) and audit.outcome_of(exc) != audit.UNKNOWN:
            raise
        try:
            back = get_item(dynamo, rec.id, rec.timestamp)
        except BackendError:
            raise exc from None
        if back is not None and back.status == "executing" and back.executedAt == claim_at:
            return back
        raise


def audit_write_safe(pg: PostgresBackend, actor: str, target: str, outcome: str, detail: dict[str, Any]) -> int | None:
    try:
        with pg.connection() as conn:
            return audit.record(conn, actor=actor, act=EXECUTE, target=target, outcome=outcome, detail=detail)
    except BackendError:
        return None


def _settle_already(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, rec: DiffRecord,
                    intent: audit.Intent, exc: AlreadyApplied, conn, now: datetime) -> Outcome:
    """change_history already holds this diff: it was applied (a crash, or reconcile
    put it back too early). Nothing is applied again; the item is settled as completed."""
    row = exc.row
    result = {"success": True, "rowsAffected": int(row.get("rows_affected") or 0), "executionTime": 0,
              "reconstructed": True}
    try:
        if conn is not None and not conn.closed:
            conn.close()
        done = transition(dynamo, rec, "executing", "completed", now=now, require_live_ttl=False,
                          conditions={"executedAt": ("=", rec.executedAt)},
                          sets={"executionResult": result, "updatedAt": iso_utc(datetime.now(timezone.utc)),
                                "executedBy": row.get("executed_by") or rec.executedBy})
    except (Refused, BackendError):
        done = rec
    intent.outcome, intent.settle_error = audit.PENDING, None
    audit.settle(intent, audit.REFUSED, {"id": rec.id, "reason": str(exc)})
    return Outcome(Ref.of(rec), EXECUTE.name, "refused", f"{rec.id}: {exc}; marked completed", intent.id, done,
                   {"already_applied": True, "changeHistoryId": row.get("id")}, audit_error=intent.settle_error)


def history_row(pg: PostgresBackend, rec: DiffRecord | Ref) -> dict[str, Any] | None:
    rows = pg.fetch(sql.SQL("SELECT id, diff_id, diff_timestamp, operation_type, table_name, record_id, "
                            "executed_by, executed_at, rows_affected, "
                            "CASE WHEN jsonb_typeof(old_values) = 'object' AND old_values ? 'rows' "
                            "THEN NULL ELSE old_values END AS old_values, "
                            "CASE WHEN jsonb_typeof(new_values) = 'object' AND new_values ? 'rows' "
                            "THEN NULL ELSE new_values END AS new_values "
                            "FROM {} WHERE diff_id = %s AND diff_timestamp = %s").format(CHANGE_HISTORY),
                    (rec.id, rec.timestamp))
    return rows[0] if rows else None


def execute_many(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, s3: S3Backend | None,
                 refs: Iterable[Ref], actor: str, **kw: Any) -> list[Outcome]:
    return [execute(settings, pg, dynamo, s3, r, actor, **kw) for r in refs]
