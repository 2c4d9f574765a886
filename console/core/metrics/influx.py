"""InfluxQL series of seed 004 (parameters bound server-side, never formatted in)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable


from ...backends.influx import InfluxBackend, Series


# --------------------------------------------------------------------------- InfluxDB

RANGES = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(hours=24)}
BUCKET = "10m"
TOP_TAGS = 8


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float | None


@dataclass(frozen=True)
class TagStat:
    tag: str
    executions: int
    mean_ms: float | None


@dataclass(frozen=True)
class InfluxSample:
    taken_at: datetime
    version: str
    range_key: str
    user: str | None
    notebook: str | None
    executions: tuple[Point, ...]       # per 10 min
    mean_duration: tuple[Point, ...]    # per 10 min, ms
    error_rate: tuple[Point, ...]       # per hour over 24 h, 0..1
    progress: tuple[Point, ...]         # mean progress_percentage per hour over the range
    by_user: tuple[TagStat, ...]
    by_notebook: tuple[TagStat, ...]
    by_cell_type: tuple[tuple[str, float | None, float | None, float | None], ...]  # avg, max, error rate
    queries: int = 0
    elapsed_ms: float = 0.0

    @property
    def total_executions(self) -> int:
        return int(sum(p.value or 0 for p in self.executions))


def _ms(t: Any) -> datetime:
    return datetime.fromtimestamp(int(t) / 1000, timezone.utc)


def _points(series: list[Series], column: str) -> tuple[Point, ...]:
    out: list[Point] = []
    for s in series:
        i = s.columns.index(column) if column in s.columns else None
        if i is None:
            continue
        out.extend(Point(_ms(v[0]), None if v[i] is None else float(v[i])) for v in s.values)
    return tuple(out)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class InfluxCollector:
    """Seed 004's measurements over InfluxQL (``/query``). The range and buckets come
    from fixed whitelists; tag filters and the start time are bound parameters."""

    def __init__(self, backend: InfluxBackend, *, now: Callable[[], datetime] | None = None):
        self.backend = backend
        self.now = now or (lambda: datetime.now(timezone.utc))

    def tag_values(self, key: str, measurement: str = "cell_executions") -> list[str]:
        if key not in ("user_id", "notebook_path"):
            raise ValueError(f"not a tag this screen filters on: {key}")
        series = self.backend.query(f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "{key}"')
        return sorted({str(v[1]) for s in series for v in s.values})

    def sample(self, range_key: str = "1h", *, user: str | None = None,
               notebook: str | None = None) -> InfluxSample:
        if range_key not in RANGES:
            raise ValueError(f"range must be one of {', '.join(RANGES)}")
        started = time.perf_counter()
        version = self.backend.ping()
        now = self.now()
        # Align to the bucket so a 1 h range is exactly six 10-minute buckets.
        end = now.replace(second=0, microsecond=0)
        end -= timedelta(minutes=end.minute % 10)
        end += timedelta(minutes=10)
        start = end - RANGES[range_key]
        day_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        params: dict[str, Any] = {"start": _rfc3339(start), "end": _rfc3339(end),
                                  "day_start": _rfc3339(day_end - timedelta(hours=24)),
                                  "day_end": _rfc3339(day_end)}
        where = ""
        if user:
            where += ' AND "user_id" = $user'
            params["user"] = user
        if notebook:
            where += ' AND "notebook_path" = $notebook'
            params["notebook"] = notebook
        q = self.backend.query
        window = "time >= $start AND time < $end"
        series = q(f'SELECT count("execution_duration_ms") AS executions, mean("execution_duration_ms") AS mean_ms '
                   f'FROM "cell_executions" WHERE {window}{where} GROUP BY time({BUCKET}) fill(none)',
                   params=params)
        executions = self._fill(_points(series, "executions"), start, end, timedelta(minutes=10), 0.0)
        mean_duration = self._fill(_points(series, "mean_ms"), start, end, timedelta(minutes=10), None)
        day = "time >= $day_start AND time < $day_end"
        totals = q(f'SELECT count("execution_duration_ms") AS total FROM "cell_executions" '
                   f'WHERE {day}{where} GROUP BY time(1h) fill(none)', params=params)
        errors = q(f'SELECT count("execution_duration_ms") AS errors FROM "cell_executions" '
                   f'WHERE {day} AND "has_error" = true{where} GROUP BY time(1h) fill(none)', params=params)
        tot = {p.at: p.value or 0 for p in _points(totals, "total")}
        err = {p.at: p.value or 0 for p in _points(errors, "errors")}
        hours = [day_end - timedelta(hours=24 - i) for i in range(24)]
        error_rate = tuple(Point(h, (err.get(h, 0) / tot[h]) if tot.get(h) else None) for h in hours)
        progress = _points(q(f'SELECT mean("progress_percentage") AS progress FROM "learning_progress" '
                             f'WHERE {window}{where} GROUP BY time(1h) fill(none)', params=params), "progress")
        by_user = self._by_tag("user_id", window, where, params)
        by_nb = self._by_tag("notebook_path", window, where, params)
        perf = q(f'SELECT mean("avg_execution_time") AS avg_ms, max("max_execution_time") AS max_ms, '
                 f'mean("error_rate") AS error_rate FROM "performance_metrics" WHERE {window}{where} '
                 f'GROUP BY "cell_type"', params=params)
        by_cell = tuple(sorted((s.tags.get("cell_type", "?"),
                                *(s.rows()[0].get(k) for k in ("avg_ms", "max_ms", "error_rate")))
                               for s in perf if s.values))
        return InfluxSample(now, version, range_key, user, notebook, executions, mean_duration, error_rate,
                            progress, by_user, by_nb, by_cell, queries=7,
                            elapsed_ms=(time.perf_counter() - started) * 1000)

    def _by_tag(self, tag: str, window: str, where: str, params: dict[str, Any]) -> tuple[TagStat, ...]:
        series = self.backend.query(
            f'SELECT count("execution_duration_ms") AS executions, mean("execution_duration_ms") AS mean_ms '
            f'FROM "cell_executions" WHERE {window}{where} GROUP BY "{tag}"', params=params)
        stats = []
        for s in series:
            row = s.rows()[0] if s.values else {}
            stats.append(TagStat(s.tags.get(tag, "?"), int(row.get("executions") or 0), row.get("mean_ms")))
        stats.sort(key=lambda t: (-t.executions, t.tag))
        return tuple(stats[:TOP_TAGS])

    @staticmethod
    def _fill(points: tuple[Point, ...], start: datetime, end: datetime, step: timedelta,
              empty: float | None) -> tuple[Point, ...]:
        have = {p.at: p.value for p in points}
        out = []
        t = start
        while t < end:
            out.append(Point(t, have.get(t, empty)))
            t += step
        return tuple(out)
