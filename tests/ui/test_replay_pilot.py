"""Recording and replay in the app: a recording made from the real PostgreSQL replays in
the Activity screen showing the recorded sessions, the cursor in the header moves with
the keys, and no mutating key is offered; ctrl+s in the live app records every sample the
live layer receives to a file that replays."""

from __future__ import annotations

import asyncio

from console.config import Settings, parse_text
from console.core.activity import ActivitySource
from console.core.recording import Recorder, Recording
from console.ui.app import ConsoleApp
from console.ui.recorder import replay_app
from tests.activity_helpers import Victim, active_in, wait_until

from .conftest import settled, wait_for
from .fakes_activity import activity_services


def test_a_recording_from_the_real_server_replays_in_the_app(tmp_path, fresh_db):
    pg = fresh_db("pipe")
    out = tmp_path / "rec.sqlite"
    src = ActivitySource({pg.name: pg})
    v1 = Victim(pg.target.dsn, "replay-first").start("SELECT pg_sleep(60) /* first */")
    try:
        wait_until(lambda: active_in(pg, v1.pid, "pg_sleep"), "first running")
        with Recorder(out) as rec:
            with rec.tick() as t:
                t.add("activity", pg.name, src.sample(pg.name))
            v2 = Victim(pg.target.dsn, "replay-second").start("SELECT pg_sleep(60) /* second */")
            wait_until(lambda: active_in(pg, v2.pid, "pg_sleep"), "second running")
            import time
            time.sleep(0.01)   # two distinct tick times (the recording keys ticks by time)
            with rec.tick() as t:
                t.add("activity", pg.name, src.sample(pg.name))
    finally:
        v1.close(killer=pg)
        if "v2" in locals():
            v2.close(killer=pg)
    with Recording(out) as r:
        assert len(r) == 2

    async def go():
        app = replay_app(parse_text(f'[postgres.pipe]\ndsn = "{pg.target.dsn}"\nsystem = "pipe"\n'), out)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = app.screen
            await wait_for(pilot, lambda: f"{pg.name}:{v1.pid}" in screen.visible_rows,
                           f"the first recorded session {screen.id} {[(n, s.error) for n, s in screen.states.items()]}")
            assert f"{pg.name}:{v2.pid}" not in screen.visible_rows
            assert "tick 1/2" in app.sub_title and "REPLAY" in app.sub_title
            assert screen.check_action("cancel", ()) is False and screen.check_action("terminate", ()) is False
            await pilot.press("full_stop")
            await wait_for(pilot, lambda: f"{pg.name}:{v2.pid}" in screen.visible_rows, "the second tick's session")
            assert "tick 2/2" in app.sub_title
            row = screen.visible_rows[f"{pg.name}:{v2.pid}"][1]
            assert row.query == "SELECT pg_sleep(60) /* second */"
            await pilot.press("left_curly_bracket")
            await wait_for(pilot, lambda: f"{pg.name}:{v2.pid}" not in screen.visible_rows, "back at the start")
            assert app.services.backends is None
    asyncio.run(go())


def test_ctrl_s_records_what_the_live_layer_receives(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    async def go():
        app = ConsoleApp(activity_services(), initial_mode="activity")
        async with app.run_test(size=(120, 40)) as pilot:
            await settled(pilot)
            await pilot.press("ctrl+s")
            assert app.recorder is not None
            path = app.recorder.path
            await pilot.press("r")
            await settled(pilot)
            await wait_for(pilot, lambda: app.recorder.count >= 2, "both targets' samples written")
            await pilot.press("ctrl+s")
            assert app.recorder is None
            return path
    path = asyncio.run(go())
    with Recording(tmp_path / path) as r:
        f = r.last()
        assert f.get("activity", "lambda").row(4120).blocked_by == (4101,)
        assert f.get("activity", "zengin").row(5201).query == "COPY banks FROM STDIN"
    assert Settings  # the settings type the replay is built from


def test_the_wal_chart_follows_the_replay_cursor_back(tmp_path):
    """Jumping back in a replay, the WAL chart shows only what was recorded up to the
    cursor (it used to keep the later points)."""
    from datetime import timedelta

    from textual.widgets import TabbedContent

    from console.ui.widgets.chart import TimeChart

    from .fakes_activity import FIXED, FakeActivity, maintenance_sample

    out = tmp_path / "wal.sqlite"
    fake = FakeActivity()
    times = [FIXED + timedelta(seconds=10 * i) for i in range(5)]
    with Recorder(out) as rec:
        for i, at in enumerate(times):
            with rec.tick(at) as t:
                t.add("activity", "lambda", fake.sample("lambda"))
                t.add("maintenance", "lambda", maintenance_sample("lambda", at, 1e6 * i, 1000.0 * (i + 1)))

    def points(screen) -> list:
        return [p for s in screen.query_one("#repl-chart", TimeChart).series for p in s.points]

    async def go():
        app = replay_app(parse_text('[postgres.lambda]\ndsn = "postgresql://u@127.0.0.1:1/x"\nsystem = "lambda"\n'),
                         out)
        async with app.run_test(size=(160, 45)) as pilot:
            screen = app.screen
            await wait_for(pilot, lambda: screen.id == "activity", "the activity screen")
            screen.query_one(TabbedContent).active = "tab-repl"
            await pilot.press("right_curly_bracket")
            await wait_for(pilot, lambda: [p[0] for p in points(screen)] == times, "every recorded WAL point")
            await pilot.press("left_curly_bracket")
            await wait_for(pilot, lambda: points(screen) and max(p[0] for p in points(screen)) == times[0],
                           f"the chart back at the first tick ({points(screen)})")
            assert [p[0] for p in points(screen)] == times[:1]
    asyncio.run(go())
