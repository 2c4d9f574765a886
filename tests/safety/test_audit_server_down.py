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
