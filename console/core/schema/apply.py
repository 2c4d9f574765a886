"""Run a schema-fix :class:`~console.core.plan.Plan` against one target.

One dedicated autocommit connection (the target's ``lock_timeout`` and
``statement_timeout`` on it; index builds get ``index_timeout_ms`` instead): a
transactional step runs in its own transaction, a ``CONCURRENTLY`` step runs outside any
transaction. The run stops at the first failing step (the rest are reported skipped) and
writes exactly one audit record."""

from __future__ import annotations

import time
from typing import Callable

from ...backends.base import BackendError, ErrorKind
from ...backends.postgres import PostgresBackend, classify
from ...config import Settings
from .. import audit
from ..plan import Hazard, Plan, Step, StepResult
from .fixes import ACTION

APPLY = audit.action(ACTION, "apply schema fixes (missing / drifted / unexpected objects) to a PostgreSQL target")

Progress = Callable[[int, int, Step, StepResult | None], None]


def run_plan(settings: Settings, backend: PostgresBackend, plan: Plan, *, actor: str,
             progress: Progress | None = None, index_timeout_ms: int = 3_600_000) -> list[StepResult]:
    """``progress(i, n, step, result)`` is called before a step (result None) and after it."""
    audit.guard(settings, APPLY)
    results: list[StepResult] = []
    steps = list(plan.steps)
    conn = backend.connect(autocommit=True)
    try:
        base_timeout = conn.execute("SHOW statement_timeout").fetchone()[0]
        failed = False
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
                        if long:
                            conn.execute("SELECT set_config('statement_timeout', %s, false)", (base_timeout,))
                res = StepResult(step, ok=True, message="ok", rows=cur.rowcount if cur.rowcount >= 0 else None)
            except Exception as exc:  # noqa: BLE001 - reported per step
                err = classify(backend.name, exc)
                msg = f"{err.kind.value}: {err.message}"
                if not step.transactional and "CONCURRENTLY" in step.sql and step.sql.startswith("CREATE"):
                    msg += " (a failed concurrent build can leave an INVALID index: drop it before retrying)"
                res = StepResult(step, ok=False, message=msg)
                failed = True
            res.elapsed_ms = (time.perf_counter() - started) * 1000
            results.append(res)
            if progress:
                progress(i, len(steps), step, res)
        _audit(conn, settings, backend, plan, results, actor)
    finally:
        conn.close()
    return results


def _audit(conn, settings: Settings, backend: PostgresBackend, plan: Plan, results: list[StepResult],
           actor: str) -> None:
    ok = all(r.ok for r in results)
    detail = {"summary": plan.summary,
              "steps": [{"title": r.step.title, "sql": r.step.sql, "ok": r.ok, "skipped": r.skipped,
                         "message": r.message, "elapsed_ms": round(r.elapsed_ms, 1)} for r in results]}
    try:
        present = conn.execute("SELECT to_regclass('console.audit_log') IS NOT NULL").fetchone()[0]
        if not present:
            raise BackendError(backend.name, ErrorKind.NOT_FOUND,
                               "console.audit_log does not exist (apply sql/common first)")
        with conn.transaction():
            audit.record(conn, actor=actor, act=APPLY, target=f"postgres:{backend.name}",
                         outcome="ok" if ok else "failed", detail=detail, read_only=settings.read_only)
    except Exception as exc:  # noqa: BLE001
        raise classify(backend.name, exc) from None
