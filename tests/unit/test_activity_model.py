"""Pure parts of core.activity: the doctests, filter terms, a bad regex, chains with a
cycle, the signal SQL (typed values only) and the plan's refusals."""

from __future__ import annotations

import doctest
from datetime import datetime, timezone

import pytest

from console.core.activity import maintenance, model, signal, sqlfiles, statements
from console.core.activity.model import CLIENT, ActivityFilter, ActivitySample, Backend, apply_filter, blocking_chain


@pytest.mark.parametrize("mod", [model, signal, sqlfiles, statements, maintenance])
def test_doctests(mod):
    res = doctest.testmod(mod)
    assert res.failed == 0 and res.attempted > 0


T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def row(pid, *by, state="active", db="app", app="psql", user="alice", btype=CLIENT, query="select 1", console=False):
    return Backend(pid, db, user, app, "10.0.0.5", 5432, btype, state, "Lock" if by else None,
                   "transactionid" if by else None, T0, 3.0, 2.0, 1.0, query, tuple(by), console=console)


def test_filter_terms_are_anded_and_bare_terms_match_any_field():
    rows = [row(1, user="alice", app="etl"), row(2, user="bob", app="etl"), row(3, user="bob", query="vacuum x")]
    assert [r.pid for r in apply_filter(rows, ActivityFilter("user:bob"))] == [2, 3]
    assert [r.pid for r in apply_filter(rows, ActivityFilter("user:bob etl"))] == [2]
    assert [r.pid for r in apply_filter(rows, ActivityFilter("VACUUM"))] == [3]
    assert [r.pid for r in apply_filter(rows, ActivityFilter("10\\.0\\.0"))] == [1, 2, 3]   # client address
    assert [r.pid for r in apply_filter([row(5, 4), row(4)], ActivityFilter("blocked:^4$"))] == [5]
    with pytest.raises(ValueError, match="bad filter regex"):
        ActivityFilter("user:(").compiled()


def test_idle_in_transaction_duration_is_the_transaction_age():
    r = row(1, state="idle in transaction")
    assert r.duration_s == 3.0 and row(2, state="idle").duration_s is None and row(3).duration_s == 2.0


def test_chain_with_a_cycle_terminates():
    c = blocking_chain([row(1, 2), row(2, 1)], 1)
    assert c.cycle and [b.pid for b in c.blockers] == [2] and [w.pid for w in c.waiters] == [2]


def test_signal_sql_takes_only_typed_values():
    with pytest.raises(ValueError):
        signal.signal_sql("cancel", "1; DROP TABLE x", T0)          # type: ignore[arg-type]
    with pytest.raises(ValueError):
        signal.signal_sql("cancel", 1, datetime(2024, 1, 1))       # naive datetime
    with pytest.raises(KeyError):
        signal.signal_sql("drop", 1, T0)


def test_plan_lists_refusals_and_blocks():
    s = ActivitySample("t", T0, 180000, "app", 99, (row(1), row(2, 1), row(3, db="other"), row(4, btype="autovacuum worker"),
                                                    row(5, app="console", console=True), row(99, console=True)))
    p = signal.plan_signal(s, [1, 3, 4, 5, 99, 1], "cancel")
    assert [x.pid for x in p.sessions] == [1] and p.sessions[0].blocks == (2,)
    assert [pid for pid, _ in p.refused] == [3, 4, 5, 99]
    text = p.text()
    assert "pid = 1 AND backend_start = '2024-05-01T12:00:00+00:00'" in text and "refused pid 4" in text
    with pytest.raises(ValueError):
        signal.plan_signal(s, 1, "kill")


def test_plan_text_makes_query_text_visible():
    s = ActivitySample("t", T0, 180000, "app", 99, (row(1, query="select '\x1b[2J\u202e'"),))
    text = signal.plan_signal(s, 1, "terminate").text()
    assert "\x1b" not in text and "\u202e" not in text and "␛[2J<U+202E>" in text
