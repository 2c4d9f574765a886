"""A recording of Metrics made against the real PostgreSQL (and the real influxd when the
stack has one) replays the values it recorded on the Metrics screen: the TPS cell of the
table, the TPS and rows/s charts (the recorded series up to the cursor, no further) and
the InfluxDB charts, as the time cursor steps and jumps; and the replay is read-only by
construction: no backend, read-only settings, a read-only SQLite handle, the file unchanged."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import sqlite3
import time
from datetime import datetime, timedelta, timezone

import pytest

from console.config import parse_text
from console.core import format as fmt
from console.core.metrics import InfluxSample, MetricsSource, PgSample
from console.core.recording import Recorder, Recording
from console.ui.recorder import replay_app
from console.ui.widgets.chart import TimeChart
from console.ui.widgets.lists import ListTable

from .conftest import wait_for

_n = itertools.count(1)


@pytest.fixture
def influx_or_none(stack):
    """The real influxd with a few cell executions in the last hour, or None when this
    machine has none (the PostgreSQL half still runs)."""
    if stack.influx is None:
        yield None
        return
    from console.backends.influx import InfluxBackend
    from console.config import InfluxSettings
    srv = stack.influx
    settings = InfluxSettings(url=srv.url, database=f"replay_{os.getpid()}_{next(_n)}",
                              username=srv.username, password=srv.password)
    backend = InfluxBackend(settings)
    backend.query(f'CREATE DATABASE "{settings.database}"')
    now = datetime.now(timezone.utc)
    backend.write([
        f"cell_executions,user_id=user_00{k % 3},notebook_path=nb/{k % 2}.ipynb,cell_index=0,event_type=execute "
        f"execution_duration_ms={100 + 10 * k}i,has_error={'true' if k % 4 == 0 else 'false'} "
        f"{int((now - timedelta(minutes=5 * k + 1)).timestamp() * 1000)}" for k in range(10)])
    yield backend
    backend.query(f'DROP DATABASE "{settings.database}"')
    backend.close()


def _record(pg, influx, out) -> tuple[list[PgSample], InfluxSample | None]:
    """Three ticks of the real collectors, with transactions between them (so TPS moves)."""
    src = MetricsSource({pg.name: pg}, influx)
    pgs: list[PgSample] = []
    inf = None
    with Recorder(out) as rec:
        for tick in range(3):
            with pg.connect(autocommit=True) as c:
                for _ in range(5 + 10 * tick):
                    c.execute("SELECT 1")
                c.execute("SELECT pg_stat_force_next_flush()")   # counted now, not after the 1 s flush delay
            time.sleep(0.2)   # the sampling interval: rates are per second between samples
            with rec.tick() as t:
                s = src.sample_pg(pg.name)
                pgs.append(s)
                t.add("metrics.pg", pg.name, s)
                if influx is not None and tick == 0:
                    inf = src.sample_influx("1h")
                    t.add("metrics.influx", "", inf)
    return pgs, inf


def _tps_points(samples: list[PgSample]) -> tuple:
    return tuple((s.taken_at, s.rates.tps if s.rates else None) for s in samples)


def test_a_metrics_recording_replays_its_values(tmp_path, fresh_db, influx_or_none):
    pg = fresh_db("pipe")
    out = tmp_path / "metrics.sqlite"
    pgs, inf = _record(pg, influx_or_none, out)
    assert pgs[1].rates is not None and pgs[2].rates is not None and pgs[2].rates.tps > 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    with Recording(out) as r:
        assert len(r) == 3
    key = f"pg:{pg.name}"

    async def go():
        app = replay_app(parse_text(f'[postgres.{pg.name}]\ndsn = "{pg.target.dsn}"\nsystem = "pipe"\n'), out,
                         initial_mode="metrics")
        async with app.run_test(size=(160, 45)) as pilot:
            screen = app.screen
            assert screen.id == "metrics"
            table = screen.query_one("#pg-targets", ListTable)
            tps = screen.query_one("#chart-tps", TimeChart)

            def shows(i: int) -> bool:
                st = screen.states.get(key)
                return (st is not None and st.value is not None and st.value.sample.taken_at == pgs[i].taken_at
                        and not st.running and not screen.paint_pending)

            def tps_cell() -> str:
                return table.get_row(key)[1].plain

            def tps_series() -> tuple:
                (series,) = [s for s in tps.series if s.label == pg.name]
                return series.points

            # tick 1: the first sample (no rate yet), nothing before it
            await wait_for(pilot, lambda: shows(0), "the first recorded sample")
            assert "tick 1/3" in app.sub_title and "read-only" in app.sub_title
            assert tps_cell() == "—" and tps_series() == _tps_points(pgs[:1])
            # step forward: the second tick's rate, its history the first
            await pilot.press("full_stop")
            await wait_for(pilot, lambda: shows(1), "the second tick")
            assert "tick 2/3" in app.sub_title
            assert tps_cell() == fmt.number(pgs[1].rates.tps)
            assert tps_series() == _tps_points(pgs[:2])
            rows = screen.query_one("#chart-rows", TimeChart).series
            assert [p[1] for p in rows[0].points] == [None, pgs[1].rates.rows_read_s]
            # jump to the end, then back to the start: the chart never keeps a later point
            await pilot.press("right_curly_bracket")
            await wait_for(pilot, lambda: shows(2), "the last tick")
            assert tps_cell() == fmt.number(pgs[2].rates.tps) and tps_series() == _tps_points(pgs)
            await pilot.press("left_curly_bracket")
            await wait_for(pilot, lambda: shows(0), "back at the first tick")
            assert tps_series() == _tps_points(pgs[:1]) and tps_cell() == "—"
            await pilot.press("comma")                      # stepping back past the start stays there
            await wait_for(pilot, lambda: shows(0), "still the first tick")
            assert "tick 1/3" in app.sub_title

            if inf is not None:
                await wait_for(pilot, lambda: screen.states.get("influx") is not None
                               and screen.states["influx"].value is not None, "the recorded InfluxDB sample")
                assert screen.states["influx"].value == inf
                execs = screen.query_one("#chart-exec", TimeChart).series[0].points
                assert execs == tuple((p.at, p.value) for p in inf.executions)
                assert sum(v for _, v in execs if v) == 10 == inf.total_executions

            # read-only by construction
            assert app.services.backends is None and app.services.settings.read_only
            port = app.services.sources["metrics"]
            assert not [m for m in dir(port) if m.startswith(("execute", "apply", "signal", "delete", "write"))]
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                port.cursor.recording()._db.execute("CREATE TABLE nope (a int)")
    asyncio.run(go())
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest, "replaying changed the recording"
