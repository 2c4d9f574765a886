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
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from ...backends.base import BackendError
from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend, classify
from ...backends.s3 import S3Backend
from ...config import Settings
from .. import audit
from ..plan import Hazard, Plan, Step
from .generator import BANKS, BRANCHES
from .records import BANK_COMPARED, DiffEntry, DiffRecord, iso_utc
from .validate import key_text
from .workflow import (Outcome, Ref, Refused, audit_target, check, find, get_item, principal_attrs, transition)

EXECUTE = audit.action("diffs.execute", "apply an approved zengin diff to banks/branches in one transaction")

CHANGE_HISTORY = sql.Identifier("public", "change_history")
TMP = sql.Identifier("pg_temp", "zengin_diff_rows")
BULK_STATEMENT_TIMEOUT_MS = 10 * 60 * 1000
STALE_LISTED = 50
CRASH_ENV = "CONSOLE_TEST_CRASH_AFTER_COMMIT"     # fault injection for the crash test only
APP_PREFIX = "console-exec:"

COLUMNS = ("ord", "op", "tbl", "bank_code", "branch_code",
           "new_bank_name", "new_bank_kana", "new_branch_name", "new_branch_kana",
           "old_bank_name", "old_bank_kana", "old_branch_name", "old_branch_kana",
           "set_bank_name", "set_bank_kana", "guarded")

CREATE_TMP = sql.SQL(
    "CREATE TEMP TABLE zengin_diff_rows (ord integer, op text, tbl text, bank_code char(4), "
    "branch_code char(3), new_bank_name text, new_bank_kana text, new_branch_name text, "
    "new_branch_kana text, old_bank_name text, old_bank_kana text, old_branch_name text, "
    "old_branch_kana text, set_bank_name boolean, set_bank_kana boolean, guarded boolean) ON COMMIT DROP")


def _copy_sql() -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN").format(TMP, sql.SQL(", ").join(map(sql.Identifier, COLUMNS)))


# --------------------------------------------------------------------------- rows


def rows_of(entries: Iterable[DiffEntry]) -> list[tuple]:
    """The temporary table's rows: one per record, plus one ``bank_field`` row per branch
    update whose ``changes`` name a bank field (it updates ``banks``)."""
    out: list[tuple] = []
    for i, e in enumerate(entries):
        z, c = e.zenginData or {}, e.currentData or {}
        key = e.key
        if key is None:
            raise ValueError(f"record {i + 1} has no bankCode")
        bank, branch = key
        # A seed-format deletion without currentData deletes by its codes alone.
        guarded = bool(e.currentData) or e.diffType != "deletion"
        if branch is None:
            out.append((i, e.diffType, "banks", bank, None, z.get("bankName"), z.get("bankKana"), None, None,
                        c.get("bankName"), c.get("bankKana"), None, None, True, True, guarded))
            continue
        out.append((i, e.diffType, "branches", bank, branch, z.get("bankName"), z.get("bankKana"),
                    z.get("branchName"), z.get("branchKana"), c.get("bankName"), c.get("bankKana"),
                    c.get("branchName"), c.get("branchKana"), None, None, guarded))
        changes = e.changes or {}
        if e.diffType == "update" and any(n in changes for n in BANK_COMPARED):
            nm, kn = changes.get("bankName") or {}, changes.get("bankKana") or {}
            out.append((i, "bank_field", "banks", bank, None, nm.get("new"), kn.get("new"), None, None,
                        nm.get("old"), kn.get("old"), None, None, "bankName" in changes, "bankKana" in changes,
                        True))
    return out


@dataclass(frozen=True)
class Statement:
    name: str              # bank_add, bank_update, ...
    table: str             # banks | branches
    verb: str              # upsert | update | delete
    where: sql.Composable  # the temporary-table filter
    query: sql.Composable

    def title(self, n: int) -> str:
        word = {"upsert": "insert or update", "update": "update", "delete": "delete"}[self.verb]
        guard = "" if self.verb == "upsert" else " where the row still equals currentData"
        return f"{word} {n} {self.table[:-1] if n == 1 and self.table == 'banks' else self.table}{guard}"


def _src(where: str, distinct: str = "") -> sql.Composed:
    return sql.SQL("SELECT {}* FROM {} WHERE " + where).format(sql.SQL(distinct), TMP)


def _report(cte: str, src_key: str, ret_key: str) -> sql.SQL:
    """The tail of a data-modifying CTE statement: rows changed, rows not matched, and the
    first not-matched keys."""
    return sql.SQL(
        f"SELECT (SELECT count(*) FROM {cte}) AS changed, "
        f"(SELECT count(*) FROM src s WHERE NOT EXISTS (SELECT 1 FROM {cte} m WHERE {ret_key})) AS stale, "
        f"ARRAY(SELECT {src_key} FROM src s WHERE NOT EXISTS (SELECT 1 FROM {cte} m WHERE {ret_key}) "
        f"ORDER BY 1 LIMIT {STALE_LISTED}) AS stale_keys")


BANK_KEY = "s.bank_code::text"
BRANCH_KEY = "s.bank_code::text || '-' || s.branch_code::text"


def statements() -> list[Statement]:
    st: list[Statement] = []
    w = "tbl = 'banks' AND op = 'addition'"
    st.append(Statement("bank_add", "banks", "upsert", sql.SQL(w), sql.SQL(
        "WITH src AS ({src}), m AS (INSERT INTO {banks} AS b (bank_code, bank_name, bank_kana, created_at, "
        "updated_at) SELECT bank_code, new_bank_name, new_bank_kana, now(), now() FROM src "
        "ON CONFLICT (bank_code) DO UPDATE SET bank_name = EXCLUDED.bank_name, bank_kana = EXCLUDED.bank_kana, "
        "updated_at = EXCLUDED.updated_at RETURNING b.bank_code) ").format(src=_src(w), banks=BANKS)
        + _report("m", BANK_KEY, "m.bank_code = s.bank_code")))
    w = "tbl = 'banks' AND op IN ('update', 'bank_field')"
    st.append(Statement("bank_update", "banks", "update", sql.SQL(w), sql.SQL(
        "WITH src AS ({src}), m AS (UPDATE {banks} AS b SET "
        "bank_name = CASE WHEN s.set_bank_name THEN s.new_bank_name ELSE b.bank_name END, "
        "bank_kana = CASE WHEN s.set_bank_kana THEN s.new_bank_kana ELSE b.bank_kana END, updated_at = now() "
        "FROM src s WHERE b.bank_code = s.bank_code "
        "AND (NOT s.set_bank_name OR b.bank_name IS NOT DISTINCT FROM s.old_bank_name) "
        "AND (NOT s.set_bank_kana OR b.bank_kana IS NOT DISTINCT FROM s.old_bank_kana) "
        "RETURNING b.bank_code) ").format(
            src=sql.SQL("SELECT DISTINCT bank_code, set_bank_name, set_bank_kana, new_bank_name, new_bank_kana, "
                        "old_bank_name, old_bank_kana FROM {} WHERE " + w).format(TMP), banks=BANKS)
        + _report("m", BANK_KEY, "m.bank_code = s.bank_code")))
    w = "tbl = 'branches' AND op = 'addition'"
    st.append(Statement("branch_add", "branches", "upsert", sql.SQL(w), sql.SQL(
        "WITH src AS ({src}), m AS (INSERT INTO {branches} AS b (bank_code, branch_code, branch_name, "
        "branch_kana, created_at, updated_at) SELECT bank_code, branch_code, new_branch_name, new_branch_kana, "
        "now(), now() FROM src ON CONFLICT (bank_code, branch_code) DO UPDATE SET "
        "branch_name = EXCLUDED.branch_name, branch_kana = EXCLUDED.branch_kana, updated_at = EXCLUDED.updated_at "
        "RETURNING b.bank_code, b.branch_code) ").format(src=_src(w), branches=BRANCHES)
        + _report("m", BRANCH_KEY, "m.bank_code = s.bank_code AND m.branch_code = s.branch_code")))
    w = "tbl = 'branches' AND op = 'update'"
    st.append(Statement("branch_update", "branches", "update", sql.SQL(w), sql.SQL(
        "WITH src AS ({src}), m AS (UPDATE {branches} AS b SET branch_name = s.new_branch_name, "
        "branch_kana = s.new_branch_kana, updated_at = now() FROM src s "
        "WHERE b.bank_code = s.bank_code AND b.branch_code = s.branch_code "
        "AND b.branch_name IS NOT DISTINCT FROM s.old_branch_name "
        "AND b.branch_kana IS NOT DISTINCT FROM s.old_branch_kana "
        "RETURNING b.bank_code, b.branch_code) ").format(src=_src(w), branches=BRANCHES)
        + _report("m", BRANCH_KEY, "m.bank_code = s.bank_code AND m.branch_code = s.branch_code")))
    w = "tbl = 'branches' AND op = 'deletion'"
    st.append(Statement("branch_delete", "branches", "delete", sql.SQL(w), sql.SQL(
        "WITH src AS ({src}), m AS (DELETE FROM {branches} AS b USING src s "
        "WHERE b.bank_code = s.bank_code AND b.branch_code = s.branch_code "
        "AND (NOT s.guarded OR (b.branch_name IS NOT DISTINCT FROM s.old_branch_name "
        "AND b.branch_kana IS NOT DISTINCT FROM s.old_branch_kana)) "
        "RETURNING b.bank_code, b.branch_code) ").format(src=_src(w), branches=BRANCHES)
        + _report("m", BRANCH_KEY, "m.bank_code = s.bank_code AND m.branch_code = s.branch_code")))
    w = "tbl = 'banks' AND op = 'deletion'"
    st.append(Statement("bank_delete", "banks", "delete", sql.SQL(w), sql.SQL(
        "WITH src AS ({src}), m AS (DELETE FROM {banks} AS b USING src s WHERE b.bank_code = s.bank_code "
        "AND (NOT s.guarded OR (b.bank_name IS NOT DISTINCT FROM s.old_bank_name "
        "AND b.bank_kana IS NOT DISTINCT FROM s.old_bank_kana)) "
        "RETURNING b.bank_code) ").format(src=_src(w), banks=BANKS)
        + _report("m", BANK_KEY, "m.bank_code = s.bank_code")))
    return st


STATEMENTS = statements()
_FILTERS = {
    "bank_add": lambda r: r[2] == "banks" and r[1] == "addition",
    "bank_update": lambda r: r[2] == "banks" and r[1] in ("update", "bank_field"),
    "branch_add": lambda r: r[2] == "branches" and r[1] == "addition",
    "branch_update": lambda r: r[2] == "branches" and r[1] == "update",
    "branch_delete": lambda r: r[2] == "branches" and r[1] == "deletion",
    "bank_delete": lambda r: r[2] == "banks" and r[1] == "deletion",
}

HISTORY_INSERT = sql.SQL(
    "INSERT INTO {} (diff_id, diff_timestamp, operation_type, table_name, record_id, old_values, new_values, "
    "executed_by, rows_affected) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NULL) "
    "ON CONFLICT (diff_id, diff_timestamp) DO NOTHING RETURNING id").format(CHANGE_HISTORY)
HISTORY_SELECT = sql.SQL(
    "SELECT id, executed_by, executed_at, rows_affected, table_name, record_id FROM {} "
    "WHERE diff_id = %s AND diff_timestamp = %s").format(CHANGE_HISTORY)
HISTORY_ROWS = sql.SQL("UPDATE {} SET rows_affected = %s WHERE id = %s").format(CHANGE_HISTORY)


# --------------------------------------------------------------------------- results


@dataclass
class StatementResult:
    name: str
    table: str
    verb: str
    input_rows: int
    changed: int = 0
    stale: int = 0
    stale_keys: list[str] = field(default_factory=list)
    ms: float = 0.0


@dataclass
class Applied:
    """What the transaction did (committed or, for a dry run, rolled back)."""

    history_id: int | None
    already: dict[str, Any] | None           # the existing change_history row, if any
    statements: list[StatementResult]
    rows_affected: int
    stale_keys: list[str]
    stale_count: int
    ms: float

    def per_table(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for s in self.statements:
            t = out.setdefault(s.table, {"upsert": 0, "update": 0, "delete": 0})
            t[s.verb] += s.changed
        if self.history_id is not None:
            out["change_history"] = {"insert": 1}
        return out


class Stale(Exception):
    def __init__(self, count: int, keys: list[str]):
        self.count, self.keys = count, keys
        more = f" (first {len(keys)} listed)" if count > len(keys) else ""
        super().__init__(f"stale: {count} row(s) no longer equal currentData{more}: {', '.join(keys)}")


class _Skipped(Refused):
    """--all-approved: another executor took this diff first (not an error)."""


class AlreadyApplied(Exception):
    def __init__(self, row: dict[str, Any]):
        self.row = row
        super().__init__(f"already applied at {row.get('executed_at')} by {row.get('executed_by')} "
                         f"(change_history #{row.get('id')}); not applied again")


# --------------------------------------------------------------------------- the transaction


def history_values(rec: DiffRecord, entries: tuple[DiffEntry, ...]) -> tuple[str, str, Any, Any]:
    """``(table_name, record_id, old_values, new_values)`` for change_history."""
    tables = sorted({e.table for e in entries}) or ["banks"]
    if rec.is_bulk:
        # Compact for big diffs: per row ("branches:0001-001"), the changed fields only —
        # old values in old_values, new values in new_values (codes are in the key).
        old: dict[str, Any] = {}
        new: dict[str, Any] = {}
        for e in entries:
            k = f"{e.table}:{key_text(e.key)}"
            ch = e.changes or {}
            old[k] = {f: c.get("old") for f, c in ch.items() if isinstance(c, dict)}
            new[k] = {f: c.get("new") for f, c in ch.items() if isinstance(c, dict)}
            old[k]["op"] = new[k]["op"] = e.diffType
        head = {"dataLocation": rec.dataLocation, "dataSize": rec.dataSize, "records": len(entries)}
        return (",".join(tables), f"{len(entries)} records", {**head, "rows": old}, {**head, "rows": new})
    e = entries[0]
    return tables[0], key_text(e.key), e.currentData, e.zenginData


def apply_in_transaction(conn: psycopg.Connection, rec: DiffRecord, entries: tuple[DiffEntry, ...], actor: str,
                         *, stop_on_stale: bool = True,
                         progress: Callable[[str, int, int], None] | None = None) -> Applied:
    """Run the diff inside the caller's open transaction (nothing is committed here).
    Raises AlreadyApplied, Stale (when ``stop_on_stale``) or a psycopg error."""
    t0 = time.perf_counter()
    rows = rows_of(entries)
    active = [s for s in STATEMENTS if any(_FILTERS[s.name](r) for r in rows)]
    total = 2 + len(active)
    step = 0

    def tick(what: str) -> None:
        nonlocal step
        step += 1
        if progress:
            progress(what, step, total)

    table_name, record_id, old_v, new_v = history_values(rec, entries)
    hist = conn.execute(HISTORY_INSERT, (rec.id, rec.timestamp, rec.diffType, table_name, record_id,
                                         Jsonb(old_v), Jsonb(new_v), actor)).fetchone()
    if hist is None:
        row = conn.execute(HISTORY_SELECT, (rec.id, rec.timestamp)).fetchone()
        raise AlreadyApplied(dict(zip(("id", "executed_by", "executed_at", "rows_affected", "table_name",
                                       "record_id"), row or ())))
    tick("change_history")
    conn.execute(CREATE_TMP)
    with conn.cursor() as cur:
        with cur.copy(_copy_sql()) as cp:
            for r in rows:
                cp.write_row(r)
    # Row counts and a coarse histogram are all the joins below need; the default
    # statistics target samples ten times more for nothing (180 ms -> ~40 ms at 30k rows).
    conn.execute("SET LOCAL default_statistics_target = 10")
    conn.execute(sql.SQL("ANALYZE {}").format(TMP))
    tick(f"{len(rows)} rows copied")
    results: list[StatementResult] = []
    stale_keys: list[str] = []
    stale_count = 0
    for s in active:
        n_in = sum(1 for r in rows if _FILTERS[s.name](r))
        t = time.perf_counter()
        changed, stale, keys = conn.execute(s.query).fetchone()
        res = StatementResult(s.name, s.table, s.verb, n_in, int(changed), int(stale), list(keys or []),
                              (time.perf_counter() - t) * 1000)
        results.append(res)
        tick(s.title(n_in))
        if res.stale:
            stale_count += res.stale
            stale_keys += [f"{s.table}:{k}" for k in res.stale_keys]
            if stop_on_stale:
                raise Stale(stale_count, stale_keys[:STALE_LISTED])
    affected = sum(r.changed for r in results)
    conn.execute(HISTORY_ROWS, (affected, hist[0]))
    # Dropped now, not only at commit: a batch applies several diffs in one transaction.
    conn.execute(sql.SQL("DROP TABLE {}").format(TMP))
    return Applied(int(hist[0]), None, results, affected, stale_keys[:STALE_LISTED], stale_count,
                   (time.perf_counter() - t0) * 1000)


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
                          sets={**principal_attrs("executed", actor), "executedAt": claim_at, "updatedAt": claim_at})
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
