"""Snapshots of the Sessions screen fed fixed data (reviewed SVGs in __snapshots__)."""

from __future__ import annotations

from console.ui.app import ConsoleApp

from .fakes_sessions import FakeSessions, session_records, sessions_services

SIZE = (120, 40)


async def _settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    screen = pilot.app.screen
    if hasattr(screen, "_render_table"):
        screen._render_table()
        screen._render_tail()
        screen._render_rates()
    await pilot.pause()


def _app(fake=None, **kw) -> ConsoleApp:
    return ConsoleApp(sessions_services(fake, **kw), initial_mode="sessions")


def test_sessions_table(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_settle)


def test_sessions_capped_sorted_by_ttl_read_only(snap_compare):
    """'first N of about M', sorted by TTL, actions shown disabled in the footer."""
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("s")
        await pilot.pause()

    fake = FakeSessions(read_only=True, capped=True, scan_cap=28)
    assert snap_compare(_app(fake), terminal_size=SIZE, run_before=run_before)


def test_sessions_filtered(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"pandas", "enter")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_sessions_connections_tab(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("w")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_sessions_caches_tab(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("w", "w")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_sessions_live_tail_with_gap(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("w", "w", "w")
        await pilot.pause()

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_sessions_delete_confirmation(snap_compare):
    async def run_before(pilot):
        await _settle(pilot)
        await pilot.press("down", "d")
        await _settle(pilot)

    assert snap_compare(_app(), terminal_size=SIZE, run_before=run_before)


def test_sessions_many_rows_are_paged():
    """A page of rows, not all of them, is in the DataTable; ']' moves to the next page."""
    import asyncio

    from textual.widgets import DataTable

    from console.ui.screens.sessions import PAGE_SIZE

    async def go():
        recs = session_records(1000)
        app = _app(FakeSessions(records=recs))
        async with app.run_test(size=SIZE) as pilot:
            await _settle(pilot)
            table = app.screen.query_one("#sessions-table", DataTable)
            assert table.row_count == PAGE_SIZE
            await pilot.press("right_square_bracket")
            await pilot.pause()
            assert str(table.get_row_at(0)[0]) == sorted(r.key for r in recs)[PAGE_SIZE]
            await pilot.press("o")          # reverse: last key first, back on page 1
            await pilot.pause()
            assert str(table.get_row_at(0)[0]) == max(r.key for r in recs)

    asyncio.run(go())
