"""The Metrics TPS chart draws at most CHART_LINES lines: the busiest targets, in order."""

from __future__ import annotations

import doctest
from datetime import datetime, timedelta, timezone

from console.ui.screens import metrics_panels


def test_doctests():
    res = doctest.testmod(metrics_panels)
    assert res.failed == 0 and res.attempted > 0


def test_forty_targets_chart_the_busiest_eight_in_the_targets_order():
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    history = {f"db{i:02d}": [(t0 + timedelta(seconds=s), float(i * 10 + s), 0.0, 0.0) for s in range(3)]
               for i in range(40)}
    history["db05"].append((t0 + timedelta(seconds=9), 10_000.0, 0.0, 0.0))   # a spike: now the busiest
    history["db39"].append((t0 + timedelta(seconds=9), None, 0.0, 0.0))       # the last sample had no rate
    lines = metrics_panels.tps_series(history, {"db38"})
    assert [s.label for s in lines] == ["db05", "db33", "db34", "db35", "db36", "db37", "db38 (stale)", "db39"]
    assert len(metrics_panels.tps_series({k: history[k] for k in list(history)[:8]}, set())) == 8
