"""A partition set's interval, told from its children's bounds: hourly, daily, weekly,
monthly, quarterly, yearly (in the zone the children are aligned to) or integer ranges with
their step; and the naming that goes with it (pg_partman's suffixes included). Pure: no I/O.

A *slot* is one partition's worth of key space, identified by its lower bound: an aware
datetime (reported in UTC) for time keys, an int for integer keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Slot = Union[datetime, int]
UTC = timezone.utc
TIME_UNITS = ("hour", "day", "week", "month", "quarter", "year")
# what pg_partman calls them (part_config.partition_interval, create_parent's p_interval)
PARTMAN_NAMES = {"hour": "1 hour", "day": "1 day", "week": "1 week", "month": "1 mon", "quarter": "3 mons",
                 "year": "1 year"}


def zone(name: str | None) -> tzinfo:
    if not name or name.upper() in ("UTC", "GMT", "ETC/UTC", "Z"):
        return UTC
    if name.startswith(("+", "-")) and ":" in name:          # fixed offset, e.g. "+09:00"
        sign = -1 if name[0] == "-" else 1
        h, m = name[1:].split(":")
        return timezone(sign * timedelta(hours=int(h), minutes=int(m)))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def zone_name(tz: tzinfo) -> str:
    if tz is UTC:
        return "UTC"
    if isinstance(tz, ZoneInfo):
        return tz.key
    off = tz.utcoffset(None) or timedelta(0)
    sign = "-" if off < timedelta(0) else "+"
    mins = abs(int(off.total_seconds())) // 60
    return f"{sign}{mins // 60:02d}:{mins % 60:02d}"


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


@dataclass(frozen=True)
class Interval:
    unit: str                       # hour day week month quarter year | int
    step: int = 1                   # int: the range width; time: always 1
    tz_name: str = "UTC"            # the zone the time boundaries are aligned in
    anchor: int = 0                 # int: lower bounds are anchor + k * step

    @property
    def is_time(self) -> bool:
        return self.unit != "int"

    @property
    def tz(self) -> tzinfo:
        return zone(self.tz_name)

    @property
    def word(self) -> str:
        """hourly / daily / … / "integer, step 1000" (what the screen shows)."""
        if self.unit == "int":
            return f"integer, step {self.step:,}"
        w = {"hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly",
             "year": "yearly"}[self.unit]
        return w if self.tz_name == "UTC" else f"{w} ({self.tz_name})"

    # ---------------------------------------------------------------- arithmetic

    def floor(self, x: Slot) -> Slot:
        """The slot containing ``x``."""
        if self.unit == "int":
            return self.anchor + ((int(x) - self.anchor) // self.step) * self.step
        loc = x.astimezone(self.tz) if self.tz_name != "UTC" or x.tzinfo is not UTC else x
        if self.unit == "hour":
            d = datetime(loc.year, loc.month, loc.day, loc.hour)
        elif self.unit == "day":
            d = datetime(loc.year, loc.month, loc.day)
        elif self.unit == "week":
            d0 = loc.date() - timedelta(days=loc.weekday())
            d = datetime(d0.year, d0.month, d0.day)
        elif self.unit == "month":
            d = datetime(loc.year, loc.month, 1)
        elif self.unit == "quarter":
            d = datetime(loc.year, (loc.month - 1) // 3 * 3 + 1, 1)
        else:
            d = datetime(loc.year, 1, 1)
        return self._utc(d)

    def _utc(self, naive_local: datetime) -> datetime:
        if self.tz_name == "UTC":
            return naive_local.replace(tzinfo=UTC)
        return naive_local.replace(tzinfo=self.tz).astimezone(UTC)

    def from_local(self, naive_local: datetime) -> datetime:
        """A slot start the server computed as a local timestamp (``date_trunc`` in the zone)."""
        return self._utc(naive_local)

    def add(self, slot: Slot, n: int) -> Slot:
        if self.unit == "int":
            return int(slot) + n * self.step
        if self.tz_name == "UTC":           # the common case, without zone conversions
            if self.unit in ("hour", "day", "week"):
                return slot + timedelta(hours=n) if self.unit == "hour" else \
                    slot + timedelta(days=n * (7 if self.unit == "week" else 1))
            d = _add_months(slot.date().replace(day=1), n * {"month": 1, "quarter": 3, "year": 12}[self.unit])
            return datetime(d.year, d.month, 1, tzinfo=UTC)
        loc = slot.astimezone(self.tz).replace(tzinfo=None)
        if self.unit == "hour":
            # whole hours in UTC (a local wall clock repeats or skips at DST changes)
            return slot + timedelta(hours=n)
        if self.unit in ("day", "week"):
            return self._utc(loc + timedelta(days=n * (7 if self.unit == "week" else 1)))
        months = n * {"month": 1, "quarter": 3, "year": 12}[self.unit]
        d = _add_months(loc.date().replace(day=1), months)
        return self._utc(datetime(d.year, d.month, 1))

    def upper(self, slot: Slot) -> Slot:
        return self.add(slot, 1)

    def between(self, a: Slot, b: Slot) -> int:
        """Whole slots from ``a`` to ``b`` (both slot starts)."""
        if self.unit == "int":
            return (int(b) - int(a)) // self.step
        n, s = 0, a
        if b >= a:
            while s < b and n < 100_000:
                s, n = self.add(s, 1), n + 1
            return n
        while s > b and n > -100_000:
            s, n = self.add(s, -1), n - 1
        return n

    def aligned(self, lo: Slot, hi: Slot) -> bool:
        """``[lo, hi)`` is exactly one slot."""
        try:
            return self.floor(lo) == lo and self.upper(lo) == hi
        except (OverflowError, ValueError):
            return False

    def label(self, slot: Slot) -> str:
        if self.unit == "int":
            return f"{int(slot):,} … {int(slot) + self.step - 1:,}"
        loc = slot.astimezone(self.tz)
        if self.unit == "hour":
            return f"{loc:%Y-%m-%d %H:00}"
        if self.unit == "day":
            return f"{loc:%Y-%m-%d}"
        if self.unit == "week":
            y, w, _ = loc.isocalendar()
            return f"{y}-W{w:02d}"
        if self.unit == "month":
            return f"{loc:%Y-%m}"
        if self.unit == "quarter":
            return f"{loc.year}-Q{(loc.month - 1) // 3 + 1}"
        return f"{loc.year}"

    def fields(self, slot: Slot) -> dict[str, str]:
        if self.unit == "int":
            return {"N": str(int(slot))}
        loc = slot.astimezone(self.tz)
        iy, iw, _ = loc.isocalendar()
        return {"YYYY": f"{loc.year:04d}", "MM": f"{loc.month:02d}", "DD": f"{loc.day:02d}",
                "HH": f"{loc.hour:02d}", "MI": f"{loc.minute:02d}", "IYYY": f"{iy:04d}", "IW": f"{iw:02d}",
                "Q": str((loc.month - 1) // 3 + 1)}


MONTHLY_UTC = Interval("month")

# ------------------------------------------------------------------ naming per interval

NAMINGS: dict[str, tuple[str, ...]] = {
    "hour": ("{table}_p{YYYY}_{MM}_{DD}_{HH}{MI}", "{table}_{YYYY}_{MM}_{DD}_{HH}", "{table}_{YYYY}{MM}{DD}{HH}"),
    "day": ("{table}_p{YYYY}_{MM}_{DD}", "{table}_{YYYY}_{MM}_{DD}", "{table}_{YYYY}{MM}{DD}",
            "{table}_y{YYYY}m{MM}d{DD}", "{table}_p{YYYY}{MM}{DD}"),
    "week": ("{table}_p{IYYY}w{IW}", "{table}_{IYYY}w{IW}", "{table}_{IYYY}_w{IW}"),
    "month": ("{table}_y{YYYY}m{MM}", "{table}_{YYYY}_{MM}", "{table}_p{YYYY}_{MM}", "{table}_p{YYYY}{MM}01",
              "{table}_p{YYYY}{MM}", "{table}_{YYYY}{MM}", "{table}_{YYYY}m{MM}"),
    "quarter": ("{table}_p{YYYY}q{Q}", "{table}_{YYYY}q{Q}", "{table}_{YYYY}_q{Q}"),
    "year": ("{table}_p{YYYY}", "{table}_{YYYY}", "{table}_y{YYYY}"),
    "int": ("{table}_p{N}", "{table}_{N}"),
}


def fallback_naming(unit: str) -> str:
    """pg_partman's own naming for the interval (a set with no child to detect from)."""
    return NAMINGS[unit][0]


def detect_interval(bounds: list[tuple[Slot, Slot]], *, integer: bool,
                    zones: tuple[str, ...] = ("UTC",)) -> tuple[Interval | None, str]:
    """(interval, how it was told) — or (None, why not) — from every child's ``(lower,
    upper)``. Time: the first of ``zones`` in which every child is exactly one hour / day /
    ISO week / month / quarter / year. Integer: one common width, one common anchor."""
    if not bounds:
        return None, "no range partition with both bounds to tell the interval from"
    if integer:
        widths = {int(hi) - int(lo) for lo, hi in bounds}
        if len(widths) != 1:
            return None, f"integer ranges of {len(widths)} different widths ({', '.join(map(str, sorted(widths)[:4]))})"
        step = widths.pop()
        if step <= 0:
            return None, "empty integer ranges"
        anchors = {int(lo) % step for lo, _ in bounds}
        if len(anchors) != 1:
            return None, f"integer ranges of width {step} not on one grid"
        return Interval("int", step=step, anchor=anchors.pop()), f"{len(bounds)} ranges of {step:,}"
    tried: list[str] = []
    for zn in dict.fromkeys(zones):
        try:
            zone(zn)
        except ValueError:
            continue
        tried.append(zn)
        for unit in TIME_UNITS:
            iv = Interval(unit, tz_name=zn)
            if all(iv.aligned(lo, hi) for lo, hi in bounds):
                return iv, f"every one of {len(bounds)} partition(s) is one {unit} in {zn}"
    return None, (f"the {len(bounds)} partition(s) are not all one hour, day, ISO week, month, quarter or year "
                  f"in {', '.join(tried) or 'UTC'}")


def offset_zone(moment: datetime) -> str | None:
    """The fixed zone in which ``moment`` is a local midnight (children aligned to a
    non-UTC zone: 2026-11-30 15:00 UTC is midnight at +09:00)."""
    t = moment.astimezone(UTC)
    secs = t.hour * 3600 + t.minute * 60 + t.second
    if secs == 0:
        return None
    off = -secs if secs <= 12 * 3600 else 24 * 3600 - secs
    sign = "-" if off < 0 else "+"
    off = abs(off)
    return f"{sign}{off // 3600:02d}:{off % 3600 // 60:02d}"
