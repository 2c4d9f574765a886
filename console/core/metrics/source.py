"""What the Metrics screen samples: every collector behind one object, and the cadences."""

from __future__ import annotations

import threading
from dataclasses import dataclass


from ...backends.base import BackendError, ErrorKind
from ...backends.influx import InfluxBackend
from ...backends.postgres import PostgresBackend
from .analytics import AnalyticsCollector, AnalyticsSample
from .influx import InfluxCollector, InfluxSample
from .pg import PgCollector, PgSample


# --------------------------------------------------------------------------- the source


@dataclass(frozen=True)
class Cadence:
    """How often each source is sampled, from the user's refresh interval (seconds)."""

    interval_s: float

    @property
    def postgres_s(self) -> float:
        return self.interval_s

    @property
    def influx_s(self) -> float:
        return max(self.interval_s, 10.0)

    @property
    def analytics_s(self) -> float:
        return max(self.interval_s * 12, 60.0)


INTERVAL_STEPS = (1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0)


def step_interval(current: float, direction: int) -> float:
    """The next refresh interval up (+1) or down (-1) the fixed steps.

    >>> step_interval(5, +1), step_interval(5, -1), step_interval(60, +1), step_interval(3, -1)
    (10.0, 2.0, 60.0, 2.0)
    """
    if direction > 0:
        return next((s for s in INTERVAL_STEPS if s > current), INTERVAL_STEPS[-1])
    return next((s for s in reversed(INTERVAL_STEPS) if s < current), INTERVAL_STEPS[0])


class MetricsSource:
    """What the metrics screen and ``console metrics`` read: one collector per target,
    the analytics collector per lambda target, the InfluxDB collector. Every method
    blocks (call from a worker thread); each raises BackendError on failure."""

    def __init__(self, postgres: dict[str, PostgresBackend], influx: InfluxBackend | None, *,
                 analytics_systems: tuple[str, ...] = ("lambda",),
                 view_timeouts_ms: dict[str, int] | None = None):
        self._pg = {name: PgCollector(b) for name, b in postgres.items()}
        self._analytics = {name: AnalyticsCollector(b, timeouts_ms=view_timeouts_ms)
                           for name, b in postgres.items() if b.target.system in analytics_systems}
        self._influx = InfluxCollector(influx) if influx is not None else None
        self._lock = threading.Lock()

    @classmethod
    def from_backends(cls, backends) -> "MetricsSource":
        return cls(dict(backends.postgres), backends.influx)

    @property
    def targets(self) -> list[str]:
        return list(self._pg)

    @property
    def analytics_targets(self) -> list[str]:
        return list(self._analytics)

    @property
    def has_influx(self) -> bool:
        return self._influx is not None

    def sample_pg(self, target: str) -> PgSample:
        return self._pg[target].sample()

    def pg_history(self, target: str, limit: int) -> list[PgSample] | None:
        """Live: no history kept here (the screen keeps what it sampled)."""
        return None

    def sample_analytics(self, target: str) -> AnalyticsSample:
        return self._analytics[target].sample()

    def sample_influx(self, range_key: str = "1h", *, user: str | None = None,
                      notebook: str | None = None) -> InfluxSample:
        if self._influx is None:
            raise BackendError("influxdb", ErrorKind.NOT_FOUND, "no [influxdb] configured")
        return self._influx.sample(range_key, user=user, notebook=notebook)

    def tag_values(self, key: str) -> list[str]:
        if self._influx is None:
            return []
        return self._influx.tag_values(key)
