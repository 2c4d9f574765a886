"""Replay: the Metrics and Activity ports over a recording (console.core.recording), moved by
one shared time cursor. Built with no backend at all: nothing in a replay can act on a
server (``can_signal`` False, ``signal`` refuses, ``read_only`` True).

SQLite connections belong to the thread that opened them, and the live layer samples in
worker threads: each thread opens its own read-only :class:`Recording` and reads the
cursor's tick."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from ...backends.base import BackendError, ErrorKind
from ...core.activity import ActivitySample, SignalPlan, SignalResult
from ...core.activity.maintenance import MaintenanceSample
from ...core.activity.statements import StatementsSample
from ...core.metrics import AnalyticsSample, InfluxSample, PgSample
from ...core.recording import Frame, Recording


class Cursor:
    """The time cursor over a recording's ticks (UI thread moves it; workers read it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        rec = self.recording()
        self.count = len(rec)
        self.kinds = rec.kinds()
        self.ticks = list(rec.ticks)
        self.position = 0
        self.playing = False

    def recording(self) -> Recording:
        rec = getattr(self._local, "rec", None)
        if rec is None:
            rec = self._local.rec = Recording(self.path)
        return rec

    def frame(self) -> Frame:
        rec = self.recording()
        rec.position = self.position
        return rec.frame()

    def at(self) -> datetime | None:
        from datetime import timezone
        return datetime.fromtimestamp(self.ticks[self.position], timezone.utc) if self.ticks else None

    def move(self, step: int) -> None:
        self.position = min(max(self.position + step, 0), max(self.count - 1, 0))

    def jump(self, where: int) -> None:
        self.position = 0 if where == 0 else max(self.count - 1, 0)

    def targets(self, kind: str) -> list[str]:
        return sorted({t for k, t in self.kinds if k == kind})

    def get(self, kind: str, target: str) -> Any:
        s = self.frame().get(kind, target)
        if s is None:
            raise BackendError(target or kind, ErrorKind.NOT_FOUND, f"no {kind} sample recorded at this time")
        if isinstance(s, BackendError):
            raise s
        return s


class ReplayActivityPort:
    can_signal = False
    read_only = True

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor

    @property
    def targets(self) -> list[str]:
        return self.cursor.targets("activity")

    def sample(self, target: str) -> ActivitySample:
        return self.cursor.get("activity", target)

    def statements(self, target: str) -> StatementsSample:
        return self.cursor.get("statements", target)

    def maintenance(self, target: str) -> MaintenanceSample:
        return self.cursor.get("maintenance", target)

    def wal_history(self, target: str) -> list[tuple[datetime, float | None]]:
        at = self.cursor.at()
        return [(m.taken_at, m.wal_bytes_s) for m in self.cursor.recording().samples("maintenance", target)
                if isinstance(m, MaintenanceSample) and (at is None or m.taken_at <= at)]

    def signal(self, plan: SignalPlan) -> list[SignalResult]:
        raise BackendError(plan.target, ErrorKind.REFUSED, "a replay cannot act on a server")


class ReplayMetrics:
    """``MetricsPort`` over the recording (the filters of InfluxDB are what was recorded)."""

    def __init__(self, cursor: Cursor) -> None:
        self.cursor = cursor

    @property
    def targets(self) -> list[str]:
        return self.cursor.targets("metrics.pg")

    @property
    def analytics_targets(self) -> list[str]:
        return self.cursor.targets("metrics.analytics")

    @property
    def has_influx(self) -> bool:
        return bool(self.cursor.targets("metrics.influx"))

    def sample_pg(self, target: str) -> PgSample:
        return self.cursor.get("metrics.pg", target)

    def pg_history(self, target: str, limit: int) -> list[PgSample] | None:
        """What was recorded before the cursor (good samples only: a failure is a gap)."""
        at = self.cursor.ticks[self.cursor.position] if self.cursor.ticks else None
        return [s for s in self.cursor.recording().samples("metrics.pg", target, before=at, limit=limit)
                if isinstance(s, PgSample)]

    def sample_analytics(self, target: str) -> AnalyticsSample:
        return self.cursor.get("metrics.analytics", target)

    def sample_influx(self, range_key: str = "1h", *, user: str | None = None,
                      notebook: str | None = None) -> InfluxSample:
        return self.cursor.get("metrics.influx", "")

    def tag_values(self, key: str) -> list[str]:
        return []
