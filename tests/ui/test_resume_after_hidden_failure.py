"""For every screen: the first load fails while the screen is hidden (another screen is
shown); nothing is armed while it is hidden; when it is shown again it loads at once
instead of staying stale until a refresh key. One test per screen, one layer underneath."""

from __future__ import annotations

import threading
from typing import Any, Callable

import pytest

from console.core.health import HealthCheck
from console.ui.app import SCREENS, ConsoleApp

from . import fakes, fakes_activity, fakes_diffs, fakes_metrics, fakes_partitions, fakes_schema, fakes_sessions
from .conftest import wait_for


class Gate:
    """Holds the first call of each wrapped function until released, then makes it fail."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.held = 0
        self.failed = 0
        self.used: set[int] = set()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        ident = id(fn)

        def gated(*a: Any, **kw: Any) -> Any:
            with self.lock:
                first = ident not in self.used
                self.used.add(ident)
                if first:
                    self.held += 1
            if first:
                self.release.wait(20)
                with self.lock:
                    self.failed += 1
                raise ConnectionError("unreachable: connection refused (first load)")
            return fn(*a, **kw)
        return gated


def gate_methods(obj: Any, gate: Gate, *names: str) -> Any:
    for n in names:
        setattr(obj, n, gate.wrap(getattr(obj, n)))
    return obj


def overview(gate: Gate):
    s = fakes.overview_services()
    s.health_checks = [HealthCheck(c.name, c.kind, c.address, gate.wrap(c.run)) for c in s.health_checks]
    for src in s.attention:
        object.__setattr__(src, "collect", gate.wrap(src.collect))
    return s


def schema(gate: Gate):
    s = fakes_schema.schema_services()
    gate_methods(s.sources["schema"], gate, "check")
    return s


def partitions(gate: Gate):
    s = fakes_partitions.partitions_services()
    gate_methods(s.sources["partitions"], gate, "discover")
    return s


def metrics(gate: Gate):
    return fakes_metrics.metrics_services(gate_methods(fakes_metrics.FakeMetricsSource(), gate, "sample_pg",
                                                       "sample_analytics", "sample_influx"))


def sessions(gate: Gate):
    return fakes_sessions.sessions_services(gate_methods(fakes_sessions.FakeSessions(), gate, "info", "scan",
                                                         "connections"))


def diffs(gate: Gate):
    return fakes_diffs.diffs_services(gate_methods(fakes_diffs.FakeDiffs(), gate, "queue"))


def activity(gate: Gate):
    return fakes_activity.activity_services(gate_methods(fakes_activity.FakeActivity(), gate, "sample"))


BUILD = {"activity": activity, "overview": overview, "schema": schema, "partitions": partitions, "metrics": metrics,
         "sessions": sessions, "diffs": diffs}
KEYS = {mode: key for mode, key, *_ in SCREENS}


def test_every_screen_is_covered():
    assert set(BUILD) == set(KEYS)


@pytest.mark.parametrize("mode", list(BUILD))
async def test_first_load_failed_while_hidden_reloads_when_shown(mode):
    gate = Gate()
    app = ConsoleApp(BUILD[mode](gate), initial_mode=mode)
    other = "schema" if mode == "overview" else "overview"
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: gate.held > 0 and app.screen.id == mode, "first loads started")
        screen = app.screen
        await pilot.press(KEYS[other])
        await wait_for(pilot, lambda: app.screen.id == other, "another screen shown")
        gate.release.set()
        await wait_for(pilot, lambda: gate.failed == gate.held and not any(s.running for s in screen.states.values()),
                       "the first loads failed while hidden")
        failed = {n: s for n, s in screen.states.items() if s.error}
        assert failed, "no source failed"
        assert all(s.next_at is None for s in screen.states.values()), "a timer was armed while hidden"
        await pilot.press(KEYS[mode])
        await wait_for(pilot, lambda: app.screen is screen, "shown again")
        await wait_for(pilot, lambda: all(screen.states[n].loaded and not screen.states[n].stale for n in failed),
                       "every failed source loaded again on show, without a refresh key")
