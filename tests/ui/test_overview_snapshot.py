"""Snapshots of the Overview fed by fixed health results (reviewed SVGs in __snapshots__)."""

from __future__ import annotations

from console.ui.app import ConsoleApp

from .fakes import overview_services


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_overview_one_backend_down(snap_compare):
    assert snap_compare(ConsoleApp(overview_services()), terminal_size=(120, 30), run_before=_settle)


def test_overview_read_only_with_failed_backend_detail(snap_compare):
    """Header says READ-ONLY; the cursor on the dead backend shows its whole error."""
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("down", "down", "down")
        await pilot.pause()

    assert snap_compare(ConsoleApp(overview_services(read_only=True)), terminal_size=(120, 30),
                        run_before=run_before)


def test_help_screen(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(ConsoleApp(overview_services()), terminal_size=(120, 30), run_before=run_before)
