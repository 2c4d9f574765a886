"""Fixed partition data for snapshot tests: a fake of core.partitions.PartitionService with
the same methods. Discovery, planning and running against real PostgreSQL are tested in
tests/integration/test_partitions_*.py and tests/ui/test_partitions_pilot.py."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from console.config import Settings
from console.core.partitions import (
    Discovery,
    ForeignKeyRef,
    IndexInfo,
    Partition,
    PartmanConfig,
    Policy,
    RunReport,
    add_months,
    build_plan,
    make_table,
)
from console.core.partitions.model import month_start
from console.core.plan import StepResult
from console.ui.services import Services

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
CUR = date(2026, 11, 1)


def _monthly(table: str, fmt: str, months, rows=lambda k: 10_000 * (k + 20), indexes=3):
    out = []
    for k in months:
        m = add_months(CUR, k)
        name = fmt.format(y=m.year, m=m.month)
        lo, hi = month_start(m), month_start(add_months(m, 1))
        out.append(Partition("public", name, f"FOR VALUES FROM ('{lo:%Y-%m-%d} 00:00:00+00') TO "
                                             f"('{hi:%Y-%m-%d} 00:00:00+00')", lo, hi,
                             est_rows=rows(k), size_bytes=rows(k) * 420,
                             indexes=tuple(IndexInfo(f"{name}_i{i}", "", True) for i in range(indexes))))
    return out


def _default(table: str, size=16384):
    return Partition("public", f"{table}_default", "DEFAULT", is_default=True, est_rows=0, size_bytes=size)


def tables():
    t1 = make_table(target="lambda", schema="public", name="request_logs", now=NOW, key_column="timestamp",
                    key_def='RANGE ("timestamp")',
                    partitions=_monthly("request_logs", "request_logs_y{y:04d}m{m:02d}",
                                        [k for k in range(-13, 2) if k != -4]) + [_default("request_logs")],
                    default_rows={add_months(CUR, -4): 41_230},
                    columns=("id", "request_id", "language_title", "timestamp", "client_ip", "user_id", "status_code",
                             "duration_ms", "cached", "error_details"), policy=Policy(retention=12))
    t2 = make_table(target="accesslog", schema="public", name="access_logs", now=NOW, key_column="created_at",
                    key_def="RANGE (created_at)",
                    partitions=_monthly("access_logs", "access_logs_{y:04d}_{m:02d}",
                                        [k for k in range(-13, 2) if k != -6]) + [_default("access_logs")],
                    default_rows={add_months(CUR, -6): 7_801}, columns=("id", "created_at"),
                    fks=(ForeignKeyRef("public", "custom_parameter_values", "custom_parameter_values_access_log_id_fkey",
                                       ("access_log_id", "created_at"), ("id", "created_at"), on_delete="c",
                                       moving_refs=((add_months(CUR, -6), 15_602),),
                                       ref_columns_all=("id", "access_log_id", "created_at")),))
    t3 = make_table(target="pipe", schema="public", name="pipeline_runs", now=NOW, key_column="started_at",
                    key_def="RANGE (started_at)",
                    partitions=_monthly("pipeline_runs", "pipeline_runs_y{y:04d}m{m:02d}", range(-6, 4))
                    + [_default("pipeline_runs")], default_rows={}, columns=("id", "started_at"))
    t4 = make_table(target="learning", schema="public", name="learning_sessions", now=NOW,
                    key_column="started_at", key_def="RANGE (started_at)",
                    partitions=_monthly("learning_sessions", "learning_sessions_{y:04d}_{m:02d}", range(-3, 1))
                    + [_default("learning_sessions")], default_rows=None,
                    default_count_error="timeout: statement timeout", columns=("id", "started_at"))
    return [t1, t2, t3, t4, *interval_tables()]


def _slots(name: str, lows: list, step, label) -> list[Partition]:
    return [Partition("public", f"{name}_{label(lo)}", f"FOR VALUES FROM ('{lo}') TO ('{step(lo)}')", lo, step(lo),
                      est_rows=5_000, size_bytes=2_100_000) for lo in lows]


def interval_tables() -> list:
    """Daily, weekly (pg_partman's), yearly, integer and LIST sets: the strip per interval,
    "managed by pg_partman", "not maintained: why", bounds as values."""
    day = datetime(2026, 11, 22, tzinfo=timezone.utc)
    days = [day + timedelta(days=k) for k in range(-14, 3) if k != -5]
    daily = make_table(target="lambda", schema="public", name="events", now=NOW, key_column="at",
                       partitions=_slots("events", days, lambda d: d + timedelta(days=1),
                                         lambda d: f"p{d:%Y_%m_%d}"), policy=Policy(premake=4, retention=10))
    monday = datetime(2026, 11, 16, tzinfo=timezone.utc)
    weeks = [monday + timedelta(weeks=k) for k in range(-8, 3)]
    weekly = make_table(target="accesslog", schema="public", name="audit_trail", now=NOW, key_column="at",
                        partitions=_slots("audit_trail", weeks, lambda d: d + timedelta(weeks=1),
                                          lambda d: f"p{d.isocalendar()[0]}w{d.isocalendar()[1]:02d}"),
                        partman=PartmanConfig("1 week", 4, "8 weeks", False, None))
    years = [datetime(y, 1, 1, tzinfo=timezone.utc) for y in range(2021, 2028)]
    yearly = make_table(target="pipe", schema="public", name="invoices", now=NOW, key_column="issued_at",
                        partitions=_slots("invoices", years, lambda d: d.replace(year=d.year + 1),
                                          lambda d: f"p{d.year}"), policy=Policy(premake=1))
    ids = [k * 100_000 for k in range(0, 8)]
    integer = make_table(target="pipe", schema="public", name="jobs", now=NOW, key_column="id", key_type="bigint",
                         key_def="RANGE (id)", max_key=612_345,
                         partitions=_slots("jobs", ids, lambda n: n + 100_000, lambda n: f"p{n}"),
                         policy=Policy(premake=2))
    lst = make_table(target="learning", schema="public", name="tenants", now=NOW, key_column="region",
                     key_type="text", strategy="list", key_def="LIST (region)",
                     partitions=[Partition("public", "tenants_jp", "FOR VALUES IN ('jp', 'kr')"),
                                 Partition("public", "tenants_us", "FOR VALUES IN ('us', 'ca')")])
    return [daily, weekly, yearly, integer, lst]


class FakePartitions:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.ran = []
        self.counted = []

    @property
    def read_only(self) -> bool:
        return self.settings.read_only

    def discover(self, **_):
        return Discovery(tables=tables(), errors={}, taken_at=NOW)

    def plan(self, tables):
        return build_plan(tables)

    def run(self, plan, *, actor, progress=None):
        report = RunReport()
        for i, s in enumerate(plan.steps):
            if progress:
                progress(i, len(plan.steps), s, None)
            r = StepResult(s, ok=True, message="done", attempts=1)
            report.results.append(r)
            if progress:
                progress(i, len(plan.steps), s, r)
        self.ran.append(plan)
        return report

    def count_rows(self, target, schema, name):
        self.counted.append(name)
        return 123_456


def partitions_services(*, read_only: bool = False) -> Services:
    settings = Settings(environment="prod", read_only=read_only, refresh_interval_s=5.0)
    return Services(settings=settings, clock=lambda: 1000.0, sources={"partitions": FakePartitions(settings)})
