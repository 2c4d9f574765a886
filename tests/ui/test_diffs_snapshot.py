"""Snapshots of the Diffs screen fed fixed data (tests/ui/fakes_diffs.py), and Pilot
checks of its keys against the same fake."""

from __future__ import annotations

import pytest

from console.ui.app import ConsoleApp
from console.ui.widgets.confirm import ConfirmModal

from .conftest import settled, wait_for
from .fakes_diffs import FakeDiffs, diffs_services

SIZE = (140, 42)
SIZES = {"80x24": (80, 24), "160x45": (160, 45)}


def _app(fake=None, **kw) -> ConsoleApp:
    return ConsoleApp(diffs_services(fake, **kw), initial_mode="diffs")


def _goto(*keys):
    async def run_before(pilot):
        await settled(pilot)
        for k in keys:
            await pilot.press(k)
            await settled(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_diffs_queue(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_goto())


def test_diffs_update_detail(snap_compare):
    assert snap_compare(_app(), terminal_size=(100, 30), run_before=_goto("down"))


def test_diffs_invalid(snap_compare):
    assert snap_compare(_app(), terminal_size=(100, 30), run_before=_goto("down", "down", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_diffs_bulk_detail_second_page(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_goto("end", "greater_than_sign"))


@pytest.mark.parametrize("size", SIZES)
def test_diffs_dry_run_modal(snap_compare, size):
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_goto("right_square_bracket", "X"))


@pytest.mark.parametrize("size", SIZES)
def test_diffs_stale_detail_live_row(snap_compare, size):
    """Diff 3: the live row (東京営業部出張所) next to the recorded one, with the STALE badge."""
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_goto("down"))


@pytest.mark.parametrize("size", SIZES)
def test_diffs_batch_preview(snap_compare, size):
    """Select all, approve: totals per table and type, and the diffs that will not go."""
    assert snap_compare(_app(), terminal_size=SIZES[size], run_before=_goto("a", "A"))


def test_diffs_filtered_by_type(snap_compare):
    assert snap_compare(_app(), terminal_size=(100, 30),
                        run_before=_goto("slash", *"type:update", "enter"))


def test_diffs_bulk_records_filtered(snap_compare):
    async def run_before(pilot):
        await _goto("end")(pilot)
        pilot.app.screen.query_one("#diffs-records").focus()
        await _goto("slash", *"type:addition", "enter")(pilot)
    assert snap_compare(_app(), terminal_size=(160, 45), run_before=run_before)


def test_diffs_read_only_failed_tab(snap_compare):
    assert snap_compare(_app(read_only=True), terminal_size=(100, 30),
                        run_before=_goto("left_square_bracket", "left_square_bracket", "left_square_bracket"))


async def test_select_two_and_approve_the_stale_one_needs_a_second_confirmation():
    """Diff 3 is STALE in the fake (its live row differs): the plan leaves it out, the first
    confirmation approves the other one, the second (typed) one adds the stale diff."""
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("space", "down", "space", "A")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "approve confirmation")
        assert "STALE" in app.screen.preview and "diff-20261122-000003" in app.screen.preview
        assert "declared, not verified" in app.screen.title_text
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal) and "STALE" in app.screen.title_text,
                       "the second confirmation for the stale diff")
        await pilot.press(*"stale")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: len(fake.calls) == 1, "one batch approval")
    assert fake.calls == [("approve_many", ["diff-20261122-000004", "diff-20261122-000003"], "executor@example.com",
                           True)]


async def test_stale_second_confirmation_refused_approves_only_the_others():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("space", "down", "space", "A")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "approve confirmation")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal) and "STALE" in app.screen.title_text,
                       "the second confirmation")
        await pilot.click("#cancel")
        await wait_for(pilot, lambda: len(fake.calls) == 1, "one batch approval")
    assert fake.calls == [("approve_many", ["diff-20261122-000004"], "executor@example.com", False)]


async def test_reject_asks_reason_and_invalid_cannot_be_approved():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("down", "down", "down", "A")          # the invalid one
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "approve confirmation")
        assert not app.screen.query("#confirm")                 # refused: no confirm button
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.id == "diffs", "back on the list")
        assert app.focused is app.screen.query_one("#diffs-list"), "focus returns to the list"
        await pilot.press("R")
        await settled(pilot)
        await pilot.press(*"bad", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "reject confirmation")
        assert fake.calls == []                                  # the reason alone does not reject
        assert "reason: bad" in app.screen.preview
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: bool(fake.calls), "the reject call")
    assert fake.calls == [("reject_many", ["diff-20261122-000005"], "executor@example.com", "bad")]


async def test_read_only_disables_actions():
    fake = FakeDiffs(read_only=True)
    app = _app(fake, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("A", "R", "right_square_bracket", "X")
        await settled(pilot)
        assert app.screen.id == "diffs"
    assert fake.calls == []


async def test_lowercase_keys_never_mutate():
    """r refreshes and x does nothing on Diffs: neither rejects nor executes."""
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("r", "x", "a")
        await settled(pilot)
        assert app.screen.id == "diffs"
        await pilot.press("right_square_bracket", "r", "x")
        await settled(pilot)
        assert app.screen.id == "diffs"
    assert fake.calls == []


async def test_execute_after_confirmation():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("right_square_bracket", "X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "execute confirmation")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: bool(fake.calls), "the execute call")
    assert fake.calls == [("execute_many", ["diff-20261122-000006"], "executor@example.com")]


async def test_self_approved_diff_is_refused_in_the_preview():
    """The four-eyes rule is the core's (executor.self_execution_refusal), shown before asking."""
    import dataclasses

    fake = FakeDiffs()
    fake.recs["approved"] = dataclasses.replace(fake.recs["approved"], approvedBy="executor@example.com")
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("right_square_bracket", "X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "execute confirmation")
        assert app.screen.refused and "may not execute" in app.screen.refused
        assert not app.screen.query("#confirm")
    assert fake.calls == []


async def test_a_diff_whose_dry_run_fails_is_flagged_and_can_still_be_executed():
    """A stale diff must be able to leave the approved queue: the dry run's failure is shown
    as WILL FAIL, and executing it (which applies nothing and marks it failed) is allowed."""
    from console.core.zengin import executor

    class StaleDryRun(FakeDiffs):
        def dry_run(self, ref, actor=""):
            return executor.DryRun(ref, self._find(ref), None, None,
                                   "stale: 1 row(s) no longer equal currentData: branches:0001-001")

    fake = StaleDryRun()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("right_square_bracket", "X")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "execute confirmation")
        modal = app.screen
        assert "WILL FAIL" in modal.preview and "stale" in modal.preview and not modal.refused
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: bool(fake.calls), "the execute call")
    assert fake.calls == [("execute_many", ["diff-20261122-000006"], "executor@example.com")]
