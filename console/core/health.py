"""Health of every configured backend, and when to look again.

The Overview screen and ``console status`` both use :func:`checks_for`; the screen runs
each check in its own worker so a slow or dead backend never delays the others."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..backends.base import Health

if TYPE_CHECKING:      # typing only: importing the registry imports every driver (psycopg, redis, boto3)
    from ..backends.registry import Backends

KIND_ORDER = {"postgres": 0, "redis": 1, "influxdb": 2, "dynamodb": 3, "s3": 4}


@dataclass(frozen=True)
class HealthCheck:
    name: str
    kind: str
    address: str
    run: Callable[[], Health]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


def checks_for(backends: Backends) -> list[HealthCheck]:
    out = [HealthCheck(b.name, b.kind, b.address, b.health) for b in backends.all()]
    return sorted(out, key=lambda c: (KIND_ORDER.get(c.kind, 9), c.name))


def next_delay(interval_s: float, consecutive_failures: int, *, cap_s: float = 60.0) -> float:
    """Seconds until the next probe: the refresh interval while healthy; after failures,
    doubling from the interval up to ``cap_s`` so a dead server is not hammered.

    >>> next_delay(5, 0), next_delay(5, 1), next_delay(5, 2), next_delay(5, 10)
    (5, 5, 10, 60.0)
    """
    if consecutive_failures <= 1:
        return interval_s
    return min(cap_s, interval_s * 2 ** (consecutive_failures - 1))


def run_all(checks: list[HealthCheck], *, max_workers: int = 8) -> list[Health]:
    """Every check concurrently (``console status``): total time is the slowest check."""
    if not checks:
        return []
    with ThreadPoolExecutor(max_workers=min(max_workers, len(checks))) as pool:
        return list(pool.map(lambda c: c.run(), checks))
