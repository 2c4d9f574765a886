"""Schema status against a real PostgreSQL: a freshly migrated database of each system is
clean; each kind of drift planted on it is found with the right status and fix DDL, and
running the fix makes the check clean again (with one audit record)."""

from __future__ import annotations

import pytest

from console.backends.base import ReadOnlyError
from console.config import SYSTEMS, Settings
from console.core.plan import Hazard
from console.core.schema import check_target, fixes, run_plan
from console.core.schema.expected import SCRATCH_PREFIX


def _check(backend):
    r = check_target(backend, backend.target.system)
    assert r.error is None, r.error
    return r


def _fix(backend, report, *, allow_destructive=False):
    plan = fixes.build_plan(backend.name, report.findings, allow_destructive=allow_destructive)
    assert plan, "nothing to apply"
    results = run_plan(Settings(postgres=(backend.target,)), backend, plan, actor="pytest")
    assert all(r.ok for r in results), [(r.step.sql, r.message) for r in results if not r.ok]
    return plan


def _only(report, kind, status):
    found = [f for f in report.findings if f.kind == kind and f.status == status]
    assert len(found) == 1, [(f.kind, f.status, f.object) for f in report.findings]
    return found[0]


@pytest.mark.parametrize("system", SYSTEMS)
def test_fresh_database_is_clean(fresh_db, system):
    backend = fresh_db(system)
    r = _check(backend)
    assert r.findings == []
    assert r.clean and not r.migrations.pending and not r.migrations.changed
    assert len(r.expected.tables) >= 3 and r.live.tables.keys() == r.expected.tables.keys()
    # the scratch database is gone
    left = backend.fetch("SELECT datname FROM pg_database WHERE datname LIKE %s", (SCRATCH_PREFIX + "%",))
    assert left == []


def test_demo_filled_databases_are_clean(fresh_db):
    """What a filled database looks like: monthly partitions everywhere, and accesslog's
    foreign key to the partitioned access_logs, for which PostgreSQL derives one
    constraint per partition. None of that is drift (regression: each derived constraint
    was reported as unexpected)."""
    from datetime import datetime, timezone

    from console.demo import data

    backends = {s: fresh_db(s) for s in ("lambda", "accesslog", "pipe", "learning")}
    data.fill_postgres(backends, datetime(2026, 11, 22, tzinfo=timezone.utc), request_log_rows=2_000)
    n_fk = backends["accesslog"].fetch("SELECT count(*) AS n FROM pg_constraint WHERE conparentid <> 0 "
                                       "AND contype = 'f'")[0]["n"]
    assert n_fk > 0
    for name, b in backends.items():
        findings = [(f.kind, f.status, f.object) for f in _check(b).findings]
        if name == "lambda":  # the demo plants exactly one drifted index there
            assert findings == [("index", "drifted", "public.idx_request_logs_status_code")], findings
        else:
            assert findings == [], (name, findings)


def test_dropped_index_is_missing_and_rebuilt_concurrently(fresh_db):
    b = fresh_db("lambda")
    b.execute("DROP INDEX public.idx_error_logs_error_code")
    f = _only(_check(b), "index", "missing")
    assert f.object == "public.idx_error_logs_error_code"
    assert str(f.source) == "sql/lambda/002_request_logs.sql:54"
    (step,) = f.steps
    assert step.sql == 'CREATE INDEX CONCURRENTLY "idx_error_logs_error_code" ON "public"."error_logs" USING btree (error_code)'
    assert step.transactional is False and step.hazard is Hazard.INDEX_BUILD
    _fix(b, _check(b))
    assert _check(b).clean
    audit = b.fetch("SELECT action, outcome, detail FROM console.audit_log WHERE action = 'schema.apply'")
    assert len(audit) == 1 and audit[0]["outcome"] == "ok"
    assert audit[0]["detail"]["steps"][0]["sql"] == step.sql


def test_column_type_change_is_drifted(fresh_db):
    b = fresh_db("lambda")
    b.execute("ALTER TABLE meta.sessions ALTER COLUMN status TYPE varchar(32)")
    f = _only(_check(b), "column", "drifted")
    assert f.object == "meta.sessions.status"
    assert "character varying(16)" in f.expected and "character varying(32)" in f.actual
    assert "type: expected character varying(16), found character varying(32)" in f.detail
    assert f.source is not None and f.source.file == "lambda/003_meta.sql"
    assert "TYPE character varying(16)" in f.steps[0].sql and f.steps[0].hazard is Hazard.LOCK
    _fix(b, _check(b))
    assert _check(b).clean


def test_altered_view_is_drifted(fresh_db):
    b = fresh_db("lambda")
    b.execute("""CREATE OR REPLACE VIEW analytics.error_summary AS
        SELECT e.error_code, count(*) AS error_count, min(e.timestamp) AS first_occurrence,
               max(e.timestamp) AS last_occurrence, r.language_title,
               mode() WITHIN GROUP (ORDER BY r.status_code) AS most_common_status
        FROM public.error_logs e JOIN public.request_logs r ON e.request_log_id = r.id
        GROUP BY e.error_code, r.language_title""")
    f = _only(_check(b), "view", "drifted")
    assert f.object == "analytics.error_summary"
    assert "7 days" in f.expected and "7 days" not in f.actual
    assert f.steps[0].sql.startswith('CREATE OR REPLACE VIEW "analytics"."error_summary" AS')
    _fix(b, _check(b))
    assert _check(b).clean


def test_dropped_function_is_missing(fresh_db):
    b = fresh_db("lambda")
    b.execute("DROP FUNCTION analytics.cleanup_old_metrics(integer)")
    f = _only(_check(b), "function", "missing")
    assert f.object == "analytics.cleanup_old_metrics(retention_days integer)"
    assert f.source is not None and f.source.file == "lambda/004_analytics.sql"
    assert f.steps[0].sql.startswith("CREATE OR REPLACE FUNCTION analytics.cleanup_old_metrics")
    _fix(b, _check(b))
    assert _check(b).clean


def test_unexpected_table_needs_destructive_opt_in(fresh_db):
    b = fresh_db("lambda")
    b.execute("CREATE TABLE public.stray (id int PRIMARY KEY)")
    r = _check(b)
    f = _only(r, "table", "unexpected")
    assert f.object == "public.stray" and f.source is None
    assert f.destructive and f.steps[0].sql == 'DROP TABLE "public"."stray"'
    assert [x.object for x in r.findings] == ["public.stray"]  # its index is not a finding of its own
    assert not fixes.build_plan(b.name, r.findings)  # never selected by default
    _fix(b, r, allow_destructive=True)
    assert _check(b).clean


def test_partitions_are_not_unexpected_and_follow_the_parent(fresh_db):
    b = fresh_db("lambda")
    b.execute("CREATE TABLE public.request_logs_y2025m01 PARTITION OF public.request_logs "
              "FOR VALUES FROM ('2025-01-01') TO ('2025-02-01')")
    b.execute("CREATE TABLE public.request_logs_y2025m02 PARTITION OF public.request_logs "
              "FOR VALUES FROM ('2025-02-01') TO ('2025-03-01')")
    assert _check(b).clean  # monthly partitions are expected, not noise
    # The parent index rebuilt ON ONLY and attached on the default partition only:
    # the two monthly partitions lack it.
    with b.connection() as conn:
        conn.execute("DROP INDEX public.idx_request_logs_cached")
        conn.execute("CREATE INDEX idx_request_logs_cached ON ONLY public.request_logs (cached)")
        conn.execute("CREATE INDEX request_logs_default_cached_idx ON public.request_logs_default (cached)")
        conn.execute("ALTER INDEX public.idx_request_logs_cached ATTACH PARTITION public.request_logs_default_cached_idx")
    r = _check(b)
    found = [f for f in r.findings]
    assert [(f.kind, f.status, f.table) for f in found] == [
        ("partition index", "missing", "public.request_logs_y2025m01"),
        ("partition index", "missing", "public.request_logs_y2025m02")]
    steps = found[0].steps
    assert steps[0].sql.startswith('CREATE INDEX CONCURRENTLY "request_logs_y2025m01_request_logs_cached_idx"')
    assert steps[0].transactional is False
    assert steps[1].sql.startswith('ALTER INDEX "public"."idx_request_logs_cached" ATTACH PARTITION')
    _fix(b, r)
    assert _check(b).clean
    assert b.fetch("SELECT indisvalid FROM pg_index WHERE indexrelid = 'public.idx_request_logs_cached'::regclass")[0]["indisvalid"]


def test_partition_created_without_the_sibling_index(fresh_db):
    """A per-partition index (not declared on the parent) that the sibling partitions
    carry is a finding on the partition that lacks it."""
    b = fresh_db("lambda")
    for m in (1, 2, 3):
        b.execute(f"CREATE TABLE public.request_logs_y2025m0{m} PARTITION OF public.request_logs "
                  f"FOR VALUES FROM ('2025-0{m}-01') TO ('2025-0{m + 1}-01')")
    for m in (1, 2):
        b.execute(f"CREATE INDEX request_logs_y2025m0{m}_duration_idx ON public.request_logs_y2025m0{m} (duration_ms)")
    r = _check(b)
    f = _only(r, "partition index", "missing")
    assert f.table == "public.request_logs_y2025m03"
    assert f.steps[0].sql == ('CREATE INDEX CONCURRENTLY "request_logs_y2025m03_duration_idx" ON '
                              '"public"."request_logs_y2025m03" USING btree (duration_ms)')
    _fix(b, r)
    assert _check(b).clean


def test_demo_drifted_index_on_partitioned_parent(fresh_db):
    """The demo's drift: idx_request_logs_status_code recreated with another definition."""
    from console.demo.data import DRIFTED_INDEX
    b = fresh_db("lambda")
    b.execute("CREATE TABLE public.request_logs_y2025m01 PARTITION OF public.request_logs "
              "FOR VALUES FROM ('2025-01-01') TO ('2025-02-01')")
    b.execute(f"DROP INDEX public.{DRIFTED_INDEX}")
    b.execute(f"CREATE INDEX {DRIFTED_INDEX} ON public.request_logs (status_code) WHERE status_code >= 400")
    r = _check(b)
    f = _only(r, "index", "drifted")
    assert f.object == f"public.{DRIFTED_INDEX}" and "WHERE (status_code >= 400)" in f.actual
    assert str(f.source) == "sql/lambda/002_request_logs.sql:34"
    sqls = [s.sql for s in f.steps]
    assert sqls[0].startswith('CREATE INDEX "idx_request_logs_status_code_new" ON ONLY "public"."request_logs"')
    assert sum("CONCURRENTLY" in s for s in sqls) == 2   # default + y2025m01, each built concurrently
    assert sqls[-2] == f'DROP INDEX "public"."{DRIFTED_INDEX}"'
    assert sqls[-1].endswith(f'RENAME TO "{DRIFTED_INDEX}"')
    _fix(b, r)
    assert _check(b).clean


def test_drifted_index_on_plain_table_is_swapped_concurrently(fresh_db):
    b = fresh_db("lambda")
    b.execute("DROP INDEX meta.idx_sessions_status")
    b.execute("CREATE INDEX idx_sessions_status ON meta.sessions (status, user_id)")
    f = _only(_check(b), "index", "drifted")
    assert [s.transactional for s in f.steps] == [False, False, True]
    assert f.steps[0].sql.startswith('CREATE INDEX CONCURRENTLY "idx_sessions_status_new"')
    assert f.steps[1].sql == 'DROP INDEX CONCURRENTLY "meta"."idx_sessions_status"'
    _fix(b, _check(b))
    assert _check(b).clean


def test_read_only_refuses_apply(fresh_db):
    b = fresh_db("zengin")
    b.execute("CREATE TABLE public.stray (id int)")
    r = _check(b)
    plan = fixes.build_plan(b.name, r.findings, allow_destructive=True)
    with pytest.raises(ReadOnlyError):
        run_plan(Settings(read_only=True, postgres=(b.target,)), b, plan, actor="t")
    assert b.fetch("SELECT to_regclass('public.stray') AS t")[0]["t"] is not None


def test_failed_step_stops_the_run_and_is_audited(fresh_db):
    from console.core.plan import Plan, Step
    b = fresh_db("zengin")
    plan = Plan("schema.apply", "t", (Step("bad", "SELECT no_such_fn()"), Step("next", "SELECT 1")))
    results = run_plan(Settings(postgres=(b.target,)), b, plan, actor="t")
    assert [r.ok for r in results] == [False, False] and results[1].skipped
    assert "no_such_fn" in results[0].message
    audit = b.fetch("SELECT outcome FROM console.audit_log WHERE action = 'schema.apply'")
    assert [a["outcome"] for a in audit] == ["failed"]
