"""Partition sets as data, and the pure rules over them: UTC months, bounds parsing,
naming conventions, coverage (horizon, gaps, overlaps) and retention. No I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

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


def parse_bound_value(text: str) -> datetime | None:
    """One literal of a range bound as pg_get_expr prints it (session TimeZone UTC,
    DateStyle ISO): ``'2025-01-01 00:00:00+00'``, ``'2025-01-01'``, ``MINVALUE``.
    Returns a UTC datetime, or None for MINVALUE/MAXVALUE (open ends)."""
    t = text.strip()
    if t.upper() in ("MINVALUE", "MAXVALUE"):
        return None
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


def parse_bound(expr: str) -> tuple[bool, datetime | None, datetime | None, bool]:
    """``pg_get_expr(relpartbound)`` -> (is_default, lower, upper, understood).
    Multi-column or LIST/HASH bounds are not understood (left alone, shown as text)."""
    expr = (expr or "").strip()
    if expr == "DEFAULT":
        return True, None, None, True
    m = _RANGE.match(expr)
    if not m or "," in m.group(1) or "," in m.group(2):
        return False, None, None, False
    try:
        return False, parse_bound_value(m.group(1)), parse_bound_value(m.group(2)), True
    except ValueError:
        return False, None, None, False


def is_month_aligned(lower: datetime | None, upper: datetime | None) -> bool:
    if lower is None or upper is None:
        return False
    m = month_of(lower)
    return lower == month_start(m) and upper == month_start(add_months(m, 1))


def months_in(lower: datetime | None, upper: datetime | None) -> list[date]:
    """The months a range [lower, upper) touches (open ends are not enumerated)."""
    if lower is None or upper is None or upper <= lower:
        return []
    out, m = [], month_of(lower)
    while month_start(m) < upper:
        out.append(m)
        m = add_months(m, 1)
    return out


# ------------------------------------------------------------------ naming

# Placeholders: {table} {YYYY} {MM}. Tried in this order when detecting.
CANDIDATE_NAMINGS = (
    "{table}_y{YYYY}m{MM}",      # request_logs_y2025m01, pipeline_runs_y2024m03
    "{table}_{YYYY}_{MM}",       # access_logs_2024_01, learning_sessions_2025_01
    "{table}_p{YYYY}_{MM}",      # pg_partman 4 monthly
    "{table}_p{YYYY}{MM}01",     # pg_partman 5 (_pYYYYMMDD)
    "{table}_p{YYYY}{MM}",
    "{table}_{YYYY}{MM}",
    "{table}_{YYYY}m{MM}",
)
# The seeds' conventions (sql/README.md), used when a table has no monthly child yet.
KNOWN_NAMINGS = {
    "request_logs": "{table}_y{YYYY}m{MM}",
    "access_logs": "{table}_{YYYY}_{MM}",
    "pipeline_runs": "{table}_y{YYYY}m{MM}",
    "learning_sessions": "{table}_{YYYY}_{MM}",
}
FALLBACK_NAMING = "{table}_p{YYYY}_{MM}"


def partition_name(naming: str, table: str, month: date) -> str:
    """The child's name for ``month``, kept within PostgreSQL's 63-byte identifier limit by
    shortening the table part (never the month suffix), as pg_partman does."""
    suffix = naming.replace("{table}", "\x00").format(YYYY=f"{month.year:04d}", MM=f"{month.month:02d}")
    head, _, tail = suffix.partition("\x00")
    room = IDENTIFIER_MAX_BYTES - len(head.encode()) - len(tail.encode())
    t = table.encode()[:max(room, 0)].decode("utf-8", errors="ignore")
    return f"{head}{t}{tail}"


def detect_naming(table: str, children: list[tuple[str, date]]) -> tuple[str, str]:
    """(naming, how it was found) from existing monthly children ``(name, month)``."""
    best, hits = None, 0
    children = children[-24:]      # the newest two years say enough, and keep this O(1)
    for cand in CANDIDATE_NAMINGS:
        n = sum(1 for name, m in children if partition_name(cand, table, m) == name)
        if n > hits:
            best, hits = cand, n
    if best:
        return best, f"detected from {hits} of {len(children)} monthly partitions"
    if table in KNOWN_NAMINGS:
        return KNOWN_NAMINGS[table], "the seeds' convention (no monthly partition to detect from)"
    return FALLBACK_NAMING, "default (no monthly partition to detect from)"


# ------------------------------------------------------------------ policy


@dataclass(frozen=True)
class Policy:
    """pg_partman's part_config, per table. ``retention`` in months (None: keep all):
    partitions wholly older than the current month minus ``retention`` months go."""

    premake: int = 3
    retention: int | None = None
    retention_keep_table: bool = False      # detach only, keep the table
    retention_schema: str | None = None     # move detached partitions into this schema
    naming: str | None = None               # override, e.g. "{table}_y{YYYY}m{MM}"

    def __post_init__(self) -> None:
        if self.premake < 0:
            raise ValueError("premake must be >= 0")
        if self.retention is not None and self.retention < 0:
            raise ValueError("retention must be >= 0 months")
        if self.naming is not None and not all(p in self.naming for p in ("{YYYY}", "{MM}")):
            raise ValueError("naming must contain {YYYY} and {MM}")


def policy_for(policies: dict[str, Policy] | None, target: str, schema: str, table: str,
               default: Policy | None = None) -> Policy:
    """Most specific first: ``target.schema.table``, ``target.table``, ``schema.table``,
    ``table``, then ``*``."""
    policies = policies or {}
    for key in (f"{target}.{schema}.{table}", f"{target}.{table}", f"{schema}.{table}", table, "*"):
        if key in policies:
            return policies[key]
    return default or Policy()


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
    lower: datetime | None = None
    upper: datetime | None = None
    is_default: bool = False
    understood: bool = True
    est_rows: int | None = None         # reltuples; None when never analysed
    size_bytes: int = 0
    indexes: tuple[IndexInfo, ...] = ()
    detach_pending: bool = False

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
    lower: datetime
    upper: datetime

    @property
    def months(self) -> list[date]:
        return months_in(self.lower, self.upper)


@dataclass(frozen=True)
class Coverage:
    first: datetime | None              # lowest lower bound
    last: datetime | None               # highest upper bound
    horizon: int                        # months fully covered after the current month
    current_covered: bool
    missing_ahead: tuple[date, ...]     # current .. current+premake without a partition
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
    default_rows: dict[date, int] | None  # exact count per UTC month (None: not counted)
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
        """Monthly maintenance applies: a single-column RANGE key on a time type."""
        return (self.strategy == "range" and self.key_column is not None
                and (self.key_type or "").split("(")[0] in ("timestamp with time zone", "timestamp without time zone",
                                                             "date"))

    def partition_name(self, month: date) -> str:
        return partition_name(self.naming, self.name, month)

    def partition_for_month(self, month: date) -> Partition | None:
        lo, hi = month_start(month), month_start(add_months(month, 1))
        for p in self.partitions:
            if p.lower is not None and p.upper is not None and p.lower < hi and p.upper > lo:
                return p
        return None

    def attention(self) -> list[str]:
        """What needs a DBA, in words (empty when all is well)."""
        c = self.coverage
        out = []
        if c.missing_ahead:
            out.append(f"{len(c.missing_ahead)} month(s) missing ahead")
        if c.gaps:
            out.append(f"{sum(len(g.months) for g in c.gaps)} month(s) in gaps")
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
    """Partitions whose upper bound is at or before this instant are past retention: the
    current month and the ``retention`` months before it are kept."""
    if retention is None:
        return None
    return month_start(add_months(now_month, -retention))


def compute_coverage(partitions: list[Partition] | tuple[Partition, ...], now_month: date,
                     policy: Policy) -> Coverage:
    ranged = sorted((p for p in partitions if p.understood and not p.is_default
                     and (p.lower is not None or p.upper is not None)),
                    key=lambda p: (p.lower or datetime.min.replace(tzinfo=timezone.utc)))
    covered: set[date] = set()
    for p in ranged:
        covered.update(months_in(p.lower, p.upper))
    gaps: list[Gap] = []
    overlaps: list[tuple[str, str]] = []
    for a, b in zip(ranged, ranged[1:]):
        if a.upper is None or b.lower is None:
            continue
        if a.upper < b.lower:
            gaps.append(Gap(a.upper, b.lower))
        elif a.upper > b.lower:
            overlaps.append((a.name, b.name))

    def covers(month: date) -> bool:
        lo, hi = month_start(month), month_start(add_months(month, 1))
        return any((p.lower is None or p.lower <= lo) and (p.upper is None or p.upper >= hi) for p in ranged) \
            or _covered_by_union(ranged, lo, hi)

    current_covered = covers(now_month)
    horizon = 0
    while horizon < 240 and covers(add_months(now_month, horizon + 1)):
        horizon += 1
    missing = tuple(m for m in (add_months(now_month, k) for k in range(policy.premake + 1)) if not covers(m))
    past: list[str] = []
    cutoff = retention_cutoff(now_month, policy.retention)
    if cutoff is not None and ranged:
        newest = max(ranged, key=lambda p: (p.upper is None, p.upper or p.lower))
        past = [p.name for p in ranged if p is not newest and p.upper is not None and p.upper <= cutoff]
    first = ranged[0].lower if ranged else None
    last = max((p.upper for p in ranged if p.upper is not None), default=None)
    return Coverage(first=first, last=last, horizon=horizon, current_covered=current_covered,
                    missing_ahead=missing, gaps=tuple(gaps), overlaps=tuple(overlaps),
                    past_retention=tuple(past), covered_months=frozenset(covered))


def _covered_by_union(ranged: list[Partition], lo: datetime, hi: datetime) -> bool:
    """A month covered by several adjacent partitions (e.g. weekly children)."""
    point = lo
    for p in ranged:
        if p.lower is not None and p.lower > point:
            continue
        if p.upper is None:
            return True
        if p.upper > point:
            point = p.upper
            if point >= hi:
                return True
    return False


def make_table(*, target: str, schema: str, name: str, partitions: list[Partition], now: datetime | date,
               policy: Policy | None = None, strategy: str = "range", key_def: str = "",
               key_column: str | None = None, key_type: str | None = "timestamp with time zone",
               default_rows: dict[date, int] | None = None, default_count_error: str | None = None,
               columns: tuple[str, ...] = (), fks: tuple[ForeignKeyRef, ...] = (),
               server_version: int = 180000) -> TableInfo:
    """Build a TableInfo from catalog facts: detects the naming, computes coverage and
    retention. Used by discovery and by the UI's fixed fakes alike."""
    policy = policy or Policy()
    now_month = month_of(now)
    default = next((p for p in partitions if p.is_default), None)
    pending = tuple(p for p in partitions if p.detach_pending)
    children = sorted((p for p in partitions if not p.is_default and not p.detach_pending),
                      key=lambda p: (p.lower is not None, p.lower or datetime.min.replace(tzinfo=timezone.utc), p.name))
    if policy.naming:
        naming, source = policy.naming, "configured"
    else:
        naming, source = detect_naming(name, [(p.name, p.month) for p in children if p.monthly])
    cov = compute_coverage(children, now_month, policy)
    return TableInfo(target=target, schema=schema, name=name, strategy=strategy,
                     key_def=key_def or f"RANGE ({key_column})", key_column=key_column, key_type=key_type,
                     partitions=tuple(children), default=default, default_rows=default_rows,
                     default_count_error=default_count_error, columns=columns, fks=fks, naming=naming,
                     naming_source=source, policy=policy, now_month=now_month, coverage=cov,
                     server_version=server_version, pending_detach=pending)


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
