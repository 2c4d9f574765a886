"""Pure parts of console.core.metrics: the doctests, rates, chains with cycles, trends,
and that every query file parses as one statement with bounded output."""

from __future__ import annotations

import doctest
from datetime import date, datetime, timezone

from console.core import metrics
from console.core.metrics import Activity, Counters, blocking_chains, rates, trends_from


def test_doctests():
    assert doctest.testmod(metrics).failed == 0


def test_rates_none_after_stats_reset():
    a = Counters(0.0, 500, 0, 0, 0, 0, 0, 0, 0, 100, 0)
    b = Counters(1.0, 10, 0, 0, 0, 0, 0, 0, 0, 5, 0)
    assert rates(a, b) is None and rates(None, b) is None


def test_chains_two_roots_and_a_cycle():
    s = lambda pid, *by: Activity(pid, None, None, None, None, None, None, None, tuple(by))  # noqa: E731
    lines = blocking_chains([s(5, 1), s(6, 1), s(1), s(9, 8), s(8), s(20, 21), s(21, 20)])
    assert [(c.depth, c.session.pid) for c in lines] == [(0, 1), (1, 5), (1, 6), (0, 8), (1, 9), (0, 20), (1, 21)]


def test_trends_fill_missing_days_busiest_first():
    rows = [{"day": datetime(2026, 11, 20, tzinfo=timezone.utc), "language_title": "a", "total_requests": 5,
             "error_requests": 1},
            {"day": date(2026, 11, 22), "language_title": "b", "total_requests": 9, "error_requests": 0},
            {"day": date(2026, 10, 1), "language_title": "b", "total_requests": 99, "error_requests": 0}]
    t = trends_from(rows, days=3, today=datetime(2026, 11, 22, 9, tzinfo=timezone.utc))
    assert [(x.language_title, x.requests, x.errors) for x in t] == [("b", (0, 0, 9), (0, 0, 0)),
                                                                     ("a", (5, 0, 0), (1, 0, 0))]


def test_query_files_are_bounded():
    for name in metrics.sql_files():
        text = metrics.sql_file(name.split(".")[0], 180000 if "170000" in name else 0) \
            if name.count(".") == 2 else metrics.sql_file(name.removesuffix(".sql"), 0)
        body = "\n".join(l for l in text.splitlines() if not l.strip().startswith("--"))
        assert ";" not in body, name
        assert "count(*)" not in body.lower().replace("count(*)::int", "").replace("(count(*) filter", ""), name
