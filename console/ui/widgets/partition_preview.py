"""The maintenance preview as a DBA reads it before confirming: per step, the tables whose
rows reference the rows being moved (with how many, their ON DELETE action and how they are
kept), every lock the step takes and every relation it touches; then the exact SQL. All of
it SQL comments, so the preview stays one highlighted SQL text."""

from __future__ import annotations

from typing import Any

from ...core.plan import Plan

KEPT = {"aside": "set aside and put back in the same transaction", "guarded": "none expected; checked, else rolled back"}


def _refs(refs: Any) -> list[str]:
    out = []
    for r in refs or []:
        if not isinstance(r, dict):
            continue
        rows = r.get("rows")
        n = "?" if rows is None else f"{int(rows):,}"
        out.append(f"--     references: {r.get('table')} via {r.get('fk')} (ON DELETE {r.get('on_delete')}): "
                   f"{n} row(s), {KEPT.get(str(r.get('kept')), str(r.get('kept') or ''))}")
    return out


def plan_preview(plan: Plan) -> str:
    lines = [f"-- {plan.summary}"]
    n = len(plan.steps)
    for i, s in enumerate(plan.steps, 1):
        lines.append(f"-- [{i}/{n}] {s.title}")
        moves = s.meta.get("moves")
        if moves:
            lines.append(f"--     moves {int(moves):,} row(s) out of the default partition")
        lines += _refs(s.meta.get("references"))
        for lock in (x.strip() for x in s.lock.split("; ") if x.strip()):
            lines.append(f"--     lock: {lock}")
        rel = s.meta.get("relations")
        if rel:
            lines.append("--     relations: " + ", ".join(str(x) for x in rel))
        if not s.transactional:
            lines.append("--     runs outside a transaction")
    lines += ["", "-- the exact SQL:", plan.text()]
    return "\n".join(lines)
