"""Pure rules of a pg_partman table taken over (core.partitions.build.make_table), as
pg_partman 4.7's run_maintenance / drop_partition_id apply them (the parity test in
tests/integration/test_partitions_partman.py holds them against the real thing): integer
retention in ids from the children's highest id, premake counted from the newest row with
infinite_time_partitions off, nothing premade for an empty set."""

from __future__ import annotations

from datetime import datetime, timezone

from console.core.partitions import PartmanConfig, Policy, build_plan, make_table
from console.core.partitions.interval import Interval
from console.core.partitions.model import Partition

UTC = timezone.utc
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
MONTH = Interval("month")
TAKE_OVER = Policy(premake=1, retention=None, take_over_partman=True)


def months(ks):
    cur = MONTH.floor(NOW)
    out = []
    for k in ks:
        lo = MONTH.add(cur, k)
        out.append(Partition("public", f"ev_p{lo:%Y_%m}", "", lower=lo, upper=MONTH.upper(lo)))
    return out


def ids(los, step=1000):
    return [Partition("public", f"ev_p{lo}", "", lower=lo, upper=lo + step) for lo in los]


def pm(**kw) -> PartmanConfig:
    base = dict(interval="1 mon", premake=3, retention=None, retention_keep_table=False, retention_schema=None)
    return PartmanConfig(**{**base, **kw})


def test_integer_retention_counts_ids_from_the_childrens_highest_id():
    parts = ids(range(0, 5000, 1000))
    t = make_table(target="t", schema="public", name="ev", partitions=parts, now=NOW, policy=TAKE_OVER,
                   key_type="bigint", key_column="id", max_key=4500, max_child_key=4500,
                   partman=pm(interval="1000", retention="2000"))
    assert t.retention_cutoff == 2500                          # upper <= 4500 - 2000 goes
    assert t.coverage.past_retention == ("ev_p0", "ev_p1000")
    assert t.policy.premake == 3 and "retention 2000 ids (part_config)" in t.policy_text()
    drops = [s.meta["partition"] for s in build_plan([t]).steps if s.meta["kind"] == "drop"]
    assert drops == ["ev_p0", "ev_p1000"]
    # the highest id sits in the default partition: retention still counts from the children's
    t2 = make_table(target="t", schema="public", name="ev", partitions=parts, now=NOW, policy=TAKE_OVER,
                    key_type="bigint", key_column="id", max_key=9100, max_child_key=4500,
                    partman=pm(interval="1000", retention="2000"))
    assert t2.retention_cutoff == 2500 and t2.now_slot == 9000
    # not a number: no retention (pg_partman's retention::bigint would fail)
    t3 = make_table(target="t", schema="public", name="ev", partitions=parts, now=NOW, policy=TAKE_OVER,
                    key_type="bigint", key_column="id", max_key=4500, max_child_key=4500,
                    partman=pm(interval="1000", retention="two thousand"))
    assert t3.retention_cutoff is None and not t3.coverage.past_retention


def test_the_consoles_own_integer_retention_counts_intervals():
    t = make_table(target="t", schema="public", name="ev", partitions=ids(range(0, 5000, 1000)), now=NOW,
                   policy=Policy(retention=2), key_type="bigint", key_column="id", max_key=4500)
    assert t.retention_cutoff == 2000 and t.coverage.past_retention == ("ev_p0", "ev_p1000")


def test_premake_counts_from_the_newest_row_when_infinite_time_partitions_is_off():
    stale = MONTH.add(MONTH.floor(NOW), -4)
    t = make_table(target="t", schema="public", name="ev", partitions=months(range(-6, -1)), now=NOW, key_column="at",
                   policy=TAKE_OVER, max_key=stale, partman=pm(premake=3, infinite_time_partitions=False))
    assert t.premake_from == stale and t.now_slot == MONTH.floor(NOW)
    assert t.coverage.missing_ahead == (MONTH.add(MONTH.floor(NOW), -1),)
    assert "premake 3 months from the newest row's month (2026-08)" in t.policy_text()
    # infinite_time_partitions on: from now, as the console's own tables
    t2 = make_table(target="t", schema="public", name="ev", partitions=months(range(-6, -1)), now=NOW, key_column="at",
                    policy=TAKE_OVER, max_key=stale, partman=pm(premake=3, infinite_time_partitions=True))
    assert len(t2.coverage.missing_ahead) == 4 and t2.premake_from == t2.now_slot


def test_an_empty_set_gets_no_premake_when_infinite_time_partitions_is_off():
    t = make_table(target="t", schema="public", name="ev", partitions=months(range(-2, 1)), now=NOW, key_column="at",
                   policy=Policy(premake=3, infinite_time_partitions=False), max_key=None)
    assert t.premake_from is None and not t.coverage.missing_ahead and not build_plan([t])
    assert "(no row to count from: none)" in t.policy_text()
    # the console's default: from now
    t2 = make_table(target="t", schema="public", name="ev", partitions=months(range(-2, 1)), now=NOW, key_column="at",
                    policy=Policy(premake=3))
    assert len(t2.coverage.missing_ahead) == 3
