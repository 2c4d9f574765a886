"""Snapshots of the Overview fed by fixed health results (reviewed SVGs in __snapshots__),
at 80x24 (the smallest supported terminal) and 160x45."""

from __future__ import annotations

import pytest

from console.ui.app import ConsoleApp

from .conftest import settled
from .fakes import overview_services

SIZES = {"80x24": (80, 24), "160x45": (160, 45)}


@pytest.mark.parametrize("size", SIZES)
def test_overview_one_backend_down(snap_compare, size):
    assert snap_compare(ConsoleApp(overview_services()), terminal_size=SIZES[size], run_before=settled)


def test_overview_read_only_with_failed_backend_detail(snap_compare):
    """Header says READ-ONLY; the cursor on the dead backend shows its whole error."""
    async def run_before(pilot):
        await settled(pilot)
        await pilot.press("down", "down", "down")
        await settled(pilot)

    assert snap_compare(ConsoleApp(overview_services(read_only=True)), terminal_size=(100, 30),
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, size):
    async def run_before(pilot):
        await settled(pilot)
        await pilot.press("question_mark")
        await settled(pilot)

    assert snap_compare(ConsoleApp(overview_services()), terminal_size=SIZES[size], run_before=run_before)
