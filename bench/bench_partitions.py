"""Partitions: listing + planning 4 tables x 120 monthly partitions, against a naive
catalog walk (one round trip per partition for its bound, size, rows and indexes), both
on the same embedded PostgreSQL in the same run."""

from __future__ import annotations

import statistics
import time
from datetime import datetime, timezone

from psycopg import sql

from console.backends.postgres import PostgresBackend
from console.config import PostgresTarget
from console.core.partitions import add_months, build_plan, discover_target, month_of

from . import Result

DB = "bench_partitions"
TABLES = ("request_logs", "access_logs", "pipeline_runs", "learning_sessions")
PER_TABLE = 120
REPEAT = 5


def _setup(backend: PostgresBackend, now: datetime) -> None:
    cur = month_of(now)
    with backend.connect(autocommit=True, statement_timeout_ms=0) as conn:
        for t in TABLES:
            conn.execute(sql.SQL("CREATE TABLE {} (id bigint NOT NULL, at timestamptz NOT NULL, v text, "
                                 "PRIMARY KEY (id, at)) PARTITION BY RANGE (at)").format(sql.Identifier(t)))
            conn.execute(sql.SQL("CREATE INDEX ON {} (v)").format(sql.Identifier(t)))
            conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF {} DEFAULT").format(
                sql.Identifier(f"{t}_default"), sql.Identifier(t)))
            with conn.transaction():
                for k in range(PER_TABLE):
                    m = add_months(cur, k - PER_TABLE + 2)   # ends next month: premake finds 2 missing
                    if k == 60:
                        continue                              # one gap per table
                    lo = datetime(m.year, m.month, 1, tzinfo=timezone.utc)
                    n = add_months(m, 1)
                    hi = datetime(n.year, n.month, 1, tzinfo=timezone.utc)
                    conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                        sql.Identifier(f"{t}_y{m.year:04d}m{m.month:02d}"), sql.Identifier(t),
                        sql.Literal(lo), sql.Literal(hi)))
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(t)))


def _naive(backend: PostgresBackend) -> int:
    """The baseline: parents, then children per parent, then one query per partition."""
    n = 0
    with backend.connection() as conn:
        parents = conn.execute("SELECT partrelid FROM pg_partitioned_table").fetchall()
        for (poid,) in parents:
            kids = conn.execute("SELECT inhrelid FROM pg_inherits WHERE inhparent = %s", (poid,)).fetchall()
            for (coid,) in kids:
                conn.execute("SELECT pg_get_expr(c.relpartbound, c.oid), c.reltuples, pg_total_relation_size(c.oid),"
                             " (SELECT array_agg(indexrelid::regclass::text) FROM pg_index WHERE indrelid = c.oid)"
                             " FROM pg_class c WHERE c.oid = %s", (coid,)).fetchone()
                n += 1
    return n


def _median(fn) -> float:
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(ctx) -> list[Result]:
    now = datetime.now(timezone.utc)
    ctx.stack.postgres.create_database(DB)
    backend = PostgresBackend(PostgresTarget(name=DB, system="lambda", dsn=ctx.stack.postgres.dsn(DB)))
    try:
        _setup(backend, now)
        tables = discover_target(backend, now=now)
        assert len(tables) == 4 and all(len(t.partitions) == PER_TABLE - 1 for t in tables)
        plan = build_plan(tables)
        assert len(plan.steps) == 4 * 3, plan.summary       # 1 gap + 2 ahead per table
        assert _naive(backend) == 4 * PER_TABLE             # 119 monthly + default each

        ours = _median(lambda: build_plan(discover_target(backend, now=now)))
        plan_only = _median(lambda: build_plan(tables))
        base = _median(lambda: _naive(backend))
    finally:
        backend.close()
        ctx.stack.postgres.drop_database(DB)
    return [
        Result("partitions: list + plan 4 tables x 120 partitions (s)", ours,
               "naive catalog walk, 1 query per partition (no plan)", base),
        Result("partitions: plan only, 4 x 120 (s)", plan_only, "list + plan", ours),
    ]
