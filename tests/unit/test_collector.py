"""core.collector.paused: the cyclic collector off inside, back as it was after."""

from __future__ import annotations

import gc

import pytest

from console.core import collector


def test_paused_turns_the_collector_off_and_back_on():
    assert gc.isenabled()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with collector.paused():
            raise RuntimeError("boom")
    assert gc.isenabled()


def test_paused_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_kept_freezes_what_the_block_made_before_the_collector_is_back_on():
    made: list[object] = []
    seen_on: list[bool] = []
    try:
        with collector.kept():
            made.append([object()])                  # a tracked object, made inside
            seen_on.append(gc.isenabled())
        assert seen_on == [False] and gc.isenabled()
        assert not any(o is made[0] for o in gc.get_objects()), "not frozen"
        with pytest.raises(RuntimeError):
            with collector.kept():
                raise RuntimeError("boom")
        assert gc.isenabled()
    finally:
        gc.unfreeze()
