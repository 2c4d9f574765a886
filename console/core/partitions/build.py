"""TableInfo from catalog facts: the interval told, the naming detected, coverage (horizon,
gaps, overlaps) and retention computed in that interval. Pure: no I/O. Used by discovery
and by the UI's fixed fakes alike."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from .interval import Interval, Slot, detect_interval
from .model import FALLBACK_NAMING, KNOWN_NAMINGS, Coverage, ForeignKeyRef, Gap, Partition, PartmanConfig, \
    Policy, TableInfo, detect_naming_for, month_of, month_start, months_in

_NOW = object()


def compute_coverage(partitions, now_slot: Slot | None, policy: Policy, interval: Interval | None,
                     cutoff: Slot | None = None, premake_from=_NOW) -> Coverage:
    """``premake_from``: the interval premake is counted from (default: ``now_slot``; None:
    no premake, e.g. an empty set that counts from its newest row)."""
    if premake_from is _NOW:
        premake_from = now_slot
    ranged = [p for p in partitions if p.understood and not p.is_default and (p.lower is not None or p.upper is not None)]
    ranged.sort(key=lambda p: (p.lower is not None, p.lower if p.lower is not None else 0))
    covered: set[date] = set()
    for p in ranged:
        covered.update(months_in(p.lower, p.upper))
    gaps: list[Gap] = []
    overlaps: list[tuple[str, str]] = []
    for a, b in zip(ranged, ranged[1:]):
        if a.upper is None or b.lower is None:
            continue
        if a.upper < b.lower:
            slots: list[Slot] = []
            if interval is not None:
                s = interval.floor(a.upper)
                while s < b.lower and len(slots) < 10_000:
                    if s >= a.upper and interval.upper(s) <= b.lower:
                        slots.append(s)
                    s = interval.add(s, 1)
            gaps.append(Gap(a.upper, b.lower, tuple(slots)))
        elif a.upper > b.lower:
            overlaps.append((a.name, b.name))

    def covers(slot: Slot) -> bool:
        return _covered_by_union(ranged, slot, interval.upper(slot))

    missing: tuple = ()
    horizon, current_covered = 0, False
    if interval is not None and now_slot is not None:
        current_covered = covers(now_slot)
        while horizon < 1000 and covers(interval.add(now_slot, horizon + 1)):
            horizon += 1
    if interval is not None and premake_from is not None:
        missing = tuple(s for s in (interval.add(premake_from, k) for k in range(policy.premake + 1))
                        if not covers(s))
    past: list[str] = []
    if cutoff is not None and ranged:
        newest = max(ranged, key=lambda p: (p.upper is None, p.upper if p.upper is not None else 0))
        past = [p.name for p in ranged if p is not newest and p.upper is not None and p.upper <= cutoff]
    first = ranged[0].lower if ranged else None
    last = max((p.upper for p in ranged if p.upper is not None), default=None)
    return Coverage(first=first, last=last, horizon=horizon, current_covered=current_covered,
                    missing_ahead=SlotTuple(missing), gaps=tuple(gaps), overlaps=tuple(overlaps),
                    past_retention=tuple(past), covered_months=frozenset(covered))


def _covered_by_union(ranged: list[Partition], lo, hi) -> bool:
    """[lo, hi) covered by one or several adjacent partitions."""
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


class SlotTuple(tuple):
    """Slots that also answer ``month_date in …`` (the month-strip widget speaks UTC months)."""

    def __contains__(self, k) -> bool:
        return tuple.__contains__(self, _slot_key(k))


class SlotDict(dict):
    """Counts per slot that also answer ``.get(month_date)`` (as SlotTuple)."""

    def get(self, k, default=None):
        return dict.get(self, _slot_key(k), default)

    def __contains__(self, k) -> bool:
        return dict.__contains__(self, _slot_key(k))


def _slot_key(k):
    """Month ``date`` keys (older callers, fixed fakes) as the slot they mean; date.min: NULL."""
    if isinstance(k, date) and not isinstance(k, datetime):
        return None if k == date.min else month_start(k)
    return k


TIME_TYPES = ("timestamp with time zone", "timestamp without time zone", "date")
INT_TYPES = ("bigint", "integer", "smallint")


def _why_not(strategy: str, key_column: str | None, key_type: str | None) -> str | None:
    if strategy != "range":
        return f"{strategy.upper()} partitioning: no interval to create partitions in"
    if key_column is None:
        return "the key is not a single plain column"
    if (key_type or "").split("(")[0] not in TIME_TYPES + INT_TYPES:
        return f"a {key_type} key: neither a time nor an integer range"
    return None


def tell_interval(partitions, *, strategy: str, key_column: str | None, key_type: str | None,
                  zones: tuple[str, ...] = ("UTC",), name: str = "",
                  partman: PartmanConfig | None = None) -> tuple[Interval | None, str]:
    """The interval of a set from its children (see interval.detect_interval); with no child
    to tell from, a seeds' table is monthly (UTC)."""
    why = _why_not(strategy, key_column, key_type)
    if why:
        return None, why
    integer = (key_type or "") in INT_TYPES
    bounds = [(p.lower, p.upper) for p in partitions if not p.is_default and p.understood
              and p.lower is not None and p.upper is not None]
    if not bounds and not integer and name in KNOWN_NAMINGS:
        return Interval("month", tz_name=zones[0] if zones else "UTC"), "the seeds' monthly convention (no partition yet)"
    if (key_type or "") == "date" or (key_type or "").startswith("timestamp without"):
        zones = ("UTC",)
    return detect_interval(bounds, integer=integer, zones=zones)


def make_table(*, target: str, schema: str, name: str, partitions: list[Partition], now: datetime | date,
               policy: Policy | None = None, strategy: str = "range", key_def: str = "",
               key_column: str | None = None, key_type: str | None = "timestamp with time zone",
               default_rows: dict | None = None, default_count_error: str | None = None,
               columns: tuple[str, ...] = (), fks: tuple[ForeignKeyRef, ...] = (),
               server_version: int = 180000, interval: Interval | None = None, interval_source: str = "",
               zones: tuple[str, ...] = ("UTC",), max_key: Slot | None = None,
               max_child_key: Slot | None = None, partman: PartmanConfig | None = None) -> TableInfo:
    """Build a TableInfo from catalog facts: tells the interval, detects the naming,
    computes coverage and retention. Used by discovery and by the UI's fixed fakes alike.

    ``max_key``: the newest key as pg_partman's premake takes it (the children's, or the
    default partition's when higher); ``max_child_key``: the children's only (pg_partman's
    id retention counts from it). Integer sets count premake from ``max_key``; time sets only
    when ``infinite_time_partitions`` is off (see Policy)."""
    policy = policy or Policy()
    if default_rows:
        default_rows = SlotDict({_slot_key(k): n for k, n in default_rows.items()})
    fks = tuple(replace(fk, moving_refs=tuple((_slot_key(k), n) for k, n in fk.moving_refs))
                if fk.moving_refs else fk for fk in fks)
    now_dt = now if isinstance(now, datetime) else datetime(now.year, now.month, now.day, tzinfo=timezone.utc)
    now_month = month_of(now)
    default = next((p for p in partitions if p.is_default), None)
    pending = tuple(p for p in partitions if p.detach_pending)
    children = sorted((p for p in partitions if not p.is_default and not p.detach_pending),
                      key=lambda p: (p.lower is not None, p.lower if p.lower is not None else 0, p.name))
    if interval is None:
        interval, interval_source = tell_interval(children, strategy=strategy, key_column=key_column,
                                                  key_type=key_type, zones=zones, name=name, partman=partman)
    why_not = None if interval is not None else interval_source
    subs = {p.sub_partitioned for p in children if p.sub_partitioned}
    sub = next(iter(subs)) if subs else None
    if sub and why_not is None:
        why_not = (f"sub-partitioned ({sub}): new children would need the same sub-partitioning, "
                   "which the console does not create")
    managed = "pg_partman" if partman is not None else None
    if partman is not None and not policy.take_over_partman and why_not is None:
        why_not = "managed by pg_partman (part_config); set take_over_partman to maintain it here"
    take_over = partman is not None and policy.take_over_partman
    if take_over:
        # part_config's settings, all of them: its retention is an interval or a number of
        # ids, not a count of intervals (the cutoff below comes from it)
        policy = replace(policy, premake=partman.premake, retention_keep_table=partman.retention_keep_table,
                         retention_schema=partman.retention_schema,
                         retention=None if partman.retention is None else policy.retention,
                         infinite_time_partitions=partman.infinite_time_partitions)
    now_slot: Slot | None = None
    if interval is not None:
        if interval.is_time:
            now_slot = interval.floor(now_dt)
        elif max_key is not None:
            now_slot = interval.floor(max_key)
    premake_from = now_slot
    if interval is not None and interval.is_time and not policy.infinite_time_partitions:
        premake_from = interval.floor(max_key) if max_key is not None else None
    if policy.naming:
        naming, source = policy.naming, "configured"
    elif interval is not None:
        naming, source = detect_naming_for(interval, name, [(p.name, p.lower) for p in children
                                                            if p.lower is not None and p.upper is not None
                                                            and interval.aligned(p.lower, p.upper)])
    else:
        naming, source = FALLBACK_NAMING, "not maintained"
    cutoff: Slot | None = None
    if take_over:
        if interval is not None and interval.is_time:
            cutoff = partman.retention_cutoff          # now() - retention, computed by the server
        elif partman.id_retention() is not None and max_child_key is not None:
            # drop_partition_id: a child goes when retention <= max(id) - its upper bound
            cutoff = int(max_child_key) - partman.id_retention()
    elif policy.retention is not None and now_slot is not None:
        cutoff = interval.add(now_slot, -policy.retention)
    cov = compute_coverage(children, now_slot if why_not is None else None, policy, interval, cutoff,
                           premake_from=premake_from if why_not is None else None)
    if why_not is not None:
        cov = replace(cov, past_retention=())
    return TableInfo(target=target, schema=schema, name=name, strategy=strategy,
                     key_def=key_def or f"RANGE ({key_column})", key_column=key_column, key_type=key_type,
                     partitions=tuple(children), default=default, default_rows=default_rows,
                     default_count_error=default_count_error, columns=columns, fks=fks, naming=naming,
                     naming_source=source, policy=policy, now_month=now_month, coverage=cov,
                     server_version=server_version, pending_detach=pending, interval=interval,
                     interval_source=interval_source, now_slot=now_slot, not_maintained=why_not,
                     managed_by=managed, partman=partman, retention_cutoff=cutoff, sub_partitioned=sub,
                     max_key=max_key, max_child_key=max_child_key, premake_from=premake_from)
