"""Seed 004, InfluxDB: cell executions, and a traffic generator."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from psycopg import sql

from ...backends.influx import InfluxBackend
from ...backends.postgres import PostgresBackend
from .lambda_ import (request_log_rows, REQUEST_LOG_COLUMNS)
from .learning import (LEARNERS, NOTEBOOKS)
from .redis import (PY_ERRORS, _Daemon)


# --------------------------------------------------------------------------- InfluxDB (seed 004)


def cell_execution_point(rng: random.Random, moment: datetime):
    from influxdb_client import Point, WritePrecision

    user = LEARNERS[int(rng.random() ** 1.3 * len(LEARNERS))]
    nb, _title, cells = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))]
    has_error = rng.random() < (0.12 if "final" in nb else 0.05)
    duration = int(rng.lognormvariate(5.2 if "sklearn" in nb else 4.5, 0.9))
    err = PY_ERRORS[rng.randrange(len(PY_ERRORS))] if has_error else None
    return (Point("cell_executions").tag("user_id", user).tag("notebook_path", nb)
            .tag("cell_index", str(rng.randrange(cells))).tag("event_type", "execute")
            .field("execution_duration_ms", duration).field("has_error", has_error)
            .field("error_message", f"{err[0]}: {err[1]}" if err else "")
            .field("execution_count", rng.randrange(1, 50))
            .time(int(moment.timestamp() * 1000), WritePrecision.MS))


@dataclass
class InfluxReport:
    points: dict[str, int] = field(default_factory=dict)


def fill_influx(influx: InfluxBackend, now: datetime, seed: int = 1, *, batch: int = 5000) -> InfluxReport:
    """The last 24 h of seed 004's measurements, busier in class hours (JST 9-18):

    - ``cell_executions`` tags user_id, notebook_path, cell_index, event_type; fields
      execution_duration_ms (int), has_error (bool), error_message, execution_count;
    - ``learning_progress`` tags user_id, notebook_path; fields completed_cells,
      total_cells, progress_percentage, session_duration_ms (every 10 min per active user);
    - ``performance_metrics`` tags user_id, notebook_path, cell_type; fields
      avg_execution_time, max_execution_time, error_rate (hourly).
    """
    from influxdb_client import Point, WritePrecision

    rng = random.Random(f"{seed}:influx")
    report = InfluxReport()
    start = now - timedelta(hours=24)

    def busy(moment: datetime) -> float:
        jst_hour = (moment.hour + 9) % 24
        return 1.0 if 9 <= jst_hour < 18 else 0.25

    points: list = []

    def flush(force: bool = False) -> None:
        if points and (force or len(points) >= batch):
            influx.write(points, precision="ms")
            points.clear()

    n = 0
    minute = start
    while minute < now:
        for _ in range(int(rng.randrange(10, 30) * busy(minute))):
            points.append(cell_execution_point(rng, minute + timedelta(seconds=rng.random() * 60)))
            n += 1
        flush()
        minute += timedelta(minutes=1)
    report.points["cell_executions"] = n

    n = 0
    progress = {u: {nb: 0.0 for nb, _t, _c in NOTEBOOKS} for u in LEARNERS}
    tick = start
    while tick < now:
        for u in LEARNERS:
            if rng.random() > 0.5 * busy(tick):
                continue
            nb, _title, cells = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))]
            progress[u][nb] = min(1.0, progress[u][nb] + rng.random() * 0.1)
            done = int(progress[u][nb] * cells)
            points.append(Point("learning_progress").tag("user_id", u).tag("notebook_path", nb)
                          .field("completed_cells", done).field("total_cells", cells)
                          .field("progress_percentage", round(progress[u][nb] * 100, 1))
                          .field("session_duration_ms", rng.randrange(60_000, 3_600_000))
                          .time(int(tick.timestamp() * 1000), WritePrecision.MS))
            n += 1
        flush()
        tick += timedelta(minutes=10)
    report.points["learning_progress"] = n

    n = 0
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < now:
        for u in LEARNERS[:20]:
            nb = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))][0]
            for cell_type in ("code", "markdown"):
                avg = rng.lognormvariate(4.5, 0.5) if cell_type == "code" else rng.random() * 5
                points.append(Point("performance_metrics").tag("user_id", u).tag("notebook_path", nb)
                              .tag("cell_type", cell_type).field("avg_execution_time", round(avg, 2))
                              .field("max_execution_time", round(avg * (1 + rng.random() * 4), 2))
                              .field("error_rate", round(rng.random() * 0.15 if cell_type == "code" else 0.0, 3))
                              .time(int(hour.timestamp() * 1000), WritePrecision.MS))
                n += 1
        flush()
        hour += timedelta(hours=1)
    report.points["performance_metrics"] = n
    flush(force=True)
    return report


class TrafficGenerator(_Daemon):
    """Keeps the metrics screen moving: every second a few ``cell_executions`` points and a
    few ``request_logs`` rows stamped with the current time. Either side may be None."""

    interval_s = 1.0

    def __init__(self, *, lambda_pg: PostgresBackend | None = None, influx: InfluxBackend | None = None,
                 seed: int = 1, points_per_s: int = 4, rows_per_s: int = 5):
        super().__init__("demo-traffic")
        self.lambda_pg = lambda_pg
        self.influx = influx
        self.rng = random.Random(f"{seed}:traffic")
        self.points_per_s = points_per_s
        self.rows_per_s = rows_per_s
        self.written_points = 0
        self.written_rows = 0

    def tick(self) -> None:
        now = datetime.now(timezone.utc)
        if self.influx is not None:
            n = self.rng.randrange(self.points_per_s + 1) + self.points_per_s // 2
            self.written_points += self.influx.write([cell_execution_point(self.rng, now) for _ in range(n)],
                                                     precision="ms")
        if self.lambda_pg is not None:
            n = self.rng.randrange(self.rows_per_s + 1) + self.rows_per_s // 2
            rows = list(request_log_rows(self.rng, now, n, now - timedelta(seconds=1), now, []))
            stmt = sql.SQL("INSERT INTO public.request_logs ({}) VALUES ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, REQUEST_LOG_COLUMNS)),
                sql.SQL(", ").join(sql.Placeholder() * len(REQUEST_LOG_COLUMNS)))
            with self.lambda_pg.connection() as conn, conn.cursor() as cur:
                cur.executemany(stmt, rows)
            self.written_rows += len(rows)
