"""Time-series charts: a time axis (UTC ``HH:MM`` / ``HH:MM:SS`` ticks), a value axis with
its unit, a legend — drawn by plotext through textual-plotext. Sparklines stay only inside
table cells.

The chart draws only what it is given (points with their own timestamps), never "now":
the same data gives the same picture, so snapshots of fixed data are deterministic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from textual_plotext import PlotextPlot

from ...core import text

COLORS = ("cyan", "orange", "green", "magenta", "blue", "red")


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[datetime, float | None], ...]


def time_ticks(t0: float, t1: float, n: int = 4) -> tuple[list[float], list[str]]:
    """``n`` evenly spaced ticks between ``t0`` and ``t1`` (epoch seconds), labelled in UTC;
    seconds shown only when the span is under ten minutes.

    >>> time_ticks(0, 3600, 3)
    ([0.0, 1800.0, 3600.0], ['00:00', '00:30', '01:00'])
    >>> time_ticks(0, 60, 2)[1]
    ['00:00:00', '00:01:00']
    """
    from datetime import timezone
    if t1 <= t0:
        t1 = t0 + 1
    spec = "%H:%M:%S" if t1 - t0 < 600 else "%H:%M"
    pos = [t0 + (t1 - t0) * i / (n - 1) for i in range(n)]
    return pos, [datetime.fromtimestamp(p, timezone.utc).strftime(spec) for p in pos]


def value_label(v: float, unit: str) -> str:
    """A value-axis tick with its unit: bytes scale to KiB/MiB/GiB, the rest stay short.

    >>> value_label(3 * 1024 ** 2, "bytes/s"), value_label(1234.5, "tx/s"), value_label(0.5, "ms")
    ('3.0 MiB/s', '1.2k tx/s', '0.5 ms')
    """
    if unit.startswith("bytes"):
        from ...core import format as fmt
        return fmt.size(v) + unit[len("bytes"):]
    a = abs(v)
    num = f"{v / 1e6:.1f}M" if a >= 1e6 else f"{v / 1e3:.1f}k" if a >= 1e3 else f"{v:.1f}" if a < 100 else f"{v:.0f}"
    return f"{num} {unit}".strip()


class TimeChart(PlotextPlot):
    """``set_series([...], unit="tx/s", title=...)`` and it redraws."""

    DEFAULT_CSS = """
    TimeChart { height: 1fr; min-height: 6; }
    """

    def __init__(self, *, title: str = "", unit: str = "", id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.unit = unit
        self.series: list[Series] = []

    def set_series(self, series: Sequence[Series], *, title: str | None = None, unit: str | None = None) -> None:
        self.series = list(series)
        if title is not None:
            self.title = title
        if unit is not None:
            self.unit = unit
        self._draw()

    def on_mount(self) -> None:
        super().on_mount()
        self._draw()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(text.visible(self.title))
        stamps = [p[0].timestamp() for s in self.series for p in s.points if p[1] is not None]
        if not stamps:
            plt.xticks([0, 1], ["", ""])
            plt.yticks([0, 1], ["", ""])
            self.refresh()
            return
        t0, t1 = min(stamps), max(stamps)
        for i, s in enumerate(self.series):
            pts = [(p[0].timestamp(), float(p[1])) for p in s.points if p[1] is not None]
            if not pts:
                continue
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            plt.plot(xs, ys, label=text.visible(s.label), color=COLORS[i % len(COLORS)],
                     marker="braille")
        pos, labels = time_ticks(t0, t1, 4 if self.size.width >= 40 or self.size.width == 0 else 2)
        plt.xticks(pos, labels)
        values = [float(p[1]) for s in self.series for p in s.points if p[1] is not None]
        lo, hi = min(values), max(values)
        if hi == lo:               # a constant series is a flat line in the middle, not a full bar
            lo, hi = (lo - 1, hi + 1) if lo == 0 else (lo * 0.5, hi * 1.5) if lo > 0 else (lo * 1.5, hi * 0.5)
        lo = min(0.0, lo)
        plt.ylim(lo, hi)
        ticks = [lo + (hi - lo) * i / 3 for i in range(4)]
        plt.yticks(ticks, [value_label(v, self.unit) for v in ticks])
        self.refresh()
