"""What the Partitions screen and ``console partitions`` use: discover, plan, run, count.
The screen gets one of these through ``Services.source("partitions", ...)``; snapshot tests
inject a fake with the same methods (tests/ui/fakes_partitions.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Callable

from ...backends.postgres import PostgresBackend
from ...config import Settings
from ..plan import Plan
from . import catalog
from .build import make_table
from .model import Discovery, Policy, TableInfo
from .planner import build_plan
from .runner import Progress, RunOptions, RunReport, run_plan


@dataclass
class PartitionService:
    settings: Settings
    backends: dict[str, PostgresBackend]
    policies: dict[str, Policy] = field(default_factory=dict)   # see model.policy_for for keys
    default_policy: Policy | None = None
    options: RunOptions = field(default_factory=RunOptions)
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    owns_backends: bool = False
    timezone: str | None = None      # [partitions] timezone: the zone new time boundaries use

    @classmethod
    def from_settings(cls, settings: Settings, backends: dict[str, PostgresBackend], **kw) -> "PartitionService":
        """Policies and run options from the ``[partitions]`` configuration."""
        ps = settings.partitions

        def policy(p) -> Policy:
            return Policy(premake=p.premake, retention=p.retention, retention_keep_table=p.retention_keep_table,
                          retention_schema=p.retention_schema, naming=p.naming,
                          take_over_partman=getattr(p, "take_over_partman", False))

        return cls(settings, backends, policies={k: policy(v) for k, v in ps.tables.items()},
                   default_policy=policy(ps.defaults),
                   options=RunOptions(lock_timeout_ms=ps.lock_timeout_ms, attempts=ps.attempts),
                   timezone=getattr(ps, "timezone", None), **kw)

    @property
    def read_only(self) -> bool:
        return self.settings.read_only

    def discover(self, *, targets: list[str] | None = None) -> Discovery:
        chosen = {n: b for n, b in self.backends.items() if not targets or n in targets}
        return catalog.discover(chosen, now=self.clock(), policies=self.policies,
                                default_policy=self.default_policy, timezone_name=self.timezone)

    def plan(self, tables: list[TableInfo]) -> Plan:
        return build_plan(tables)

    def run(self, plan: Plan, *, actor: str, progress: Progress | None = None) -> RunReport:
        return run_plan(self.settings, self.backends, plan, actor=actor, options=self.options, progress=progress)

    def count_rows(self, target: str, schema: str, name: str) -> int:
        return catalog.count_rows(self.backends[target], schema, name)

    def close(self) -> None:
        if self.owns_backends:
            for b in self.backends.values():
                b.close()


def with_policy(tables: list[TableInfo], *, premake: int | None = None, retention: int | None = None) -> list[TableInfo]:
    """The same tables re-evaluated under an overridden premake / retention (CLI flags)."""
    out = []
    for t in tables:
        pol = t.policy
        if premake is not None:
            pol = replace(pol, premake=premake)
        if retention is not None:
            pol = replace(pol, retention=retention)
        if pol == t.policy:
            out.append(t)
            continue
        parts = list(t.partitions) + list(t.pending_detach) + ([t.default] if t.default else [])
        out.append(make_table(target=t.target, schema=t.schema, name=t.name, partitions=parts,
                              now=_now_of(t), policy=replace(pol, naming=t.naming), strategy=t.strategy,
                              key_def=t.key_def, key_column=t.key_column, key_type=t.key_type,
                              default_rows=t.default_rows, default_count_error=t.default_count_error,
                              columns=t.columns, fks=t.fks, server_version=t.server_version,
                              interval=t.interval, interval_source=t.interval_source,
                              max_key=t.max_key if t.max_key is not None else
                              (t.now_slot if isinstance(t.now_slot, int) else None),
                              max_child_key=t.max_child_key, partman=t.partman))
    return out


def _now_of(t: TableInfo):
    return t.now_slot if isinstance(t.now_slot, datetime) else t.now_month
