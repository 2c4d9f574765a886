"""Snapshots of the Activity screen fed fixed samples (fakes typed against the ports):
the sessions table with a blocking chain in the detail at 80x24 and 160x45, filtered,
the cancel preview, top statements (present and absent with the how-to) and the
replication tab with the WAL-rate chart."""

from __future__ import annotations

import pytest

from console.ui.app import ConsoleApp

from .conftest import settled
from .fakes_activity import FakeActivity, activity_services

SIZES = {"80x24": (80, 24), "160x45": (160, 45)}


def _app(port: FakeActivity | None = None, **kw) -> ConsoleApp:
    return ConsoleApp(activity_services(port, **kw), initial_mode="activity")


def _keys(*keys):
    async def run_before(pilot):
        await settled(pilot)
        for k in keys:
            await pilot.press(k)
            await settled(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_activity_sessions_chain_in_detail(snap_compare, size):
    # sorted by how long busy: 4101 (idle in transaction 212 s, the root blocker) first;
    # one down is zengin's COPY, two down 4120 (blocked by 4101, blocking 4133)
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_keys("down", "down"))


def test_activity_filtered_hide_idle(snap_compare):
    assert snap_compare(_app(), terminal_size=(120, 30),
                        run_before=_keys("i", "slash", "u", "s", "e", "r", ":", "a", "p", "p", "enter"))


def test_activity_cancel_preview(snap_compare):
    assert snap_compare(_app(), terminal_size=(120, 40), run_before=_keys("down", "down", "C"))


@pytest.mark.parametrize("size", SIZES)
def test_activity_statements_tab(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_keys("right_square_bracket"))


@pytest.mark.parametrize("size", SIZES)
def test_activity_replication_tab_wal_chart(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size],
                        run_before=_keys("right_square_bracket", "right_square_bracket"))
