"""Checked by mypy in the test command (scripts/test), not run by pytest: every in-memory
fake the snapshot tests use, and every real service, is assigned to the protocol of
console.core.ports it stands for. A fake whose method drifts from the real signature
(``approve(ref, who)`` against ``approve(ref, actor)``) fails the type check."""

from __future__ import annotations

from console.core.activity import ActivityPort, ActivitySource
from console.core.metrics import MetricsSource
from console.core.partitions import PartitionService
from console.core.ports import DiffsPort, MetricsPort, PartitionsSource, RealSchemaSource, SchemaSource, SessionsPort
from console.core.sessions import SessionsService
from console.core.zengin.service import DiffsService

from console.ui.data.activity import ActivityScreenPort, LiveActivity

from .fakes_activity import FakeActivity
from .fakes_diffs import FakeDiffs
from .fakes_metrics import FakeMetricsSource
from .fakes_partitions import FakePartitions
from .fakes_schema import FakeSchemaSource
from .fakes_sessions import FakeSessions


def fakes(schema: FakeSchemaSource, partitions: FakePartitions, metrics: FakeMetricsSource,
          sessions: FakeSessions, diffs: FakeDiffs) -> None:
    s: SchemaSource = schema
    p: PartitionsSource = partitions
    m: MetricsPort = metrics
    se: SessionsPort = sessions
    d: DiffsPort = diffs
    del s, p, m, se, d


def activity(fake: FakeActivity, live: LiveActivity, source: ActivitySource) -> None:
    a: ActivityScreenPort = fake
    b: ActivityScreenPort = live
    c: ActivityPort = fake
    d: ActivityPort = source
    del a, b, c, d


def real(schema: RealSchemaSource, partitions: PartitionService, metrics: MetricsSource,
         sessions: SessionsService, diffs: DiffsService) -> None:
    s: SchemaSource = schema
    p: PartitionsSource = partitions
    m: MetricsPort = metrics
    se: SessionsPort = sessions
    d: DiffsPort = diffs
    del s, p, m, se, d
