"""The one way UI tests synchronise: wait on a condition, never on a fixed pause.

``await wait_for(pilot, predicate, "what")`` lets the app run (workers finish, messages are
handled, the screen is refreshed) until ``predicate()`` is true, or fails naming ``what``."""

from __future__ import annotations

import time
from typing import Any, Callable

import pytest


async def wait_for(pilot: Any, predicate: Callable[[], Any], what: str = "condition",
                   timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f}s")
        await pilot.pause(0.02)


async def settled(pilot: Any) -> None:
    """Every worker started so far has finished and its messages have been handled; for
    snapshots of fakes (which answer at once)."""
    await wait_for(pilot, lambda: not _busy(pilot.app), "every live source answered")


def _busy(app: Any) -> bool:
    screen = app.screen
    states = getattr(screen, "states", None)
    if states and any(s.running for s in states.values()):
        return True
    if getattr(screen, "paint_pending", False):
        return True
    return any(w.is_running for w in app.workers if w.group != "sessions-tail")


@pytest.fixture(autouse=True)
def _no_build_ahead(request: Any, monkeypatch: Any) -> None:
    """The app builds the screens not visited yet ~1 s after launch (console.ui.app): not
    what most tests look at, and seconds of work each; tests/ui/test_build_ahead.py (marked
    ``build_ahead``) tests it."""
    if request.node.get_closest_marker("build_ahead") is None:
        from console.ui import app as app_module
        monkeypatch.setattr(app_module, "BUILD_AHEAD", False)


@pytest.fixture
def waiter() -> Callable[..., Any]:
    return wait_for
