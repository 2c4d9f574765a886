"""Partitions: listing + planning 4 tables x 120 monthly partitions, against a naive
catalog walk (one round trip per partition for its bound, size, rows and indexes), both
on the same embedded PostgreSQL in the same run; and moving a 300,000-row default
partition into its months, against pg_partman's ``partition_data_proc`` on the same
PostgreSQL 15 (Debian's, bench/pg15.py) in the same run (skipped, with the reason, where
there is none)."""

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
    out = [
        Result("partitions: list + plan 4 tables x 120 partitions (s)", ours,
               "naive catalog walk, 1 query per partition (no plan)", base),
        Result("partitions: plan only, 4 x 120 (s)", plan_only, "list + plan", ours),
    ]
    out += _move_vs_partman(now)
    return out


MOVE_ROWS = 300_000
MOVE_MONTHS = 3


def _move_setup(dsn: str, now: datetime) -> None:
    import psycopg
    cur = month_of(now)
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE TABLE public.events (id bigserial NOT NULL, at timestamptz NOT NULL, v text, "
                  "PRIMARY KEY (id, at)) PARTITION BY RANGE (at)")
        c.execute("CREATE INDEX ON public.events (v)")
        c.execute("CREATE TABLE public.events_default PARTITION OF public.events DEFAULT")
        for k in range(0, 4):       # the current month and premake 3 exist: only the move is left
            m = add_months(cur, k)
            n = add_months(m, 1)
            c.execute(sql.SQL("CREATE TABLE {} PARTITION OF public.events FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier(f"events_p{m.year:04d}_{m.month:02d}"),
                sql.Literal(datetime(m.year, m.month, 1, tzinfo=timezone.utc)),
                sql.Literal(datetime(n.year, n.month, 1, tzinfo=timezone.utc))))
        first = add_months(cur, -MOVE_MONTHS)
        start = datetime(first.year, first.month, 1, tzinfo=timezone.utc)
        end = datetime(cur.year, cur.month, 1, tzinfo=timezone.utc)
        c.execute("INSERT INTO public.events (at, v) SELECT %s::timestamptz + (%s::timestamptz - %s::timestamptz) "
                  "* (g::float8 / %s), 'v' || (g %% 97) FROM generate_series(0, %s - 1) g",
                  (start, end, start, MOVE_ROWS, MOVE_ROWS))
        c.execute("VACUUM ANALYZE public.events")


def _move_vs_partman(now: datetime) -> list[Result]:
    import psycopg

    from bench.pg15 import Pg15, missing
    from console.config import Settings
    from console.core.partitions import Policy, RunOptions, run_plan

    why = missing()
    if why:
        print(f"  skipped the default-partition move against pg_partman: {why}")
        return []
    server = Pg15().start()
    try:
        pm_dsn, co_dsn = server.create_database("bench_pm"), server.create_database("bench_co")
        _move_setup(pm_dsn, now)
        _move_setup(co_dsn, now)
        with psycopg.connect(pm_dsn, autocommit=True) as c:
            c.execute("CREATE SCHEMA partman")
            c.execute("CREATE EXTENSION pg_partman SCHEMA partman")
            c.execute("INSERT INTO partman.part_config (parent_table, control, partition_type, partition_interval, "
                      "premake, datetime_string, jobmon) VALUES ('public.events', 'at', 'native', '1 mon', 3, "
                      "'YYYY_MM', false)")
            t0 = time.perf_counter()
            c.execute("CALL partman.partition_data_proc('public.events', p_wait := 0, p_quiet := true)")
            theirs = time.perf_counter() - t0
            left = c.execute("SELECT count(*) FROM ONLY public.events_default").fetchone()[0]
            assert left == 0, left
        from pathlib import Path
        with psycopg.connect(co_dsn, autocommit=True) as c:     # the audit log: no record, no change
            for f in sorted((Path(__file__).resolve().parents[1] / "sql" / "common").glob("*.sql")):
                c.execute(f.read_text(encoding="utf-8"))
        backend = PostgresBackend(PostgresTarget(name="bench_co", system="lambda", dsn=co_dsn))
        try:
            t0 = time.perf_counter()
            tables = discover_target(backend, now=now, default_policy=Policy(premake=3), count_timeout_ms=600_000)
            plan = build_plan(tables)
            report = run_plan(Settings(postgres=(backend.target,)), {backend.name: backend}, plan, actor="bench",
                              options=RunOptions(lock_timeout_ms=5000))
            ours = time.perf_counter() - t0
            assert report.ok and sum(r.rows or 0 for r in report.results) == MOVE_ROWS, report.as_dict()
        finally:
            backend.close()
    finally:
        server.stop()
    return [Result(f"partitions: move {MOVE_ROWS:,} default-partition rows into {MOVE_MONTHS} months "
                   "(discover + plan + run, s)", ours, "pg_partman 4.7 partition_data_proc, same PostgreSQL 15",
                   theirs)]
