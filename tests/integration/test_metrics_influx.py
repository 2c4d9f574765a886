"""Metrics core against a real influxd: points written with line protocol come back per
10 minutes with the right counts and means, filters are bound parameters, tag values
come from SHOW TAG VALUES, the version from /ping."""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timezone

import pytest

from console.backends.influx import InfluxBackend
from console.config import InfluxSettings
from console.core.metrics import InfluxCollector

NOW = datetime(2025, 3, 1, 12, 3, 30, tzinfo=timezone.utc)   # 1 h window: 11:10 .. 12:10
_n = itertools.count(1)


@pytest.fixture
def influx(influx_server):
    settings = InfluxSettings(url=influx_server.url, database=f"metrics_{os.getpid()}_{next(_n)}",
                              username=influx_server.username, password=influx_server.password)
    backend = InfluxBackend(settings)
    backend.query(f'CREATE DATABASE "{settings.database}"')
    yield backend
    backend.query(f'DROP DATABASE "{settings.database}"')
    backend.close()


def line(measurement: str, tags: dict, fields: dict, at: datetime) -> str:
    t = ",".join(f"{k}={v}" for k, v in tags.items())
    f = ",".join(f"{k}={'true' if v is True else 'false' if v is False else (f'{v}i' if isinstance(v, int) else v)}"
                 for k, v in fields.items())
    return f"{measurement},{t} {f} {int(at.timestamp() * 1000)}"


def exec_line(user: str, nb: str, ms: int, at: datetime, error: bool = False) -> str:
    return line("cell_executions", {"user_id": user, "notebook_path": nb, "cell_index": "0",
                                    "event_type": "execute"},
                {"execution_duration_ms": ms, "has_error": error}, at)


def at(h: int, m: int, s: int = 0) -> datetime:
    return NOW.replace(hour=h, minute=m, second=s)


def test_series_per_10_minutes_with_means(influx):
    influx.write([
        exec_line("user_001", "nb/a.ipynb", 100, at(11, 21)),
        exec_line("user_001", "nb/a.ipynb", 200, at(11, 25)),
        exec_line("user_002", "nb/b.ipynb", 600, at(11, 29, 59), error=True),
        exec_line("user_002", "nb/b.ipynb", 50, at(11, 55)),
        exec_line("user_001", "nb/b.ipynb", 70, at(12, 1)),
        exec_line("user_003", "nb/a.ipynb", 9999, at(10, 30)),       # before the window
        line("learning_progress", {"user_id": "user_001", "notebook_path": "nb/a.ipynb"},
             {"progress_percentage": 40.0, "completed_cells": 4}, at(11, 30)),
        line("learning_progress", {"user_id": "user_002", "notebook_path": "nb/b.ipynb"},
             {"progress_percentage": 60.0, "completed_cells": 6}, at(11, 40)),
        line("performance_metrics", {"user_id": "user_001", "notebook_path": "nb/a.ipynb", "cell_type": "code"},
             {"avg_execution_time": 80.0, "max_execution_time": 200.0, "error_rate": 0.1}, at(11, 0 + 20)),
    ], precision="ms")
    c = InfluxCollector(influx, now=lambda: NOW)
    s = c.sample("1h")
    assert s.version.startswith("1.")
    assert [p.at.strftime("%H:%M") for p in s.executions] == ["11:10", "11:20", "11:30", "11:40", "11:50", "12:00"]
    assert [p.value for p in s.executions] == [0, 3, 0, 0, 1, 1]
    assert [p.value for p in s.mean_duration] == [None, 300.0, None, None, 50.0, 70.0]
    assert s.total_executions == 5
    # error rate per hour over 24 h: the 11:00 hour had 1 error in 4 executions
    rates = {p.at.strftime("%H"): p.value for p in s.error_rate}
    assert len(s.error_rate) == 24 and rates["11"] == 0.25 and rates["12"] == 0.0 and rates["10"] == 0.0
    assert {t.tag: (t.executions, t.mean_ms) for t in s.by_user} == {"user_001": (3, 370 / 3),
                                                                     "user_002": (2, 325.0)}
    assert [(t.tag, t.executions) for t in s.by_notebook] == [("nb/b.ipynb", 3), ("nb/a.ipynb", 2)]
    assert [p.value for p in s.progress] == [50.0]
    assert s.by_cell_type == (("code", 80.0, 200.0, 0.1),)

    # a filter is a bound parameter; a value full of quotes is just a value
    f = c.sample("1h", user="user_002")
    assert [p.value for p in f.executions] == [0, 1, 0, 0, 1, 0]
    hostile = c.sample("1h", user="x' OR 1=1 --\"")
    assert hostile.total_executions == 0

    wide = c.sample("24h")
    assert len(wide.executions) == 144 and wide.total_executions == 6

    assert c.tag_values("user_id") == ["user_001", "user_002", "user_003"]
    assert c.tag_values("notebook_path") == ["nb/a.ipynb", "nb/b.ipynb"]
    with pytest.raises(ValueError):
        c.tag_values("cell_index; DROP DATABASE x")
    with pytest.raises(ValueError):
        c.sample("2d")


def test_empty_database_gives_empty_series(influx):
    s = InfluxCollector(influx, now=lambda: NOW).sample("6h")
    assert len(s.executions) == 36 and s.total_executions == 0
    assert all(p.value is None for p in s.error_rate)
    assert s.by_user == () and s.progress == ()
