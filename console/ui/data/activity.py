"""The Activity screen's port and its two implementations.

:class:`ActivityScreenPort` extends the core's ``ActivityPort`` (``targets``,
``sample(target)``) with what the screen's other tabs and actions need. The live one
(:class:`LiveActivity`) samples through the core (``ActivitySource``, ``sample_statements``,
``MaintenanceSampler``) and signals through ``run_signal`` (write-ahead audited, refused in
read-only by the core). The replayed one (:class:`ReplayActivityPort`, in
:mod:`console.ui.data.replay`) has no backend: ``can_signal`` is False and ``signal``
refuses."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ...core.activity import ActivitySample, ActivitySource, SignalPlan, SignalResult

if TYPE_CHECKING:
    from ...backends.registry import Backends
    from ...config import Settings
    from ...core.activity.maintenance import MaintenanceSample, MaintenanceSampler
    from ...core.activity.statements import StatementsSample


class ActivityScreenPort(Protocol):
    """What the Activity screen reads and does. ``can_signal`` False: no backend at all
    (a replay): the mutating keys are not offered. ``read_only``: offered, refused."""

    @property
    def targets(self) -> list[str]: ...
    @property
    def read_only(self) -> bool: ...
    @property
    def can_signal(self) -> bool: ...
    def sample(self, target: str) -> ActivitySample: ...
    def statements(self, target: str) -> StatementsSample: ...
    def maintenance(self, target: str) -> MaintenanceSample: ...
    def wal_history(self, target: str) -> list[tuple[datetime, float | None]]: ...
    def signal(self, plan: SignalPlan) -> list[SignalResult]: ...


class LiveActivity:
    """Every PostgreSQL target of the running console."""

    can_signal = True

    def __init__(self, settings: Settings, backends: Backends) -> None:
        self.settings = settings
        self.backends = backends
        self.source = ActivitySource.from_backends(backends)
        self._samplers: dict[str, MaintenanceSampler] = {}

    @property
    def targets(self) -> list[str]:
        return self.source.targets

    @property
    def read_only(self) -> bool:
        return bool(self.settings.read_only)

    def sample(self, target: str) -> ActivitySample:
        return self.source.sample(target)

    def statements(self, target: str) -> StatementsSample:
        from ...core.activity.statements import sample_statements
        return sample_statements(self.source.backend(target))

    def maintenance(self, target: str) -> MaintenanceSample:
        from ...core.activity.maintenance import MaintenanceSampler
        sampler = self._samplers.get(target)
        if sampler is None:
            sampler = self._samplers[target] = MaintenanceSampler(self.source.backend(target))
        return sampler.sample()

    def wal_history(self, target: str) -> list[tuple[datetime, float | None]]:
        """Live: no history before the screen's own samples."""
        return []

    def signal(self, plan: SignalPlan) -> list[SignalResult]:
        """Blocks (a worker): the core checks read-only, the identity and writes the audit
        intent before each signal."""
        from ...core import audit
        from ...core.activity import run_signal
        actor = audit.actor_name(self.settings)
        return run_signal(self.settings, self.source.backend(plan.target), plan, actor=actor)


def build_live(settings: Settings, backends: Backends | None) -> Any:
    return None if backends is None else LiveActivity(settings, backends)
