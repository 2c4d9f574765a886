"""Run a schema-fix :class:`~console.core.plan.Plan` against one target.

One dedicated autocommit connection (the target's ``lock_timeout`` and
``statement_timeout`` on it; index builds get ``index_timeout_ms`` instead): a
transactional step runs in its own transaction, a ``CONCURRENTLY`` step runs outside any
transaction. The run stops at the first failing step (the rest are reported skipped).

Write-ahead audit on the target itself: the intent (with the plan's digest) is committed
before the first step (no intent, no step runs; read-only is refused and audited), and
settled after the last one: ``ok``, ``failed``, or ``unknown`` when the connection died
in the middle of a step (the step may or may not have committed)."""

from __future__ import annotations

import time
from typing import Callable

from ...backends.postgres import PostgresBackend, classify
from ...config import Settings
from .. import audit
from ..plan import Hazard, Plan, Step, StepResult
from .fixes import ACTION

APPLY = audit.action(ACTION, "apply schema fixes (missing / drifted / unexpected objects) to a PostgreSQL target")

Progress = Callable[[int, int, Step, StepResult | None], None]


class RunResults(list):
    """The step results, plus the audit error when the record could not be settled."""
    audit_id: int | None = None
    audit_error: str | None = None


def run_plan(settings: Settings, backend: PostgresBackend, plan: Plan, *, actor=None,
             progress: Progress | None = None, index_timeout_ms: int = 3_600_000) -> list[StepResult]:
    """``progress(i, n, step, result)`` is called before a step (result None) and after it.
    Returns the step results (a list with ``audit_id`` / ``audit_error`` attributes)."""
    target = f"postgres:{backend.name}"
    steps = list(plan.steps)
    conn = backend.connect(autocommit=True)
    results: RunResults = RunResults()
    try:
        intent = audit.begin(settings, APPLY, target=target, principal=actor, plan=plan, conn=conn,
                             detail={"summary": plan.summary, "steps": len(steps)})
        results.audit_id = intent.id
        base_timeout = conn.execute("SHOW statement_timeout").fetchone()[0]
        failed = False
        lost = False
        for i, step in enumerate(steps):
            if failed:
                results.append(StepResult(step, ok=False, skipped=True, message="skipped: an earlier step failed"))
                continue
            if progress:
                progress(i, len(steps), step, None)
            started = time.perf_counter()
            try:
                if step.transactional:
                    with conn.transaction():
                        cur = conn.execute(step.sql)
                else:
                    long = step.hazard is Hazard.INDEX_BUILD
                    if long:
                        conn.execute(f"SET statement_timeout = {int(index_timeout_ms)}")
                    try:
                        cur = conn.execute(step.sql)
                    finally:
                        if long and not conn.closed and not conn.broken:
                            conn.execute("SELECT set_config('statement_timeout', %s, false)", (base_timeout,))
                res = StepResult(step, ok=True, message="ok", rows=cur.rowcount if cur.rowcount >= 0 else None)
            except Exception as exc:  # noqa: BLE001 - reported per step
                err = classify(backend.name, exc)
                msg = f"{err.kind.value}: {err.message}"
                if not step.transactional and "CONCURRENTLY" in step.sql and step.sql.startswith("CREATE"):
                    msg += " (a failed concurrent build can leave an INVALID index: drop it before retrying)"
                if audit.outcome_of(exc) == audit.UNKNOWN or conn.broken:
                    lost = True
                    msg += " (the connection was lost: whether this step committed is unknown; run schema check)"
                res = StepResult(step, ok=False, message=msg)
                failed = True
            res.elapsed_ms = (time.perf_counter() - started) * 1000
            results.append(res)
            if progress:
                progress(i, len(steps), step, res)
        ok = all(r.ok for r in results)
        detail = {"steps": [{"title": r.step.title, "sql": r.step.sql, "ok": r.ok, "skipped": r.skipped,
                             "message": r.message, "elapsed_ms": round(r.elapsed_ms, 1)} for r in results]}
        outcome = audit.OK if ok else (audit.UNKNOWN if lost else audit.FAILED)
        if conn.closed or conn.broken:
            intent.conn = None
            intent.backend = backend          # settle on a new connection
        audit.settle(intent, outcome, detail)
        results.audit_error = intent.settle_error
    finally:
        conn.close()
    return results
