"""Bounds and months: ``pg_get_expr(relpartbound)`` parsed into slots, bounds shown as a DBA
reads them, and the UTC month helpers older callers speak. Pure: no I/O."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING

from .interval import Interval, Slot

if TYPE_CHECKING:
    from .model import Partition

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


def human_bytes(n: int | None) -> str:
    if n is None:
        return "—"
    f = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if f < 1024 or unit == "TB":
            return f"{f:,.0f} {unit}" if unit == "B" else f"{f:,.1f} {unit}"
        f /= 1024
    return f"{n} B"
