"""Partition maintenance against real PostgreSQL, for each of the four seeds' tables and
naming conventions: missing months and gaps created, default-partition rows moved with no
row lost, retention, lock timeouts retried and reported, idempotence, pending detach."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest
from psycopg import sql

from console.backends.base import ReadOnlyError
from console.config import Settings
from console.core.partitions import (Policy, RunOptions, add_months, build_plan, discover, discover_target,
                                     month_of, run_plan)

NOW = datetime.now(timezone.utc)
CUR = month_of(NOW)


@dataclass(frozen=True)
class Spec:
    system: str
    table: str
    key: str
    fmt: str              # str.format with y, m

    def name(self, m: date) -> str:
        return self.fmt.format(y=m.year, m=m.month)

    def insert(self, conn, at: datetime, n: int = 1) -> None:
        for i in range(n):
            t = at + timedelta(minutes=i)
            if self.table == "request_logs":
                conn.execute("INSERT INTO public.request_logs (request_id, language_title, timestamp, status_code,"
                             " duration_ms) VALUES (%s, 'python', %s, 200, %s)", (uuid.uuid4().hex, t, i))
            elif self.table == "access_logs":
                conn.execute("INSERT INTO public.access_logs (application_id, app_id, created_at) "
                             "VALUES (%s, 'app', %s)", (uuid.uuid4(), t))
            elif self.table == "pipeline_runs":
                conn.execute("INSERT INTO public.pipeline_runs (status, started_at) VALUES ('completed', %s)", (t,))
            else:
                conn.execute("INSERT INTO public.learning_sessions (started_at, cell_executions) VALUES (%s, %s)",
                             (t, i))


SPECS = [
    Spec("lambda", "request_logs", "timestamp", "request_logs_y{y:04d}m{m:02d}"),
    Spec("accesslog", "access_logs", "created_at", "access_logs_{y:04d}_{m:02d}"),
    Spec("pipe", "pipeline_runs", "started_at", "pipeline_runs_y{y:04d}m{m:02d}"),
    Spec("learning", "learning_sessions", "started_at", "learning_sessions_{y:04d}_{m:02d}"),
]


def utc(m: date) -> datetime:
    return datetime(m.year, m.month, 1, tzinfo=timezone.utc)


def make_partitions(backend, spec: Spec, months) -> None:
    with backend.connection() as conn:
        for m in months:
            conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier("public", spec.name(m)), sql.Identifier("public", spec.table),
                sql.Literal(utc(m)), sql.Literal(utc(add_months(m, 1)))))


def checksum(backend, spec: Spec) -> tuple[int, str]:
    row = backend.fetch(sql.SQL("SELECT count(*) AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS h "
                                "FROM {} t").format(sql.Identifier("public", spec.table)))[0]
    return row["n"], row["h"]


def children(backend, spec: Spec) -> set[str]:
    return {r["relname"] for r in backend.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass", (f"public.{spec.table}",))}


def settings(*backends, read_only=False) -> Settings:
    return Settings(postgres=tuple(b.target for b in backends), read_only=read_only)


def table(backend, spec, **kw):
    return next(t for t in discover_target(backend, now=NOW, **kw) if t.name == spec.table)


FAST = RunOptions(lock_timeout_ms=150, attempts=3, retry_pause_s=0.05)


@pytest.mark.parametrize("spec", SPECS, ids=[s.table for s in SPECS])
def test_missing_months_gap_and_default_rows_are_fixed_without_losing_a_row(fresh_db, spec):
    b = fresh_db(spec.system)
    gap, before_first, ahead = add_months(CUR, -2), add_months(CUR, -5), add_months(CUR, 2)
    make_partitions(b, spec, [add_months(CUR, -3), add_months(CUR, -1)])
    with b.connection() as conn:
        spec.insert(conn, utc(add_months(CUR, -3)) + timedelta(days=3), 3)
        spec.insert(conn, utc(gap) + timedelta(days=10), 5)            # lands in default
        spec.insert(conn, utc(before_first) + timedelta(days=1), 2)    # lands in default
        spec.insert(conn, utc(ahead) + timedelta(hours=5), 4)          # lands in default
    before = checksum(b, spec)

    t = table(b, spec)
    assert t.naming_source.startswith("detected") and t.partition_name(CUR) == spec.name(CUR)
    assert [g.months for g in t.coverage.gaps] == [[gap]]
    assert t.coverage.missing_ahead == tuple(utc(add_months(CUR, k)) for k in range(4))
    assert t.default_rows == {utc(before_first): 2, utc(gap): 5, utc(ahead): 4}
    assert "4 month(s) missing ahead" in t.attention()
    assert t.interval_text == "monthly"

    plan = build_plan([t])
    months = [s.meta["month"] for s in plan.steps]
    # the month before the first partition holds default rows: it and the month between are created
    assert sorted(months) == sorted(f"{m:%Y-%m}" for m in {before_first, add_months(before_first, 1), gap,
                                                            *t.coverage.missing_ahead})
    moves = {s.meta["month"]: s.meta["moves"] for s in plan.steps if s.meta["moves"]}
    assert moves == {f"{before_first:%Y-%m}": 2, f"{gap:%Y-%m}": 5, f"{ahead:%Y-%m}": 4}
    assert "ATTACH PARTITION" in plan.text() and "CHECK" in plan.text()

    report = run_plan(settings(b), {b.name: b}, plan, actor="pytest", options=FAST)
    assert report.ok, report.as_dict()
    assert sum(r.rows or 0 for r in report.results) == 11
    assert checksum(b, spec) == before
    assert {spec.name(m) for m in (before_first, gap, CUR, add_months(CUR, 3))} <= children(b, spec)

    after = table(b, spec)
    assert after.default_row_total == 0
    assert not after.coverage.gaps and not after.coverage.missing_ahead and after.coverage.horizon == 3
    # the CHECK used to skip the validation scan is gone again
    assert not b.fetch("SELECT 1 FROM pg_constraint WHERE conname = 'console_partition_bounds'")
    # idempotent: a second run changes nothing
    assert not build_plan([after])
    audit = b.fetch("SELECT action, outcome, target FROM console.audit_log WHERE action LIKE 'partitions.%'")
    assert audit == [{"action": "partitions.maintain", "outcome": "ok", "target": f"postgres:{b.name}"}]


def test_retention_drops_the_right_partitions_and_keeps_the_newest(fresh_db):
    spec = SPECS[0]
    b = fresh_db(spec.system)
    make_partitions(b, spec, [add_months(CUR, k) for k in range(-6, 4)])
    t = table(b, spec, policies={"request_logs": Policy(retention=2)})
    assert t.coverage.past_retention == tuple(spec.name(add_months(CUR, k)) for k in range(-6, -2))
    plan = build_plan([t])
    assert [s.meta["kind"] for s in plan.steps] == ["detach", "drop"] * 4
    assert all(s.transactional and "CONCURRENTLY" not in s.sql for s in plan.steps)  # default exists
    report = run_plan(settings(b), {b.name: b}, plan, actor="pytest", options=FAST)
    assert report.ok, report.as_dict()
    left = children(b, spec)
    assert spec.name(add_months(CUR, -3)) not in left and spec.name(add_months(CUR, -2)) in left
    assert not b.fetch("SELECT 1 FROM pg_class WHERE relname = %s", (spec.name(add_months(CUR, -6)),))

    # every partition old: the newest one is kept
    b2 = fresh_db(spec.system)
    make_partitions(b2, spec, [add_months(CUR, -12), add_months(CUR, -11)])
    t2 = table(b2, spec, policies={"request_logs": Policy(retention=1, premake=0)})
    assert t2.coverage.past_retention == (spec.name(add_months(CUR, -12)),)


def test_retention_keep_table_moves_to_schema(fresh_db):
    spec = SPECS[3]
    b = fresh_db(spec.system)
    make_partitions(b, spec, [add_months(CUR, k) for k in range(-4, 4)])
    t = table(b, spec, policies={"*": Policy(retention=1, retention_keep_table=True, retention_schema="archive")})
    report = run_plan(settings(b), {b.name: b}, build_plan([t]), actor="pytest", options=FAST)
    assert report.ok, report.as_dict()
    moved = b.fetch("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'archive' AND c.relkind = 'r' ORDER BY 1")
    assert [r["relname"] for r in moved] == [spec.name(add_months(CUR, k)) for k in (-4, -3, -2)]


def test_referencing_rows_block_retention_with_a_clear_reason_and_other_tables_proceed(fresh_db):
    acc, lam = SPECS[1], SPECS[0]
    a = fresh_db(acc.system)
    lb = fresh_db(lam.system)
    old = add_months(CUR, -5)
    make_partitions(a, acc, [old, *[add_months(CUR, k) for k in range(0, 4)]])
    make_partitions(lb, lam, [old, *[add_months(CUR, k) for k in range(0, 4)]])
    with a.connection() as conn:
        app = conn.execute("INSERT INTO public.applications (name, app_id, api_key_hash) "
                           "VALUES ('a', 'app-1', 'x') RETURNING id").fetchone()[0]
        acc.insert(conn, utc(old) + timedelta(days=2), 1)
        log_id, created = conn.execute("SELECT id, created_at FROM public.access_logs").fetchone()
        conn.execute("INSERT INTO public.custom_parameter_values (access_log_id, application_id, parameter_key,"
                     " created_at) VALUES (%s, %s, 'page_type', %s)", (log_id, app, created))
    pol = {"*": Policy(retention=2)}
    d = discover({a.name: a, lb.name: lb}, now=NOW, policies=pol)
    assert not d.errors
    plan = build_plan(d.tables)
    report = run_plan(settings(a, lb), {a.name: a, lb.name: lb}, plan, actor="pytest", options=FAST)
    assert not report.ok
    failed = [r for r in report.results if not r.ok and not r.skipped]
    assert len(failed) == 1 and failed[0].step.meta["kind"] == "fk_check"
    assert "custom_parameter_values" in failed[0].message and "reference" in failed[0].message
    assert acc.name(old) in children(a, acc)                       # untouched
    assert lam.name(old) not in children(lb, lam)                  # the other table went on
    outcomes = {r["target"]: r["outcome"] for r in a.fetch("SELECT target, outcome FROM console.audit_log WHERE action = 'partitions.maintain'")}
    assert outcomes == {f"postgres:{a.name}": "failed"}
    assert lb.fetch("SELECT outcome FROM console.audit_log WHERE action = 'partitions.maintain'") == [{"outcome": "ok"}]


class Holder:
    """A second connection holding ACCESS SHARE on the parent (and, LOCK TABLE recursing,
    on its partitions) in an open transaction until released."""

    def __init__(self, backend, table: str):
        self.conn = psycopg.connect(backend.target.dsn, autocommit=False)
        self.conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(sql.Identifier("public", table)))

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def test_lock_held_elsewhere_times_out_retries_and_reports(fresh_db):
    spec = SPECS[2]
    b = fresh_db(spec.system)
    make_partitions(b, spec, [add_months(CUR, -1)])
    t = table(b, spec, policies={"*": Policy(premake=1)})
    plan = build_plan([t])
    holder = Holder(b, spec.table)
    try:
        report = run_plan(settings(b), {b.name: b}, plan, actor="pytest", options=FAST)
    finally:
        holder.release()
    first = report.results[0]
    assert not first.ok and first.attempts == 3 and first.message.startswith("lock_timeout")
    assert "held by pid" in first.message and "on pipeline_runs_default" in first.message   # not only the parent
    # the next month does not depend on this one: tried too (and blocked by the same lock)
    assert not report.results[1].skipped and report.results[1].message.startswith("lock_timeout")
    assert spec.name(CUR) not in children(b, spec)                 # rolled back, nothing half-made
    assert not b.fetch("SELECT 1 FROM pg_class WHERE relname = %s", (spec.name(CUR),))


def test_lock_released_between_attempts_succeeds_on_retry(fresh_db):
    spec = SPECS[0]
    b = fresh_db(spec.system)
    t = table(b, spec, policies={"*": Policy(premake=0)})
    holder = Holder(b, spec.table)
    pauses = []

    def sleep(s):
        pauses.append(s)
        holder.release()

    report = run_plan(settings(b), {b.name: b}, build_plan([t]), actor="pytest", options=FAST, sleep=sleep)
    assert report.ok and report.results[0].attempts == 2 and pauses == [0.05]
    assert spec.name(CUR) in children(b, spec)


def test_pending_detach_is_detected_and_finalized(fresh_db):
    spec = SPECS[2]
    b = fresh_db(spec.system)
    with b.connection() as conn:
        conn.execute("ALTER TABLE public.pipeline_runs DETACH PARTITION public.pipeline_runs_default")
        conn.execute("DROP TABLE public.pipeline_runs_default")
    make_partitions(b, spec, [add_months(CUR, k) for k in range(-6, 4)])
    victim = spec.name(add_months(CUR, -6))
    holder = psycopg.connect(b.target.dsn, autocommit=False)
    holder.execute("SELECT count(*) FROM public.pipeline_runs")
    try:
        with b.connect(autocommit=True, statement_timeout_ms=300) as conn:
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute(sql.SQL("ALTER TABLE public.pipeline_runs DETACH PARTITION {} CONCURRENTLY").format(
                    sql.Identifier("public", victim)))
    finally:
        holder.rollback()
        holder.close()
    t = table(b, spec, policies={"*": Policy(retention=3)})
    assert [p.name for p in t.pending_detach] == [victim]
    assert "1 pending detach" in t.attention()
    plan = build_plan([t])
    kinds = [s.meta["kind"] for s in plan.steps]
    assert kinds[0] == "finalize" and "FINALIZE" in plan.steps[0].sql
    # no default partition: retention detaches CONCURRENTLY, outside a transaction
    detach = [s for s in plan.steps if s.meta["kind"] == "detach"]
    assert detach and all("CONCURRENTLY" in s.sql and not s.transactional for s in detach)
    # #14.4: finalized AND the retention action applied in the same run (it used to be left
    # as an orphan table with its rows, and every later run said "nothing to do")
    assert kinds[:2] == ["finalize", "drop"] and plan.steps[1].meta["partition"] == victim
    report = run_plan(settings(b), {b.name: b}, plan, actor="pytest", options=FAST)
    assert report.ok, report.as_dict()
    assert victim not in children(b, spec)
    assert not b.fetch("SELECT 1 FROM pg_class WHERE relname = %s", (victim,))
    assert not build_plan([table(b, spec, policies={"*": Policy(retention=3)})])


def test_read_only_refuses_at_the_core(fresh_db):
    b = fresh_db("lambda")
    plan = build_plan(discover_target(b, now=NOW))
    assert plan
    before = children(b, SPECS[0])
    with pytest.raises(ReadOnlyError):
        run_plan(settings(b, read_only=True), {b.name: b}, plan, actor="pytest")
    assert children(b, SPECS[0]) == before
    # the refusal is audited (write-ahead API): a refused record, nothing else
    assert b.fetch("SELECT outcome FROM console.audit_log WHERE action = 'partitions.maintain'") == \
        [{"outcome": "refused"}]


def test_partition_only_indexes_are_built_on_the_new_partition_not_the_template(fresh_db):
    """An index the newest partition has of its own (not from a parent index) is repeated on
    each new partition. Regression: pg_get_indexdef writes the table unquoted (ON
    public.t), a text substitution expecting quotes missed it, and the 'new' index was built
    on the template partition again."""
    spec = SPECS[2]
    pg = fresh_db(spec.system)
    make_partitions(pg, spec, [add_months(CUR, -1), CUR])
    template = spec.name(CUR)
    pg.execute(sql.SQL("CREATE UNIQUE INDEX {} ON {} (id, started_at) WHERE status = 'failed'").format(
        sql.Identifier(f"{template}_failed_idx"), sql.Identifier("public", template)))
    t = table(pg, spec, default_policy=Policy(premake=1))
    plan = build_plan([t])
    report = run_plan(settings(pg), {pg.name: pg}, plan, actor="pytest")
    assert not report.failed_groups, report.failed_groups
    new = spec.name(add_months(CUR, 1))

    def local_indexes(part: str) -> list[str]:
        return [r["indexdef"] for r in pg.fetch(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s "
            "AND indexname LIKE '%%failed_idx'", (part,))]

    assert local_indexes(template) == [f"CREATE UNIQUE INDEX {template}_failed_idx ON public.{template} "
                                       "USING btree (id, started_at) WHERE ((status)::text = 'failed'::text)"]
    assert local_indexes(new) == [f"CREATE UNIQUE INDEX {new}_failed_idx ON public.{new} "
                                  "USING btree (id, started_at) WHERE ((status)::text = 'failed'::text)"]


def _row_counts(backend) -> dict[str, int]:
    """Exact row counts of every user table (partitions counted through their parents), but
    the audit log, which grows by one record per run by design."""
    rels = backend.fetch("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                         "AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2")
    return {f"{r['nspname']}.{r['relname']}": backend.fetch(
        sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(r["nspname"], r["relname"])))[0]["n"]
        for r in rels if (r["nspname"], r["relname"]) != ("console", "audit_log")}


def _access_logs_with_references(b, gap):
    """access_logs with a gap month whose rows sit in the default partition, and rows of
    custom_parameter_values (ON DELETE CASCADE) plus a NO ACTION table referencing them."""
    spec = SPECS[1]
    make_partitions(b, spec, [add_months(gap, -1), add_months(gap, 1)])
    with b.connection() as conn:
        conn.execute("CREATE TABLE public.log_notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                     "log_id bigint NOT NULL, log_at timestamptz NOT NULL, note text, "
                     "FOREIGN KEY (log_id, log_at) REFERENCES public.access_logs (id, created_at))")
        app = conn.execute("INSERT INTO public.applications (name, app_id, api_key_hash) "
                           "VALUES ('a', 'app-1', 'x') RETURNING id").fetchone()[0]
        spec.insert(conn, utc(gap) + timedelta(days=2), 4)                 # default rows
        spec.insert(conn, utc(add_months(gap, -1)) + timedelta(days=2), 2)  # in a partition
        for log_id, created in conn.execute("SELECT id, created_at FROM public.access_logs").fetchall():
            for k in range(2):
                conn.execute("INSERT INTO public.custom_parameter_values (access_log_id, application_id, "
                             "parameter_key, created_at) VALUES (%s, %s, %s, %s)", (log_id, app, f"k{k}", created))
            conn.execute("INSERT INTO public.log_notes (log_id, log_at, note) VALUES (%s, %s, 'n')",
                         (log_id, created))
    return spec


def test_moving_default_rows_keeps_rows_of_referencing_tables(fresh_db):
    """Regression (#14.1): the move's DELETE from the default partition fired ON DELETE
    CASCADE of custom_parameter_values and lost its rows. Now referencing rows are set aside
    and put back in the same transaction; a NO ACTION key no longer blocks the month."""
    b = fresh_db("accesslog")
    gap = add_months(CUR, -2)
    spec = _access_logs_with_references(b, gap)
    before = _row_counts(b)
    cpv_before = b.fetch("SELECT id, access_log_id, application_id, parameter_key, created_at "
                         "FROM public.custom_parameter_values ORDER BY id")
    t = table(b, spec)
    refs = {fk.table: fk.refs_for(utc(gap)) for fk in t.fks}
    assert refs == {"custom_parameter_values": 8, "log_notes": 4}
    plan = build_plan([t])
    step = next(s for s in plan.steps if s.meta.get("month") == f"{gap:%Y-%m}")
    assert step.meta["moves"] == 4
    assert "8 row(s) of public.custom_parameter_values (ON DELETE CASCADE) set aside and put back" in step.title
    assert "SHARE ROW EXCLUSIVE on public.custom_parameter_values" in step.lock
    assert "SHARE ROW EXCLUSIVE on public.log_notes" in step.lock
    assert f"ACCESS EXCLUSIVE on public.{spec.table}_default" in step.lock

    report = run_plan(settings(b), {b.name: b}, plan, actor="pytest", options=FAST)
    assert report.ok, report.as_dict()
    assert _row_counts(b) == before
    assert b.fetch("SELECT id, access_log_id, application_id, parameter_key, created_at "
                   "FROM public.custom_parameter_values ORDER BY id") == cpv_before
    assert spec.name(gap) in children(b, spec)
    assert table(b, spec).default_row_total == 0
    assert not build_plan([table(b, spec)])


def test_referencing_rows_that_cannot_be_set_aside_refuse_only_that_month(fresh_db):
    b = fresh_db("accesslog")
    gap = add_months(CUR, -2)
    spec = _access_logs_with_references(b, gap)
    # a trigger on the referencing table would fire on the set-aside DELETE: refuse the month
    b.execute("CREATE FUNCTION public.no_op() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$")
    b.execute("CREATE TRIGGER t_notes AFTER DELETE ON public.log_notes FOR EACH ROW EXECUTE FUNCTION public.no_op()")
    before = _row_counts(b)
    t = table(b, spec)
    plan = build_plan([t])
    assert f"{gap:%Y-%m}" not in [s.meta.get("month") for s in plan.steps]
    assert "log_notes" in plan.summary and "INSERT or DELETE triggers" in plan.summary
    assert [s.meta["month"] for s in plan.steps if s.meta["kind"] == "create"]   # the others still go
    report = run_plan(settings(b), {b.name: b}, plan, actor="pytest", options=FAST)
    assert report.ok, report.as_dict()
    assert _row_counts(b) == before
    assert table(b, spec).default_row_total == 4


def test_a_second_run_on_the_same_table_waits_then_skips_it(fresh_db):
    """#14.8: runs are serialised per table by an advisory lock; the second one waits at
    most lock_timeout, then skips that table with a message (no "relation already exists")."""
    from console.core.partitions.runner import ADVISORY_CLASS
    spec = SPECS[0]
    b = fresh_db(spec.system)
    plan = build_plan([table(b, spec, policies={"*": Policy(premake=1)})])
    other = psycopg.connect(b.target.dsn, autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s, hashtext(%s))",
                      (ADVISORY_CLASS, f"console.partitions:public.{spec.table}"))
        report = run_plan(settings(b), {b.name: b}, plan, actor="pytest", options=FAST)
    finally:
        other.close()
    assert all(r.skipped and "another partition maintenance run" in r.message for r in report.results)
    assert spec.name(CUR) not in children(b, spec)
    report = run_plan(settings(b), {b.name: b}, plan, actor="pytest", options=FAST)
    assert report.ok, report.as_dict()
    assert spec.name(CUR) in children(b, spec)


def test_new_partitions_copy_reloptions_owner_grants_and_name_local_indexes_after_themselves(fresh_db):
    """#14.9: the newest sibling's storage parameters, owner and grants are copied; a local
    index named after the template's month is named after the new month."""
    spec = SPECS[0]
    b = fresh_db(spec.system)
    make_partitions(b, spec, [CUR])
    tpl = spec.name(CUR)
    suffix = f"{CUR:%Y}m{CUR:%m}"
    with b.connection() as conn:
        conn.execute("DROP ROLE IF EXISTS console_reader")
        conn.execute("CREATE ROLE console_reader")
        conn.execute(sql.SQL("ALTER TABLE {} SET (fillfactor = 70, autovacuum_enabled = false)").format(
            sql.Identifier("public", tpl)))
        conn.execute(sql.SQL("GRANT SELECT ON {} TO console_reader").format(sql.Identifier("public", tpl)))
        conn.execute(sql.SQL("CREATE INDEX {} ON {} (status_code)").format(
            sql.Identifier(f"rl_status_{suffix}"), sql.Identifier("public", tpl)))
    try:
        plan = build_plan([table(b, spec, policies={"*": Policy(premake=1)})])
        report = run_plan(settings(b), {b.name: b}, plan, actor="pytest", options=FAST)
        assert report.ok, report.as_dict()
        nxt = add_months(CUR, 1)
        new = spec.name(nxt)
        row = b.fetch("SELECT reloptions, pg_get_userbyid(relowner) AS owner, "
                      "has_table_privilege('console_reader', oid, 'SELECT') AS can FROM pg_class WHERE relname = %s",
                      (new,))[0]
        tpl_owner = b.fetch("SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = %s", (tpl,))[0]["o"]
        assert sorted(row["reloptions"]) == ["autovacuum_enabled=false", "fillfactor=70"]
        assert row["owner"] == tpl_owner and row["can"]
        assert b.fetch("SELECT 1 FROM pg_indexes WHERE tablename = %s AND indexname = %s",
                       (new, f"rl_status_{nxt:%Y}m{nxt:%m}"))
    finally:
        for r in b.fetch("SELECT relname FROM pg_class WHERE relacl::text LIKE '%%console_reader%%'"):
            b.execute(sql.SQL("REVOKE ALL ON {} FROM console_reader").format(sql.Identifier("public", r["relname"])))
        b.execute("DROP ROLE IF EXISTS console_reader")
