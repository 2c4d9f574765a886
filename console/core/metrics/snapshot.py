"""One sample of everything, for ``console metrics snapshot``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Sequence


from ...backends.base import BackendError
from .analytics import AnalyticsSample
from .influx import InfluxSample
from .pg import PgSample
from .source import MetricsSource


# --------------------------------------------------------------------------- one snapshot (CLI)


@dataclass
class Snapshot:
    postgres: dict[str, PgSample | BackendError] = field(default_factory=dict)
    analytics: dict[str, AnalyticsSample | BackendError] = field(default_factory=dict)
    influx: InfluxSample | BackendError | None = None

    @property
    def failures(self) -> list[str]:
        out = [f"postgres:{k}" for k, v in self.postgres.items() if isinstance(v, BackendError)]
        out += [f"analytics:{k}" for k, v in self.analytics.items() if isinstance(v, BackendError)]
        out += [f"analytics:{k}:{r.view}" for k, v in self.analytics.items()
                if isinstance(v, AnalyticsSample) for r in v.failed]
        if isinstance(self.influx, BackendError):
            out.append("influxdb")
        return out


def _guard(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except BackendError as exc:
        return exc


def take_snapshot(source: MetricsSource, targets: Sequence[str] | None = None, *,
                  range_key: str = "1h", rate_pause_s: float = 1.0) -> Snapshot:
    """One sample of everything; the PostgreSQL targets twice, ``rate_pause_s`` apart, so
    that the rate figures exist. Sources are sampled concurrently (one thread each)."""
    from concurrent.futures import ThreadPoolExecutor

    names = list(targets) if targets else source.targets
    snap = Snapshot()

    def pg_twice(name: str) -> PgSample | BackendError:
        first = _guard(lambda: source.sample_pg(name))
        if isinstance(first, BackendError):
            return first
        time.sleep(rate_pause_s)
        return _guard(lambda: source.sample_pg(name))

    with ThreadPoolExecutor(max_workers=max(2, len(names) * 2 + 1)) as pool:
        pg = {n: pool.submit(pg_twice, n) for n in names}
        an = {n: pool.submit(_guard, lambda n=n: source.sample_analytics(n))
              for n in names if n in source.analytics_targets}
        inf = pool.submit(_guard, lambda: source.sample_influx(range_key)) if source.has_influx else None
        snap.postgres = {n: f.result() for n, f in pg.items()}
        snap.analytics = {n: f.result() for n, f in an.items()}
        snap.influx = inf.result() if inf is not None else None
    return snap


def plain_data(value: Any) -> Any:
    import dataclasses

    if isinstance(value, BackendError):
        return {"error": value.message, "error_kind": value.kind.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: plain_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, PgSample):
            out["chains"] = [{"depth": c.depth, "pid": c.session.pid} for c in value.chains]
            out["cache_hit"] = value.cache_hit
            out.pop("counters", None)
        return out
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "__float__") and not isinstance(value, (int, float, bool)):
        return float(value)   # Decimal
    return value


def snapshot_dict(snap: Snapshot) -> dict[str, Any]:
    return {"postgres": plain_data(snap.postgres), "analytics": plain_data(snap.analytics),
            "influxdb": plain_data(snap.influx), "failures": snap.failures}
