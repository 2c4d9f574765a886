"""Snapshots of the Diffs screen fed fixed data (tests/ui/fakes_diffs.py), and Pilot
checks of its keys against the same fake."""

from __future__ import annotations

from console.ui.app import ConsoleApp

from .fakes_diffs import FakeDiffs, diffs_services

SIZE = (140, 42)


async def _settle(pilot) -> None:
    from textual.worker import WorkerCancelled

    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:          # an exclusive detail worker replaced by a newer one
            pass
        await pilot.pause()


def _app(fake=None, **kw) -> ConsoleApp:
    return ConsoleApp(diffs_services(fake, **kw), initial_mode="diffs")


def _goto(*keys):
    async def run_before(pilot):
        await _settle(pilot)
        for k in keys:
            await pilot.press(k)
            await _settle(pilot)
    return run_before


def test_diffs_queue(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_goto())


def test_diffs_update_detail(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_goto("down"))


def test_diffs_invalid(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_goto("down", "down", "down"))


def test_diffs_bulk_detail_second_page(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_goto("down", "down", "down", "down",
                                                                      "right_square_bracket"))


def test_diffs_dry_run_modal(snap_compare):
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_goto("n", "x"))


def test_diffs_read_only_failed_tab(snap_compare):
    assert snap_compare(_app(read_only=True), terminal_size=SIZE,
                        run_before=_goto("p", "p", "p"))


async def test_select_two_and_approve():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("space", "down", "space")
        await pilot.press("a")
        await _settle(pilot)
        await pilot.click("#confirm")
        await _settle(pilot)
    assert [c[:2] for c in fake.calls] == [("approve", "diff-20261122-000003"), ("approve", "diff-20261122-000004")]


async def test_reject_asks_reason_and_invalid_cannot_be_approved():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("down", "down", "down", "a")          # the invalid one
        await _settle(pilot)
        assert not app.screen.query("#confirm")                 # refused: no confirm button
        await pilot.press("escape")
        await pilot.press("r")
        await _settle(pilot)
        await pilot.press(*"bad", "enter")
        await _settle(pilot)
        assert fake.calls == []                                  # the reason alone does not reject
        assert "reason: bad" in app.screen.preview
        await pilot.click("#confirm")
        await _settle(pilot)
    assert fake.calls == [("reject", "diff-20261122-000005", "executor@example.com", "bad")]


async def test_read_only_disables_actions():
    fake = FakeDiffs(read_only=True)
    app = _app(fake, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("a", "r", "n", "x")
        await _settle(pilot)
        assert app.screen.id == "diffs"
    assert fake.calls == []


async def test_execute_after_confirmation():
    fake = FakeDiffs()
    app = _app(fake)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(pilot)
        await pilot.press("n", "x")
        await _settle(pilot)
        await pilot.click("#confirm")
        await _settle(pilot)
    assert fake.calls == [("execute", "diff-20261122-000006", "executor@example.com")]


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
        await _settle(pilot)
        await pilot.press("n", "x")
        await _settle(pilot)
        modal = app.screen
        assert "WILL FAIL" in modal.preview and "stale" in modal.preview and not modal.refused
        await pilot.click("#confirm")
        await _settle(pilot)
    assert fake.calls == [("execute", "diff-20261122-000006", "executor@example.com")]
