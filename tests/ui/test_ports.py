"""The fakes of the snapshot tests and the real services answer the same contract
(console.core.ports). mypy (in scripts/test, tests/ui/typed_fakes.py) checks the types;
this checks what mypy does not: the parameter names and kinds, so a fake's
``approve(ref, who)`` cannot stand in for ``approve(ref, actor)``."""

from __future__ import annotations

import inspect

import pytest

from console.core import ports
from console.core.metrics import MetricsSource
from console.core.partitions import PartitionService
from console.core.sessions import SessionsService
from console.core.zengin.service import DiffsService

from .fakes_diffs import FakeDiffs
from .fakes_metrics import FakeMetricsSource
from .fakes_partitions import FakePartitions
from .fakes_schema import FakeSchemaSource
from .fakes_sessions import FakeSessions

PAIRS = [
    (ports.SchemaSource, FakeSchemaSource), (ports.SchemaSource, ports.RealSchemaSource),
    (ports.PartitionsSource, FakePartitions), (ports.PartitionsSource, PartitionService),
    (ports.MetricsPort, FakeMetricsSource), (ports.MetricsPort, MetricsSource),
    (ports.SessionsPort, FakeSessions), (ports.SessionsPort, SessionsService),
    (ports.DiffsPort, FakeDiffs), (ports.DiffsPort, DiffsService),
]


def _params(fn) -> list[tuple[str, object]]:
    return [(p.name, p.kind) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize(("protocol", "impl"), PAIRS, ids=lambda x: x.__name__)
def test_same_methods_same_parameter_names(protocol, impl):
    for name, member in vars(protocol).items():
        if name.startswith("_") or not callable(member):
            continue
        assert hasattr(impl, name), f"{impl.__name__} has no {name}"
        got = getattr(impl, name)
        if isinstance(inspect.getattr_static(impl, name), property):
            continue
        want = _params(member)
        have = _params(got)
        assert have[:len(want)] == want, f"{impl.__name__}.{name}{have} != protocol {want}"
        assert all(p.default is not inspect.Parameter.empty or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
                   for p in list(inspect.signature(got).parameters.values())[len(want):]), \
            f"{impl.__name__}.{name} needs more arguments than the protocol gives"


def test_a_renamed_parameter_is_caught():
    class Drifted(FakeDiffs):
        def approve(self, ref, who):   # the old fake's spelling
            return super().approve(ref, who)

    with pytest.raises(AssertionError):
        test_same_methods_same_parameter_names(ports.DiffsPort, Drifted)
