"""The pure comparison and fix generation on hand-made catalog snapshots."""

from __future__ import annotations

from pathlib import Path

from console.core.plan import Hazard
from console.core.schema import fixes, sources
from console.core.schema.catalog import (Column, Constraint, Function, Index, Snapshot, Table, Trigger, View,
                                         split_indexdef)
from console.core.schema.compare import compare


def _base() -> Snapshot:
    s = Snapshot(schemas=frozenset({"public", "meta"}), extensions=frozenset({"plpgsql"}))
    s.tables["public.logs"] = Table("public", "logs", "p", (
        Column("id", "uuid", True, "gen_random_uuid()"), Column("ts", "timestamp with time zone", True, "now()"),
        Column("code", "integer", True)), (Constraint("logs_pkey", "p", "PRIMARY KEY (id, ts)"),),
        partition_key="RANGE (ts)")
    s.partitions["public.logs_default"] = Table("public", "logs_default", "r", parent="public.logs", bound="DEFAULT")
    s.tables["meta.users"] = Table("meta", "users", "r", (Column("id", "integer", True),
                                                          Column("name", "character varying(64)", False)))
    s.indexes["public.logs_pkey"] = Index("public", "logs_pkey", "public.logs",
                                          "CREATE UNIQUE INDEX logs_pkey ON ONLY public.logs USING btree (id, ts)",
                                          constraint="logs_pkey")
    s.indexes["public.idx_logs_code"] = Index("public", "idx_logs_code", "public.logs",
                                              "CREATE INDEX idx_logs_code ON ONLY public.logs USING btree (code)")
    for ix in ("logs_default_pkey", "logs_default_code_idx"):
        parent = "public.logs_pkey" if "pkey" in ix else "public.idx_logs_code"
        s.indexes[f"public.{ix}"] = Index("public", ix, "public.logs_default", "CREATE INDEX x ON public.logs_default USING btree (code)",
                                          parent_index=parent, on_partition=True,
                                          constraint=ix if "pkey" in ix else None)
    s.views["meta.v"] = View("meta", "v", False, " SELECT 1 AS one;")
    s.functions["meta.f(n integer)"] = Function("meta", "f", "n integer", "CREATE OR REPLACE FUNCTION meta.f(n integer) ...")
    s.triggers["meta.users.t"] = Trigger("meta.users", "t", "CREATE TRIGGER t BEFORE UPDATE ON meta.users ...")
    return s


def _by(findings):
    return {(f.kind, f.object): f for f in findings}


def test_identical_snapshots_have_no_findings():
    assert compare(_base(), _base()) == []


def test_index_definitions_compare_without_name_or_only():
    assert split_indexdef('CREATE UNIQUE INDEX "a b" ON ONLY public.t USING btree (x) WHERE (x > 1)') == \
        (True, '"a b"', "public.t", "USING btree (x) WHERE (x > 1)")
    a = Index("public", "i", "public.t", "CREATE INDEX i ON ONLY public.t USING btree (x)")
    b = Index("public", "i", "public.t", "CREATE INDEX i ON public.t USING btree (x)")
    assert a.normalized == b.normalized


def test_every_kind_of_drift():
    exp, live = _base(), _base()
    live.schemas = frozenset({"public", "meta", "junk"})
    live.tables["meta.users"] = Table("meta", "users", "r", (Column("id", "bigint", True),
                                                             Column("extra", "text", False)))
    live.indexes["public.idx_logs_code"] = Index("public", "idx_logs_code", "public.logs",
                                                 "CREATE INDEX idx_logs_code ON public.logs USING btree (code) WHERE (code >= 400)")
    live.views["meta.v"] = View("meta", "v", False, " SELECT 2 AS one;")
    del live.functions["meta.f(n integer)"]
    live.triggers["meta.users.t2"] = Trigger("meta.users", "t2", "CREATE TRIGGER t2 ...")
    live.tables["public.stray"] = Table("public", "stray", "r", (Column("id", "integer", False),))
    live.indexes["public.stray_idx"] = Index("public", "stray_idx", "public.stray", "CREATE INDEX stray_idx ON public.stray USING btree (id)")
    got = _by(compare(exp, live))
    assert {(k, f.status) for k, f in got.items()} == {
        (("schema", "junk"), "unexpected"),
        (("column", "meta.users.id"), "drifted"),
        (("column", "meta.users.name"), "missing"),
        (("column", "meta.users.extra"), "unexpected"),
        (("index", "public.idx_logs_code"), "drifted"),
        (("view", "meta.v"), "drifted"),
        (("function", "meta.f(n integer)"), "missing"),
        (("trigger", "meta.users.t2"), "unexpected"),
        (("table", "public.stray"), "unexpected"),   # its index is not reported on its own
    }
    col = got[("column", "meta.users.id")]
    assert col.detail == "type: expected integer, found bigint"
    findings = fixes.attach(got.values(), exp, live, target="t")
    fx = {(f.kind, f.object): f for f in findings}
    assert fx[("column", "meta.users.id")].steps[0].sql == \
        'ALTER TABLE "meta"."users"\n    ALTER COLUMN "id" TYPE integer USING "id"::integer'
    assert fx[("column", "meta.users.extra")].destructive
    assert fx[("table", "public.stray")].steps[0].hazard is Hazard.DESTRUCTIVE
    # the drifted index of a partitioned parent: ON ONLY + concurrent per partition + attach, drop, rename
    ix_steps = fx[("index", "public.idx_logs_code")].steps
    assert [s.transactional for s in ix_steps] == [True, False, True, True, True]
    assert "ON ONLY" in ix_steps[0].sql and "CONCURRENTLY" in ix_steps[1].sql


def test_default_plan_holds_back_destructive_and_orders_builds_before_drops():
    exp, live = _base(), _base()
    del live.functions["meta.f(n integer)"]
    live.tables["public.stray"] = Table("public", "stray", "r", ())
    findings = fixes.attach(compare(exp, live), exp, live, target="t")
    assert [s.title for s in fixes.build_plan("t", findings).steps] == ["create function meta.f(n integer)"]
    plan = fixes.build_plan("t", findings, allow_destructive=True)
    assert [s.sql.split()[0] for s in plan.steps] == ["CREATE", "DROP"]
    assert "1 destructive" in plan.summary and plan.action == "schema.apply"


def test_partition_missing_parent_index_and_expected_default_partition():
    exp, live = _base(), _base()
    live.partitions["public.logs_2025_01"] = Table("public", "logs_2025_01", "r", parent="public.logs",
                                                   bound="FOR VALUES FROM ('2025-01-01') TO ('2025-02-01')")
    live.indexes["public.logs_2025_01_pkey"] = Index("public", "logs_2025_01_pkey", "public.logs_2025_01", "x",
                                                     parent_index="public.logs_pkey", on_partition=True,
                                                     constraint="logs_2025_01_pkey")
    del live.partitions["public.logs_default"]
    got = _by(compare(exp, live))
    assert set(got) == {("partition", "public.logs_default"),
                        ("partition index", "public.logs_2025_01 (idx_logs_code)")}
    assert got[("partition", "public.logs_default")].status == "missing"
    f = fixes.attach([got[("partition index", "public.logs_2025_01 (idx_logs_code)")]], exp, live)[0]
    assert f.steps[0].sql == ('CREATE INDEX CONCURRENTLY "logs_2025_01_logs_code_idx" ON "public"."logs_2025_01" '
                              'USING btree (code)')
    assert f.steps[1].sql == 'ALTER INDEX "public"."idx_logs_code" ATTACH PARTITION "public"."logs_2025_01_logs_code_idx"'


def test_short_name_stays_within_63_bytes():
    n = fixes.short_name("x" * 70, "_new")
    assert len(n) == 63 and n.endswith("_new")


def test_locate_finds_create_statement_lines(tmp_path: Path):
    from console.core.schema.compare import Finding
    f = tmp_path / "a.sql"
    f.write_text("-- CREATE TABLE meta.users is below\nCREATE TABLE meta.users (\n    id int,\n    name text\n);\n"
                 "CREATE INDEX idx_u ON meta.users (name);\n")
    texts = [sources.SqlText("sys/001_a", f.read_text())]
    assert str(sources.locate(Finding("table", "meta.users", "missing", name="users"), texts)) == "sql/sys/001_a.sql:2"
    assert str(sources.locate(Finding("column", "meta.users.name", "missing", table="meta.users", name="name"),
                              texts)) == "sql/sys/001_a.sql:4"
    assert str(sources.locate(Finding("index", "meta.idx_u", "drifted", name="idx_u"), texts)) == "sql/sys/001_a.sql:6"
    assert sources.locate(Finding("table", "public.users", "missing", name="users"), texts) is None
