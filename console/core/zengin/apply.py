"""The SQL that applies a diff inside an open PostgreSQL transaction, set-based (see
:mod:`.executor` for the whole execution): the temporary table's rows, the six guarded
statements in key order, the change_history row (UNIQUE: a replay is a no-op), and what
they did. Split out of :mod:`.executor`, which re-exports these names; the batch runner
(:mod:`.batch_exec`) uses the same statements for a diff it cannot apply in one row
statement."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from .. import collector, jsonvalue
from .generator import BANKS, BRANCHES
from .records import BANK_COMPARED, DiffEntry, DiffRecord
from .validate import key_text

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
    with collector.paused():
        rows = rows_of(entries)
        table_name, record_id, old_v, new_v = history_values(rec, entries)
    active = [s for s in STATEMENTS if any(_FILTERS[s.name](r) for r in rows)]
    total = 2 + len(active)
    step = 0

    def tick(what: str) -> None:
        nonlocal step
        step += 1
        if progress:
            progress(what, step, total)

    hist = conn.execute(HISTORY_INSERT, (rec.id, rec.timestamp, rec.diffType, table_name, record_id,
                                         Jsonb(old_v, jsonvalue.dumps), Jsonb(new_v, jsonvalue.dumps),
                                         actor)).fetchone()
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
