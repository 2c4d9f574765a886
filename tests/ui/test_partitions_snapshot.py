"""Snapshots of the Partitions screen fed fixed fake data (SVGs in __snapshots__)."""

from __future__ import annotations

import pytest

from console.ui.app import ConsoleApp

from .conftest import settled
from .fakes_partitions import partitions_services

SIZES = {"80x24": (80, 24), "160x45": (160, 45)}


def _keys(*keys):
    async def run_before(pilot):
        await settled(pilot)
        for k in keys:
            await pilot.press(k)
            await settled(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_partitions_list(snap_compare, size):
    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZES[size],
                        run_before=settled)


@pytest.mark.parametrize("size", SIZES)
def test_partitions_drill_in(snap_compare, size):
    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZES[size],
                        run_before=_keys("enter"))


@pytest.mark.parametrize("size", SIZES)
def test_partitions_plan_preview(snap_compare, size):
    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZES[size],
                        run_before=_keys("M"))


def test_partitions_plan_refused_read_only(snap_compare):
    assert snap_compare(ConsoleApp(partitions_services(read_only=True), initial_mode="partitions"),
                        terminal_size=(100, 30), run_before=_keys("down", "down", "M"))
