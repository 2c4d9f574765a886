"""Partition sets as data: partitions, referencing foreign keys, coverage and the table as
discovery found it, with the pure rules over them. No I/O here. Split by concern (the names
stay importable from here): bounds and months (bounds.py), the interval (interval.py), child
names (naming.py), the policy and pg_partman's part_config (policy.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime

from .bounds import (_val, add_months, bound_display, human_bytes, is_month_aligned, month_label, month_of,
                     month_start, months_between, months_in, parse_bound, parse_bound_value)
from .interval import MONTHLY_UTC, Interval, Slot
from .naming import (CANDIDATE_NAMINGS, FALLBACK_NAMING, IDENTIFIER_MAX_BYTES, KNOWN_NAMINGS, detect_naming,
                     detect_naming_for, format_name, partition_name)
from .policy import PartmanConfig, Policy, policy_for, retention_cutoff

__all__ = [   # the names callers import from here, wherever they live now
    "CANDIDATE_NAMINGS", "FALLBACK_NAMING", "IDENTIFIER_MAX_BYTES", "KNOWN_NAMINGS", "Coverage", "Discovery",
    "ForeignKeyRef", "Gap", "IndexInfo", "Partition", "PartmanConfig", "Policy", "TableInfo", "add_months",
    "bound_display", "detect_naming", "detect_naming_for", "format_name", "human_bytes", "is_month_aligned",
    "month_label", "month_of", "month_start", "months_between", "months_in", "parse_bound", "parse_bound_value",
    "partition_name", "policy_for", "retention_cutoff",
]

# ------------------------------------------------------------------ catalog facts


@dataclass(frozen=True)
class IndexInfo:
    name: str
    definition: str
    inherited: bool          # a partition of a parent index (propagates by itself)


@dataclass(frozen=True)
class Partition:
    schema: str
    name: str
    bound: str                          # pg_get_expr(relpartbound) text
    lower: Slot | None = None           # UTC datetime or int; None: MINVALUE or not a range
    upper: Slot | None = None
    is_default: bool = False
    understood: bool = True
    est_rows: int | None = None         # reltuples (summed over leaves); None when never analysed
    size_bytes: int = 0                 # summed over leaves for a sub-partitioned child
    indexes: tuple[IndexInfo, ...] = ()
    detach_pending: bool = False
    sub_partitioned: str | None = None  # pg_get_partkeydef of a partitioned child, e.g. "LIST (region)"
    reloptions: tuple[str, ...] = ()    # storage parameters ("fillfactor=70"), copied to new siblings
    owner: str | None = None
    acl: tuple[str, ...] = ()           # relacl items, copied to new siblings as GRANTs

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def monthly(self) -> bool:
        return is_month_aligned(self.lower, self.upper)

    @property
    def month(self) -> date | None:
        return month_of(self.lower) if self.monthly else None


@dataclass(frozen=True)
class ForeignKeyRef:
    """A foreign key of another table referencing the partitioned parent."""

    schema: str              # the referencing table
    table: str
    name: str                # the constraint
    columns: tuple[str, ...]
    ref_columns: tuple[str, ...]
    on_delete: str = "a"     # confdeltype: a no action, r restrict, c cascade, n set null, d set default
    # why the referencing rows cannot be set aside and put back (they would fire more than the
    # move means to: the referencing table is referenced itself, has INSERT/DELETE triggers,
    # or is the parent itself); None: they can
    aside_blocker: str | None = None
    # referencing rows per month of the default partition's rows (None: not counted)
    moving_refs: tuple[tuple[date, int], ...] | None = None
    ref_columns_all: tuple[str, ...] = ()      # the referencing table's insertable columns
    ref_identity_always: bool = False          # has a GENERATED ALWAYS identity column

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def action(self) -> str:
        return {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL",
                "d": "SET DEFAULT"}.get(self.on_delete, self.on_delete)

    def refs_for(self, month: date) -> int | None:
        """Referencing rows pointing at the default partition's rows of ``month``."""
        if self.moving_refs is None:
            return None
        return dict(self.moving_refs).get(month, 0)


@dataclass(frozen=True)
class Gap:
    lower: Slot
    upper: Slot
    slots: tuple[Slot, ...] = ()        # the whole intervals inside it

    @property
    def months(self) -> list[date]:
        return months_in(self.lower, self.upper)


@dataclass(frozen=True)
class Coverage:
    first: Slot | None                  # lowest lower bound
    last: Slot | None                   # highest upper bound
    horizon: int                        # intervals fully covered after the current one
    current_covered: bool
    missing_ahead: tuple[Slot, ...]     # current .. current+premake without a partition
    gaps: tuple[Gap, ...]
    overlaps: tuple[tuple[str, str], ...]
    past_retention: tuple[str, ...]     # partition names past retention (newest never)
    covered_months: frozenset[date] = frozenset()


@dataclass(frozen=True)
class TableInfo:
    target: str
    schema: str
    name: str
    strategy: str                        # range / list / hash
    key_def: str                         # pg_get_partkeydef, e.g. "RANGE (created_at)"
    key_column: str | None               # single plain column key, else None
    key_type: str | None                 # format_type of that column
    partitions: tuple[Partition, ...]    # every attached non-default child, by lower bound
    default: Partition | None
    default_rows: dict | None            # exact count per interval slot (None key: NULL key; None: not counted)
    default_count_error: str | None
    columns: tuple[str, ...]
    fks: tuple[ForeignKeyRef, ...]
    naming: str
    naming_source: str
    policy: Policy
    now_month: date
    coverage: Coverage
    server_version: int = 180000
    pending_detach: tuple[Partition, ...] = ()
    interval: Interval | None = None     # None: cannot be told (then not maintained)
    interval_source: str = ""
    now_slot: Slot | None = None         # the current interval (int sets: the one holding the max key)
    not_maintained: str | None = None    # why the console leaves this table alone
    managed_by: str | None = None        # "pg_partman" where part_config has the table
    partman: PartmanConfig | None = None
    retention_cutoff: Slot | None = None  # partitions whose upper bound is <= this are past retention
    sub_partitioned: str | None = None   # the children's own partition key, when they are partitioned
    max_key: Slot | None = None          # newest key (children, or default when higher), where read
    max_child_key: Slot | None = None    # newest key of the children only, where read
    premake_from: Slot | None = None     # the interval premake counts from (see Policy.infinite_time_partitions)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def key(self) -> str:
        return f"{self.target}:{self.schema}.{self.name}"

    @property
    def total_size(self) -> int:
        return sum(p.size_bytes for p in self.partitions) + (self.default.size_bytes if self.default else 0) \
            + sum(p.size_bytes for p in self.pending_detach)

    @property
    def est_rows(self) -> int:
        return sum(max(p.est_rows or 0, 0) for p in self.partitions)

    @property
    def default_row_total(self) -> int | None:
        return None if self.default_rows is None else sum(self.default_rows.values())

    @property
    def supported(self) -> bool:
        """The console maintains this table (see ``not_maintained`` for why not)."""
        return self.not_maintained is None

    @property
    def interval_text(self) -> str:
        return self.interval.word if self.interval else "unknown"

    @property
    def range_text(self) -> str:
        """Covered range as a DBA reads it: first interval … last interval (inclusive)."""
        c, iv = self.coverage, self.interval
        if c.first is None or c.last is None:
            return "—"
        if iv is not None:
            try:
                return f"{iv.label(iv.floor(c.first))} … {iv.label(iv.add(iv.floor(c.last), -1))}"
            except (TypeError, ValueError, OverflowError):
                pass                 # bounds the interval cannot label: shown as they are, below
        return f"{_val(c.first, 'MINVALUE')} … {_val(c.last, 'MAXVALUE')} (exclusive)"

    def bounds_text(self, p: Partition) -> str:
        return bound_display(p, self.interval)

    def policy_text(self) -> str:
        """The policy as followed, in the table's interval: ``premake 3 months, retention
        none``; where premake counts from the newest row (infinite_time_partitions off) and
        where retention is part_config's (an interval, or a number of ids)."""
        pol, iv = self.policy, self.interval
        unit = "intervals" if iv is None or iv.unit == "int" else f"{iv.unit}s"
        out = f"premake {pol.premake} {unit}"
        if iv is not None and iv.is_time and not pol.infinite_time_partitions and self.supported:
            out += (f" from the newest row's {iv.unit} ({self.slot_label(self.premake_from)})"
                    if self.premake_from is not None else " (no row to count from: none)")
        if self.partman is not None and pol.take_over_partman:
            r = self.partman.retention
            out += ", retention none" if r is None else \
                f", retention {r}{' ids' if iv is not None and not iv.is_time else ''} (part_config)"
        else:
            out += ", retention none" if pol.retention is None else f", retention {pol.retention} {unit}"
        return out + (", keep table" if pol.retention_keep_table else "")

    def slot_label(self, slot: Slot | None) -> str:
        if slot is None:
            return "NULL"
        return self.interval.label(slot) if self.interval else str(slot)

    def partition_name(self, when) -> str:
        """The new child's name for a slot (or, for monthly callers, a month ``date``)."""
        iv = self.interval or MONTHLY_UTC
        slot = month_start(when) if isinstance(when, date) and not isinstance(when, datetime) else when
        return format_name(self.naming, self.name, iv.fields(slot))

    @cached_property
    def _by_slot(self) -> tuple[dict, tuple[Partition, ...]]:
        """Partitions that are exactly one interval, by slot; and the others."""
        iv, exact, other = self.interval, {}, []
        for p in self.partitions:
            if not p.understood or (p.lower is None and p.upper is None):
                continue
            if iv is not None and p.lower is not None and p.upper is not None and iv.aligned(p.lower, p.upper):
                exact[p.lower] = p
            else:
                other.append(p)
        return exact, tuple(other)

    @cached_property
    def template(self) -> Partition | None:
        """The newest sibling that is exactly one interval (else the newest): new children
        copy its local indexes, reloptions, owner and grants."""
        exact, _ = self._by_slot
        if exact:
            return exact[max(exact)]
        return self.partitions[-1] if self.partitions else None

    def partition_for_slot(self, slot: Slot) -> Partition | None:
        """An existing partition overlapping the slot (so it cannot be created whole)."""
        if self.interval is None:
            return None
        exact, other = self._by_slot
        if slot in exact:
            return exact[slot]
        lo, hi = slot, self.interval.upper(slot)
        for p in other:
            if (p.lower is None or p.lower < hi) and (p.upper is None or p.upper > lo):
                return p
        return None

    def partition_for_month(self, month: date) -> Partition | None:
        lo, hi = month_start(month), month_start(add_months(month, 1))
        for p in self.partitions:
            if isinstance(p.lower, datetime) and isinstance(p.upper, datetime) and p.lower < hi and p.upper > lo:
                return p
        return None

    def attention(self) -> list[str]:
        """What needs a DBA, in words (empty when all is well)."""
        c = self.coverage
        out = []
        if self.not_maintained:
            out.append(f"not maintained: {self.not_maintained}")
        unit = f"{self.interval.unit}(s)" if self.interval else "interval(s)"
        if c.missing_ahead:
            out.append(f"{len(c.missing_ahead)} {unit} missing ahead")
        if c.gaps:
            out.append(f"{sum(len(g.slots) for g in c.gaps)} {unit} in gaps")
        if c.overlaps:
            out.append(f"{len(c.overlaps)} overlap(s)")
        if self.default_row_total:
            out.append(f"{self.default_row_total:,} row(s) in default")
        if c.past_retention:
            out.append(f"{len(c.past_retention)} past retention")
        if self.pending_detach:
            out.append(f"{len(self.pending_detach)} pending detach")
        return out


@dataclass
class Discovery:
    """Every partitioned table of every target, and the targets that failed."""

    tables: list[TableInfo] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    taken_at: datetime | None = None
