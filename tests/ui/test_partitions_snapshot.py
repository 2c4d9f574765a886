"""Snapshots of the Partitions screen fed fixed fake data (SVGs in __snapshots__)."""

from __future__ import annotations

from console.ui.app import ConsoleApp

from .fakes_partitions import partitions_services

SIZE = (140, 42)


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_partitions_list(snap_compare):
    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZE,
                        run_before=_settle)


def test_partitions_drill_in(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZE,
                        run_before=run_before)


def test_partitions_plan_preview(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("p")
        await pilot.pause()

    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZE,
                        run_before=run_before)


def test_partitions_plan_refused_read_only(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("down", "down", "p")
        await pilot.pause()

    assert snap_compare(ConsoleApp(partitions_services(read_only=True), initial_mode="partitions"),
                        terminal_size=SIZE, run_before=run_before)
