"""The Partitions screen on a real database through Pilot: list, plan, confirm, run with
progress, audit record, refusal in read-only mode."""

from __future__ import annotations

import pytest

from console.backends.registry import Backends
from console.config import Settings
from console.core.partitions import add_months
from console.ui.app import ConsoleApp
from console.ui.services import Services
from console.ui.widgets.confirm import ConfirmModal

from ..integration.test_partitions_maintain import CUR, SPECS, make_partitions


def _services(backend, read_only=False) -> Services:
    settings = Settings(postgres=(backend.target,), read_only=read_only)
    return Services(settings=settings, backends=Backends.from_settings(settings))


@pytest.mark.asyncio
async def test_plan_confirm_run_on_real_database(fresh_db):
    b = fresh_db("pipe")
    make_partitions(b, SPECS[2], [add_months(CUR, -1)])
    app = ConsoleApp(_services(b), initial_mode="partitions")
    async with app.run_test(size=(140, 42)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert [t.name for t in screen._pt_tables] == ["pipeline_runs"]
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "ATTACH PARTITION" in app.screen.preview
        await pilot.click("#confirm")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen._pt_tables[0].coverage.horizon == 3
    rows = b.fetch("SELECT outcome FROM console.audit_log WHERE action = 'partitions.maintain'")
    assert rows == [{"outcome": "ok"}]


@pytest.mark.asyncio
async def test_read_only_plan_is_refused(fresh_db):
    b = fresh_db("learning")
    app = ConsoleApp(_services(b, read_only=True), initial_mode="partitions")
    async with app.run_test(size=(140, 42)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and app.screen.refused
        assert not app.screen.query("#confirm")
