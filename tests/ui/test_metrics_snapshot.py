"""Snapshots of the Metrics screen fed fixed samples (reviewed SVGs in __snapshots__):
normal, one target and InfluxDB failing (stale, last values dimmed with the error),
paused; plus the analytics and InfluxDB tabs."""

from __future__ import annotations

from console.ui.app import ConsoleApp

from .fakes_metrics import FakeMetricsSource, metrics_services

SIZE = (120, 40)


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _app(source=None) -> ConsoleApp:
    return ConsoleApp(metrics_services(source), initial_mode="metrics")


def test_metrics_postgres_normal(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_settle)


def test_metrics_one_source_failing_is_stale(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("down")          # the zengin row: its detail shows the error
        await pilot.press("r")             # second sample: zengin and InfluxDB fail
        await _settle(pilot)

    source = FakeMetricsSource(fail_after_first=("pg:zengin", "influx"))
    assert snap_compare(_app(source), terminal_size=SIZE, run_before=run_before)


def test_metrics_paused(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("space", "plus")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_metrics_analytics_tab_with_timed_out_view(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("a")
        await pilot.pause()

    assert snap_compare(_app(FakeMetricsSource(usage_timeout=True)), terminal_size=SIZE, run_before=run_before)


def test_metrics_influx_tab(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("i")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)
