"""PostgreSQL restarted in the middle of a partition maintenance run.

The restart lands inside a step deterministically: before the k-th "create" step a second
session takes SHARE UPDATE EXCLUSIVE on the parent, so the step's CREATE TABLE and
CREATE INDEX run and its ATTACH PARTITION waits; a watcher sees the runner's session
waiting on the lock (pg_stat_activity) and restarts the server right then. Afterwards
every partition of the plan is either attached with all its indexes or absent (nothing
half-applied), and a rerun finishes the job."""

from __future__ import annotations

import threading
import time


import psycopg
from psycopg import sql

from console.config import Settings
from console.core.partitions import Policy, RunOptions, build_plan, discover_target, run_plan

from .helpers import ensure_postgres, postgres_ready

INDEX_STATE = """
SELECT (SELECT count(*) FROM pg_index WHERE indrelid = %(parent)s::regclass) AS parent_indexes,
       (SELECT count(*) FROM pg_index x JOIN pg_inherits ih ON ih.inhrelid = x.indexrelid
         WHERE x.indrelid = %(child)s::regclass) AS attached_indexes,
       EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = %(child)s::regclass
                                           AND inhparent = %(parent)s::regclass) AS attached
"""


def partition_state(dsn: str, schema: str, parent: str, child: str) -> str:
    """'absent', 'complete' (attached with every index) or a description of the half state."""
    with psycopg.connect(dsn, autocommit=True) as c:
        exists = c.execute("SELECT to_regclass(%s) IS NOT NULL",
                           (sql.Identifier(schema, child).as_string(c),)).fetchone()[0]
        if not exists:
            return "absent"
        p_idx, c_idx, attached = c.execute(INDEX_STATE, {
            "parent": sql.Identifier(schema, parent).as_string(c),
            "child": sql.Identifier(schema, child).as_string(c)}).fetchone()
        if attached and c_idx == p_idx:
            return "complete"
        return f"half-applied: attached={attached}, {c_idx}/{p_idx} indexes"


def test_restart_during_partition_run_leaves_nothing_half_applied(stack, fresh_db):
    pg = fresh_db("lambda", lock_timeout_ms=20_000)
    dsn = pg.target.dsn
    settings = Settings(postgres=(pg.target,))
    policy = Policy(premake=8)
    tables = [t for t in discover_target(pg, default_policy=policy) if t.name == "request_logs"]
    plan = build_plan(tables)
    creates = [s for s in plan.steps if s.meta["kind"] == "create"]
    assert len(creates) >= 3, plan.text()
    k = 1
    target_step = creates[k]
    schema, parent = tables[0].schema, tables[0].name
    events: dict[str, object] = {}
    blocker: list[psycopg.Connection] = []

    def restart_when_waiting() -> None:
        deadline = time.monotonic() + 15
        with psycopg.connect(stack.postgres.dsn("postgres"), autocommit=True) as watch:
            while time.monotonic() < deadline:
                row = watch.execute(
                    "SELECT pid, left(query, 60) FROM pg_stat_activity WHERE datname = %s "
                    "AND application_name = 'console' AND wait_event_type = 'Lock'", (pg.target.name,)).fetchone()
                if row:
                    events["waiting_query"] = row[1]
                    break
                time.sleep(0.02)
        events["restart_started"] = time.monotonic()
        stack.postgres.restart()
        events["restarted"] = time.monotonic()

    watcher = threading.Thread(target=restart_when_waiting, daemon=True)

    def progress(i, n, step, result) -> None:
        if result is None and step is target_step:
            b = psycopg.connect(dsn)
            b.execute(sql.SQL("LOCK TABLE {} IN SHARE UPDATE EXCLUSIVE MODE").format(sql.Identifier(schema, parent)))
            blocker.append(b)
            watcher.start()

    try:
        report = run_plan(settings, {pg.name: pg}, plan, actor="drill",
                          options=RunOptions(lock_timeout_ms=20_000, attempts=1), progress=progress)
        watcher.join(30)
    finally:
        for b in blocker:
            try:
                b.close()
            except Exception:  # noqa: BLE001 - killed by the restart
                pass
        ensure_postgres(stack)
    postgres_ready(stack)

    assert "ATTACH PARTITION" in str(events.get("waiting_query", "")), events
    by_step = {id(r.step): r for r in report.results}
    assert all(by_step[id(s)].ok for s in creates[:k]), report.as_dict()
    failed = by_step[id(target_step)]
    assert not failed.ok and ("unreachable" in failed.message or "error" in failed.message), failed.message
    assert not report.ok

    # Nothing half-applied: each partition of the plan is attached with every index, or absent.
    states = {s.meta["partition"]: partition_state(dsn, schema, parent, s.meta["partition"]) for s in creates}
    assert all(st in ("absent", "complete") for st in states.values()), states
    assert states[target_step.meta["partition"]] == "absent", states
    assert all(states[s.meta["partition"]] == "complete" for s in creates[:k]), states

    # A rerun (fresh discovery, fresh plan) finishes the job.
    pg.close()          # the pool's connections died with the server
    again = [t for t in discover_target(pg, default_policy=policy) if t.name == "request_logs"]
    plan2 = build_plan(again)
    assert {s.meta["partition"] for s in plan2.steps if s.meta["kind"] == "create"} == \
        {p for p, st in states.items() if st == "absent"}
    report2 = run_plan(settings, {pg.name: pg}, plan2, actor="drill")
    assert report2.ok, report2.as_dict()
    states2 = {s.meta["partition"]: partition_state(dsn, schema, parent, s.meta["partition"]) for s in creates}
    assert set(states2.values()) == {"complete"}, states2
    final = [t for t in discover_target(pg, default_policy=policy) if t.name == "request_logs"][0]
    assert not final.coverage.missing_ahead
    assert not build_plan([final]).steps
    rows = pg.fetch("SELECT outcome FROM console.audit_log WHERE action = 'partitions.maintain' ORDER BY id")
    assert rows and rows[-1]["outcome"] == "ok"


def test_interrupted_run_still_writes_its_audit_record(stack, fresh_db):
    """The server restarts between step 1 and step 2: step 1 is applied, so the run must
    leave exactly one audit record (outcome failed) even though its connection died."""
    pg = fresh_db("lambda")
    settings = Settings(postgres=(pg.target,))
    tables = [t for t in discover_target(pg, default_policy=Policy(premake=6)) if t.name == "request_logs"]
    plan = build_plan(tables)
    assert len(plan.steps) >= 2
    first = plan.steps[0]

    def progress(i, n, step, result) -> None:
        if result is not None and step is first:
            stack.postgres.restart()

    try:
        report = run_plan(settings, {pg.name: pg}, plan, actor="drill", progress=progress)
    finally:
        ensure_postgres(stack)
    assert report.results[0].ok and not report.results[1].ok
    pg.close()
    rows = pg.fetch("SELECT outcome FROM console.audit_log WHERE action = 'partitions.maintain'")
    assert [r["outcome"] for r in rows] == ["failed"]
