"""Data is never markup and never a terminal command, on every screen: hostile names,
values and server errors (``diff-[/]``, ``session:[/]``, ``[/bold]閉じ``, a partition named
``[/]_p2026_12``, an OSC title sequence) are shown as they are, with their control
characters made visible, and never crash a screen."""

from __future__ import annotations

import dataclasses

import pytest

from console.backends.base import BackendError, ErrorKind
from console.core import sessions as core
from console.core.health import HealthCheck
from console.ui.app import ConsoleApp

from . import fakes, fakes_activity, fakes_diffs, fakes_metrics, fakes_partitions, fakes_sessions
from .conftest import settled

OSC = "\x1b]0;pwned\x07"
HOSTILE = f"[/bold]閉じ [/] {OSC}"


def overview():
    s = fakes.overview_services()
    h = fakes.health("[/]down", "redis", f"redis://{HOSTILE}", ok=False, error=HOSTILE,
                     kind_err=ErrorKind.UNREACHABLE)
    s.health_checks.append(HealthCheck(h.name, h.kind, h.address, lambda: h))
    return ConsoleApp(s), ["[/]down", "閉じ"]


def sessions():
    recs = fakes_sessions.session_records(3)
    recs.append(core.SessionRecord("session:[/]", 600, 10, "text", summary=HOSTILE))
    return ConsoleApp(fakes_sessions.sessions_services(fakes_sessions.FakeSessions(records=recs)),
                      initial_mode="sessions"), ["session:[/]", "閉じ"]


def diffs():
    fake = fakes_diffs.FakeDiffs()
    r = fake.recs["update"]
    fake.recs["update"] = dataclasses.replace(r, id="diff-[/]", zenginData={**r.zenginData, "branchName": HOSTILE})
    return ConsoleApp(fakes_diffs.diffs_services(fake), initial_mode="diffs"), ["diff-[/]", "閉じ"]


def metrics():
    class Failing(fakes_metrics.FakeMetricsSource):
        def sample_pg(self, target):
            if target == "lambda":
                raise BackendError("lambda", ErrorKind.ERROR, HOSTILE)
            return super().sample_pg(target)
    return ConsoleApp(fakes_metrics.metrics_services(Failing()), initial_mode="metrics"), ["閉じ"]


def partitions():
    s = fakes_partitions.partitions_services()
    fake = s.sources["partitions"]
    real = fake.discover

    def discover(**kw):
        d = real(**kw)
        t = d.tables[0]
        d.tables[0] = dataclasses.replace(t, name="[/]_p2026_12")
        d.errors["[/]"] = HOSTILE
        return d
    fake.discover = discover
    return ConsoleApp(s, initial_mode="partitions"), ["[/]_p2026_12", "閉じ"]


def activity():
    bad = fakes_activity.b(6666, "[/]evil", HOSTILE, "active", f"SELECT '{HOSTILE}'\n-- [red]x[/red]", age=10.0)
    port = fakes_activity.FakeActivity(extra=(bad,))
    return ConsoleApp(fakes_activity.activity_services(port), initial_mode="activity"), ["[/]evil", "閉じ", "[red]x"]


@pytest.mark.parametrize("build", [overview, sessions, diffs, metrics, partitions, activity], ids=lambda f: f.__name__)
async def test_hostile_text_is_shown_as_text(build):
    app, expected = build()
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        await pilot.press("down", "down", "down", "down")
        await settled(pilot)
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        svg = app.export_screenshot()
    assert "\x1b" not in shown and "\x07" not in shown and "\x1b" not in svg
    for e in expected:
        assert e in shown, f"{e!r} not on screen:\n{shown}"
