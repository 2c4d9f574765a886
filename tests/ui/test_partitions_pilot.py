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
from .conftest import wait_for


def _services(backend, read_only=False) -> Services:
    settings = Settings(postgres=(backend.target,), read_only=read_only)
    return Services(settings=settings, backends=Backends.from_settings(settings))


@pytest.mark.asyncio
async def test_plan_confirm_run_on_real_database(fresh_db):
    b = fresh_db("pipe")
    make_partitions(b, SPECS[2], [add_months(CUR, -1)])
    app = ConsoleApp(_services(b), initial_mode="partitions")
    async with app.run_test(size=(140, 42)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.discovery.loaded, "discovery")
        assert [t.name for t in screen.tables] == ["pipeline_runs"]
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "maintenance preview")
        assert "ATTACH PARTITION" in app.screen.preview
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: not screen.running and screen.tables and screen.tables[0].coverage.horizon == 3,
                       "maintenance ran and the tables were read again")
    rows = b.fetch("SELECT outcome FROM console.audit_log WHERE action = 'partitions.maintain'")
    assert rows == [{"outcome": "ok"}]


@pytest.mark.asyncio
async def test_read_only_plan_is_refused(fresh_db):
    b = fresh_db("learning")
    app = ConsoleApp(_services(b, read_only=True), initial_mode="partitions")
    async with app.run_test(size=(140, 42)) as pilot:
        await wait_for(pilot, lambda: app.screen.discovery.loaded, "discovery")
        await pilot.press("M")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "maintenance preview")
        assert app.screen.refused
        assert not app.screen.query("#confirm")
