"""The Diffs queue as an approver works through it (Pilot against the typed fake): lazy
pages with COUNT totals, the cursor kept on the same diff across refreshes, range and
filter selection, one batch action with one summary notification, reconcile from the
screen."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from console.core.zengin.records import iso_utc
from console.ui.app import ConsoleApp
from console.ui.screens import diffs as diffs_screen
from console.ui.widgets.confirm import ConfirmModal
from console.ui.widgets.diffs_queue import parse_filter, record_matches

from .conftest import settled, wait_for
from .fakes_diffs import FIXED, FakeDiffs, bulk_entries, diffs_services

SIZE = (140, 42)


def _app(fake) -> ConsoleApp:
    return ConsoleApp(diffs_services(fake), initial_mode="diffs")


def _list(app):
    return app.screen.query_one("#diffs-list")


class ManyDiffs(FakeDiffs):
    """1,205 pending diffs: more than two pages."""

    def __init__(self):
        super().__init__()
        base = self.recs["add"]
        for n in range(1200):
            self.recs[f"many{n}"] = dataclasses.replace(
                base, id=f"diff-20261121-{n:06d}", timestamp=iso_utc(FIXED - timedelta(hours=1, seconds=n)))
        self.tab_calls: list[int | None] = []

    def tab(self, tab, limit=None):
        self.tab_calls.append(limit)
        return super().tab(tab, limit)


async def test_lazy_pages_and_the_count_of_the_whole_tab():
    fake = ManyDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        t = _list(app)
        assert t.row_count == diffs_screen.PAGE
        assert str(app.screen.query_one("#tab-pending").label) == "pending 1,205"
        await pilot.press("end")                       # the cursor reaches the end: the next page is read
        await wait_for(pilot, lambda: t.row_count == 2 * diffs_screen.PAGE, "the second page")
        assert fake.tab_calls[-1] == 2 * diffs_screen.PAGE
        await pilot.press("slash", *"type:addition", "enter")     # a filter reads the whole tab
        await wait_for(pilot, lambda: t.row_count == 1202, "every addition of the tab")
        assert fake.tab_calls[-1] is None


async def test_cursor_stays_on_the_same_diff_across_a_refresh():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("down", "down")
        t = _list(app)
        before = t.cursor_key
        assert before.startswith("diff-20261122-000002")
        newer = dataclasses.replace(fake.recs["add"], id="diff-20261122-000099", timestamp=iso_utc(FIXED))
        fake.recs["newer"] = newer                    # a new diff arrives above the cursor
        await pilot.press("r")
        await wait_for(pilot, lambda: t.row_count == 6, "the refreshed queue")
        assert t.cursor_key == before and t.cursor_row == 3


async def test_select_a_range_and_all_matching_the_filter():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("space", "down", "down", "v")
        assert {i for i, _ in app.screen.selected} == {"diff-20261122-000004", "diff-20261122-000003",
                                                        "diff-20261122-000002"}
        await pilot.press("a", "a")                   # all shown, then none
        assert app.screen.selected == set()
        await pilot.press("slash", *"type:update", "enter")
        await settled(pilot)
        await pilot.press("a")
        assert {i for i, _ in app.screen.selected} == {"diff-20261122-000003", "diff-20261122-000002"}
        await pilot.press("escape")                   # the filter goes; the selection stays
        await settled(pilot)
        assert _list(app).row_count == 5 and len(app.screen.selected) == 2


async def test_one_batch_action_one_summary_notification():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("slash", *"0009", "enter")
        await settled(pilot)
        await pilot.press("a", "A")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "the plan")
        assert "banks: 1 update(s)" in app.screen.preview
        before = len(app._notifications)
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: bool(fake.calls) and not app.screen.busy, "the batch")
        await wait_for(pilot, lambda: len(app._notifications) == before + 1, "one notification")
        note = list(app._notifications)[-1]
        assert "approve: 1 ok" in note.message
    assert fake.calls == [("approve_many", ["diff-20261122-000002"], "executor@example.com", False)]


async def test_reconcile_from_the_screen_with_preview_and_confirmation():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "the reconcile preview")
        assert "diff-20261122-000011: executing -> completed" in app.screen.preview
        assert "declared, not verified" in app.screen.title_text
        assert fake.calls == []
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: bool(fake.calls), "reconcile")
    assert fake.calls == [("reconcile", "executor@example.com")]


async def test_read_only_refuses_reconcile_and_batches():
    fake = FakeDiffs(read_only=True)
    app = ConsoleApp(diffs_services(fake, read_only=True), initial_mode="diffs")
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("a", "A", "C", "X")
        await settled(pilot)
        assert app.screen.id == "diffs"
    assert fake.calls == []


def test_filter_words():
    f = parse_filter("0001 type:update invalid 東京").filter
    assert (f.code, f.types, f.valid, f.name) == ("0001", frozenset({"update"}), False, "東京")
    assert parse_filter("type:bulk").filter.types == frozenset({"bulk_update", "bulk_addition", "bulk_deletion"})
    entries = bulk_entries(3)
    assert [record_matches(e, "type:addition") for e in entries] == [False, False, False, True]
    assert [record_matches(e, "0005-002") for e in entries] == [False, True, False, False]


async def test_stale_refused_by_configuration_no_second_confirmation():
    """[zengin] stale_approvals = "refuse": the preview says the STALE diff will not be
    approved, and confirming approves only the other one (no second confirmation)."""
    fake = FakeDiffs()
    services = diffs_services(fake)
    z = dataclasses.replace(services.settings.zengin, stale_approvals="refuse")
    services = dataclasses.replace(services, settings=dataclasses.replace(services.settings, zengin=z))
    app = ConsoleApp(services, initial_mode="diffs")
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("space", "down", "space", "A")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "approve confirmation")
        assert "1 STALE diff(s) will NOT be approved" in app.screen.preview
        assert "stale_approvals" in app.screen.preview
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: len(fake.calls) == 1, "one batch approval")
        await settled(pilot)
        assert not (isinstance(app.screen, ConfirmModal) and "STALE" in app.screen.title_text)
    assert fake.calls == [("approve_many", ["diff-20261122-000004"], "executor@example.com", False)]
