"""ui.live.state.Call: a timer callback Textual runs without inspect.signature each time."""

from __future__ import annotations

import asyncio

import pytest
from textual import _callback

from console.ui.live.state import Call


def test_textual_invokes_a_call_without_inspecting_it(monkeypatch):
    got: list[tuple] = []

    def boom(*_a, **_k):
        raise AssertionError("inspect.signature called")

    monkeypatch.setattr(_callback, "signature", boom)
    assert _callback.count_parameters(Call(lambda *a: got.append(a), 1, "x")) == 0
    asyncio.run(_callback.invoke(Call(lambda *a: got.append(a), 1, "x")))
    assert got == [(1, "x")]
    with pytest.raises(AssertionError):            # what a lambda per timer cost each time
        _callback.count_parameters(lambda: None)
