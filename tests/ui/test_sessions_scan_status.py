"""While a scan runs, its status line is redrawn a few times a second, not once per batch:
a 200,000-key scan hands over a batch every ~20 ms, and a status line per batch was a frame
per batch. The count still moves during the scan, and the final count shows at once."""

from __future__ import annotations

import time

from textual.widgets import Static

from console.core import sessions as core
from console.ui.app import ConsoleApp
from console.ui.screens import sessions
from console.ui.screens.sessions import keys_tab

from .conftest import wait_for
from .fakes_sessions import FakeSessions, session_records, sessions_services

BATCHES = 80
PER = 50          # the first page fills after a few batches, as in a big scan
EVERY_S = 0.01


class ManyBatches(FakeSessions):
    def scan(self, pattern, stop):
        recs = session_records(BATCHES * PER)
        for i in range(BATCHES):
            time.sleep(EVERY_S)
            part = recs[i * PER:(i + 1) * PER]
            last = i == BATCHES - 1
            yield core.ScanBatch(part, (i + 1) * PER, 0 if last else i + 1, last, estimate=BATCHES * PER,
                                 scan_calls=i + 1, elapsed_s=(i + 1) * EVERY_S)


async def test_the_scan_status_is_redrawn_a_few_times_a_second(monkeypatch):
    drawn: list[tuple[float, str]] = []
    real = keys_tab.KeysTab._render_status

    def counting(self: keys_tab.KeysTab) -> None:
        real(self)
        if self.is_mounted:
            drawn.append((time.monotonic(), str(self.query_one("#sessions-scan", Static).render())))

    monkeypatch.setattr(keys_tab.KeysTab, "_render_status", counting)
    app = ConsoleApp(sessions_services(ManyBatches()), initial_mode="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        keys = app.screen.keys
        t0 = time.monotonic()
        await wait_for(pilot, lambda: keys.scan is not None and keys.scan.done, "the scan done")
        took = time.monotonic() - t0
        await wait_for(pilot, lambda: drawn and drawn[-1][1].startswith(f"{BATCHES * PER:,} session keys"),
                       "the final count shown")
        during = [d for d in drawn if d[1].startswith("scanning…")]
        assert len(during) >= 2, "the count did not move during the scan"
        counts = {d[1].split(" keys")[0] for d in during}
        assert len(counts) >= 2
        # at most one a SCAN_STATUS_EVERY_S and one per handover — every batch while the
        # first page fills (PAGE_SIZE / PER of them), then one a REDRAW_EVERY_S — plus the
        # first, never one per batch (BATCHES of them). The bound follows how long the scan
        # took, which a loaded machine stretches (0.8 s alone, 5 s seen under two test
        # workers): it is the check; "under half the batches" keeps it telling the two apart
        # up to a 7 s scan.
        bound = took * 4 + took / sessions.REDRAW_EVERY_S + sessions.PAGE_SIZE / PER + 3
        assert len(during) <= bound, (len(during), took)
        assert len(during) < BATCHES / 2, (len(during), took)


async def test_the_tabs_state_changes_repaint_only_what_shows_them(monkeypatch):
    """The tabs are containers: a change of their state (a scan batch, the records, the sort)
    redraws the widgets that show it, never the whole tab (a reactive repaints its widget by
    default: every batch of a scan repainted the whole keys tab, ~210 frames a scan)."""
    from textual.widget import Widget

    app = ConsoleApp(sessions_services(ManyBatches()), initial_mode="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        keys = app.screen.keys
        await wait_for(pilot, lambda: keys.scan is not None and keys.scan.done, "the scan done")
        tabs = {type(w) for w in app.screen.query("KeysTab, ConnectionsTab, CachesTab, TailTab")}
        assert len(tabs) == 4
        repainted: list[str] = []
        real = Widget.refresh

        def counting(self: Widget, *a, **k):
            if type(self) in tabs:
                repainted.append(type(self).__name__)
            return real(self, *a, **k)

        monkeypatch.setattr(Widget, "refresh", counting)
        batch = keys.scan
        for _ in range(5):
            keys.scan = batch
        keys.sort = "ttl"
        keys.reverse = True
        tail = app.screen.tail
        tail.paused = not tail.paused
        await pilot.pause(0.2)
        assert repainted == []


async def test_a_page_drawn_again_keeps_the_cells_of_unchanged_rows(monkeypatch):
    """Each handover of a scan draws the page again: an unchanged row keeps its cell objects
    (none made again), a row whose record changed gets new ones."""
    from textual.widgets import DataTable

    app = ConsoleApp(sessions_services(ManyBatches()), initial_mode="sessions")
    async with app.run_test(size=(120, 40)) as pilot:
        keys = app.screen.keys
        table = app.screen.query_one("#sessions-table", DataTable)
        await wait_for(pilot, lambda: keys.scan is not None and keys.scan.done and table.row_count
                       and keys.view_ready, "the scan done and its last view drawn")
        made: list[str] = []
        real = keys_tab.session_cells

        def counting(r):
            made.append(r.key)
            return real(r)

        monkeypatch.setattr(keys_tab, "session_cells", counting)
        keys._draw()
        assert made == [], "cells made again for unchanged rows"
        first = keys._page_rows[0]
        first.ttl_s = 12                               # the first row's record changed (a TTL read again)
        keys._draw()
        assert made == [first.key]
        assert table.get_row_at(0)[1].plain == "12s"


async def test_the_view_is_made_with_the_collector_off_and_frozen_after(monkeypatch):
    """A million-row view's lists made young were read whole by each pass of the cycle
    collector (60-140 ms, in whichever thread allocated next, the UI's included): the view
    worker makes them with the collector off and freezes them before it is back on."""
    import gc

    monkeypatch.setattr(keys_tab, "SYNC_ROWS", 0)          # every view in the worker
    on_during: list[bool] = []
    real = keys_tab.KeysTab._compute_view

    def spying(self, *args):
        on_during.append(gc.isenabled())
        return real(self, *args)

    monkeypatch.setattr(keys_tab.KeysTab, "_compute_view", spying)
    app = ConsoleApp(sessions_services(ManyBatches()), initial_mode="sessions")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            keys = app.screen.keys
            await wait_for(pilot, lambda: keys.scan is not None and keys.scan.done and keys.view_ready
                           and on_during, "the view made in the worker")
            assert on_during and not any(on_during), on_during
            view = keys.view
            assert not any(o is view for o in gc.get_objects()), "the view's list is not frozen"
            assert gc.isenabled()
    finally:
        gc.unfreeze()


async def test_the_row_lists_handed_to_the_tabs_are_frozen():
    """Each handover copies the row list for the tabs (a million references at 1M keys);
    young, every collector pass read all of it: the screen freezes it once it is made."""
    import gc

    app = ConsoleApp(sessions_services(ManyBatches()), initial_mode="sessions")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            keys = app.screen.keys
            await wait_for(pilot, lambda: keys.scan is not None and keys.scan.done
                           and len(keys.records) == BATCHES * PER, "every row handed over")
            handed = keys.records
            assert not any(o is handed for o in gc.get_objects()), "the handed-over list is not frozen"
    finally:
        gc.unfreeze()
