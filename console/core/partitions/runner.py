"""Run a partition plan: every DDL step under a bounded ``lock_timeout``, retried a few
times when it cannot get its lock; one run per table at a time (a session advisory lock);
a failing step stops only the steps that depend on it (its chain: check → detach → drop of
one partition), never the other steps of its table; one audit record per target per run."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql

from ...backends.base import BackendError, ErrorKind
from ...backends.postgres import PostgresBackend, classify
from ...config import Settings
from .. import audit
from ..plan import Plan, Step, StepResult
from ..text import visible
from .planner import ACTION_NAME

MAINTAIN = audit.action(ACTION_NAME, "create, attach, detach and drop monthly partitions; "
                                     "move default-partition rows into their month")

BLOCKERS_SQL = """
SELECT DISTINCT a.pid, l.mode, l.relation::regclass::text AS rel, a.application_name, a.state,
       round(extract(epoch FROM now() - a.xact_start))::int AS xact_s
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.relation = ANY(ARRAY(SELECT to_regclass(r) FROM unnest(%s::text[]) r))
  AND a.pid <> pg_backend_pid()
ORDER BY xact_s DESC NULLS LAST LIMIT 5
"""


@dataclass(frozen=True)
class RunOptions:
    lock_timeout_ms: int | None = None       # None: the target's configured lock_timeout
    statement_timeout_ms: int = 600_000      # for moves out of the default partition
    attempts: int = 3                        # tries per step when the lock is not granted
    retry_pause_s: float = 0.5               # grows linearly with the attempt


@dataclass
class RunReport:
    results: list[StepResult] = field(default_factory=list)
    failed_groups: dict[str, str] = field(default_factory=dict)   # table key -> why
    audit_ids: dict[str, int] = field(default_factory=dict)       # target -> audit row id
    audit_errors: dict[str, str] = field(default_factory=dict)    # target -> why its record is unsettled

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "failed_tables": self.failed_groups, "audit_ids": self.audit_ids,
                "audit_errors": self.audit_errors,
                "steps": [{"title": r.step.title, "target": r.step.target, "table": r.step.meta.get("table"),
                           "kind": r.step.meta.get("kind"), "ok": r.ok, "skipped": r.skipped,
                           "message": r.message, "rows": r.rows, "attempts": r.attempts,
                           "elapsed_ms": round(r.elapsed_ms, 1)} for r in self.results]}


Progress = Callable[[int, int, Step, "StepResult | None"], None]


class StepFailed(Exception):
    pass


def _relations(step: Step) -> list[str]:
    """Every relation the step locks (parent, default partition, partitions, referencing
    tables): "who holds the lock" looks at all of them."""
    rels = list(step.meta.get("relations") or [])
    if step.meta.get("table") and step.meta["table"] not in rels:
        rels.insert(0, step.meta["table"])
    return rels


def _blockers(conn: psycopg.Connection, step: Step) -> str:
    rels = [r for r in _relations(step)]
    if not rels:
        return ""
    try:
        quoted = [sql.Identifier(*r.split(".", 1)).as_string(conn) for r in rels]
        rows = conn.execute(BLOCKERS_SQL, (quoted,)).fetchall()
    except psycopg.Error:
        return ""
    if not rows:
        return ""
    return "; held by " + ", ".join(f"pid {pid} ({mode} on {visible(rel)}, {visible(app or '?')}, {state}, "
                                    f"in transaction {s}s)" for pid, mode, rel, app, state, s in rows)


def _is_pending(conn: psycopg.Connection, step: Step) -> bool:
    schema = step.meta.get("schema")
    row = conn.execute(
        "SELECT i.inhdetachpending FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, step.meta["partition"])).fetchone()
    return bool(row and row[0])


def _execute(conn: psycopg.Connection, step: Step, attempt: int) -> tuple[str, int | None]:
    kind = step.meta.get("kind")
    stmts: list[str] = step.meta.get("statements") or [step.sql]
    if kind == "fk_check":
        n = int(conn.execute(stmts[0]).fetchone()[0])
        if n:
            raise StepFailed(
                f"{'more than 1000' if n > 1000 else n} row(s) of {step.meta['ref']} reference "
                f"{step.meta['partition']} through {step.meta['fk']}: the detach would fail; delete or "
                f"re-home them first (DELETE on the partition cascades to them), then run again")
        return "no referencing rows", 0
    if kind == "detach" and step.meta.get("concurrent") and attempt > 1 and _is_pending(conn, step):
        # an earlier attempt was interrupted after its first transaction: finish it
        parent = step.meta["parent"]
        conn.execute(sql.SQL("ALTER TABLE {} DETACH PARTITION {} FINALIZE").format(
            sql.Identifier(*parent), sql.Identifier(step.meta["schema"], step.meta["partition"])))
        return "detached (finalized an interrupted concurrent detach)", None
    if not step.transactional:
        for s in stmts:
            conn.execute(s)
        return "done", None
    rows = None
    tags: list[str] = step.meta.get("tags") or [""] * len(stmts)
    aside: dict[str, int] = {}
    with conn.transaction():
        for s, tag in zip(stmts, tags):
            cur = conn.execute(s)
            if tag == "move":
                rows = cur.rowcount
            elif tag.startswith("aside:"):
                aside[tag[6:]] = cur.rowcount
            elif tag.startswith("guard:"):
                n = int(cur.fetchone()[0])
                ref = step.meta["references"][int(tag[6:])]
                if n:
                    raise StepFailed(f"{n:,} row(s) of {ref['table']} now reference the rows to move ({ref['fk']}) "
                                     "and cannot be set aside; rolled back, nothing changed")
            elif tag.startswith("putback:"):
                want = aside.get(tag[8:], -1)
                if cur.rowcount != want:
                    ref = step.meta["references"][int(tag[8:])]
                    raise StepFailed(f"put back {cur.rowcount} of {want} row(s) of {ref['table']}; "
                                     "rolled back, nothing changed")
    if aside and rows is not None:
        kept = sum(aside.values())
        return (f"created and attached, {rows:,} row(s) moved, {kept:,} referencing row(s) set aside and put back",
                rows)
    if kind == "create":
        return (f"created and attached, {rows:,} row(s) moved" if rows is not None else "created and attached"), rows
    return "done", rows


def run_plan(settings: Settings, backends: dict[str, PostgresBackend], plan: Plan, *, actor=None,
             options: RunOptions | None = None, progress: Progress | None = None,
             sleep: Callable[[float], None] = time.sleep) -> RunReport:
    """Execute ``plan`` under the write-ahead audit: one intent per target, written before
    any step runs (read-only: an audited refusal, ReadOnlyError; an intent that cannot be
    written: AuditUnavailable, nothing changed on any target), settled after its steps
    (an unsettled record is reported in ``audit_errors``, never swallowed)."""
    opts = options or RunOptions()
    report = RunReport()
    total = len(plan.steps)
    by_target: dict[str, list[tuple[int, Step]]] = {}
    for i, s in enumerate(plan.steps):
        by_target.setdefault(s.target, []).append((i, s))
    results: dict[int, StepResult] = {}
    intents = _begin_all(settings, backends, plan, by_target, actor)
    for target, items in by_target.items():
        backend = backends.get(target)
        if backend is None:
            for i, s in items:
                results[i] = StepResult(s, ok=False, message=f"no backend named {target}", attempts=0)
            continue
        intent = intents[target]
        lock_ms = opts.lock_timeout_ms if opts.lock_timeout_ms is not None else backend.target.lock_timeout_ms
        try:
            conn = backend.connect(autocommit=True, statement_timeout_ms=opts.statement_timeout_ms)
        except BackendError as exc:
            for i, s in items:
                results[i] = StepResult(s, ok=False, message=f"{exc.kind.value}: {exc.message}", attempts=0)
                report.failed_groups.setdefault(s.group, f"{exc.kind.value}: {exc.message}")
                if progress:
                    progress(i, total, s, results[i])
            _settle(backend, intent, [results[i] for i, _ in items], report, time.sleep)
            continue
        try:
            conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(int(lock_ms))))
            failed_chains: set[str] = set()
            locked: dict[str, str | None] = {}      # group -> None (held) or why it was skipped
            keys: dict[str, str] = {}
            for i, step in items:
                if progress:
                    progress(i, total, step, None)
                if conn.closed or conn.broken:
                    res = StepResult(step, ok=False, skipped=True, attempts=0,
                                     message="not run: the connection to the server was lost")
                    report.failed_groups.setdefault(step.group, res.message)
                    results[i] = res
                    if progress:
                        progress(i, total, step, res)
                    continue
                if step.group not in locked:
                    locked[step.group] = _lock_group(conn, step, lock_ms)
                    keys[step.group] = _lock_key(step)
                chain = step.meta.get("chain")
                if locked[step.group] is not None:
                    res = StepResult(step, ok=False, skipped=True, attempts=0, message=locked[step.group])
                    report.failed_groups.setdefault(step.group, locked[step.group])
                elif chain and chain in failed_chains:
                    res = StepResult(step, ok=False, skipped=True, attempts=0,
                                     message="skipped: the step it depends on failed")
                else:
                    res = _run_step(conn, step, opts, lock_ms, sleep)
                    if not res.ok:
                        report.failed_groups.setdefault(step.group, res.message)
                        if chain:
                            failed_chains.add(chain)
                results[i] = res
                if progress:
                    progress(i, total, step, res)
            for group, why in locked.items():
                if why is None and not (conn.closed or conn.broken):
                    _unlock_group(conn, keys[group])
        finally:
            conn.close()
        _settle(backend, intent, [results[i] for i, _ in items], report, time.sleep)
    report.results = [results[i] for i in range(total)]
    return report


def _begin_all(settings: Settings, backends: dict[str, PostgresBackend], plan: Plan,
               by_target: dict[str, list[tuple[int, Step]]], actor) -> dict[str, audit.Intent | None]:
    """Every target's intent before any step runs anywhere: if one cannot be written, the
    ones already written are settled ``refused`` and the run is refused (nothing changed)."""
    intents: dict[str, audit.Intent | None] = {}
    for target, items in by_target.items():
        backend = backends.get(target)
        if backend is None:
            intents[target] = None
            continue
        steps = [s for _, s in items]
        try:
            intents[target] = audit.begin(
                settings, MAINTAIN, target=f"postgres:{backend.name}", principal=actor, audit_pg=backend,
                plan_digest=audit.digest(Plan(plan.action, plan.summary, tuple(steps))),
                detail={"summary": plan.summary.splitlines()[0], "steps": [s.title for s in steps]})
        except BaseException:
            for done in intents.values():
                if done is not None:
                    audit.settle(done, audit.REFUSED, {"reason": "another target's intent could not be written"})
            raise
    return intents


def _settle(backend: PostgresBackend, intent: audit.Intent | None, results: list[StepResult], report: RunReport,
            sleep: Callable[[float], None], attempts: int = 10, pause_s: float = 0.5) -> None:
    """Settle this target's intent with the step results. The server may be restarting (the
    run's connection died with it): the steps already applied still need their record, so
    the settle is retried for a few seconds; an unsettled record is reported, not dropped."""
    if intent is None:
        return
    ok = all(r.ok for r in results)
    detail = {"steps": [{"title": r.step.title, "ok": r.ok, "skipped": r.skipped, "message": r.message,
                         "attempts": r.attempts, "rows": r.rows} for r in results]}
    intent.conn = None
    intent.backend = backend
    for k in range(attempts):
        audit.settle(intent, audit.OK if ok else audit.FAILED, detail)
        if not intent.unsettled:
            break
        if k < attempts - 1:
            sleep(pause_s)
    report.audit_ids[backend.name] = intent.id
    if intent.unsettled:
        report.audit_errors[backend.name] = intent.settle_error or "unsettled"


ADVISORY_CLASS = 0x70617274          # "part": pg_advisory_lock(class, hashtext(table))


def _lock_group(conn: psycopg.Connection, step: Step, lock_ms: int) -> str | None:
    """One run per table at a time: a session advisory lock on the table, waited for at
    most ``lock_timeout``; None when held, else why the table is skipped."""
    try:
        conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (ADVISORY_CLASS, _lock_key(step)))
        return None
    except pgerrors.LockNotAvailable:
        return (f"skipped: another partition maintenance run is working on {step.meta.get('table') or step.group} "
                f"(waited {lock_ms} ms for it)")


def _lock_key(step: Step) -> str:
    """The table as the database knows it (two consoles naming the target differently
    still meet on the same lock)."""
    return "console.partitions:" + (step.meta.get("table") or step.group)


def _unlock_group(conn: psycopg.Connection, key: str) -> None:
    try:
        conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (ADVISORY_CLASS, key))
    except psycopg.Error:
        pass      # the session ends right after; its advisory locks go with it


def _run_step(conn: psycopg.Connection, step: Step, opts: RunOptions, lock_ms: int,
              sleep: Callable[[float], None]) -> StepResult:
    started = time.perf_counter()
    attempt = 0
    while True:
        attempt += 1
        try:
            msg, rows = _execute(conn, step, attempt)
            return StepResult(step, ok=True, message=msg, rows=rows, attempts=attempt,
                              elapsed_ms=(time.perf_counter() - started) * 1000)
        except StepFailed as exc:
            return StepResult(step, ok=False, message=str(exc), attempts=attempt,
                              elapsed_ms=(time.perf_counter() - started) * 1000)
        except pgerrors.LockNotAvailable as exc:
            if attempt < opts.attempts:
                sleep(opts.retry_pause_s * attempt)
                continue
            text = str(exc).strip().splitlines()[0]
            return StepResult(step, ok=False, attempts=attempt,
                              message=f"lock_timeout: {text} ({attempt} attempts of {lock_ms} ms)"
                                      f"{_blockers(conn, step)}",
                              elapsed_ms=(time.perf_counter() - started) * 1000)
        except psycopg.Error as exc:
            err = classify(step.target, exc)
            return StepResult(step, ok=False, attempts=attempt, message=f"{err.kind.value}: {err.message}",
                              elapsed_ms=(time.perf_counter() - started) * 1000)


def refused_message() -> str:
    return f"{MAINTAIN.name} refused: the console is in read-only mode"


__all__ = ["MAINTAIN", "RunOptions", "RunReport", "run_plan", "ErrorKind"]
