"""Fixed data for the Schema screen's snapshots: a source whose reports are built from
hand-made catalog snapshots through the real compare + fixes code. The real source
(RealSchemaSource -> core.schema.check_target / run_plan) is tested against PostgreSQL in
tests/integration/test_schema_check.py and tests/ui/test_schema_pilot.py."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from console.config import PostgresTarget, Settings
from console.core import migrate
from console.core.plan import StepResult
from console.core.schema import fixes
from console.core.schema.catalog import Column, Function, Index, Snapshot, Table, View
from console.core.schema.check import TargetReport
from console.core.schema.compare import Source, compare
from console.ui.services import Services

FIXED = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)


def _expected() -> Snapshot:
    s = Snapshot(schemas=frozenset({"public", "meta", "analytics", "console"}), extensions=frozenset({"plpgsql"}))
    s.tables["public.request_logs"] = Table("public", "request_logs", "p", (
        Column("id", "uuid", True, "gen_random_uuid()"), Column("timestamp", "timestamp with time zone", True, "now()"),
        Column("status_code", "integer", True)), partition_key='RANGE ("timestamp")')
    s.tables["meta.sessions"] = Table("meta", "sessions", "r", (
        Column("request_id", "character varying(64)", True),
        Column("status", "character varying(16)", True, "'active'::character varying")))
    s.indexes["public.idx_request_logs_status_code"] = Index(
        "public", "idx_request_logs_status_code", "public.request_logs",
        "CREATE INDEX idx_request_logs_status_code ON ONLY public.request_logs USING btree (status_code)")
    s.views["analytics.error_summary"] = View("analytics", "error_summary", False,
                                              " SELECT error_code,\n    count(*) AS error_count\n   FROM error_logs e\n"
                                              "  WHERE \"timestamp\" > (now() - '7 days'::interval)\n"
                                              "  GROUP BY error_code;")
    s.functions["analytics.cleanup_old_metrics(retention_days integer)"] = Function(
        "analytics", "cleanup_old_metrics", "retention_days integer",
        "CREATE OR REPLACE FUNCTION analytics.cleanup_old_metrics(retention_days integer)\n RETURNS void\n"
        " LANGUAGE plpgsql\nAS $function$\nBEGIN\n    DELETE FROM analytics.runtime_metrics\n"
        "    WHERE timestamp < CURRENT_DATE - retention_days;\nEND;\n$function$\n")
    return s


def _drifted() -> Snapshot:
    live = _expected()
    live.indexes["public.idx_request_logs_status_code"] = Index(
        "public", "idx_request_logs_status_code", "public.request_logs",
        "CREATE INDEX idx_request_logs_status_code ON ONLY public.request_logs USING btree (status_code) "
        "WHERE (status_code >= 400)")
    live.partitions["public.request_logs_y2026m11"] = Table(
        "public", "request_logs_y2026m11", "r", parent="public.request_logs",
        bound="FOR VALUES FROM ('2026-11-01 00:00:00+00') TO ('2026-12-01 00:00:00+00')")
    live.indexes["public.request_logs_y2026m11_status_code_idx"] = Index(
        "public", "request_logs_y2026m11_status_code_idx", "public.request_logs_y2026m11",
        "CREATE INDEX request_logs_y2026m11_status_code_idx ON public.request_logs_y2026m11 USING btree (status_code) "
        "WHERE (status_code >= 400)", parent_index="public.idx_request_logs_status_code", on_partition=True)
    live.tables["meta.sessions"] = dataclasses.replace(live.tables["meta.sessions"], columns=(
        Column("request_id", "character varying(64)", True),
        Column("status", "character varying(32)", True, "'active'::character varying")))
    live.views["analytics.error_summary"] = View(
        "analytics", "error_summary", False,
        " SELECT error_code,\n    count(*) AS error_count\n   FROM error_logs e\n  GROUP BY error_code;")
    del live.functions["analytics.cleanup_old_metrics(retention_days integer)"]
    live.tables["public.tmp_import"] = Table("public", "tmp_import", "r", (Column("id", "integer", False),))
    return live


SOURCES = {"public.idx_request_logs_status_code": Source("lambda/002_request_logs.sql", 34),
           "meta.sessions.status": Source("lambda/003_meta.sql", 50),
           "analytics.error_summary": Source("lambda/004_analytics.sql", 91),
           "analytics.cleanup_old_metrics(retention_days integer)": Source("lambda/004_analytics.sql", 198)}


def _migrations(name: str, system: str) -> migrate.MigrationStatus:
    files = migrate.files_for(system)
    return migrate.MigrationStatus(name, applied=[migrate.AppliedVersion(f.version, f.checksum, FIXED, "dba")
                                                  for f in files])


def report(name: str, system: str, expected: Snapshot, live: Snapshot) -> TargetReport:
    found = fixes.attach(compare(expected, live), expected, live, target=name)
    found = [dataclasses.replace(f, source=SOURCES.get(f.object)) for f in found]
    return TargetReport(name, system, found, _migrations(name, system),
                        [{"version": "1.0.0", "description": "initial schema", "applied_at": FIXED,
                          "applied_by": "dba"}] if system == "lambda" else [],
                        checked_at=FIXED, expected=expected, live=live)


class FakeSchemaSource:
    def __init__(self, reports: dict[str, TargetReport]) -> None:
        self.reports = reports
        self.applied: list = []

    def targets(self):
        return [(r.target, r.system) for r in self.reports.values()]

    def check(self, name: str) -> TargetReport:
        return self.reports[name]

    def apply(self, name, plan, progress):
        self.applied.append(plan)
        out = []
        for i, s in enumerate(plan.steps):
            progress(i, len(plan.steps), s, None)
            res = StepResult(s, ok=True, message="ok", elapsed_ms=12.0)
            out.append(res)
            progress(i, len(plan.steps), s, res)
        return out


def schema_services(*, drifted: bool = True, read_only: bool = False) -> Services:
    exp = _expected()
    reports = {"lambda": report("lambda", "lambda", exp, _drifted() if drifted else _expected()),
               "zengin": report("zengin", "zengin", exp, _expected())}
    settings = Settings(environment="prod", read_only=read_only,
                        postgres=(PostgresTarget("lambda", "lambda", dsn="postgresql://db1/lambda"),
                                  PostgresTarget("zengin", "zengin", dsn="postgresql://db2/zengin")))
    return Services(settings=settings, clock=lambda: 1000.0, sources={"schema": FakeSchemaSource(reports)})
