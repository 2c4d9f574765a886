"""What a table is maintained to: the console's policy (premake, retention counted in the
table's interval, …) and pg_partman's ``part_config`` row where the extension has one. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from .bounds import add_months, month_start
from .interval import Slot

# ------------------------------------------------------------------ policy


@dataclass(frozen=True)
class Policy:
    """pg_partman's part_config, per table, counted in the table's own interval:
    ``premake`` intervals ahead of the current one; ``retention`` intervals (None: keep
    all): partitions wholly older than the current interval minus ``retention`` go.

    ``infinite_time_partitions`` (time sets) as pg_partman means it: True, premake is counted
    from the interval holding *now*; False (pg_partman's default), from the interval holding
    the newest row (the default partition's too, unless part_config's
    ``ignore_default_data``), and a set with no row gets none — a set nobody writes to
    stops growing. Integer sets always count from their highest key."""

    premake: int = 3
    retention: int | None = None
    retention_keep_table: bool = False      # detach only, keep the table
    retention_schema: str | None = None     # move detached partitions into this schema
    naming: str | None = None               # override, e.g. "{table}_y{YYYY}m{MM}"
    take_over_partman: bool = False         # maintain a pg_partman table (following part_config)
    infinite_time_partitions: bool = True   # False: premake from the newest row's interval (see above)

    def __post_init__(self) -> None:
        if self.premake < 0:
            raise ValueError("premake must be >= 0")
        if self.retention is not None and self.retention < 0:
            raise ValueError("retention must be >= 0 intervals")
        if self.naming is not None and not re.search(r"\{(YYYY|IYYY|N)\}", self.naming):
            raise ValueError("naming must contain {YYYY} (or {IYYY}, {N}) and the interval's other fields")


def policy_for(policies: dict[str, Policy] | None, target: str, schema: str, table: str,
               default: Policy | None = None) -> Policy:
    """Most specific first: ``target.schema.table``, ``target.table``, ``schema.table``,
    ``table``, then ``*``."""
    policies = policies or {}
    for key in (f"{target}.{schema}.{table}", f"{target}.{table}", f"{schema}.{table}", table, "*"):
        if key in policies:
            return policies[key]
    return default or Policy()


@dataclass(frozen=True)
class PartmanConfig:
    """One row of pg_partman's ``part_config`` (4.x and 5.x share these columns)."""

    interval: str                       # partition_interval as stored, e.g. "1 mon", "1 day", "1000"
    premake: int
    retention: str | None               # an interval ("3 months") or, for id sets, a number of ids
    retention_keep_table: bool
    retention_schema: str | None
    automatic_maintenance: bool = True
    infinite_time_partitions: bool = False
    datetime_string: str | None = None
    sub_partitioned: bool = False
    retention_cutoff: "Slot | None" = None   # time sets, computed by the server: now() - retention
    ignore_default_data: bool = False   # premake ignores the default partition's newest row

    def id_retention(self) -> int | None:
        """An integer set's retention as a number of ids (None: none, or not a number)."""
        try:
            return None if self.retention is None else int(str(self.retention).strip())
        except ValueError:
            return None


def retention_cutoff(now_month: date, retention: int | None) -> datetime | None:
    """Monthly form: partitions whose upper bound is at or before this instant are past
    retention (the current month and the ``retention`` months before it are kept)."""
    if retention is None:
        return None
    return month_start(add_months(now_month, -retention))
