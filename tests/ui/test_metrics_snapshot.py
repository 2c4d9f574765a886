"""Snapshots of the Metrics screen fed fixed samples (reviewed SVGs in __snapshots__):
normal, one target and InfluxDB failing (stale, last values dimmed with the error),
paused; plus the analytics and InfluxDB tabs."""

from __future__ import annotations

import pytest

from console.ui.app import ConsoleApp

from .conftest import settled
from .fakes_metrics import FakeMetricsSource, metrics_services

SIZES = {"80x24": (80, 24), "160x45": (160, 45)}


def _app(source=None) -> ConsoleApp:
    return ConsoleApp(metrics_services(source), initial_mode="metrics")


def _keys(*keys):
    async def run_before(pilot):
        await settled(pilot)
        for k in keys:
            await pilot.press(k)
            await settled(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_metrics_postgres_normal(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=settled)


def test_metrics_one_source_failing_is_stale(snap_compare):
    # the zengin row: its detail shows the error after the second sample fails
    source = FakeMetricsSource(fail_after_first=("pg:zengin", "influx"))
    assert snap_compare(_app(source), terminal_size=(120, 40), run_before=_keys("down", "r"))


def test_metrics_paused(snap_compare):
    assert snap_compare(_app(), terminal_size=(100, 30), run_before=_keys("p", "plus"))


@pytest.mark.parametrize("size", SIZES)
def test_metrics_analytics_tab_with_timed_out_view(snap_compare, size):
    assert snap_compare(_app(FakeMetricsSource(usage_timeout=True)), terminal_size=SIZES[size],
                        run_before=_keys("right_square_bracket"))


@pytest.mark.parametrize("size", SIZES)
def test_metrics_influx_tab(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size],
                        run_before=_keys("right_square_bracket", "right_square_bracket"))
