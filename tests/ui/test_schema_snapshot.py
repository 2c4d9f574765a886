"""Snapshots of the Schema screen fed by fixed reports (reviewed SVGs in __snapshots__)."""

from __future__ import annotations

import pytest

from console.ui.app import ConsoleApp

from .conftest import settled
from .fakes_schema import schema_services

SIZES = {"80x24": (80, 24), "160x45": (160, 45)}


def _app(**kw):
    return ConsoleApp(schema_services(**kw), initial_mode="schema")


def _keys(*keys):
    async def run_before(pilot):
        await settled(pilot)
        for k in keys:
            await pilot.press(k)
            await settled(pilot)
    return run_before


def test_schema_clean_target(snap_compare):
    assert snap_compare(_app(drifted=False), terminal_size=(100, 30), run_before=settled)


@pytest.mark.parametrize("size", SIZES)
def test_schema_findings_with_detail(snap_compare, size):
    # … drifted ▸ view: expected vs actual query
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_keys("down", "down", "down", "down", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_schema_apply_preview(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_keys("F"))


def test_schema_second_target_by_key(snap_compare):
    """] switches targets without focusing the tab bar first."""
    assert snap_compare(_app(), terminal_size=(80, 24), run_before=_keys("right_square_bracket"))
