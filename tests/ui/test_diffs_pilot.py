"""The Diffs screen on the real stack (PostgreSQL + moto), driven by keys as an approver
would: approve as one identity, then as another, dry-run and execute; the change lands in
branches and change_history, and a diff the screen shows as invalid cannot be approved."""

from __future__ import annotations

import dataclasses

from textual.widgets import DataTable

from console.ui.app import ConsoleApp
from console.ui.services import Services
from console.ui.widgets.confirm import ConfirmModal
from tests.integration.test_diffs_helpers import bank, branch, make_zen, update

from .conftest import wait_for

SIZE = (150, 45)


def _app(zen, who: str) -> tuple[ConsoleApp, Services]:
    settings = dataclasses.replace(zen.settings, operator=who)
    services = Services.from_settings(settings)
    return ConsoleApp(services, initial_mode="diffs"), services


def _rows(app) -> list[str]:
    t = app.screen.query_one("#diffs-list", DataTable)
    return [str(t.get_row_at(i)[1]) for i in range(t.row_count)]


def _modal(app) -> bool:
    return isinstance(app.screen, ConfirmModal)


async def test_approve_then_execute_as_another_identity(stack, fresh_db):
    zen = make_zen(stack, fresh_db)
    old = branch("0001", "001", "東京営業部", "トウキヨウ")
    good = zen.put(update(old, branchName="東京営業部中央"))
    bad = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankKana="みついすみとも"))   # hiragana

    app, services = _app(zen, "approver-1")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: good.id in _rows(app) and bad.id in _rows(app), "both diffs listed")
            row = _rows(app).index(bad.id)
            for _ in range(row):
                await pilot.press("down")
            await pilot.press("A")
            await wait_for(pilot, lambda: _modal(app), "approve preview")
            assert app.screen.refused and "invalid" in app.screen.refused.lower()
            await pilot.press("escape")
            await wait_for(pilot, lambda: not _modal(app), "preview closed")
            await pilot.press("home")
            for _ in range(_rows(app).index(good.id)):
                await pilot.press("down")
            await pilot.press("A")
            await wait_for(pilot, lambda: _modal(app), "approve preview")
            await pilot.press("tab", "enter")                    # Cancel has the focus; Tab to Approve
            await wait_for(pilot, lambda: zen.get(good).status == "approved", "approved in DynamoDB")
    finally:
        services.close()
    assert zen.get(good).approvedBy == "approver-1" and zen.get(bad).status == "pending"

    app, services = _app(zen, "executor-2")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: bool(_rows(app)), "the queue")
            await pilot.press("right_square_bracket")            # the approved tab
            await wait_for(pilot, lambda: _rows(app) == [good.id], "the approved tab")
            await pilot.press("X")
            await wait_for(pilot, lambda: _modal(app), "dry run preview", timeout=30)
            assert "dry run (rolled back)" in app.screen.preview and "branches: 1 update" in app.screen.preview
            assert zen.get(good).status == "approved"          # the dry run changed nothing
            await pilot.press("tab", "enter")
            await wait_for(pilot, lambda: zen.get(good).status == "completed", "executed", timeout=30)
    finally:
        services.close()
    assert zen.pg.fetch("SELECT branch_name FROM branches WHERE bank_code = '0001' AND branch_code = '001'")[0][
        "branch_name"] == "東京営業部中央"
    assert [(h["executed_by"], h["rows_affected"]) for h in zen.history(good)] == [("executor-2", 1)]
