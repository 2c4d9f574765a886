"""One spelling for every number a person reads: sizes, durations, TTLs, ages and times.

Every screen and every CLI text output formats through here, so 1536 bytes is "1.5 KiB"
everywhere and 200,000 seconds is "2d07h" everywhere.

- :func:`size`: binary units (1024), the IEC names so the unit says what it means:
  ``B, KiB, MiB, GiB, TiB``; one decimal above bytes.
- :func:`duration`: the two largest units, zero-padded second one: ``4.2s``, ``2m05s``,
  ``2h01m``, ``2d07h``. Sub-minute keeps one decimal (query times); :func:`ttl` does not.
- :func:`ttl`: a Redis/DynamoDB TTL in whole seconds; ``None`` is "none", a negative
  value "gone" (the key no longer exists).
- :func:`age`: how long ago, for the stale/age indicator: ``now``, ``12s``, ``3m05s``.
- :func:`clock` / :func:`timestamp` / :func:`short_timestamp`: UTC wall times.
- :func:`count` / :func:`compact`: thousands separators, and ``18.2k`` where space is short.
"""

from __future__ import annotations

from datetime import datetime, timezone

DASH = "—"
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def size(n: float | None) -> str:
    """
    >>> size(1536), size(0), size(3 * 1024 ** 3), size(None)
    ('1.5 KiB', '0 B', '3.0 GiB', '—')
    """
    if n is None:
        return DASH
    f = float(n)
    for unit in _UNITS:
        if abs(f) < 1024 or unit == _UNITS[-1]:
            return f"{f:,.0f} {unit}" if unit == "B" else f"{f:,.1f} {unit}"
        f /= 1024
    return f"{f:,.1f} {_UNITS[-1]}"  # pragma: no cover - the loop always returns


def _two_units(s: int) -> str:
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def duration(seconds: float | None) -> str:
    """
    >>> duration(4.2), duration(125), duration(7300), duration(200_000), duration(None)
    ('4.2s', '2m05s', '2h01m', '2d07h', '—')
    """
    if seconds is None:
        return DASH
    if seconds < 60:
        return f"{seconds:.1f}s"
    return _two_units(int(seconds))


def ttl(seconds: int | None) -> str:
    """
    >>> ttl(None), ttl(-2), ttl(45), ttl(3600), ttl(200_000)
    ('none', 'gone', '45s', '1h00m', '2d07h')
    """
    if seconds is None:
        return "none"
    if seconds < 0:
        return "gone"
    return _two_units(int(seconds))


def ttl_until(epoch_s: int | None, now: datetime) -> str:
    """A TTL given as an expiry time (DynamoDB ``ttl`` attribute): what is left of it.

    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> ttl_until(int(now.timestamp()) + 200_000, now), ttl_until(0, now), ttl_until(None, now)
    ('2d07h', 'expired', '—')
    """
    if epoch_s is None:
        return DASH
    left = int(epoch_s - now.timestamp())
    return "expired" if left <= 0 else _two_units(left)


def age(seconds: float | None) -> str:
    """How long ago: ``now`` under a second, then whole units.

    >>> age(0.4), age(12), age(185), age(None)
    ('now', '12s', '3m05s', '—')
    """
    if seconds is None:
        return DASH
    if seconds < 1:
        return "now"
    return _two_units(int(seconds))


def clock(moment: datetime | None) -> str:
    """``HH:MM:SS`` in UTC."""
    if moment is None:
        return DASH
    return f"{_utc(moment):%H:%M:%S}"


def timestamp(moment: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC."""
    if moment is None:
        return DASH
    return f"{_utc(moment):%Y-%m-%d %H:%M:%S}"


def short_timestamp(value: datetime | str | None) -> str:
    """``MM-DD HH:MM:SS``; an ISO string is parsed (as stored, no zone conversion), anything
    unparsable is given back cut to 14 characters.

    >>> short_timestamp("2026-11-22T09:00:01+00:00"), short_timestamp("soon"), short_timestamp(None)
    ('11-22 09:00:01', 'soon', '')
    """
    if not value:
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value[:14]
        return f"{moment:%m-%d %H:%M:%S}"
    return f"{value:%m-%d %H:%M:%S}"


def count(n: int | None) -> str:
    return DASH if n is None else f"{n:,}"


def compact(n: int | None) -> str:
    """
    >>> compact(18240), compact(220), compact(3_400_000)
    ('18.2k', '220', '3.4M')
    """
    if n is None:
        return DASH
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.1f}k"
    return f"{n:,}"


def percent(ratio: float | None, digits: int = 1) -> str:
    """
    >>> percent(0.987), percent(None)
    ('98.7%', '—')
    """
    return DASH if ratio is None else f"{ratio:.{digits}%}"


def number(v: float | None, fmt: str = ",.1f") -> str:
    return DASH if v is None else format(v, fmt)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(timezone.utc)
