"""Snapshots of the Sessions screen fed fixed data (reviewed SVGs in __snapshots__)."""

from __future__ import annotations

import pytest

from console.ui.app import ConsoleApp

from .conftest import settled, wait_for
from .fakes_sessions import FakeSessions, session_records, sessions_services

SIZE = (120, 40)
SIZES = {"80x24": (80, 24), "160x45": (160, 45)}


def _app(fake=None, **kw) -> ConsoleApp:
    return ConsoleApp(sessions_services(fake, **kw), initial_mode="sessions")


def _keys(*keys):
    async def run_before(pilot):
        await settled(pilot)
        for k in keys:
            await pilot.press(k)
            await settled(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_sessions_table(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=settled)


def test_sessions_capped_sorted_by_ttl_read_only(snap_compare):
    """'first N of about M', sorted by TTL, actions shown disabled in the footer."""
    fake = FakeSessions(read_only=True, capped=True, scan_cap=28)
    assert snap_compare(_app(fake), terminal_size=SIZE, run_before=_keys("s"))


def test_sessions_filtered(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_keys("slash", *"pandas", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_sessions_connections_tab(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_keys("right_square_bracket"))


@pytest.mark.parametrize("size", SIZES)
def test_sessions_caches_tab(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_keys(*["right_square_bracket"] * 2))


@pytest.mark.parametrize("size", SIZES)
def test_sessions_live_tail_with_gap(snap_compare, size):
    from textual.widgets import Sparkline

    keys = _keys(*["right_square_bracket"] * 3)

    async def run_before(pilot):
        await keys(pilot)
        # the channel rates are drawn by the tab's 1 s tick after the messages arrive
        await wait_for(pilot, lambda: any(pilot.app.screen.query_one("#rate-progress_events", Sparkline).data),
                       "the tail's rates drawn")
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_sessions_delete_confirmation(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_keys("home", "down", "D"))


async def test_sessions_many_rows_are_paged():
    """A page of rows, not all of them, is in the DataTable; '>' moves to the next page."""
    from textual.widgets import DataTable

    from console.ui.screens.sessions import PAGE_SIZE

    recs = session_records(1000)
    app = _app(FakeSessions(records=recs))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        table = app.screen.query_one("#sessions-table", DataTable)
        assert table.row_count == PAGE_SIZE
        await pilot.press("greater_than_sign")
        await wait_for(pilot, lambda: str(table.get_row_at(0)[0]) == sorted(r.key for r in recs)[PAGE_SIZE],
                       "the second page")
        await pilot.press("o")          # reverse: last key first, back on page 1
        await wait_for(pilot, lambda: str(table.get_row_at(0)[0]) == max(r.key for r in recs), "reversed")


async def test_sessions_rescan_shows_when_and_drops_gone_keys():
    """The list is not a frozen snapshot: a key gone from Redis leaves the table on the next
    scan (run by r here; by the scan interval otherwise), and the scan indicator has an age."""
    from textual.widgets import DataTable

    recs = session_records(10)
    fake = FakeSessions(records=recs)
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        table = app.screen.query_one("#sessions-table", DataTable)
        assert table.row_count == len(recs)
        assert "scan ●" in str(app.screen.query_one("#sessions-scan-age").render())
        fake.records = recs[:4]
        await pilot.press("r")
        await wait_for(pilot, lambda: table.row_count == 4, "the rescan without the expired keys")


async def test_sessions_large_view_computed_off_the_ui_thread():
    """Beyond SYNC_ROWS rows the filter/sort runs in a worker: a sort key press answers with
    'sorting…' at once, then the table shows the new order, the filter narrows the list,
    and the highlighted row is looked up on the shown page."""
    from textual.widgets import DataTable

    from console.ui.screens.sessions.keys_tab import SYNC_ROWS, KeysTab

    recs = session_records(SYNC_ROWS + 3000)
    app = _app(FakeSessions(records=recs))
    async with app.run_test(size=SIZE) as pilot:
        keys = app.screen.query_one(KeysTab)
        table = app.screen.query_one("#sessions-table", DataTable)
        await wait_for(pilot, lambda: len(keys.records) == len(recs) and keys.view_ready, "the full view")
        assert str(table.get_row_at(0)[0]) == min(r.key for r in recs)
        await pilot.press("s")                               # sort by TTL
        assert keys.sort == "ttl"
        await wait_for(pilot, lambda: keys.view_ready, "the TTL order's first page")
        ttls = [r.ttl_s if r.ttl_s is not None else 1 << 62 for r in keys.view]
        assert ttls == sorted(ttls) and keys.view_len == len(recs)
        assert keys.view[0].key == str(table.get_row_at(0)[0])
        keys.filter_text = keys.view[0].key.removeprefix("session:")
        await wait_for(pilot, lambda: keys.view_ready, "the filtered view")
        assert 0 < len(keys.view) < len(recs)
        assert all(keys.filter_text.lower() in (r.key + (r.notebook or "") + r.summary).lower() for r in keys.view)
        table.move_cursor(row=0)
        assert keys.highlighted() is keys.view[0]


async def test_a_new_order_shows_its_first_pages_and_sorts_the_rest_only_when_asked(monkeypatch):
    """Past SYNC_ROWS a sort key press draws the new order's first page from one pass over the
    rows and sorts nothing more (a whole sort of 200,000 rows holds the UI for 100-250 ms):
    no 'sorting…', no whole sort; the next pages up to HEAD_PAGES are one pass each too. A
    page past those sorts the whole order ('sorting…' until it is, held here until
    released), and every page is the whole order's."""
    import threading

    from textual.widgets import DataTable

    from console.core.sessions.view import RowView
    from console.ui.screens.sessions.keys_tab import HEAD_PAGES, PAGE_SIZE, SYNC_ROWS, KeysTab

    release = threading.Event()
    ordered = RowView.ordered
    sorted_ttl: list[bool] = []

    def held(self, by, reverse=False):
        if by == "ttl":
            sorted_ttl.append(True)
            release.wait(30)
        return ordered(self, by, reverse)
    monkeypatch.setattr(RowView, "ordered", held)

    recs = session_records(SYNC_ROWS + 3000)
    want = core_sort(recs, "ttl")

    def page_keys(p: int) -> list[str]:
        return [r.key for r in want[p * PAGE_SIZE:(p + 1) * PAGE_SIZE]]

    app = _app(FakeSessions(records=recs))
    async with app.run_test(size=SIZE) as pilot:
        keys = app.screen.query_one(KeysTab)
        table = app.screen.query_one("#sessions-table", DataTable)
        scan = app.screen.query_one("#sessions-scan")

        def shown() -> list[str]:
            return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]

        await wait_for(pilot, lambda: len(keys.records) == len(recs) and keys.view_ready, "the full view")
        await pilot.press("s")                               # sort by TTL
        await wait_for(pilot, lambda: keys.page_ready and shown() == page_keys(0), "the TTL order's first page")
        await pilot.pause(0.3)
        assert keys.view_ready and not keys.whole_view and not sorted_ttl, "the whole order was sorted"
        assert "sorting…" not in str(scan.render())
        assert keys.view_len == len(recs) and "page 1/" in str(scan.render())
        for p in range(1, HEAD_PAGES):                       # the next pages: one pass each, no sort
            await pilot.press("greater_than_sign")
            await wait_for(pilot, lambda p=p: keys.page_ready and shown() == page_keys(p), f"page {p + 1}")
        assert not sorted_ttl and not keys.whole_view
        await pilot.press("greater_than_sign")               # past HEAD_PAGES: the whole order, sorted now
        await wait_for(pilot, lambda: sorted_ttl, "the whole sort started")
        await pilot.pause()
        assert shown() == page_keys(HEAD_PAGES - 1)          # not drawn from a partial view
        assert not keys.view_ready and "sorting…" in str(scan.render())
        release.set()
        await wait_for(pilot, lambda: keys.whole_view, "the whole TTL order")
        await wait_for(pilot, lambda: shown() == page_keys(HEAD_PAGES), f"page {HEAD_PAGES + 1}")
        assert "sorting…" not in str(scan.render())
        await pilot.press("less_than_sign")                  # back: from the whole order
        await wait_for(pilot, lambda: shown() == page_keys(HEAD_PAGES - 1), "the page before")


def core_sort(recs, by):
    from console.core import sessions as core
    return core.sort_records(list(recs), by)
