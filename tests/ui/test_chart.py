"""The time-series chart (console.ui.widgets.chart) on the cases a series can be in: two
series with a gap (a failed sample is a gap, not a zero), a constant series (a line at two
thirds of the height, not a full-height bar), a single point (in the middle of its
minute), no data at all (an empty frame that says so). One snapshot of the four at 80x24
(reviewed SVG in __snapshots__) and the axis/legend facts asserted directly."""

from __future__ import annotations

import asyncio
import doctest
from datetime import datetime, timedelta, timezone

from textual.app import App, ComposeResult
from textual.containers import Grid

import console.ui.widgets.chart as chart_mod
from console.ui.widgets.chart import Series, TimeChart, value_range

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


def _pts(values):
    return tuple((T0 + timedelta(seconds=10 * k), v) for k, v in enumerate(values))


CASES = {
    "normal": ("TPS", "tx/s", [Series("lambda", _pts([120, 135, 150, None, 170, 160, 140, 150, 165, 180])),
                               Series("zengin", _pts([10, 12, 11, 12, 14, 13, 12, 15, 14, 12]))]),
    "constant": ("connections", "", [Series("steady", _pts([46.0] * 10))]),
    "single": ("rows/s", "rows/s", [Series("read", ((T0, 2500.0),))]),
    "empty": ("WAL", "bytes/s", [Series("lambda", ())]),
}


class ChartsApp(App):
    CSS = "Grid { grid-size: 2 2; }"

    def compose(self) -> ComposeResult:
        with Grid():
            for cid in CASES:
                yield TimeChart(id=f"c-{cid}")

    def on_mount(self) -> None:
        for cid, (title, unit, series) in CASES.items():
            self.query_one(f"#c-{cid}", TimeChart).set_series(series, title=title, unit=unit)


def test_doctests():
    assert doctest.testmod(chart_mod).failed == 0


async def _drawn(pilot) -> None:
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def test_four_cases_snapshot(snap_compare):
    assert snap_compare(ChartsApp(), terminal_size=(80, 24), run_before=_drawn)


def test_legend_axis_and_ranges():
    assert value_range([46.0] * 3) == (0.0, 69.0)         # 46 at two thirds, not the top
    assert value_range([0.0, 0.0]) == (0.0, 1.0)

    async def go():
        app = ChartsApp()
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            normal = app.query_one("#c-normal", TimeChart)
            legend = normal.legend().plain
            assert legend.startswith("TPS") and "lambda" in legend and "zengin" in legend
            assert "no data" in app.query_one("#c-empty", TimeChart).legend().plain
            assert "no data" not in app.query_one("#c-single", TimeChart).legend().plain
            # the gap: the None point is not drawn as a zero (plotext's figure state)
            assert min(normal.plt._active.monitor.y[0]) == 120
            single = app.query_one("#c-single", TimeChart).plt._active.monitor
            assert single.xlim[0] == [0, 60] and single.x[0] == [30.0]   # the point mid-minute, not on an edge
            constant = app.query_one("#c-constant", TimeChart).plt._active.monitor
            assert constant.ylim[0] == [0.0, 69.0]
    asyncio.run(go())


async def test_new_points_repaint_the_chart_without_laying_the_screen_out(monkeypatch):
    """A chart gets new points every tick: its legend (one line) and plot are repainted, the
    screen is not laid out again (Metrics did that twice a tick)."""
    from textual.widget import Widget
    app = ChartsApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await _drawn(pilot)
        chart = app.query_one("#c-normal", TimeChart)
        laid: list[str] = []
        real = Widget.refresh

        def spy(self, *regions, layout=False, **k):
            if layout and chart in self.ancestors_with_self:
                laid.append(type(self).__name__)
            return real(self, *regions, layout=layout, **k)

        monkeypatch.setattr(Widget, "refresh", spy)
        title, unit, series = CASES["normal"]
        more = [Series(s.label, s.points + ((T0 + timedelta(seconds=200), 90.0),)) for s in series]
        chart.set_series(more, title="TPS · busiest 2 of 3")
        await _drawn(pilot)
        assert laid == []
        assert "busiest 2 of 3" in str(chart.query_one(".chart-legend").render())
