"""Sparklines, and the old names of sizes and durations (console.core.format spells them)."""

from __future__ import annotations

from .. import format as fmt

from typing import Sequence




# --------------------------------------------------------------------------- formatting

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float | None]) -> str:
    """Unicode block sparkline; None is a gap (space).

    >>> sparkline([0, 1, 2, 3, None, 7])
    '▁▂▃▄ █'
    """
    nums = [v for v in values if v is not None]
    if not nums:
        return " " * len(values)
    lo, hi = min(nums), max(nums)
    span = hi - lo
    return "".join(" " if v is None else SPARK[0 if span == 0 else int((v - lo) / span * (len(SPARK) - 1))]
                   for v in values)


def human_bytes(n: float) -> str:
    """The old name of :func:`console.core.format.size` (one spelling everywhere).

    >>> human_bytes(1536), human_bytes(3 * 1024 ** 3)
    ('1.5 KiB', '3.0 GiB')
    """
    return fmt.size(n)


def human_seconds(s: float | None) -> str:
    """The old name of :func:`console.core.format.duration`.

    >>> human_seconds(4.2), human_seconds(125), human_seconds(7300)
    ('4.2s', '2m05s', '2h01m')
    """
    return fmt.duration(s)
