"""The Sessions screen against the real Redis and PostgreSQL, driven through Pilot: rows
from the real scan, orphans, a published message in the tail, and a delete through the
preview + typed confirmation that writes one audit row."""

from __future__ import annotations

import asyncio
import json

import redis
from textual.widgets import DataTable, Input, Static

from console.config import parse_text
from console.ui.app import ConsoleApp
from console.ui.services import Services

from .conftest import wait_for


def test_sessions_screen_on_real_servers(stack, fresh_db):
    pg = fresh_db("zengin")
    url = stack.redis.url.rsplit("/", 1)[0] + "/9"
    c = redis.Redis.from_url(url)
    c.flushdb()
    for i in range(30):
        c.set(f"session:user_{i:03d}", json.dumps({"current_notebook": f"nb/{i % 3}.ipynb",
                                                   "last_activity": "2026-11-22T09:00:00+00:00"}), ex=600 + i)
    c.hset("websocket_connections", "ws-orphan", json.dumps({"user_id": "ghost"}))
    settings = parse_text(f'operator = "dba-jane"\nrefresh_interval = 1\n[identity]\nallow_declared = true\n'
                          f'[postgres.zengin]\ndsn = "{pg.target.dsn}"\nsystem = "zengin"\n'
                          f'[redis]\nurl = "{url}"\nscan_count = 10\n')
    services = Services.from_settings(settings)

    async def go():
        app = ConsoleApp(services, initial_mode="sessions")
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            table = screen.query_one("#sessions-table", DataTable)
            keys = screen.keys
            await wait_for(pilot, lambda: table.row_count == 30 and keys.scan is not None and keys.scan.done, "scan")
            assert str(screen.query_one("#sessions-scan", Static).render()).startswith("30 session keys")
            await wait_for(pilot, lambda: screen.state("aux").loaded, "connections read")
            assert "1 without a session" in str(screen.query_one("#connections-summary", Static).render())
            # Live tail: a message published now shows up.
            await wait_for(pilot, lambda: screen.tail.status is not None, "subscribed")
            redis.Redis.from_url(url).publish("session_events", '{"event_type": "session_start"}')
            await wait_for(pilot, lambda: any(m.channel == "session_events" for m in screen.tail.messages),
                           "the published message in the tail")
            # Delete the highlighted (first) session through preview + typed confirmation.
            table.focus()
            await pilot.press("home", "D")
            await wait_for(pilot, lambda: app.screen is not screen, "delete preview")
            typed = app.screen.query_one("#confirm-typed", Input)
            typed.value = "session:user_000"
            await wait_for(pilot, lambda: not app.screen.query_one("#confirm").disabled, "confirm enabled")
            await pilot.click("#confirm")
            await wait_for(pilot, lambda: not c.exists("session:user_000"), "the key deleted")
            await wait_for(pilot, lambda: any(r.key == "session:user_000" and r.kind == "gone"
                                              for r in keys.records), "the row marked gone")

    try:
        asyncio.run(go())
        rows = pg.fetch("SELECT actor, action, outcome FROM console.audit_log WHERE action LIKE 'sessions.%'")
        assert [(r["actor"], r["action"], r["outcome"]) for r in rows] == [("dba-jane", "sessions.delete", "ok")]
    finally:
        services.close()
        c.flushdb()
        c.close()
