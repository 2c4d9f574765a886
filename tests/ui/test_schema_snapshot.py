"""Snapshots of the Schema screen fed by fixed reports (reviewed SVGs in __snapshots__)."""

from __future__ import annotations

from console.ui.app import ConsoleApp

from .fakes_schema import schema_services


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _app(**kw):
    return ConsoleApp(schema_services(**kw), initial_mode="schema")


def test_schema_clean_target(snap_compare):
    assert snap_compare(_app(drifted=False), terminal_size=(120, 40), run_before=_settle)


def test_schema_findings_with_detail(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("down", "down", "down", "down", "down")   # … drifted ▸ view: expected vs actual query
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(120, 40), run_before=run_before)


def test_schema_apply_preview(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("a")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=(120, 40), run_before=run_before)
