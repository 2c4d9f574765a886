"""Monthly partitions of the demo tables: which months exist, and creating them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Iterable

import psycopg
from psycopg import sql

from ...core.partitions import add_months


# --------------------------------------------------------------------------- partitions


@dataclass(frozen=True)
class PartitionedTable:
    """A partitioned table of sql/, how its monthly partitions are named, and which past
    month the demo leaves out (its rows land in the default partition)."""

    system: str
    table: str
    name_format: str          # str.format with y, m
    gap_months_ago: int

    def partition_name(self, month: date) -> str:
        return self.name_format.format(y=month.year, m=month.month)

    @property
    def default_partition(self) -> str:
        return f"{self.table}_default"


PARTITIONED: dict[str, PartitionedTable] = {
    "lambda": PartitionedTable("lambda", "request_logs", "request_logs_y{y:04d}m{m:02d}", 4),
    "accesslog": PartitionedTable("accesslog", "access_logs", "access_logs_{y:04d}_{m:02d}", 6),
    "pipe": PartitionedTable("pipe", "pipeline_runs", "pipeline_runs_y{y:04d}m{m:02d}", 3),
    "learning": PartitionedTable("learning", "learning_sessions", "learning_sessions_{y:04d}_{m:02d}", 5),
}
HISTORY_MONTHS = 13     # partitions from 13 months back ...
AHEAD_MONTHS = 1        # ... to next month only (a 3-month premake finds two missing)

DRIFTED_INDEX = "idx_request_logs_status_code"
DRIFTED_INDEX_DDL = "CREATE INDEX {} ON public.request_logs (status_code) WHERE status_code >= 400"


def month_of(moment: datetime) -> date:
    moment = moment.astimezone(timezone.utc)
    return date(moment.year, moment.month, 1)


def utc(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def partition_months(now: datetime, spec: PartitionedTable) -> tuple[list[date], date]:
    """The months that get a partition, and the gap month that does not."""
    current = month_of(now)
    gap = add_months(current, -spec.gap_months_ago)
    months = [add_months(current, k) for k in range(-HISTORY_MONTHS, AHEAD_MONTHS + 1)]
    return [m for m in months if m != gap], gap


def create_partitions(conn: psycopg.Connection, spec: PartitionedTable, months: Iterable[date]) -> list[str]:
    names = []
    for m in months:
        name = spec.partition_name(m)
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier("public", name), sql.Identifier("public", spec.table),
            sql.Literal(utc(m).isoformat()), sql.Literal(utc(add_months(m, 1)).isoformat())))
        names.append(name)
    return names
