"""Partition management: discover every partitioned table from the catalog, compute
coverage (horizon, gaps, overlaps, default-partition rows, retention), build a plan of
DDL steps a DBA reads first, and run it with bounded lock waits. pg_partman's
``run_maintenance`` is the reference (premake, retention, retention_keep_table,
retention_schema), every interval its children use (interval.py), and ``part_config`` is
read where pg_partman is installed; see the README's Partitions section."""

from .build import make_table, tell_interval
from .catalog import count_rows, discover, discover_target
from .interval import Interval, Slot
from .model import (Coverage, Discovery, ForeignKeyRef, Gap, IndexInfo, Partition, PartmanConfig, Policy, TableInfo,
                    add_months, detect_naming, human_bytes, month_label, month_of, partition_name,
                    policy_for)
from .planner import ACTION_NAME, build_plan, months_to_create
from .runner import MAINTAIN, RunOptions, RunReport, run_plan
from .service import PartitionService, with_policy

__all__ = [
    "ACTION_NAME", "MAINTAIN", "Coverage", "Discovery", "ForeignKeyRef", "Gap", "IndexInfo", "Interval", "Partition",
    "PartmanConfig", "Slot", "tell_interval",
    "PartitionService", "Policy", "RunOptions", "RunReport", "TableInfo", "add_months", "build_plan",
    "count_rows", "detect_naming", "discover", "discover_target", "human_bytes", "make_table", "month_label",
    "month_of", "months_to_create", "partition_name", "policy_for", "run_plan", "with_policy",
]
