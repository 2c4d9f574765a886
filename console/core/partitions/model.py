"""Partition sets as data, and the pure rules over them: bounds parsing, the interval a set
uses (interval.py), naming conventions, coverage (horizon, gaps, overlaps) and retention
counted in that interval. No I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, timezone

from .interval import MONTHLY_UTC, NAMINGS, Interval, Slot, fallback_naming

IDENTIFIER_MAX_BYTES = 63

# ------------------------------------------------------------------ months (UTC)


def month_of(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc)
        return date(moment.year, moment.month, 1)
    return date(moment.year, moment.month, 1)


def add_months(month: date, n: int) -> date:
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(y, m + 1, 1)


def months_between(a: date, b: date) -> int:
    """Whole months from ``a`` to ``b`` (both firsts of months)."""
    return (b.year - a.year) * 12 + b.month - a.month


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=timezone.utc)


def month_label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


# ------------------------------------------------------------------ bounds

_RANGE = re.compile(r"^FOR VALUES FROM \((.*)\) TO \((.*)\)$", re.S)
_INT = re.compile(r"^'?(-?\d+)'?$")


def parse_bound_value(text: str, *, integer: bool = False) -> Slot | None:
    """One literal of a range bound as pg_get_expr prints it (session TimeZone UTC,
    DateStyle ISO): ``'2025-01-01 00:00:00+00'``, ``'2025-01-01'``, ``1000``, ``MINVALUE``.
    Returns a UTC datetime (or an int for integer keys), None for MINVALUE/MAXVALUE."""
    t = text.strip()
    if t.upper() in ("MINVALUE", "MAXVALUE"):
        return None
    if integer:
        m = _INT.match(t)
        if not m:
            raise ValueError(f"unsupported integer partition bound {text!r}")
        return int(m.group(1))
    if t.startswith("'") and t.endswith("'"):
        t = t[1:-1]
    t = t.replace(" ", "T", 1)
    # "+00" / "+05:30" offsets -> ISO form
    m = re.match(r"^(.*[T\d])([+-]\d{2})(:?\d{2})?$", t)
    if m and "T" in t:
        t = m.group(1) + m.group(2) + ":" + (m.group(3) or "00").lstrip(":")
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"unsupported partition bound {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


def parse_bound(expr: str, *, integer: bool = False) -> tuple[bool, Slot | None, Slot | None, bool]:
    """``pg_get_expr(relpartbound)`` -> (is_default, lower, upper, understood).
    Multi-column or LIST/HASH bounds are not understood (left alone, shown as text)."""
    expr = (expr or "").strip()
    if expr == "DEFAULT":
        return True, None, None, True
    m = _RANGE.match(expr)
    if not m or "," in m.group(1) or "," in m.group(2):
        return False, None, None, False
    try:
        return (False, parse_bound_value(m.group(1), integer=integer),
                parse_bound_value(m.group(2), integer=integer), True)
    except ValueError:
        return False, None, None, False


def bound_display(p: "Partition", interval: Interval | None = None) -> str:
    """The bounds as a DBA reads them: ``2026-11 (…2026-12-01, exclusive)``, integer values,
    LIST values, DEFAULT."""
    if p.is_default:
        return "DEFAULT"
    if not p.understood or (p.lower is None and p.upper is None and not p.bound.startswith("FOR VALUES FROM")):
        b = p.bound
        return b[len("FOR VALUES "):] if b.startswith("FOR VALUES ") else b
    if interval is not None and p.lower is not None and p.upper is not None and interval.aligned(p.lower, p.upper):
        return interval.label(p.lower)
    return f"{_val(p.lower, 'MINVALUE')} … {_val(p.upper, 'MAXVALUE')} (exclusive)"


def _val(v, open_end: str) -> str:
    if v is None:
        return open_end
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:%Y-%m-%d %H:%M} UTC"


def is_month_aligned(lower, upper) -> bool:
    if not isinstance(lower, datetime) or not isinstance(upper, datetime):
        return False
    m = month_of(lower)
    return lower == month_start(m) and upper == month_start(add_months(m, 1))


def months_in(lower, upper) -> list[date]:
    """The UTC months a time range [lower, upper) touches (open ends are not enumerated)."""
    if not isinstance(lower, datetime) or not isinstance(upper, datetime) or upper <= lower:
        return []
    out, m = [], month_of(lower)
    while month_start(m) < upper:
        out.append(m)
        m = add_months(m, 1)
    return out


# ------------------------------------------------------------------ naming

# Placeholders: {table} {YYYY} {MM} {DD} {HH} {MI} {IYYY} {IW} {Q} {N}; per interval, tried in
# order when detecting (interval.NAMINGS).
CANDIDATE_NAMINGS = NAMINGS["month"]
# The seeds' conventions (sql/README.md), used when a table has no monthly child yet.
KNOWN_NAMINGS = {
    "request_logs": "{table}_y{YYYY}m{MM}",
    "access_logs": "{table}_{YYYY}_{MM}",
    "pipeline_runs": "{table}_y{YYYY}m{MM}",
    "learning_sessions": "{table}_{YYYY}_{MM}",
}
FALLBACK_NAMING = "{table}_p{YYYY}_{MM}"


def format_name(naming: str, table: str, fields: dict[str, str]) -> str:
    """The child's name, kept within PostgreSQL's 63-byte identifier limit by shortening
    the table part (never the suffix), as pg_partman does."""
    suffix = naming.replace("{table}", "\x00").format(**fields)
    head, _, tail = suffix.partition("\x00")
    room = IDENTIFIER_MAX_BYTES - len(head.encode()) - len(tail.encode())
    t = table.encode()[:max(room, 0)].decode("utf-8", errors="ignore")
    return f"{head}{t}{tail}"


def partition_name(naming: str, table: str, month: date) -> str:
    """The monthly child's name for ``month`` (see :func:`format_name`)."""
    return format_name(naming, table, MONTHLY_UTC.fields(month_start(month)))


def detect_naming_for(interval: Interval, table: str, children: list[tuple[str, Slot]]) -> tuple[str, str]:
    """(naming, how it was found) from existing children ``(name, slot)``."""
    best, hits = None, 0
    children = [(name, interval.fields(s)) for name, s in children[-24:]]   # the newest say enough
    for cand in NAMINGS[interval.unit]:
        n = sum(1 for name, f in children if format_name(cand, table, f) == name)
        if n > hits:
            best, hits = cand, n
    if best:
        return best, f"detected from {hits} of {len(children)} partitions"
    if interval.unit == "month" and table in KNOWN_NAMINGS:
        return KNOWN_NAMINGS[table], "the seeds' convention (no partition to detect from)"
    return fallback_naming(interval.unit), "pg_partman's naming (no partition name to detect from)"


def detect_naming(table: str, children: list[tuple[str, date]]) -> tuple[str, str]:
    """Monthly children ``(name, month)`` (kept for callers that speak months)."""
    return detect_naming_for(MONTHLY_UTC, table, [(n, month_start(m)) for n, m in children])


# ------------------------------------------------------------------ policy


@dataclass(frozen=True)
class Policy:
    """pg_partman's part_config, per table, counted in the table's own interval:
    ``premake`` intervals ahead of the current one; ``retention`` intervals (None: keep
    all): partitions wholly older than the current interval minus ``retention`` go."""

    premake: int = 3
    retention: int | None = None
    retention_keep_table: bool = False      # detach only, keep the table
    retention_schema: str | None = None     # move detached partitions into this schema
    naming: str | None = None               # override, e.g. "{table}_y{YYYY}m{MM}"
    take_over_partman: bool = False         # maintain a pg_partman table (following part_config)

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
    retention: str | None               # an interval ("3 months") or, for id sets, a number
    retention_keep_table: bool
    retention_schema: str | None
    automatic_maintenance: bool = True
    infinite_time_partitions: bool = False
    datetime_string: str | None = None
    sub_partitioned: bool = False
    retention_cutoff: "Slot | None" = None   # computed by the server: now() - retention


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
                pass
        return f"{_val(c.first, 'MINVALUE')} … {_val(c.last, 'MAXVALUE')} (exclusive)"

    def bounds_text(self, p: Partition) -> str:
        return bound_display(p, self.interval)

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


def retention_cutoff(now_month: date, retention: int | None) -> datetime | None:
    """Monthly form: partitions whose upper bound is at or before this instant are past
    retention (the current month and the ``retention`` months before it are kept)."""
    if retention is None:
        return None
    return month_start(add_months(now_month, -retention))


@dataclass
class Discovery:
    """Every partitioned table of every target, and the targets that failed."""

    tables: list[TableInfo] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    taken_at: datetime | None = None


def human_bytes(n: int | None) -> str:
    if n is None:
        return "—"
    f = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if f < 1024 or unit == "TB":
            return f"{f:,.0f} {unit}" if unit == "B" else f"{f:,.1f} {unit}"
        f /= 1024
    return f"{n} B"
