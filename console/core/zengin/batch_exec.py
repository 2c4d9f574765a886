"""Execute many approved diffs: claims in bounded concurrent conditional writes, one
PostgreSQL transaction per chunk with a SAVEPOINT per diff, settlement in bounded
concurrent conditional writes. The order and the rules are :mod:`.batch`'s; the single
diff executor (:mod:`.executor`) is the same path with a batch of one."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

import psycopg
from psycopg import ClientCursor
from psycopg.types.json import Jsonb

from ...backends.base import BackendError, ErrorKind
from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend, classify
from ...backends.s3 import S3Backend
from ...config import Settings
from .. import audit
from .batch import (CHUNK, WORKERS, BatchPlan, BatchResult, Item, Progress, _excluded_outcomes, _settle_intent, _why,
                    concurrent, load, plan, update as transition)
from .executor import (APP_PREFIX, BULK_STATEMENT_TIMEOUT_MS, CRASH_ENV, EXECUTE, AlreadyApplied, Stale,
                       apply_in_transaction, history_values)
from .records import BANK_COMPARED, DiffEntry, DiffRecord, iso_utc
from .workflow import Outcome, Ref, Refused, get_item, principal_attrs

_UPSERT_BANK = ("INSERT INTO public.banks AS b (bank_code, bank_name, bank_kana, created_at, updated_at) "
                "VALUES (%s, %s, %s, now(), now()) ON CONFLICT (bank_code) DO UPDATE SET "
                "bank_name = EXCLUDED.bank_name, bank_kana = EXCLUDED.bank_kana, updated_at = EXCLUDED.updated_at "
                "RETURNING 1")
_UPSERT_BRANCH = ("INSERT INTO public.branches AS b (bank_code, branch_code, branch_name, branch_kana, created_at, "
                  "updated_at) VALUES (%s, %s, %s, %s, now(), now()) ON CONFLICT (bank_code, branch_code) DO UPDATE "
                  "SET branch_name = EXCLUDED.branch_name, branch_kana = EXCLUDED.branch_kana, "
                  "updated_at = EXCLUDED.updated_at RETURNING 1")
_HISTORY = ("h AS (INSERT INTO public.change_history (diff_id, diff_timestamp, operation_type, table_name, record_id, "
            "old_values, new_values, executed_by, rows_affected) SELECT %s, %s, %s, %s, %s, %s, %s, %s, "
            "(SELECT count(*) FROM m) ON CONFLICT (diff_id, diff_timestamp) DO NOTHING RETURNING id)")


def row_statement(e: DiffEntry) -> tuple[str, list[Any]] | None:
    """The one statement that applies a single row diff (``RETURNING 1`` per row it
    changed; a guarded statement that changes nothing means stale), or None when the
    diff needs the general path (a branch update that also changes its bank's fields)."""
    z, c = e.zenginData or {}, e.currentData or {}
    bank, branch = e.key
    if e.table == "banks":
        if e.diffType == "addition":
            return _UPSERT_BANK, [bank, z.get("bankName"), z.get("bankKana")]
        if e.diffType == "update":
            return ("UPDATE public.banks SET bank_name = %s, bank_kana = %s, updated_at = now() WHERE bank_code = %s "
                    "AND bank_name IS NOT DISTINCT FROM %s AND bank_kana IS NOT DISTINCT FROM %s RETURNING 1",
                    [z.get("bankName"), z.get("bankKana"), bank, c.get("bankName"), c.get("bankKana")])
        if e.currentData:
            return ("DELETE FROM public.banks WHERE bank_code = %s AND bank_name IS NOT DISTINCT FROM %s "
                    "AND bank_kana IS NOT DISTINCT FROM %s RETURNING 1", [bank, c.get("bankName"), c.get("bankKana")])
        return "DELETE FROM public.banks WHERE bank_code = %s RETURNING 1", [bank]
    if e.diffType == "addition":
        return _UPSERT_BRANCH, [bank, branch, z.get("branchName"), z.get("branchKana")]
    if e.diffType == "update":
        if any(n in (e.changes or {}) for n in BANK_COMPARED):
            return None
        return ("UPDATE public.branches SET branch_name = %s, branch_kana = %s, updated_at = now() "
                "WHERE bank_code = %s AND branch_code = %s AND branch_name IS NOT DISTINCT FROM %s "
                "AND branch_kana IS NOT DISTINCT FROM %s RETURNING 1",
                [z.get("branchName"), z.get("branchKana"), bank, branch, c.get("branchName"), c.get("branchKana")])
    if e.currentData:
        return ("DELETE FROM public.branches WHERE bank_code = %s AND branch_code = %s "
                "AND branch_name IS NOT DISTINCT FROM %s AND branch_kana IS NOT DISTINCT FROM %s RETURNING 1",
                [bank, branch, c.get("branchName"), c.get("branchKana")])
    return "DELETE FROM public.branches WHERE bank_code = %s AND branch_code = %s RETURNING 1", [bank, branch]


@dataclass
class Applied1:
    ok: bool
    rows: int = 0
    history_id: int | None = None
    audit_id: int | None = None
    error: str = ""
    already: dict[str, Any] | None = None
    ms: int = 0


class Runner:
    """Applies diffs one savepoint each on one open transaction."""

    def __init__(self, conn: psycopg.Connection, actor: str, target_of, batch_id: str, *, write_audit: bool = True):
        self.conn = conn
        self.cur = ClientCursor(conn)
        self.actor = actor
        self.target_of = target_of
        self.batch_id = batch_id
        self.write_audit = write_audit
        self.pending_release = False

    def _release(self) -> str:
        out = "RELEASE SAVEPOINT zengin_diff; " if self.pending_release else ""
        self.pending_release = False
        return out

    def apply(self, rec: DiffRecord, entries: tuple[DiffEntry, ...]) -> Applied1:
        t0 = time.perf_counter()
        stmt = row_statement(entries[0]) if not rec.is_bulk and len(entries) == 1 else None
        try:
            if stmt is None:
                self.cur.execute(self._release() + "SAVEPOINT zengin_diff")
                a = apply_in_transaction(self.conn, rec, entries, self.actor)
                rows, hid = a.rows_affected, a.history_id
            else:
                table, record_id, old_v, new_v = history_values(rec, entries)
                q = (self._release() + "SAVEPOINT zengin_diff; WITH m AS (" + stmt[0] + "), " + _HISTORY
                     + " SELECT (SELECT count(*) FROM m), (SELECT id FROM h)")
                self.cur.execute(q, stmt[1] + [rec.id, rec.timestamp, rec.diffType, table, record_id,
                                               Jsonb(old_v), Jsonb(new_v), self.actor])
                while self.cur.nextset():
                    pass
                rows, hid = self.cur.fetchone()
                if hid is None:
                    row = self.conn.execute(
                        "SELECT id, executed_by, executed_at, rows_affected FROM public.change_history "
                        "WHERE diff_id = %s AND diff_timestamp = %s", (rec.id, rec.timestamp)).fetchone()
                    raise AlreadyApplied(dict(zip(("id", "executed_by", "executed_at", "rows_affected"), row or ())))
                if not rows:
                    raise Stale(1, [f"{entries[0].table}:{_key(entries[0])}"])
            aid = None
            if self.write_audit:
                aid = audit.record(self.conn, actor=self.actor, act=EXECUTE, target=self.target_of(rec), outcome="ok",
                                   detail={"id": rec.id, "timestamp": rec.timestamp, "diffType": rec.diffType,
                                           "rowsAffected": int(rows), "changeHistoryId": int(hid),
                                           "batch": self.batch_id})
            self.pending_release = True
            return Applied1(True, int(rows), int(hid), aid, ms=int((time.perf_counter() - t0) * 1000))
        except (psycopg.Error, Stale, AlreadyApplied) as exc:
            if self.conn.closed:
                raise
            self.conn.execute("ROLLBACK TO SAVEPOINT zengin_diff")
            self.conn.execute("RELEASE SAVEPOINT zengin_diff")
            reason = str(exc) if isinstance(exc, (Stale, AlreadyApplied)) else classify("zengin", exc).message
            aid = None
            if self.write_audit and not isinstance(exc, AlreadyApplied):
                aid = audit.record(self.conn, actor=self.actor, act=EXECUTE, target=self.target_of(rec),
                                   outcome="failed", detail={"id": rec.id, "timestamp": rec.timestamp,
                                                             "error": reason[:2000], "batch": self.batch_id})
            return Applied1(False, error=reason, audit_id=aid,
                            already=exc.row if isinstance(exc, AlreadyApplied) else None,
                            ms=int((time.perf_counter() - t0) * 1000))


def _key(e: DiffEntry) -> str:
    from .validate import key_text
    return key_text(e.key)


def _connect(pg: PostgresBackend, items: list[Item], batch_id: str) -> psycopg.Connection:
    bulk = any(i.rec.is_bulk for i in items)
    timeout = max(pg.target.statement_timeout_ms, BULK_STATEMENT_TIMEOUT_MS) if bulk else pg.target.statement_timeout_ms
    return pg.connect(statement_timeout_ms=timeout, application_name=(APP_PREFIX + batch_id)[:63])


def execute_many(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, s3: S3Backend | None,
                 refs: Iterable[Ref] | None, actor: str, *, now: datetime | None = None,
                 lost_claim_is: str = "skipped", progress: Progress | None = None, chunk: int = CHUNK,
                 workers: int = WORKERS, plan_only: bool = False) -> BatchResult:
    """Execute ``refs`` (None: every approved diff) in dependency order (see :mod:`.batch`)."""
    t0 = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    table_target = f"dynamodb:{dynamo.table}"
    intent = None
    if not plan_only:
        # Write-ahead for the whole batch (each diff's own record commits with its change).
        refs = None if refs is None else list(refs)
        intent = audit.begin(settings, EXECUTE, target=table_target, principal=actor, audit_pg=pg,
                             detail={"batch": True, "refs": None if refs is None else len(refs)})
    recs, missing = load(dynamo, refs, "approved")
    p = plan(settings, pg, dynamo, s3, "execute", recs, actor=actor, now=now)
    p.excluded = missing + p.excluded
    batch_id = "batch:" + uuid.uuid4().hex[:12]
    res = BatchResult(p, [], batch_id=batch_id)
    if plan_only:
        res.outcomes = _excluded_outcomes(p, EXECUTE)
        return res
    index = {id(it): n for n, it in enumerate(p.items)}
    state: dict[int, str] = {}               # plan index -> ok | failed | waits | skipped
    done = 0
    for start in range(0, len(p.items), chunk):
        part = p.items[start:start + chunk]
        res.outcomes += _run_chunk(settings, pg, dynamo, part, p.items, index, state, actor, now, batch_id,
                                   lost_claim_is, workers)
        done += len(part)
        if progress:
            progress("executed", done, len(p.items))
    excluded = _excluded_outcomes(p, EXECUTE)
    res.outcomes += excluded
    # Every diff that was not applied gets its own record here (an applied one, or one that
    # failed alone, has its record from inside the chunk's transaction). A diff whose chunk
    # did not commit is recorded as failed with applied: false and the state it was left in.
    unrecorded = [o for o in res.outcomes if o.audit_id is None and (
        o.outcome in ("refused", "skipped", "waiting") or o.detail.get("applied") is False)]
    if unrecorded:
        try:
            with pg.connection() as conn:
                for o in unrecorded:
                    detail = {"id": o.ref.id, "timestamp": o.ref.timestamp, "reason": o.message,
                              "kind": o.detail.get("kind") or o.outcome, "skipped": o.outcome == "skipped",
                              "batch": batch_id}
                    if o.detail.get("applied") is False:
                        detail.update(applied=False, status=o.record.status if o.record else None)
                    o.audit_id = audit.record(conn, actor=actor, act=EXECUTE, target=f"{table_target}:{o.ref.id}",
                                              outcome="failed" if o.detail.get("applied") is False else "refused",
                                              detail=detail)
        except BackendError as exc:
            # Nothing changed for these diffs; their refusals could not be recorded: said, not lost.
            if intent is not None:
                intent.settle_error = f"refusal records of {len(unrecorded)} diff(s) not written: {exc.message}"
    res.elapsed_ms = int((time.perf_counter() - t0) * 1000)
    return _settle_intent(intent, res)


def _run_chunk(settings, pg, dynamo, part: list[Item], items: list[Item], index, state, actor, now, batch_id,
               lost_claim_is, workers) -> list[Outcome]:
    z = settings.zengin
    forbid_self = True if z is None else z.forbid_self_execution
    claim_at = iso_utc(datetime.now(timezone.utc))
    conditions = {"approvedBy": ("<>", actor)} if forbid_self else None
    outs: list[Outcome] = []

    def claim(it: Item) -> DiffRecord:
        try:
            return transition(dynamo, it.rec, "approved", "executing", now=now, conditions=conditions,
                              sets={**principal_attrs("executed", actor), "executedAt": claim_at,
                                    "updatedAt": claim_at, "executionBatch": batch_id},
                              removes=("waitsFor",))     # an earlier run's reason no longer holds
        except Exception as exc:
            mine = _our_claim(dynamo, it.rec, batch_id, claim_at, exc)
            if mine is not None:
                return mine
            raise

    claimed: list[tuple[Item, DiffRecord]] = []
    for it, r in zip(part, concurrent(claim, part, workers)):
        if isinstance(r, DiffRecord):
            claimed.append((it, r))
            continue
        if isinstance(r, BackendError) and r.kind in _UNKNOWN_KINDS:
            # The claim may or may not have landed and the item could not be read back: the
            # diff stays approved or executing; reconcile settles it either way.
            state[index[id(it)]] = "failed"
            outs.append(Outcome(it.ref, EXECUTE.name, "unknown",
                                f"the claim's outcome is unknown ({r.kind.value}: {r.message}); run "
                                f"`console diffs show {it.ref}` and then `console diffs reconcile`",
                                None, it.rec))
            continue
        now_rec = getattr(r, "record", None)
        skipped = (lost_claim_is == "skipped" and now_rec is not None
                   and now_rec.status in ("executing", "completed", "failed"))
        state[index[id(it)]] = "skipped" if skipped else "failed"
        outs.append(Outcome(it.ref, EXECUTE.name, "skipped" if skipped else "refused",
                            _why(r) + (": skipped" if skipped else ""), None, now_rec or it.rec))
    if not claimed:
        return outs

    results: dict[int, Applied1 | str] = {}
    conn = None
    try:
        conn = _connect(pg, [c[0] for c in claimed], batch_id)
        runner = Runner(conn, actor, lambda rec: f"dynamodb:{dynamo.table}:{rec.id}", batch_id)
        for it, rec in claimed:
            n = index[id(it)]
            blocked = [d for d in it.depends if state.get(d) not in (None, "ok")]
            if blocked:
                dep = items[blocked[0]].rec.id
                results[n] = f"waits for diff {dep}" + (f" ({state.get(blocked[0])})" if state.get(blocked[0]) else "")
                state[n] = "waits"
                continue
            a = runner.apply(rec, it.entries)
            results[n] = a
            state[n] = "ok" if a.ok or a.already else "failed"
        conn.commit()
        if os.environ.get(CRASH_ENV):
            os._exit(int(os.environ[CRASH_ENV]) if os.environ[CRASH_ENV].isdigit() else 99)
    except BaseException as exc:  # noqa: BLE001 - nothing of this chunk is committed
        if conn is not None and not conn.closed:
            try:
                conn.rollback()
            except psycopg.Error:
                pass      # a broken connection: the server rolls back; what committed is read back next
        committed = _read_back(pg, [r for _, r in claimed])
        reason = _why(classify(pg.name, exc) if isinstance(exc, psycopg.Error) else exc)
        for it, rec in claimed:
            n = index[id(it)]
            if (rec.id, rec.timestamp) in committed:
                continue                 # unreachable in practice; reconcile settles it
            results[n] = NotCommitted(f"not applied: the batch transaction did not commit ({reason}); "
                                      "approved again")
            state[n] = "waits"
        if not isinstance(exc, Exception):
            raise
    finally:
        if conn is not None:
            conn.close()
    outs += _settle(dynamo, claimed, results, index, actor, now, workers)
    return outs


_UNKNOWN_KINDS = (ErrorKind.TIMEOUT, ErrorKind.UNREACHABLE)


class NotCommitted(str):
    """Why a claimed diff was not applied: its chunk's transaction did not commit (every
    savepoint of it rolled back with it). The diff goes back to approved with this reason
    (``waitsFor``) and gets a per-diff ``failed`` record saying ``applied: false``."""


def _our_claim(dynamo: DynamoBackend, rec: DiffRecord, batch_id: str, claim_at: str,
               exc: BaseException) -> DiffRecord | None:
    """After a claim that timed out, or that 'lost' to a condition only because botocore
    retried a write that had landed (its answer lost): read the item back. It is ours when it
    is executing under this batch's claim; then the run carries on as if the answer had come.
    Returns None when it is not ours; raises the original error when it cannot be read."""
    if not (isinstance(exc, Refused) or (isinstance(exc, BackendError) and exc.kind in _UNKNOWN_KINDS)):
        return None
    try:
        now_rec = get_item(dynamo, rec.id, rec.timestamp)
    except BackendError:
        if isinstance(exc, BackendError):
            raise exc from None
        return None
    if (now_rec is not None and now_rec.status == "executing" and now_rec.executedAt == claim_at
            and now_rec.extra.get("executionBatch") == batch_id):
        return now_rec
    return None


def _read_back(pg: PostgresBackend, recs: list[DiffRecord]) -> set[tuple[str, str]]:
    """Which of these diffs have a change_history row (committed)."""
    try:
        rows = pg.fetch("SELECT diff_id, diff_timestamp FROM public.change_history WHERE diff_id = ANY(%s)",
                        ([r.id for r in recs],))
    except BackendError:
        return {(r.id, r.timestamp) for r in recs}      # unknown: leave them executing for reconcile
    return {(r["diff_id"], r["diff_timestamp"]) for r in rows}


def _settle(dynamo: DynamoBackend, claimed, results, index, actor, now, workers) -> list[Outcome]:
    def one(pair):
        it, rec = pair
        r = results.get(index[id(it)])
        cond = {"executedAt": ("=", rec.executedAt)}
        at = iso_utc(datetime.now(timezone.utc))
        if isinstance(r, Applied1) and (r.ok or r.already):
            rows = r.rows if r.ok else int((r.already or {}).get("rows_affected") or 0)
            result = {"success": True, "rowsAffected": rows, "executionTime": r.ms}
            if r.already:
                result["reconstructed"] = True
            return "ok", transition(dynamo, rec, "executing", "completed", now=now, require_live_ttl=False,
                                    conditions=cond, sets={"executionResult": result, "updatedAt": at})
        if isinstance(r, Applied1):
            return "failed", transition(dynamo, rec, "executing", "failed", now=now, require_live_ttl=False,
                                        conditions=cond, sets={"executionResult": {
                                            "success": False, "rowsAffected": 0, "executionTime": r.ms,
                                            "error": r.error[:2000]}, "updatedAt": at})
        if r is None:
            return "executing", rec          # committed but unknown: reconcile
        return "waiting", transition(dynamo, rec, "executing", "approved", now=now, require_live_ttl=False,
                                     conditions=cond, sets={"updatedAt": at, "waitsFor": str(r)[:500]},
                                     removes=("executedBy", "executedBySource", "executedAt", "executionBatch"))

    outs = []
    for (it, rec), got in zip(claimed, concurrent(one, claimed, workers)):
        r = results.get(index[id(it)])
        aid = r.audit_id if isinstance(r, Applied1) else None
        if isinstance(got, Exception):
            outs.append(Outcome(it.ref, EXECUTE.name, "ok" if isinstance(r, Applied1) and r.ok else "failed",
                                f"{rec.id}: applied={isinstance(r, Applied1) and r.ok} but DynamoDB could not be "
                                f"settled ({_why(got)}); run `console diffs reconcile`"
                                + (f" ({r})" if isinstance(r, NotCommitted) else ""), aid, rec,
                                {"needs_reconcile": True, **({"applied": False, "kind": "not_committed"}
                                                             if isinstance(r, NotCommitted) else {})}))
            continue
        kind, new = got
        if kind == "ok":
            msg = (f"{rec.id}: completed, {new.executionResult.get('rowsAffected')} row(s)"
                   + (" (already applied earlier; not applied again)" if r.already else ""))
        elif kind == "failed":
            msg = f"{rec.id}: failed: {r.error}"
        elif kind == "executing":
            msg = f"{rec.id}: outcome unknown; left executing for reconcile"
        else:
            msg = f"{rec.id}: left approved: {r}"
        detail: dict[str, Any] = {}
        if kind == "ok" and new.executionResult:
            detail = {"rowsAffected": new.executionResult.get("rowsAffected")}
        elif isinstance(r, NotCommitted):
            detail = {"applied": False, "kind": "not_committed"}
        outs.append(Outcome(Ref.of(new), EXECUTE.name, kind, msg, aid, new, detail))
    return outs


def dry_run_many(settings: Settings, pg: PostgresBackend, dynamo: DynamoBackend, s3: S3Backend | None,
                 refs: Iterable[Ref] | None, *, action: str = "execute", actor: str = "",
                 now: datetime | None = None) -> tuple[BatchPlan, list[tuple[Item, Applied1 | str]]]:
    """The batch's PostgreSQL work in dependency order, in ONE transaction rolled back at
    the end: what each diff would do (rows, stale, a foreign key) given the ones before it.
    Nothing is claimed or recorded; allowed in read-only mode."""
    now = now or datetime.now(timezone.utc)
    recs, missing = load(dynamo, refs, "pending" if action == "approve" else "approved")
    p = plan(settings, pg, dynamo, s3, action, recs, actor=actor or "dry-run", now=now, allow_stale=True)
    p.excluded = missing + p.excluded
    out: list[tuple[Item, Applied1 | str]] = []
    state: dict[int, str] = {}
    conn = _connect(pg, p.items, "dry-run")
    try:
        runner = Runner(conn, actor or "dry-run", lambda rec: rec.id, "dry-run", write_audit=False)
        for n, it in enumerate(p.items):
            blocked = [d for d in it.depends if state.get(d) != "ok"]
            if blocked:
                out.append((it, f"waits for diff {p.items[blocked[0]].rec.id}"))
                state[n] = "waits"
                continue
            a = runner.apply(it.rec, it.entries)
            state[n] = "ok" if a.ok else "failed"
            out.append((it, a))
        conn.rollback()
    finally:
        conn.close()
    return p, out
