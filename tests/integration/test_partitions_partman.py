"""Parity with the real pg_partman (4.x, Debian's postgresql-15-partman on PostgreSQL 15).

The same starting state is built in two databases; one is maintained by pg_partman
(``partition_data_proc`` for default rows, ``partition_gap_fill``, ``run_maintenance``), the
other by the console (discover → plan → run), twice over: under the console's own policy (the
same premake, retention and infinite_time_partitions), and taking over the same
``part_config`` (the console's policy then says something else on purpose: part_config's
settings must win). Where both maintain a table, the partition sets (names and bounds) must
be equal; the console must lose no row of any table; a second console run must have nothing
to do. Sets pg_partman does not maintain (LIST, sub-partitioned) must be left alone by the
console too, and an interrupted detach must be finished with retention applied (where
pg_partman's own run fails on it, the console's must not)."""

from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from datetime import datetime, timedelta, timezone
from typing import Callable

import psycopg
import pytest
from psycopg import sql

from console.backends.postgres import PostgresBackend
from console.config import PostgresTarget, Settings
from console.core.partitions import Policy, RunOptions, build_plan, discover_target, run_plan
from console.core.partitions.interval import Interval

pytestmark = pytest.mark.partman

NOW = datetime.now(timezone.utc)
FAST = RunOptions(lock_timeout_ms=2000, attempts=2, retry_pause_s=0.05)
_n = itertools.count(1)

BASE = ("CREATE TABLE public.events (id bigserial NOT NULL, at timestamptz NOT NULL, v text, "
        "PRIMARY KEY (id, at)) PARTITION BY RANGE (at)")


@dataclass
class State:
    name: str
    setup: Callable[[psycopg.Connection], None]
    interval: str                 # part_config.partition_interval
    datetime_string: str | None   # part_config.datetime_string
    premake: int = 3
    retention: str | None = None  # part_config.retention (an interval, or a number of ids)
    policy_retention: int | None = None   # the same retention in intervals (the console's policy)
    timezone: str = "UTC"
    default_rows: bool = False
    infinite: bool = False        # part_config.infinite_time_partitions (its default: false)
    keep_table: bool = False      # part_config.retention_keep_table
    retention_schema: str | None = None   # part_config.retention_schema
    after: Callable[[str], None] | None = None   # run on the database's dsn after setup (outside a transaction)


def _iv(unit: str, tz: str = "UTC") -> Interval:
    return Interval(unit, tz_name=tz)


def _children(conn, iv: Interval, name_fmt: str, ks, table: str = "events") -> None:
    now_slot = iv.floor(NOW)
    for k in ks:
        lo = iv.add(now_slot, k)
        hi = iv.upper(lo)
        fields = iv.fields(lo)
        conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier("public", name_fmt.format(table=table, **fields)), sql.Identifier("public", table),
            sql.Literal(lo), sql.Literal(hi)))


def _rows(conn, at: datetime, n: int) -> None:
    for i in range(n):
        conn.execute("INSERT INTO public.events (at, v) VALUES (%s, %s)", (at + timedelta(seconds=i), f"r{i}"))


def monthly_gap_default_refs(conn) -> None:
    iv = _iv("month")
    conn.execute(BASE)
    conn.execute("CREATE TABLE public.events_default PARTITION OF public.events DEFAULT")
    _children(conn, iv, "{table}_p{YYYY}_{MM}", [k for k in range(-5, 2) if k != -2])
    cur = iv.floor(NOW)
    for k in (-5, -4, -3, -1, 0):
        _rows(conn, iv.add(cur, k) + timedelta(days=2), 3)
    _rows(conn, iv.add(cur, -2) + timedelta(days=5), 4)          # gap month: in the default partition
    conn.execute("CREATE TABLE public.event_tags (id serial PRIMARY KEY, event_id bigint NOT NULL, "
                 "event_at timestamptz NOT NULL, tag text, FOREIGN KEY (event_id, event_at) "
                 "REFERENCES public.events (id, at) ON DELETE CASCADE)")
    conn.execute("INSERT INTO public.event_tags (event_id, event_at, tag) "
                 "SELECT id, at, 't' || g FROM public.events, generate_series(1, 2) g")


def monthly_retention(conn) -> None:
    conn.execute(BASE)
    conn.execute("CREATE TABLE public.events_default PARTITION OF public.events DEFAULT")
    _children(conn, _iv("month"), "{table}_p{YYYY}_{MM}", range(-7, 1))
    _rows(conn, NOW, 2)
    _rows(conn, _iv("month").add(_iv("month").floor(NOW), -2) + timedelta(days=1), 3)   # kept: within retention


def daily(conn) -> None:
    conn.execute(BASE)
    _children(conn, _iv("day"), "{table}_p{YYYY}_{MM}_{DD}", range(-3, 2))
    _rows(conn, NOW, 2)


def weekly(conn) -> None:
    conn.execute(BASE)
    _children(conn, _iv("week"), "{table}_p{IYYY}w{IW}", range(-2, 2))
    _rows(conn, NOW, 2)


def yearly(conn) -> None:
    conn.execute(BASE)
    _children(conn, _iv("year"), "{table}_p{YYYY}", range(-2, 1))
    _rows(conn, NOW, 2)


def tokyo(conn) -> None:
    """Monthly children aligned to Asia/Tokyo midnights (the database's TimeZone)."""
    conn.execute("SET TimeZone = 'Asia/Tokyo'")
    conn.execute(BASE)
    _children(conn, _iv("month", "Asia/Tokyo"), "{table}_p{YYYY}_{MM}", range(-2, 1))
    _rows(conn, NOW, 2)


def hourly(conn) -> None:
    conn.execute(BASE)
    _children(conn, _iv("hour"), "{table}_p{YYYY}_{MM}_{DD}_{HH}{MI}", range(-3, 2))
    _rows(conn, NOW, 2)


def quarterly(conn) -> None:
    conn.execute(BASE)
    _children(conn, _iv("quarter"), "{table}_p{YYYY}q{Q}", range(-2, 1))
    _rows(conn, NOW, 2)


def integer(conn) -> None:
    conn.execute("CREATE TABLE public.events (id bigint NOT NULL PRIMARY KEY, v text) PARTITION BY RANGE (id)")
    for lo in (0, 1000, 2000):
        conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF public.events FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier("public", f"events_p{lo}"), sql.Literal(lo), sql.Literal(lo + 1000)))
    conn.execute("INSERT INTO public.events SELECT g, 'x' FROM generate_series(1, 1500) g")


def integer_retention(conn) -> None:
    """ID-range retention (part_config.retention '2000'): the children whose upper bound is at
    or below max(id) - 2000 go (p0 and p1000 here, empty: no row is meant to be lost)."""
    conn.execute("CREATE TABLE public.events (id bigint NOT NULL PRIMARY KEY, v text) PARTITION BY RANGE (id)")
    for lo in range(0, 5000, 1000):
        conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF public.events FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier("public", f"events_p{lo}"), sql.Literal(lo), sql.Literal(lo + 1000)))
    conn.execute("INSERT INTO public.events SELECT g, 'x' FROM generate_series(2000, 4500) g")


def monthly_stale(conn) -> None:
    """Nothing written for months (infinite_time_partitions = false): premake counts from the
    newest row's month (-4), not from now — only -1 is missing."""
    conn.execute(BASE)
    _children(conn, _iv("month"), "{table}_p{YYYY}_{MM}", range(-6, -1))
    _rows(conn, _iv("month").add(_iv("month").floor(NOW), -4) + timedelta(days=3), 3)


def monthly_empty(conn) -> None:
    """No row at all (infinite_time_partitions = false): nothing to premake from."""
    conn.execute(BASE)
    _children(conn, _iv("month"), "{table}_p{YYYY}_{MM}", range(-2, 1))


def monthly_future_default(conn) -> None:
    """A row five months ahead sits in the default partition: premake counts from its month."""
    conn.execute(BASE)
    conn.execute("CREATE TABLE public.events_default PARTITION OF public.events DEFAULT")
    _children(conn, _iv("month"), "{table}_p{YYYY}_{MM}", range(-2, 1))
    _rows(conn, NOW, 2)
    _rows(conn, _iv("month").add(_iv("month").floor(NOW), 5) + timedelta(days=1), 1)


def interrupted_detach(conn) -> None:
    """Months -7 … 1, no default partition (DETACH … CONCURRENTLY needs none); month -7 (past
    retention) is left pending detach by :func:`interrupt_oldest_detach`."""
    conn.execute(BASE)
    _children(conn, _iv("month"), "{table}_p{YYYY}_{MM}", range(-7, 2))
    cur = _iv("month").floor(NOW)
    for k, n in ((-7, 5), (-2, 3), (0, 2)):
        _rows(conn, _iv("month").add(cur, k) + timedelta(days=1), n)


def victim_name() -> str:
    return "events_p{YYYY}_{MM}".format(**_iv("month").fields(_iv("month").add(_iv("month").floor(NOW), -7)))


def _pending(c) -> list[tuple[str]]:
    return c.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                     "WHERE i.inhparent = 'public.events'::regclass AND i.inhdetachpending").fetchall()


def interrupt_oldest_detach(dsn: str) -> None:
    """A DETACH … CONCURRENTLY cancelled while it waits for an older transaction: the
    partition stays attached, marked pending detach (pg_inherits.inhdetachpending). The
    cancel is sent once the mark is committed (polled), never after a fixed delay."""
    holder = psycopg.connect(dsn, autocommit=False)
    holder.execute("SELECT count(*) FROM public.events")
    errors: list[BaseException] = []
    try:
        with psycopg.connect(dsn, autocommit=True) as detacher, psycopg.connect(dsn, autocommit=True) as w:
            def detach() -> None:
                try:
                    detacher.execute(sql.SQL("ALTER TABLE public.events DETACH PARTITION {} CONCURRENTLY").format(
                        sql.Identifier("public", victim_name())))
                except BaseException as exc:  # noqa: BLE001 - checked below
                    errors.append(exc)

            th = threading.Thread(target=detach)
            th.start()
            deadline = time.monotonic() + 30
            while not _pending(w) and time.monotonic() < deadline:
                time.sleep(0.02)
            w.execute("SELECT pg_cancel_backend(%s)", (detacher.info.backend_pid,))
            th.join(30)
    finally:
        holder.rollback()
        holder.close()
    assert len(errors) == 1 and isinstance(errors[0], psycopg.errors.QueryCanceled), errors
    with psycopg.connect(dsn, autocommit=True) as c:
        assert _pending(c) == [(victim_name(),)]


STATES = [
    # (no retention here: pg_partman's DROP fails on a partition a foreign key depends on)
    State("monthly_gap_default_refs", monthly_gap_default_refs, "1 mon", "YYYY_MM", default_rows=True),
    State("monthly_retention", monthly_retention, "1 mon", "YYYY_MM", retention="3 months", policy_retention=3),
    State("daily", daily, "1 day", "YYYY_MM_DD", premake=4),
    State("weekly", weekly, "1 week", 'IYYY"w"IW', premake=3),
    State("yearly", yearly, "1 year", "YYYY", premake=2),
    State("tokyo", tokyo, "1 mon", "YYYY_MM", premake=3, timezone="Asia/Tokyo"),
    State("integer", integer, "1000", None, premake=3),
    State("hourly", hourly, "1 hour", "YYYY_MM_DD_HH24MI", premake=4),
    State("quarterly", quarterly, "3 mons", 'YYYY"q"Q', premake=3),
    State("integer_retention", integer_retention, "1000", None, premake=3, retention="2000", policy_retention=2),
    State("monthly_stale", monthly_stale, "1 mon", "YYYY_MM", premake=3),
    State("monthly_empty", monthly_empty, "1 mon", "YYYY_MM", premake=3),
    State("monthly_future_default", monthly_future_default, "1 mon", "YYYY_MM", premake=3, default_rows=True),
    State("interrupted_detach", interrupted_detach, "1 mon", "YYYY_MM", retention="3 months", policy_retention=3,
          after=interrupt_oldest_detach),
]
BY_NAME = {s.name: s for s in STATES}


SQL_COMMON = sorted((Path(__file__).resolve().parents[2] / "sql" / "common").glob("*.sql"))


def with_audit_table(b: PostgresBackend) -> None:
    """The console's own schema (sql/common: the audit log): no audit record, no change."""
    with psycopg.connect(b.target.dsn, autocommit=True) as c:
        for f in SQL_COMMON:
            c.execute(f.read_text(encoding="utf-8"))


def _db(partman_pg, label: str, tz: str) -> PostgresBackend:
    name = f"pm_{label}_{next(_n)}_{os.getpid()}"
    partman_pg.create_database(name)
    with psycopg.connect(partman_pg.dsn(), autocommit=True) as c:
        c.execute(sql.SQL("ALTER DATABASE {} SET TimeZone = {}").format(sql.Identifier(name), sql.Literal(tz)))
    return PostgresBackend(PostgresTarget(name=name, system="lambda", dsn=partman_pg.dsn(name)))


@pytest.fixture
def pair(partman_pg):
    made: list[PostgresBackend] = []

    def make(state: State) -> tuple[PostgresBackend, PostgresBackend]:
        out = []
        for side in ("pm", "co"):
            b = _db(partman_pg, f"{state.name}_{side}", state.timezone)
            made.append(b)
            with psycopg.connect(b.target.dsn, autocommit=True) as c:
                with c.transaction():
                    state.setup(c)
                c.execute("ANALYZE")
            if state.after:
                state.after(b.target.dsn)
            out.append(b)
        with_audit_table(out[1])
        return out[0], out[1]

    yield make
    for b in made:
        b.close()
        partman_pg.drop_database(b.target.name)


def partition_set(b: PostgresBackend) -> set[tuple[str, str]]:
    with psycopg.connect(b.target.dsn, autocommit=True) as c:
        c.execute("SET TimeZone = 'UTC'")
        return {(n, e) for n, e in c.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.events'::regclass").fetchall()}


def row_counts(b: PostgresBackend) -> dict[str, int]:
    with psycopg.connect(b.target.dsn, autocommit=True) as c:
        rels = c.execute("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = 'public'").fetchall()
        return {f"{s}.{t}": c.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(s, t))).fetchone()[0]
                for s, t in rels}


def configure_partman(b: PostgresBackend, st: State) -> None:
    """pg_partman installed and the state's part_config row, as create_parent would leave it."""
    with psycopg.connect(b.target.dsn, autocommit=True) as c:
        c.execute("CREATE SCHEMA partman")
        c.execute("CREATE EXTENSION pg_partman SCHEMA partman")
        c.execute("INSERT INTO partman.part_config (parent_table, control, partition_type, partition_interval, "
                  "premake, datetime_string, retention, retention_keep_table, retention_schema, jobmon, "
                  "infinite_time_partitions) VALUES ('public.events', %s, 'native', %s, %s, %s, %s, %s, %s, false, %s)",
                  ("id" if st.name.startswith("integer") else "at", st.interval, st.premake, st.datetime_string,
                   st.retention, st.keep_table, st.retention_schema, st.infinite))


def run_partman(b: PostgresBackend, st: State) -> None:
    configure_partman(b, st)
    with psycopg.connect(b.target.dsn, autocommit=True) as c:
        if st.default_rows:
            c.execute("CALL partman.partition_data_proc('public.events', p_wait := 0, p_quiet := true)")
        c.execute("SELECT partman.partition_gap_fill('public.events')")
        c.execute("SELECT partman.run_maintenance('public.events', p_jobmon := false)")


# The console's policy in each mode: its own (the state's settings), or part_config taken
# over while its own policy says otherwise (premake 1, no retention, infinite time partitions).
MODES = ("policy", "take_over")


def console_policy(st: State, mode: str) -> Policy:
    if mode == "take_over":
        return Policy(premake=1, retention=None, infinite_time_partitions=True, take_over_partman=True)
    return Policy(premake=st.premake, retention=st.policy_retention, retention_keep_table=st.keep_table,
                  retention_schema=st.retention_schema, infinite_time_partitions=st.infinite)


def run_console(b: PostgresBackend, st: State, mode: str = "policy") -> tuple[list, object]:
    if mode == "take_over":
        configure_partman(b, st)
    tables = discover_target(b, now=NOW, default_policy=console_policy(st, mode))
    plan = build_plan(tables)
    report = run_plan(Settings(postgres=(b.target,)), {b.name: b}, plan, actor="pytest", options=FAST)
    return tables, report


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("st", STATES, ids=[s.name for s in STATES])
def test_same_partition_set_as_pg_partman_and_no_row_lost(pair, st, mode):
    pm, co = pair(st)
    assert partition_set(pm) == partition_set(co)            # the same starting state
    before = row_counts(co)

    run_partman(pm, st)
    tables, report = run_console(co, st, mode)
    t = next(x for x in tables if x.name == "events")
    assert t.supported, t.not_maintained
    assert t.managed_by == ("pg_partman" if mode == "take_over" else None)
    assert report.ok, report.as_dict()
    # what the drill-in says it follows
    pt = t.policy_text()
    if t.interval.is_time:
        want = "(no row to count from: none)" if st.name == "monthly_empty" else \
            f"premake {st.premake} {t.interval.unit}s from the newest row's {t.interval.unit}"
        assert want in pt, pt
    if mode == "take_over" and st.retention:
        assert f"retention {st.retention}" in pt and pt.endswith("(part_config)"), pt

    assert partition_set(co) == partition_set(pm)
    assert row_counts(co) == before                           # no lost row anywhere
    # idempotent: a second console run has nothing to do, and pg_partman agrees
    again = discover_target(co, now=NOW, default_policy=console_policy(st, mode))
    assert not build_plan(again), build_plan(again).text()
    run_partman_again(pm)
    assert partition_set(co) == partition_set(pm)


def run_partman_again(b: PostgresBackend) -> None:
    with psycopg.connect(b.target.dsn, autocommit=True) as c:
        c.execute("SELECT partman.run_maintenance('public.events', p_jobmon := false)")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("how", ["keep_table", "retention_schema"])
def test_interrupted_detach_kept_aside_where_pg_partman_fails(pair, how, mode):
    """retention_keep_table or retention_schema: pg_partman 4.7 DETACHes before keeping or
    moving, and a plain DETACH of a partition pending detach fails ("cannot detach partition
    …, already pending detach"): its whole run_maintenance fails, every run, so neither
    premake nor retention happens any more. The console finalizes the detach, keeps (or
    moves) the table with its rows, applies retention and premake in the same run."""
    st = replace(BY_NAME["interrupted_detach"], name=f"interrupted_{how}", keep_table=how == "keep_table",
                 retention_schema="archive" if how == "retention_schema" else None)
    pm, co = pair(st)
    start = partition_set(pm)
    before = row_counts(co)
    victim, kept_in = victim_name(), st.retention_schema or "public"
    with pytest.raises(psycopg.Error, match="cannot detach partition"):
        run_partman(pm, st)
    assert partition_set(pm) == start                           # nothing done at all

    tables, report = run_console(co, st, mode)
    assert report.ok, report.as_dict()
    iv, cur = _iv("month"), _iv("month").floor(NOW)
    name = "events_p{YYYY}_{MM}"
    assert {n for n, _ in partition_set(co)} == {name.format(**iv.fields(iv.add(cur, k))) for k in range(-3, 4)}
    assert row_counts(co)["public.events"] == before["public.events"]
    with psycopg.connect(co.target.dsn, autocommit=True) as c:
        # finalized (no longer a partition) and kept with its rows, as are the others past retention
        for k in range(-7, -3):
            n = name.format(**iv.fields(iv.add(cur, k)))
            assert c.execute("SELECT relispartition FROM pg_class WHERE oid = %s::regclass",
                             (f"{kept_in}.{n}",)).fetchone() == (False,), n
        assert c.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(kept_in, victim))).fetchone() == (5,)
    again = discover_target(co, now=NOW, default_policy=console_policy(st, mode))
    assert not build_plan(again), build_plan(again).text()
    with pytest.raises(psycopg.Error, match="cannot detach partition"):
        run_partman_again(pm)                                   # stuck for good


def test_interval_told_and_named_like_pg_partman(pair):
    """What the console tells from each state (the screen shows it as is)."""
    expect = {"daily": "daily", "weekly": "weekly", "yearly": "yearly", "tokyo": "monthly (Asia/Tokyo)",
              "integer": "integer, step 1,000", "hourly": "hourly", "quarterly": "quarterly"}
    for name in expect:
        st = BY_NAME[name]
        _, co = pair(st)
        t = next(x for x in discover_target(co, now=NOW) if x.name == "events")
        assert t.interval_text == expect[st.name], (st.name, t.interval_source)
        assert t.naming_source.startswith("detected"), t.naming_source


def test_partman_tables_are_left_to_it_unless_taken_over(pair):
    st = BY_NAME["daily"]
    pm, _ = pair(st)
    with psycopg.connect(pm.target.dsn, autocommit=True) as c:
        c.execute("CREATE SCHEMA partman")
        c.execute("CREATE EXTENSION pg_partman SCHEMA partman")
        c.execute("INSERT INTO partman.part_config (parent_table, control, partition_type, partition_interval, "
                  "premake, datetime_string, jobmon) VALUES ('public.events', 'at', 'native', '1 day', 6, "
                  "'YYYY_MM_DD', false)")
    t = next(x for x in discover_target(pm, now=NOW) if x.name == "events")
    assert t.managed_by == "pg_partman" and t.partman.premake == 6 and "pg_partman" in t.not_maintained
    assert not build_plan([t])
    # taken over: its premake (6, not the console's 3) is followed
    t2 = next(x for x in discover_target(pm, now=NOW, default_policy=Policy(take_over_partman=True))
              if x.name == "events")
    plan = build_plan([t2])
    assert t2.supported and t2.policy.premake == 6
    assert len([s for s in plan.steps if s.meta["kind"] == "create"]) == 5     # today+2 .. today+6


def test_list_and_sub_partitioned_sets_are_left_alone(partman_pg):
    b = _db(partman_pg, "list_sub", "UTC")
    try:
        with psycopg.connect(b.target.dsn, autocommit=True) as c:
            c.execute("CREATE TABLE public.by_region (region text NOT NULL, v int) PARTITION BY LIST (region)")
            c.execute("CREATE TABLE public.by_region_eu PARTITION OF public.by_region FOR VALUES IN ('eu')")
            c.execute("CREATE TABLE public.by_id (id bigint NOT NULL, v text) PARTITION BY RANGE (id)")
            c.execute("CREATE TABLE public.by_id_p0 PARTITION OF public.by_id FOR VALUES FROM (0) TO (100)")
            c.execute("CREATE TABLE public.events (id bigserial NOT NULL, at timestamptz NOT NULL, v text) "
                      "PARTITION BY RANGE (at)")
            iv = _iv("month")
            cur = iv.floor(NOW)
            for k in (-1, 0):
                lo = iv.add(cur, k)
                name = f"events_p{lo:%Y_%m}"
                c.execute(sql.SQL("CREATE TABLE {} PARTITION OF public.events FOR VALUES FROM ({}) TO ({}) "
                                  "PARTITION BY LIST (v)").format(sql.Identifier(name), sql.Literal(lo),
                                                                  sql.Literal(iv.upper(lo))))
                c.execute(sql.SQL("CREATE TABLE {} PARTITION OF {} DEFAULT").format(
                    sql.Identifier(name + "_default"), sql.Identifier(name)))
            c.execute("INSERT INTO public.events (at, v) SELECT %s::timestamptz - g * interval '1 minute', "
                      "'v' || (g %% 3) FROM generate_series(1, 499) g", (NOW,))
            c.execute("ANALYZE")
        with_audit_table(b)
        before = row_counts(b)
        tables = {t.name: t for t in discover_target(b, now=NOW)}
        assert not tables["by_region"].supported and "LIST" in tables["by_region"].not_maintained
        assert tables["by_region"].bounds_text(tables["by_region"].partitions[0]) == "IN ('eu')"
        assert "missing" not in " ".join(tables["by_region"].attention())
        assert tables["by_id"].interval_text == "integer, step 100"
        assert tables["by_id"].bounds_text(tables["by_id"].partitions[0]) == "0 … 99"
        ev = tables["events"]
        assert not ev.supported and "sub-partitioned" in ev.not_maintained
        assert ev.est_rows == 499 and ev.total_size > 8192 * 2         # summed over the leaves
        plan = build_plan(list(tables.values()))
        assert not [s for s in plan.steps if s.meta.get("table") in ("public.events", "public.by_region")]
        run_plan(Settings(postgres=(b.target,)), {b.name: b}, plan, actor="pytest", options=FAST)
        assert row_counts(b) == before
    finally:
        b.close()
        partman_pg.drop_database(b.target.name)
