"""Pure rules of core.partitions.interval: the interval told from children's bounds (every
unit, non-UTC and DST zones, integer steps, mixed widths refused), arithmetic, labels and
pg_partman's naming per interval."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from console.core.partitions import Policy, build_plan, make_table
from console.core.partitions.interval import Interval, detect_interval, offset_zone
from console.core.partitions.model import Partition, bound_display, format_name, parse_bound

UTC = timezone.utc
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def run(iv: Interval, start, n):
    s = iv.floor(start)
    return [(iv.add(s, k), iv.add(s, k + 1)) for k in range(n)]


@pytest.mark.parametrize("unit", ["hour", "day", "week", "month", "quarter", "year"])
def test_every_time_unit_is_told_from_its_bounds(unit):
    iv, why = detect_interval(run(Interval(unit), NOW, 5), integer=False)
    assert iv == Interval(unit), why


def test_non_utc_alignment_is_told_in_that_zone_and_dst_is_followed():
    tokyo = Interval("month", tz_name="Asia/Tokyo")
    bounds = run(tokyo, NOW, 3)
    assert bounds[0][0] == datetime(2026, 11, 30, 15, tzinfo=UTC)       # 2026-12-01 00:00 in Tokyo
    assert detect_interval(bounds, integer=False)[0] is None              # not UTC months
    assert detect_interval(bounds, integer=False, zones=("UTC", "Asia/Tokyo"))[0] == tokyo
    assert offset_zone(bounds[0][0]) == "+09:00"
    assert detect_interval(bounds, integer=False, zones=("UTC", "+09:00"))[0].unit == "month"
    berlin = Interval("day", tz_name="Europe/Berlin")
    days = run(berlin, datetime(2026, 3, 27, tzinfo=UTC), 4)             # across the spring change
    assert {hi - lo for lo, hi in days} == {timedelta(hours=24), timedelta(hours=23)}
    assert detect_interval(days, integer=False, zones=("Europe/Berlin",))[0] == berlin


def test_integer_step_and_mixed_widths():
    iv, _ = detect_interval([(0, 1000), (1000, 2000), (3000, 4000)], integer=True)
    assert iv == Interval("int", step=1000) and iv.floor(1500) == 1000 and iv.label(1000) == "1,000 … 1,999"
    assert detect_interval([(0, 1000), (1000, 1500)], integer=True)[0] is None
    days_and_month = run(Interval("day"), NOW, 2) + run(Interval("month"), datetime(2027, 2, 1, tzinfo=UTC), 1)
    iv, why = detect_interval(days_and_month, integer=False)
    assert iv is None and "not all one" in why


def test_pg_partman_names_per_interval():
    w = Interval("week")
    assert format_name("{table}_p{IYYY}w{IW}", "events", w.fields(w.floor(NOW))) == "events_p2026w49"
    d = Interval("day")
    assert format_name("{table}_p{YYYY}_{MM}_{DD}", "events", d.fields(NOW)) == "events_p2026_12_01"
    q = Interval("quarter")
    assert format_name("{table}_p{YYYY}q{Q}", "events", q.fields(q.floor(NOW))) == "events_p2026q4"


def _parts(iv, names_fmt, ks, integer=False):
    out = []
    s0 = iv.floor(NOW)
    for k in ks:
        lo = iv.add(s0, k)
        out.append(Partition("public", names_fmt.format(**iv.fields(lo)), "", lo, iv.upper(lo)))
    return out


def test_a_daily_set_gets_days_named_like_its_children_never_months():
    d = Interval("day")
    t = make_table(target="x", schema="public", name="events", now=NOW, key_column="at",
                   partitions=_parts(d, "events_p{YYYY}_{MM}_{DD}", range(-3, 2)), policy=Policy(premake=4))
    assert t.interval_text == "daily" and t.naming == "{table}_p{YYYY}_{MM}_{DD}"
    assert "3 day(s) missing ahead" in t.attention()
    assert [s.meta["partition"] for s in build_plan([t]).steps] == \
        ["events_p2026_12_03", "events_p2026_12_04", "events_p2026_12_05"]


def test_unknown_interval_list_and_integer_bounds_are_shown_as_values_and_never_maintained():
    mixed = [Partition("public", "a", "", NOW, NOW + timedelta(days=1)),
             Partition("public", "b", "", NOW + timedelta(days=1), NOW + timedelta(days=8))]
    t = make_table(target="x", schema="public", name="events", now=NOW, key_column="at", partitions=mixed)
    assert not t.supported and "not all one" in t.not_maintained and not build_plan([t])
    lst = Partition("public", "eu", "FOR VALUES IN ('eu', 'uk')", understood=False)
    t2 = make_table(target="x", schema="public", name="r", now=NOW, key_column="region", key_type="text",
                    strategy="list", partitions=[lst])
    assert not t2.supported and "LIST" in t2.not_maintained and t2.coverage.missing_ahead == ()
    assert bound_display(lst) == "IN ('eu', 'uk')"
    _, lo, hi, ok = parse_bound("FOR VALUES FROM ('1000') TO ('2000')", integer=True)
    assert (lo, hi, ok) == (1000, 2000, True)
    p = Partition("public", "p", "", 1000, 2500)
    assert bound_display(p) == "1,000 … 2,500 (exclusive)"


def test_range_text_shows_the_last_covered_month_not_the_exclusive_end():
    m = Interval("month")
    t = make_table(target="x", schema="public", name="t", now=NOW, key_column="at",
                   partitions=_parts(m, "t_p{YYYY}_{MM}", range(-2, 1)))
    assert t.range_text == "2026-10 … 2026-12"
