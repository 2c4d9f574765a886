"""Time-series charts: a time axis (UTC ``HH:MM`` / ``HH:MM:SS`` ticks), a value axis with
its unit, a legend — drawn by plotext through textual-plotext. Sparklines stay only inside
table cells.

The chart draws only what it is given (points with their own timestamps), never "now":
the same data gives the same picture, so snapshots of fixed data are deterministic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from ...core import text
from .show import show

COLORS = ("cyan", "orange", "green", "magenta", "blue", "red")               # plotext's names
RICH_COLORS = ("cyan", "dark_orange", "green", "magenta", "blue", "red")    # the same, for the legend


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


def value_range(values: Sequence[float]) -> tuple[float, float]:
    """The value axis: from zero (or the lowest negative) to the highest value; a constant
    series gets room above it, so it is a line at two thirds of the height, never a
    full-height bar.

    >>> value_range([3.0, 9.0]), value_range([46.0, 46.0]), value_range([0.0]), value_range([-2.0, 4.0])
    ((0.0, 9.0), (0.0, 69.0), (0.0, 1.0), (-2.0, 4.0))
    """
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = (0.0, 1.0) if lo == 0 else (lo * 0.5, hi * 1.5) if lo > 0 else (lo * 1.5, hi * 0.5)
    return min(0.0, lo), hi


class _Plot(PlotextPlot):
    """The figure is rebuilt from the series at every render (on a cleared figure): plotext
    keeps layout state between builds, so a figure drawn once and rendered at a passing
    size first and the final size later came out one column off, now and then."""

    DEFAULT_CSS = """
    _Plot { height: 1fr; }
    """

    def render(self) -> Any:
        chart = self.parent
        if isinstance(chart, TimeChart):
            chart._figure(self.plt)
        return super().render()


class TimeChart(Vertical):
    """``set_series([...], unit="tx/s", title=...)`` and it redraws. One line on top holds
    the title and the legend (each label in its line's colour), so the plot keeps every
    row below for the data even at 80x24. Points whose value is None are gaps (a failed or
    first sample), never zeros; no points at all draw an empty frame with "no data"; a
    constant series is a line at two thirds of the height; a single point sits in the
    middle of a minute."""

    DEFAULT_CSS = """
    TimeChart { height: 1fr; min-height: 6; }
    TimeChart > .chart-legend { height: 1; width: 100%; padding: 0 1; }
    """

    def __init__(self, *, title: str = "", unit: str = "", id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.unit = unit
        self.series: list[Series] = []

    def compose(self) -> ComposeResult:
        yield Static("", classes="chart-legend")
        yield _Plot()

    @property
    def plt(self) -> Any:
        return self.query_one(_Plot).plt

    def set_series(self, series: Sequence[Series], *, title: str | None = None, unit: str | None = None) -> None:
        self.series = list(series)
        if title is not None:
            self.title = title
        if unit is not None:
            self.unit = unit
        self._draw()

    def on_mount(self) -> None:
        self._draw()

    def legend(self) -> Text:
        """The title, then each series' colour swatch and label (labels are data: plain)."""
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append_text(text.plain(self.title, "bold"))
        drawn = [s for s in self.series if any(p[1] is not None for p in s.points)]
        if not drawn:
            t.append("  no data", style="dim")
        for i, s in enumerate(self.series):
            if s in drawn:
                t.append("  ■ ", style=RICH_COLORS[i % len(RICH_COLORS)])
                t.append_text(text.plain(s.label))
        return t

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        show(self.query_one(".chart-legend", Static), self.legend())     # one line: no layout
        self.query_one(_Plot).refresh()

    def _figure(self, plt: Any) -> None:
        """Plotext calls for the current series (at render time, on the UI thread: a few
        hundred points, no I/O)."""
        plt.clear_data()
        plt.clear_figure()
        plt.xaxes(True, False)     # no top or right frame line: one more row for the data
        plt.yaxes(True, False)
        stamps = [p[0].timestamp() for s in self.series for p in s.points if p[1] is not None]
        if not stamps:
            plt.xticks([0, 1], ["", ""])
            plt.yticks([0, 1], ["", ""])
            return
        t0, t1 = min(stamps), max(stamps)
        if t1 - t0 < 1:            # a single moment: the point in the middle of a minute
            t0, t1 = t0 - 30, t1 + 30
        for i, s in enumerate(self.series):
            pts = [(p[0].timestamp(), float(p[1])) for p in s.points if p[1] is not None]
            if not pts:
                continue
            plt.plot([p[0] - t0 for p in pts], [p[1] for p in pts], color=COLORS[i % len(COLORS)],
                     marker="hd")   # quadrant blocks: cell-wide in more fonts than braille
        # the ends and the middle when there is room for three labels (plotext rounds an
        # inner tick's column; the middle one of a span lands on the same column every run)
        ends = time_ticks(t0, t1, 2)
        room = 3 * (len(ends[1][0]) + 4) + 12      # three labels, spaced, right of the value axis
        pos, labels = time_ticks(t0, t1, 3) if (self.size.width or 80) >= room else ends
        plt.xticks([x - t0 for x in pos], labels)        # x in seconds from the start
        plt.xlim(0, t1 - t0)       # plotext pads past the last point otherwise
        lo, hi = value_range([float(p[1]) for s in self.series for p in s.points if p[1] is not None])
        plt.ylim(lo, hi)
        ticks = [lo + (hi - lo) * i / 2 for i in range(3)]
        plt.yticks(ticks, [value_label(v, self.unit) for v in ticks])
