"""Pure rules of core.partitions: bounds, naming, the 63-byte limit, coverage, retention."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from console.core.partitions import Policy, add_months, build_plan, detect_naming, make_table, partition_name
from console.core.partitions.model import Partition, month_start, parse_bound

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)


def part(name, m: date):
    return Partition("public", name, "", month_start(m), month_start(add_months(m, 1)))


def test_parse_bounds():
    d, lo, hi, ok = parse_bound("FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-02-01 00:00:00+00')")
    assert ok and not d and lo == datetime(2025, 1, 1, tzinfo=timezone.utc) and hi.month == 2
    assert parse_bound("DEFAULT")[0]
    assert parse_bound("FOR VALUES FROM (MINVALUE) TO ('2025-01-01')")[1:] == (None, datetime(2025, 1, 1, tzinfo=timezone.utc), True)
    assert parse_bound("FOR VALUES FROM ('2025-01-01 09:00:00+09') TO ('2025-02-01 09:00:00+09')")[1] == \
        datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert not parse_bound("FOR VALUES IN ('a')")[3]


@pytest.mark.parametrize("table,fmt", [("request_logs", "request_logs_y{y}m{m:02d}"),
                                       ("access_logs", "access_logs_{y}_{m:02d}"),
                                       ("pipeline_runs", "pipeline_runs_y{y}m{m:02d}"),
                                       ("learning_sessions", "learning_sessions_{y}_{m:02d}")])
def test_naming_detected_from_children(table, fmt):
    kids = [(fmt.format(y=2025, m=k), date(2025, k, 1)) for k in (1, 2, 3)]
    naming, how = detect_naming(table, kids)
    assert how.startswith("detected") and partition_name(naming, table, date(2026, 12, 1)) == fmt.format(y=2026, m=12)


def test_known_naming_without_children_and_identifier_limit():
    assert detect_naming("access_logs", [])[0] == "{table}_{YYYY}_{MM}"
    long = "x" * 70
    name = partition_name("{table}_y{YYYY}m{MM}", long, date(2026, 1, 1))
    assert len(name.encode()) == 63 and name.endswith("_y2026m01")


def test_coverage_gaps_horizon_retention_newest_kept():
    cur = date(2026, 11, 1)
    parts = [part(f"t_{k}", add_months(cur, k)) for k in (-5, -4, -2, -1, 0, 1)]
    t = make_table(target="x", schema="public", name="t", partitions=parts, now=NOW, key_column="at",
                   policy=Policy(retention=2))
    c = t.coverage
    assert [g.months for g in c.gaps] == [[add_months(cur, -3)]]
    assert c.horizon == 1 and c.missing_ahead == (month_start(add_months(cur, 2)), month_start(add_months(cur, 3)))
    assert c.past_retention == ("t_-5", "t_-4")
    # the gap month is past retention: not filled
    assert [s.meta["month"] for s in build_plan([t]).steps if s.meta["kind"] == "create"] == ["2027-01", "2027-02"]
    old = make_table(target="x", schema="public", name="t", partitions=[part("old", date(2020, 1, 1))], now=NOW,
                     key_column="at", policy=Policy(retention=1, premake=0))
    assert old.coverage.past_retention == ()


def test_policy_validation():
    with pytest.raises(ValueError):
        Policy(premake=-1)
    with pytest.raises(ValueError):
        Policy(naming="{table}_x")
