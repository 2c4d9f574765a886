"""The audit server stopped, for EVERY mutating action (the registry in ``console.audit``
plus the bulk paths that share an action name): the action is refused with a clear error,
and nothing changed on the real target (rows, Redis keys, DynamoDB statuses, the victim
session still alive), and nothing was written to the audit table.

How the server is "stopped" without stopping the PostgreSQL other tests share: each case's
database is reached only through a :class:`~tests.drills.cut_proxy.CuttableProxy`; cutting
it refuses new connections and resets the open ones, as a stopped server does. Where the
audit database is the target itself (schema apply/migrate, partitions, activity signals,
diff execution, audit reconcile) the target is down too, and the drill checks that nothing
changed once it is back. The drivers are those of tests/safety/test_actions.py; a new
action without a driver there fails here too."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pytest

from console.backends.base import BackendError, ErrorKind
from console.backends.postgres import PostgresBackend
from console.config import PostgresTarget
from console.core import audit
from tests.drills.cut_proxy import CuttableProxy
from tests.safety.test_actions import ACTION_NAMES, ACTOR, DRIVERS, Case


@pytest.fixture
def cut_pg(stack, fresh_db):
    """``(proxy, make)``: ``make(system, migrated=True)`` is ``fresh_db`` whose backend (and
    the target in its Settings) connects through ``proxy``."""
    proxy = CuttableProxy(stack.postgres.port)
    made: list[PostgresBackend] = []

    def make(system: str, *, migrated: bool = True, **kw) -> PostgresBackend:
        direct = fresh_db(system, migrated=migrated, **kw)
        direct.close()
        t = direct.target
        target = PostgresTarget(name=t.name, system=t.system, dsn=proxy.dsn(t.dsn, stack.postgres.port),
                                connect_timeout_s=2, **kw)
        b = PostgresBackend(target)
        made.append(b)
        return b

    def restore() -> None:
        # A pool whose connections failed backs off before it retries: start the pools
        # afresh so that checking the target after the drill is not waiting for that.
        proxy.restore()
        for b in made:
            b.close()

    proxy.reset = restore  # type: ignore[attr-defined]
    try:
        yield proxy, make
    finally:
        proxy.restore()
        for b in made:
            b.close()
        proxy.close()


def _bulk_case(stack, fresh_db, op: str) -> Case:
    """``approve_many`` / ``execute_many``: the diffs queue's bulk paths (screens and CLI)."""
    from console.core.zengin.service import DiffsService
    from tests.integration.test_diffs_helpers import bank, make_zen, ref, update

    zen = make_zen(stack, fresh_db)
    entries = [update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行")]
    if op == "approve":
        recs = [zen.put(e) for e in entries]
        run = lambda s: DiffsService(s, zen.pg, zen.dynamo, zen.s3).approve_many([ref(r) for r in recs], ACTOR)  # noqa: E731
        changed = lambda: any(zen.get(r).status != "pending" for r in recs)  # noqa: E731
    else:
        recs = [zen.put(e, status="approved", approvedBy="approver-1") for e in entries]
        run = lambda s: DiffsService(s, zen.pg, zen.dynamo, zen.s3).execute_many([ref(r) for r in recs], ACTOR)  # noqa: E731
        changed = lambda: any(zen.get(r).status != "approved" or zen.history(r) for r in recs)  # noqa: E731
    return Case(zen.pg, run, lambda: zen.svc.plan(op, [ref(r) for r in recs], ACTOR), changed, zen.settings,
                lambda: zen.dynamo.call("delete_table", TableName=zen.dynamo.table))


EXTRA: dict[str, Callable[..., Case]] = {
    "diffs.approve[bulk]": lambda stack, fresh_db: _bulk_case(stack, fresh_db, "approve"),
    "diffs.execute[bulk]": lambda stack, fresh_db: _bulk_case(stack, fresh_db, "execute"),
}
CASES = ACTION_NAMES + sorted(EXTRA)

# Actions that read the same database before they write their intent: with that server
# down they stop at the read (an ``unreachable`` error naming the target), before any
# intent or change. Every other action must be refused by the write-ahead audit itself.
READ_FIRST = {
    "audit.reconcile": "lists the pending intents in the audit table itself",
    "diffs.generate": "compares the source with the master rows in the audit (zengin) database",
    "schema.apply": "opens its transaction on the target, which holds the audit table",
    "schema.migrate": "reads the applied versions on the target, which holds the audit table",
}


def _audit_rows(pg) -> list[tuple]:
    if not pg.fetch("SELECT to_regclass('console.audit_log') IS NOT NULL AS ok")[0]["ok"]:
        return []
    return [tuple(r.values()) for r in pg.fetch("SELECT id, action, outcome FROM console.audit_log ORDER BY id")]


@pytest.mark.parametrize("name", CASES)
def test_action_is_refused_when_the_audit_server_is_down(name, stack, cut_pg):
    proxy, make = cut_pg
    driver = EXTRA.get(name) or DRIVERS.get(name)
    if driver is None:
        pytest.fail(f"mutating action '{name}' has no driver in tests/safety/test_actions.py DRIVERS")
    case = driver(stack, make)
    try:
        before = _audit_rows(case.audit_pg)
        assert not case.changed(), f"{name}: the driver changed something before the drill"
        proxy.cut()
        with pytest.raises(BackendError) as caught:
            case.run(replace(case.settings, read_only=False))
        exc = caught.value
        message = str(exc)
        proxy.reset()

        # Clear: names the action (or the server) and what happened; the audit refusal says
        # that nothing was changed.
        if name in READ_FIRST:
            assert exc.kind == ErrorKind.UNREACHABLE, f"{name}: {type(exc).__name__} {exc.kind}: {message}"
            assert "connection" in message, message
        else:
            assert isinstance(exc, audit.AuditUnavailable), f"{name}: {type(exc).__name__} {exc.kind}: {message}"
            assert "audit record could not be written" in message and "nothing was changed" in message, message
        assert "\x1b" not in message and "Traceback" not in message

        # Nothing changed on the target, and the audit trail is as it was.
        assert not case.changed(), f"{name}: changed something while its audit server was down"
        assert _audit_rows(case.audit_pg) == before, f"{name}: audit rows changed while the server was down"
    finally:
        proxy.restore()
        case.cleanup()


def test_the_proxy_really_cuts(stack, cut_pg):
    """The drill is not vacuous: through the proxy a query works, cut it fails, restored it works."""
    proxy, make = cut_pg
    pg = make("learning", migrated=False)
    assert pg.fetch("SELECT 1 AS one") == [{"one": 1}]
    proxy.cut()
    with pytest.raises(BackendError) as caught:
        pg.fetch("SELECT 1 AS one")
    assert caught.value.kind == ErrorKind.UNREACHABLE, caught.value
    proxy.restore()
    assert pg.fetch("SELECT 1 AS one") == [{"one": 1}]


# --------------------------------------------------------------------------- through the CLI


def _cli_zen(stack, make, tmp_path):
    """A zengin stack whose PostgreSQL (master rows + audit) goes through the proxy, and a
    config file naming it."""
    from tests.integration.test_diffs_helpers import make_zen
    zen = make_zen(stack, make)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.z]\ndsn = "{zen.pg.target.dsn}"\nsystem = "zengin"\nconnect_timeout = 2\n'
                   f'[zengin]\nenv = "{zen.settings.zengin.env}"\nendpoint_url = "{stack.moto.url}"\ntarget = "z"\n'
                   f'[redis]\nurl = "{stack.redis.url}"\n')
    return zen, str(cfg)


@pytest.mark.parametrize("verb", ["approve", "approve --all-pending", "reject", "execute", "execute --all-approved"])
def test_cli_diffs_refused_when_the_audit_server_is_down(verb, stack, cut_pg, tmp_path, capsys):
    """`console diffs <verb>` with the audit (zengin) PostgreSQL down: exit 4 (refused), the
    refusal said on stderr, the DynamoDB status and the master rows unchanged."""
    from console.cli import main
    from console.commands import EXIT_REFUSED
    from tests.integration.test_diffs_helpers import bank, update

    proxy, make = cut_pg
    zen, cfg = _cli_zen(stack, make, tmp_path)
    entry = update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行")
    first = verb.split()[0]
    status = "pending" if first in ("approve", "reject") else "approved"
    rec = zen.put(entry, status=status, **({} if status == "pending" else {"approvedBy": "approver-1"}))
    args = verb.split()[1:] or [f"{rec.id}@{rec.timestamp}"]
    if first == "reject":
        args += ["--reason", "drill"]
    try:
        before = _audit_rows(zen.pg)
        proxy.cut()
        rc = main(["--config", cfg, "diffs", first, *args])
        err = capsys.readouterr().err
        proxy.reset()
        assert rc == EXIT_REFUSED, (rc, err)
        assert "audit record could not be written" in err and "nothing was changed" in err, err
        assert "Traceback" not in err
        assert zen.get(rec).status == status and not zen.history(rec)
        assert _audit_rows(zen.pg) == before
    finally:
        proxy.restore()
        zen.dynamo.call("delete_table", TableName=zen.dynamo.table)


@pytest.mark.parametrize("verb", ["delete", "expire"])
def test_cli_sessions_refused_when_the_audit_server_is_down(verb, stack, cut_pg, tmp_path, capsys):
    import json
    import uuid

    import redis

    from console.cli import main
    from console.commands import EXIT_REFUSED

    proxy, make = cut_pg
    pg = make("learning")
    url = stack.redis.url.rsplit("/", 1)[0] + "/10"
    c = redis.Redis.from_url(url)
    key = f"session:cut_{uuid.uuid4().hex[:8]}"
    c.set(key, json.dumps({"current_notebook": "n.ipynb"}), ex=3600)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.a]\ndsn = "{pg.target.dsn}"\nsystem = "learning"\nconnect_timeout = 2\n'
                   f'[redis]\nurl = "{url}"\n')
    try:
        before = _audit_rows(pg)
        proxy.cut()
        rc = main(["--config", str(cfg), "sessions", verb, key, *(["60"] if verb == "expire" else []), "--yes"])
        err = capsys.readouterr().err
        proxy.reset()
        assert rc == EXIT_REFUSED, (rc, err)
        assert "audit record could not be written" in err and "nothing was changed" in err, err
        assert c.exists(key) and c.ttl(key) > 3000
        assert _audit_rows(pg) == before
    finally:
        proxy.restore()
        c.delete(key)
        c.close()


def test_cli_zengin_init_refused_when_the_audit_server_is_down(stack, cut_pg, tmp_path, capsys):
    import uuid

    from console.backends.dynamo import DynamoBackend
    from console.backends.s3 import S3Backend
    from console.cli import main
    from console.commands import EXIT_REFUSED
    from console.config import load
    from console.core.zengin import bootstrap

    proxy, make = cut_pg
    pg = make("zengin")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.zen]\ndsn = "{pg.target.dsn}"\nsystem = "zengin"\nconnect_timeout = 2\n'
                   f'[zengin]\nenv = "c{uuid.uuid4().hex[:10]}"\nendpoint_url = "{stack.moto.url}"\ntarget = "zen"\n')
    z = load(cfg, env={}).zengin
    dynamo, s3 = DynamoBackend(z), S3Backend(z)
    try:
        proxy.cut()
        rc = main(["--config", str(cfg), "zengin", "init", "--yes"])
        err = capsys.readouterr().err
        proxy.reset()
        assert rc == EXIT_REFUSED, (rc, err)
        assert "audit record could not be written" in err and "nothing was changed" in err, err
        state = bootstrap.inspect(dynamo, s3)
        assert not state.table and not state.bucket, "created without its audit record"
        assert _audit_rows(pg) == [(1, "schema.migrate", "ok")]
    finally:
        proxy.restore()
        dynamo.close()
        s3.close()


def test_cli_partitions_ensure_fails_when_its_server_is_down(stack, cut_pg, tmp_path, capsys):
    """partitions ensure audits on the target itself: with it down the run is not "ok", the
    exit code says so, and no partition appears once the server is back."""
    import json

    from console.cli import main
    from tests.integration.test_partitions_maintain import CUR, SPECS, make_partitions

    proxy, make = cut_pg
    lam = make("lambda")
    make_partitions(lam, SPECS[0], [CUR])
    count = lambda: lam.fetch("SELECT count(*) AS n FROM pg_inherits")[0]["n"]  # noqa: E731
    before, rows = count(), _audit_rows(lam)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.lambda]\ndsn = "{lam.target.dsn}"\nsystem = "lambda"\nconnect_timeout = 2\n')
    try:
        proxy.cut()
        rc = main(["--config", str(cfg), "partitions", "ensure", "--yes", "--json"])
        out = capsys.readouterr().out
        proxy.reset()
        assert rc not in (0, 3), (rc, out)
        doc = json.loads(out)                    # still one JSON document
        assert doc.get("ok") is not True, doc
        assert [e["source"] for e in doc["errors"]] == ["lambda"] and "unreachable" in doc["errors"][0]["message"]
        assert count() == before and _audit_rows(lam) == rows
    finally:
        proxy.restore()


# Commands whose audit table lives on the database they change: with that server down the
# command stops with the server's error (exit 1), says so, and changes nothing.


def _pg_cfg(tmp_path, pg, extra: str = "") -> str:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.t]\ndsn = "{pg.target.dsn}"\nsystem = "{pg.target.system}"\nconnect_timeout = 2\n'
                   + extra)
    return str(cfg)


def _cli_case(kind: str, stack, proxy, make, tmp_path):
    """(argv after --config, changed(), cleanup())"""
    from datetime import timedelta

    from console.core.zengin import workflow
    from console.core.zengin.records import iso_utc
    from tests.activity_helpers import Victim, active_in, exists, wait_until
    from tests.integration.test_diffs_helpers import NOW, SOURCE, bank, make_zen, update

    if kind == "schema migrate":
        pg = make("pipe", migrated=False)
        n = lambda: pg.fetch("SELECT count(*) AS n FROM pg_tables WHERE schemaname <> 'pg_catalog' "  # noqa: E731
                             "AND schemaname <> 'information_schema'")[0]["n"]
        before = n()
        return _pg_cfg(tmp_path, pg), ["schema", "migrate", "--target", "t"], lambda: n() != before, lambda: None
    if kind == "schema apply":
        pg = make("pipe")
        pg.execute("CREATE TABLE public.cut_extra (id int)")
        gone = lambda: not pg.fetch("SELECT to_regclass('public.cut_extra') AS r")[0]["r"]  # noqa: E731
        return (_pg_cfg(tmp_path, pg), ["schema", "apply", "--target", "t", "--yes", "--allow-destructive"],
                gone, lambda: None)
    if kind == "audit reconcile":
        pg = make("pipe")
        aid = pg.fetch("INSERT INTO console.audit_log (at, actor, action, target, outcome) VALUES (now() - "
                       "interval '1 hour', 'died', 'schema.apply', 'postgres:x', 'pending') RETURNING id")[0]["id"]
        settled = lambda: pg.fetch("SELECT outcome FROM console.audit_log WHERE id = %s", (aid,))[0]["outcome"] \
            != "pending"  # noqa: E731
        return _pg_cfg(tmp_path, pg), ["audit", "reconcile", "--yes"], settled, lambda: None
    if kind == "activity cancel":
        pg = make("pipe")
        direct = pg.target.dsn.replace(f":{proxy.port}/", f":{stack.postgres.port}/")
        v = Victim(direct, "cut-victim").start("SELECT pg_sleep(120)")
        wait_until(lambda: active_in(pg, v.pid, "pg_sleep"), "the victim running")
        return (_pg_cfg(tmp_path, pg), ["activity", "cancel", str(v.pid), "--target", "t", "--yes"],
                lambda: not (active_in(pg, v.pid, "pg_sleep") and exists(pg, v.pid)), lambda: v.close(killer=pg))
    zen = make_zen(stack, make)
    extra = f'[zengin]\nenv = "{zen.settings.zengin.env}"\nendpoint_url = "{stack.moto.url}"\ntarget = "t"\n'
    cfg = _pg_cfg(tmp_path, zen.pg, extra)
    drop = lambda: zen.dynamo.call("delete_table", TableName=zen.dynamo.table)  # noqa: E731
    if kind == "diffs reconcile":
        rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"),
                      status="approved", approvedBy="approver-1")
        workflow.transition(zen.dynamo, zen.get(rec), "approved", "executing", now=NOW,
                            sets={"executedBy": "crashed", "executedAt": iso_utc(NOW - timedelta(hours=1))})
        return cfg, ["diffs", "reconcile"], lambda: zen.get(rec).status != "executing", drop
    src = tmp_path / "source.json"
    import json
    src.write_text(json.dumps({**SOURCE, "0002": {"code": "0002", "name": "デモ", "kana": "デモ", "branches": {}}}))
    count = lambda: zen.dynamo.call("scan", TableName=zen.dynamo.table, Select="COUNT")["Count"]  # noqa: E731
    before = count()
    return cfg, ["diffs", "generate", "--source", str(src)], lambda: count() != before, drop


@pytest.mark.parametrize("kind", ["schema migrate", "schema apply", "audit reconcile", "activity cancel",
                                  "diffs reconcile", "diffs generate"])
def test_cli_commands_on_a_stopped_target_fail_clearly(kind, stack, cut_pg, tmp_path, capsys):
    from console.cli import main

    proxy, make = cut_pg
    cfg, argv, changed, cleanup = _cli_case(kind, stack, proxy, make, tmp_path)
    try:
        assert not changed()
        proxy.cut()
        rc = main(["--config", cfg, *argv])
        out = capsys.readouterr()
        said = out.out + out.err
        proxy.reset()
        assert rc not in (0, 3), (rc, said)
        assert "Traceback" not in said and "\x1b" not in said
        assert "unreachable" in said or "audit record could not be written" in said \
            or "Connection refused" in said, said
        assert not changed(), f"{kind}: changed something while its server was down"
    finally:
        proxy.restore()
        cleanup()


def test_tui_session_delete_refused_when_the_audit_server_is_down(stack, cut_pg):
    """The Sessions screen, real Redis, the audit PostgreSQL cut between the preview and the
    confirmation: the toast says the action was refused and why; the key is still there."""
    import asyncio
    import json
    import uuid

    import redis
    from textual.widgets import DataTable, Input
    from textual.widgets._toast import Toast

    from console.config import parse_text
    from console.ui.app import ConsoleApp
    from console.ui.services import Services
    from tests.ui.conftest import wait_for

    proxy, make = cut_pg
    pg = make("learning")
    url = stack.redis.url.rsplit("/", 1)[0] + "/11"
    c = redis.Redis.from_url(url)
    c.flushdb()
    key = f"session:tui_{uuid.uuid4().hex[:6]}"
    c.set(key, json.dumps({"current_notebook": "n.ipynb"}), ex=3600)
    settings = parse_text(f'refresh_interval = 1\n[postgres.a]\ndsn = "{pg.target.dsn}"\nsystem = "learning"\n'
                          f'connect_timeout = 2\n[redis]\nurl = "{url}"\n')
    services = Services.from_settings(settings)

    def toasts(app) -> str:
        return "\n".join(str(t.render()) for t in app.screen.query(Toast))

    async def go():
        app = ConsoleApp(services, initial_mode="sessions")
        async with app.run_test(size=(140, 40), notifications=True) as pilot:
            screen = app.screen
            table = screen.query_one("#sessions-table", DataTable)
            await wait_for(pilot, lambda: table.row_count == 1, "the key listed")
            table.focus()
            await pilot.press("home", "D")
            await wait_for(pilot, lambda: app.screen is not screen, "the delete dialog")
            app.screen.query_one("#confirm-typed", Input).value = key
            await wait_for(pilot, lambda: not app.screen.query_one("#confirm").disabled, "confirm enabled")
            proxy.cut()
            await pilot.click("#confirm")
            await wait_for(pilot, lambda: "could not be written" in toasts(app), "the refusal toast")
            assert "nothing was changed" in toasts(app)
            assert app.is_running

    try:
        asyncio.run(go())
        proxy.reset()
        assert c.exists(key), "deleted while its audit server was down"
        assert _audit_rows(pg) == [(1, "schema.migrate", "ok")]
    finally:
        proxy.restore()
        services.close()
        c.flushdb()
        c.close()
