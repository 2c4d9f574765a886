"""The Schema screen on the real source (RealSchemaSource -> core.schema) against a real
PostgreSQL: the drift shows up, apply runs the fix through the confirmation, read-only
disables it."""

from __future__ import annotations

from console.config import Settings
from console.ui.app import ConsoleApp
from console.ui.services import Services
from console.ui.widgets.confirm import ConfirmModal

from .conftest import wait_for


async def test_real_drift_apply_and_recheck(fresh_db):
    b = fresh_db("lambda")
    b.execute("DROP INDEX public.idx_error_logs_error_code")
    app = ConsoleApp(Services.from_settings(Settings(postgres=(b.target,))), initial_mode="schema")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: b.name in app.screen.reports, "first check")
        screen = app.screen
        report = screen.reports[b.name]
        assert [(f.kind, f.status) for f in report.findings] == [("index", "missing")]
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), "apply preview")
        assert "CREATE INDEX CONCURRENTLY" in app.screen.preview
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmModal), "confirmation closed")
        await wait_for(pilot, lambda: screen.apply_log and not screen.state(f"check:{b.name}").running
                       and screen.reports[b.name].clean, "re-check after the apply")
        assert [(r.ok, r.message) for r in screen.apply_log] == [(True, "ok")]
        assert screen.reports[b.name].clean
        assert [r.ok for r in screen.apply_log] == [True]
    assert len(b.fetch("SELECT 1 FROM console.audit_log WHERE action = 'schema.apply'")) == 1


async def test_read_only_disables_apply(fresh_db):
    b = fresh_db("zengin")
    b.execute("CREATE TABLE public.stray (id int)")
    app = ConsoleApp(Services.from_settings(Settings(read_only=True, postgres=(b.target,))), initial_mode="schema")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: b.name in app.screen.reports, "first check")
        assert app.screen.reports[b.name].findings
        assert app.screen.check_action("apply", ()) is None
        await pilot.press("F")
        await wait_for(pilot, lambda: app.screen.id == "schema", "still on the screen")
        assert not isinstance(app.screen, ConfirmModal)
    assert b.fetch("SELECT to_regclass('public.stray') AS t")[0]["t"] is not None
