"""What each screen calls: one ``typing.Protocol`` per source, and the one factory that
builds the real ones from Settings and Backends.

The UI's screens are typed against these protocols; the in-memory fakes of the snapshot
tests (tests/ui/fakes_*.py) are checked against them by mypy in the test command
(tests/ui/typed_fakes.py assigns each fake to its protocol), so a fake can no longer drift
from the real service's signatures. The real services satisfy them structurally.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..backends.registry import Backends
    from ..config import RedisSettings, Settings
    from .metrics import AnalyticsSample, InfluxSample, PgSample
    from .partitions import Discovery, TableInfo
    from .partitions.runner import RunReport
    from .plan import Plan, Step, StepResult
    from .schema.check import TargetReport
    from .sessions import (
        ActionResult,
        CacheRecord,
        ConnectionsReport,
        KeyPreview,
        ScanBatch,
        ServerInfo,
        TailMessage,
        TailStatus,
    )
    from .zengin.batch import BatchPlan, BatchResult
    from .zengin.executor import DryRun
    from .zengin.live import Mark
    from .zengin.reconcile import ReconcileReport
    from .zengin.records import DiffRecord
    from .zengin.service import Detail
    from .zengin.workflow import Outcome, Queue, Ref

SchemaProgress = Callable[[int, int, "Step", "StepResult | None"], None]


@runtime_checkable
class SchemaSource(Protocol):
    """Screen 2: expected (sql/) against the live catalog, and the fixes."""

    def targets(self) -> list[tuple[str, str]]: ...
    def check(self, name: str) -> TargetReport: ...
    def apply(self, name: str, plan: Plan, progress: SchemaProgress) -> list[StepResult]: ...


@runtime_checkable
class PartitionsSource(Protocol):
    """Screen 3: partitioned tables, their coverage, maintenance."""

    def discover(self) -> Discovery: ...
    def plan(self, tables: list[TableInfo]) -> Plan: ...
    def run(self, plan: Plan, *, actor: str, progress: Any = None) -> RunReport: ...
    def count_rows(self, target: str, schema: str, name: str) -> int: ...


@runtime_checkable
class MetricsPort(Protocol):
    """Screen 4: pg_stat samples, analytics views, InfluxDB series."""

    @property
    def targets(self) -> list[str]: ...
    @property
    def analytics_targets(self) -> list[str]: ...
    @property
    def has_influx(self) -> bool: ...
    def sample_pg(self, target: str) -> PgSample: ...
    def sample_analytics(self, target: str) -> AnalyticsSample: ...
    def sample_influx(self, range_key: str = "1h", *, user: str | None = None,
                      notebook: str | None = None) -> InfluxSample: ...
    def tag_values(self, key: str) -> list[str]: ...
    def pg_history(self, target: str, limit: int) -> list[PgSample] | None:
        """The samples before the current one, oldest first, for the charts: None when the
        source keeps none (live: the screen keeps its own); a list (a replay: what was
        recorded before the cursor) replaces the screen's history."""
        ...


@runtime_checkable
class SessionsPort(Protocol):
    """Screen 5: Redis INFO, session keys, connections, caches, the channel tail, and the
    two audited actions."""

    @property
    def read_only(self) -> bool: ...
    @property
    def address(self) -> str: ...
    @property
    def redis_settings(self) -> RedisSettings: ...
    def info(self) -> ServerInfo: ...
    def scan(self, pattern: str, stop: threading.Event) -> Iterator[ScanBatch]: ...
    def connections(self) -> ConnectionsReport: ...
    def caches(self) -> list[CacheRecord]: ...
    def tail(self, stop: threading.Event, keyevents: bool) -> Iterator[TailMessage | TailStatus]: ...
    def preview(self, key: str) -> KeyPreview: ...
    def delete(self, key: str, actor: str) -> ActionResult: ...
    def expire(self, key: str, seconds: int, actor: str) -> ActionResult: ...
    def actor(self) -> str: ...


@runtime_checkable
class DiffsPort(Protocol):
    """Screen 6: the zengin diff queue and its audited transitions."""

    @property
    def read_only(self) -> bool: ...
    @property
    def forbid_self_execution(self) -> bool: ...
    def now(self) -> datetime: ...
    def actor(self, explicit: str | None = None) -> str: ...
    def queue(self) -> Queue: ...
    def detail(self, ref: Ref) -> Detail: ...
    def dry_run(self, ref: Ref, actor: str = "") -> DryRun: ...
    def approve(self, ref: Ref, actor: str) -> Outcome: ...
    def reject(self, ref: Ref, actor: str, reason: str) -> Outcome: ...
    def execute(self, ref: Ref, actor: str, progress: Any = None, lost_claim_is: str = "refused") -> Outcome: ...
    # the whole queue and batches (core.zengin.queue / batch / batch_exec / live / reconcile)
    def counts(self) -> dict[str, int]: ...
    def tab(self, tab: str, limit: int | None = None) -> tuple[list[DiffRecord], bool]: ...
    def live_marks(self, recs: list[DiffRecord]) -> dict[tuple[str, str], Mark]: ...
    def orphans(self, recs: list[DiffRecord], queued_deletions: set | None = None) -> dict[tuple[str, str], str]: ...
    def plan(self, action: str, refs: list[Ref] | None, actor: str, allow_stale: bool = False) -> BatchPlan: ...
    def approve_many(self, refs: list[Ref] | None, actor: str, *, allow_stale: bool = False,
                     progress: Any = None) -> BatchResult: ...
    def reject_many(self, refs: list[Ref], actor: str, reason: str, *, progress: Any = None) -> BatchResult: ...
    def execute_many(self, refs: list[Ref] | None, actor: str, *, progress: Any = None,
                     lost_claim_is: str = "skipped") -> BatchResult: ...
    def reconcile_preview(self, threshold: timedelta = ...) -> ReconcileReport: ...
    def reconcile(self, actor: str, threshold: timedelta = ..., dry_run: bool = False) -> ReconcileReport: ...


# --------------------------------------------------------------------------- the factory


class RealSchemaSource:
    """Checks and applies through the real backends (core.schema)."""

    def __init__(self, settings: Settings, backends: Backends) -> None:
        self.settings = settings
        self.backends = backends

    def targets(self) -> list[tuple[str, str]]:
        return [(t.name, t.system) for t in self.settings.postgres]

    def check(self, name: str) -> TargetReport:
        from .schema import check_target
        target = self.settings.target(name)
        return check_target(self.backends.pg(name), target.system, exclude=self.settings.schema_exclude)

    def apply(self, name: str, plan: Plan, progress: SchemaProgress) -> list[StepResult]:
        from . import audit
        from .schema import run_plan
        return run_plan(self.settings, self.backends.pg(name), plan, actor=audit.actor_name(self.settings),
                        progress=progress)


def build(kind: str, settings: Settings, backends: Backends | None) -> Any:
    """The real source of ``kind`` ("schema", "partitions", "metrics", "sessions", "diffs"),
    or None when what it needs is not configured. The UI builds every screen's source here;
    the CLI builds the same core services (``PartitionService.from_settings``,
    ``DiffsService.from_settings`` ...) that this calls."""
    if kind == "schema":
        return RealSchemaSource(settings, backends) if backends is not None else None
    if kind == "partitions":
        from .partitions import PartitionService
        return PartitionService.from_settings(settings, backends.postgres if backends else {})
    if kind == "metrics":
        from .metrics import MetricsSource
        return MetricsSource({}, None) if backends is None else MetricsSource.from_backends(backends)
    if kind == "sessions":
        from . import sessions
        if backends is None or backends.redis is None:
            return None
        name = settings.audit_target_name
        audit_pg = backends.postgres.get(name) if name else None
        return sessions.SessionsService(settings, backends.redis, audit_pg)
    if kind == "diffs":
        from .zengin.service import DiffsService
        if settings.zengin is None or backends is None:
            return None
        return DiffsService.from_settings(settings, backends)
    raise ValueError(f"no source called {kind!r}")
