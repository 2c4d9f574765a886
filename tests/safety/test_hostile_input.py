"""Hostile identifiers and bad answers, against the real servers.

- A partitioned table named ``we"ird; table`` with monthly children: discover, plan and
  run work and the new partitions get exactly the right names.
- An unexpected table with quotes, a semicolon, spaces, unicode and a name past 63 bytes
  is listed by the schema check and its DROP fix (applied) removes exactly it.
- A Redis key ``session:ユーザー "; DEL *`` is listed and deleted, nothing else is.
- Every screen renders those names (and non-JSON / binary Redis values, InfluxDB errors
  for a missing database and retention policy) without a traceback on screen.
- Bad configuration gives a message naming the key, never a traceback."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
import redis
from psycopg import sql

from console.backends.base import BackendError
from console.backends.influx import InfluxBackend
from console.backends.redis import RedisBackend
from console.config import ConfigError, InfluxSettings, RedisSettings, Settings, parse_text
from console.core import sessions as core_sessions
from console.core.partitions import Policy, add_months, build_plan, discover_target, month_of, run_plan
from console.ui.app import SCREENS, ConsoleApp
from console.ui.services import Services

from ..drills.helpers import answered, screen_text, stack_settings, wait_for

WEIRD = 'we"ird; table'
LONG = 'drop"; me ユニコード ' + "長" * 20          # > 63 bytes: PostgreSQL truncates it
HOSTILE_KEY = 'session:ユーザー "; DEL *'


def _make_weird_partitioned(pg) -> list[str]:
    from datetime import datetime, timezone
    cur = month_of(datetime.now(timezone.utc))
    parent = sql.Identifier("public", WEIRD)
    names = []
    with pg.connection() as c:
        c.execute(sql.SQL("CREATE TABLE {} (id bigint NOT NULL, created_at timestamptz NOT NULL, "
                          "note text) PARTITION BY RANGE (created_at)").format(parent))
        c.execute(sql.SQL("CREATE INDEX {} ON {} (created_at)").format(sql.Identifier("we ird idx"), parent))
        for m in (add_months(cur, -1), cur):
            nxt = add_months(m, 1)
            name = f"{WEIRD}_y{m.year:04d}m{m.month:02d}"
            names.append(name)
            c.execute(sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier("public", name), parent, sql.Literal(f"{m.isoformat()} 00:00+00"),
                sql.Literal(f"{nxt.isoformat()} 00:00+00")))
    return names


def test_hostile_partitioned_table_discover_plan_run(fresh_db):
    pg = fresh_db("pipe")
    _make_weird_partitioned(pg)
    tables = [t for t in discover_target(pg, default_policy=Policy(premake=3)) if t.name == WEIRD]
    assert len(tables) == 1, "the table with the hostile name is discovered"
    plan = build_plan(tables)
    creates = [s for s in plan.steps if s.meta["kind"] == "create"]
    assert len(creates) == 3
    assert all(s.meta["partition"].startswith(WEIRD + "_y") for s in creates)
    report = run_plan(Settings(postgres=(pg.target,)), {pg.name: pg}, plan, actor="hostile")
    assert report.ok, report.as_dict()
    live = {r["relname"] for r in pg.fetch(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(%s) AND c.relkind = 'r'",
        (sql.Identifier("public", WEIRD).as_string(None),))}
    assert {s.meta["partition"] for s in creates} <= live and len(live) == 5
    again = [t for t in discover_target(pg, default_policy=Policy(premake=3)) if t.name == WEIRD]
    assert not build_plan(again).steps
    # every new partition got the parent's index
    idx = pg.fetch("SELECT count(*) AS n FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid "
                   "WHERE c.relname = ANY(%s)", ([s.meta["partition"] for s in creates],))[0]["n"]
    assert idx == 3


def test_hostile_unexpected_table_is_listed_and_dropped_exactly(fresh_db):
    from console.core.schema import check_target, run_plan as apply_plan
    from console.core.schema.fixes import build_plan as fix_plan
    pg = fresh_db("pipe")
    with pg.connection() as c:
        c.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier("public", LONG)))
        c.execute("CREATE TABLE public.bystander (id int)")
        stored = c.execute("SELECT relname FROM pg_class WHERE relname LIKE 'drop%%'").fetchone()[0]
    assert len(stored.encode()) <= 63 < len(LONG.encode())
    report = check_target(pg, "pipe")
    assert not report.error, report.error
    found = [f for f in report.findings if f.status == "unexpected" and stored in f.object]
    assert found, [f.object for f in report.findings]
    plan = fix_plan(pg.name, found, allow_destructive=True)
    assert sql.Identifier(stored).as_string(None) in plan.text()
    results = apply_plan(Settings(postgres=(pg.target,)), pg, plan, actor="hostile")
    assert all(r.ok for r in results), [r.message for r in results]
    left = {r["relname"] for r in pg.fetch("SELECT relname FROM pg_class WHERE relname IN (%s, 'bystander')",
                                           (stored,))}
    assert left == {"bystander"}


def test_hostile_redis_key_listed_and_deleted(stack, fresh_db):
    import threading
    pg = fresh_db("learning")
    url = stack.redis.url.rsplit("/", 1)[0] + "/7"
    c = redis.Redis.from_url(url)
    c.flushdb()
    c.set(HOSTILE_KEY, '{"current_notebook": "x"}', ex=600)
    c.set("session:bystander", '{"current_notebook": "y"}', ex=600)
    c.set("other:key", "1")
    rb = RedisBackend(RedisSettings(url=url))
    try:
        keys = [r.key for b in core_sessions.scan_sessions(rb, rb.settings, "session:*", stop=threading.Event())
                for r in b.records]
        assert HOSTILE_KEY in keys
        assert HOSTILE_KEY in core_sessions.plan_delete(HOSTILE_KEY).text()
        res = core_sessions.delete_session(Settings(postgres=(pg.target,)), rb, pg, HOSTILE_KEY, "hostile")
        assert res.ok
        assert sorted(k.decode() for k in c.keys("*")) == ["other:key", "session:bystander"]
        audit = pg.fetch("SELECT target FROM console.audit_log WHERE action = 'sessions.delete'")
        assert audit and HOSTILE_KEY in audit[0]["target"]
    finally:
        rb.close()
        c.flushdb()
        c.close()


# --------------------------------------------------------------------------- bad answers


def test_influx_errors_are_typed_and_clear(influx_server):
    s = InfluxSettings(url=influx_server.url, database="no_such_db", username=influx_server.username,
                       password=influx_server.password)
    b = InfluxBackend(s)
    with pytest.raises(BackendError) as e1:
        b.query('SELECT count(*) FROM "cell_executions"')
    assert "database not found" in e1.value.message
    b2 = InfluxBackend(InfluxSettings(url=influx_server.url, database="learning", retention_policy="no_such_rp",
                                      username=influx_server.username, password=influx_server.password))
    with pytest.raises(BackendError) as e2:
        b2.write(["m v=1i"])
    assert "retention policy not found" in e2.value.message
    b.close()
    b2.close()


def test_screens_render_hostile_names_and_bad_values(stack, fresh_db, influx_server):
    """Every screen on the real stack with hostile names everywhere, non-JSON and binary
    session values and an InfluxDB pointed at a missing database: no crash, no traceback."""
    pg = fresh_db("pipe")
    _make_weird_partitioned(pg)
    with pg.connection() as c:
        c.execute(sql.SQL("CREATE TABLE {} (id int)").format(sql.Identifier("public", LONG)))
    url = stack.redis.url.rsplit("/", 1)[0] + "/6"
    r = redis.Redis.from_url(url)
    r.flushdb()
    r.set(HOSTILE_KEY, "not json at all {", ex=600)
    r.set("session:binary", b"\x00\xff\xfe\x80 binary", ex=600)
    r.set("session:[rich]markup[/]", "[bold red]x[/]", ex=600)
    r.hset("websocket_connections", 'ws"; DROP', b"\xff\xfe")
    settings = stack_settings(stack, {"pipe": (pg.target.dsn, "pipe")}, redis_url=url, zengin=False,
                              influx=False, refresh=0.5)
    import dataclasses
    settings = dataclasses.replace(settings, influx=InfluxSettings(
        url=influx_server.url, database="no_such_db", username=influx_server.username,
        password=influx_server.password, timeout_s=1))
    services = Services.from_settings(settings)
    texts: dict[str, str] = {}

    async def go():
        app = ConsoleApp(services, initial_mode="overview")
        async with app.run_test(size=(160, 50)) as pilot:
            for mode, key, *_ in SCREENS:
                await pilot.press(key)
                # Every source answered and painted (a screen with nothing configured has none).
                await wait_for(pilot, lambda m=mode: app.screen.id == m and (
                    answered(app.screen) or not any(src.interval() is not None
                                                    for src in getattr(app.screen, "sources", {}).values())),
                               f"{mode}: every source answered", timeout=30)
                texts[mode] = screen_text(app)
            await pilot.press("4")
            await pilot.press("right_square_bracket", "right_square_bracket")     # the InfluxDB tab
            await wait_for(pilot, lambda: "database not found" in screen_text(app), "the InfluxDB error shown")
            texts["metrics influx"] = screen_text(app)

    try:
        asyncio.run(go())
    finally:
        services.close()
        r.flushdb()
        r.close()
    for mode, text in texts.items():
        assert "Traceback" not in text, f"{mode}:\n{text}"
    assert WEIRD in texts["partitions"]
    assert "ユーザー" in texts["sessions"]
    assert "database not found" in texts["metrics influx"], texts["metrics influx"]


def test_bad_configuration_gives_clear_messages(tmp_path):
    with pytest.raises(ConfigError) as e:
        parse_text('[redis]\nurl = 5\n')
    assert "redis.url" in str(e.value) and "string" in str(e.value)
    with pytest.raises(ConfigError) as e:
        parse_text('[postgres.x]\ndsn = "postgresql://a@b/c"\nsystem = "nope"\n')
    assert "postgres.x.system" in str(e.value)
    bad = tmp_path / "bad.toml"
    bad.write_text('refresh_interval = "fast"\n[postgres.a]\nservice = "s"\nsystem = "lambda"\nbogus = 1\n')
    proc = subprocess.run([sys.executable, "-m", "console.cli", "--config", str(bad), "status"],
                          capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out, out
    assert "refresh_interval" in out and str(bad) in out, out
