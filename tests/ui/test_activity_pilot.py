"""The Activity screen against the real PostgreSQL, driven through Pilot: a session blocked
by another shows the chain in the detail pane; cancel (``C``) from the screen, through the
preview and the confirmation, ends the blocker's query, keeps its session and writes the
audit record; the focus comes back to the table."""

from __future__ import annotations

import asyncio

from textual.widgets import Static

from console.config import parse_text
from console.ui.app import ConsoleApp
from console.ui.services import Services
from tests.activity_helpers import Victim, active_in, exists

from .conftest import wait_for


def test_activity_screen_chain_and_cancel_on_the_real_server(fresh_db):
    pg = fresh_db("pipe")
    pg.execute("CREATE TABLE public.t_ui_lock (id int PRIMARY KEY, v int)")
    pg.execute("INSERT INTO public.t_ui_lock VALUES (1, 0)")
    # the blocker runs a long query inside a transaction that holds the row lock
    holder = Victim(pg.target.dsn, "ui-holder", autocommit=False)
    holder.execute("UPDATE public.t_ui_lock SET v = 1 WHERE id = 1")
    sleeper = Victim(pg.target.dsn, "ui-sleeper").start("SELECT pg_sleep(600)")
    waiter = Victim(pg.target.dsn, "ui-waiter").start("UPDATE public.t_ui_lock SET v = 2 WHERE id = 1")
    settings = parse_text(f'operator = "dba-jane"\nrefresh_interval = 1\n[identity]\nallow_declared = true\n'
                          f'[postgres.pipe]\ndsn = "{pg.target.dsn}"\nsystem = "pipe"\n')
    services = Services.from_settings(settings)

    async def go():
        app = ConsoleApp(services, initial_mode="activity")
        async with app.run_test(size=(160, 45)) as pilot:
            screen = app.screen
            await wait_for(pilot, lambda: any(r.pid == waiter.pid and r.blocked_by == (holder.pid,)
                                              for _t, r in screen.visible_rows.values()), "the waiter blocked")
            table = screen.query_one("#activity-table")
            table.move_cursor(row=list(screen.visible_rows).index(f"pipe:{waiter.pid}"))
            detail = screen.query_one("#activity-detail-text", Static)
            await wait_for(pilot, lambda: "blocking chain" in str(detail.render()), "the chain in the detail")
            shown = str(detail.render())
            assert f"pid {holder.pid}" in shown and f"pid {waiter.pid}" in shown
            # cancel the sleeper's query from the screen
            await wait_for(pilot, lambda: f"pipe:{sleeper.pid}" in screen.visible_rows, "the sleeper listed")
            table.move_cursor(row=list(screen.visible_rows).index(f"pipe:{sleeper.pid}"))
            await pilot.press("C")
            await wait_for(pilot, lambda: app.screen is not screen, "the cancel preview")
            preview = app.screen.preview
            assert "pg_cancel_backend" in preview and str(sleeper.pid) in preview
            await pilot.click("#confirm")
            await wait_for(pilot, lambda: app.screen is screen, "back on the screen")
            await wait_for(pilot, lambda: not active_in(pg, sleeper.pid, "pg_sleep"), "the query cancelled", 30)
            assert exists(pg, sleeper.pid), "cancel must keep the session"
            await wait_for(pilot, lambda: app.focused is table, "the focus back on the table")

    try:
        asyncio.run(go())
        rows = pg.fetch("SELECT actor, action, outcome FROM console.audit_log WHERE action = 'activity.cancel'")
        assert [(r["actor"], r["outcome"]) for r in rows] == [("dba-jane", "ok")]
    finally:
        services.close()
        holder.conn.rollback()
        waiter.close(killer=pg)
        sleeper.close(killer=pg)
        holder.close()
