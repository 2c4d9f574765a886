"""Every mutating action in ``console.audit.ACTIONS`` is refused in read-only mode at the
core, writes exactly one audit record (who, what, when) per successful run, and has a
preview. The registry is filled by importing every module under ``console`` (so a new
module's actions are seen), and the test FAILS for an action without a driver below: a
new action must bring its own driver (a function that prepares real servers and calls
the core function).

Plus a static check: every module of console/core that issues DDL/DML or Redis / DynamoDB
writes refers to ``audit.guard``."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
import redis

import console
from console.backends.base import ReadOnlyError
from console.config import Settings
from console.core import audit
from tests.safety.drivers_activity import drive_cancel, drive_terminate


def _import_everything() -> None:
    for mod in pkgutil.walk_packages(console.__path__, "console."):
        if mod.name.startswith("console.ui") or mod.name.endswith("__main__"):
            continue          # the UI cannot declare actions (core owns them); keep textual out
        importlib.import_module(mod.name)


_import_everything()
ACTION_NAMES = sorted(audit.ACTIONS)
ACTOR = "safety-actor"


@dataclass
class Case:
    """One prepared run of an action against real servers."""
    audit_pg: Any                                   # PostgresBackend holding the audit rows
    run: Callable[[Settings], Any]                  # performs the action under these settings
    preview: Callable[[], Any]                      # Plan (or plan-like with .text()/steps) shown first
    changed: Callable[[], bool]                     # did anything change on the server?
    settings: Settings = field(default_factory=Settings)
    cleanup: Callable[[], None] = lambda: None


# --------------------------------------------------------------------------- drivers


def drive_partitions_maintain(stack, fresh_db) -> Case:
    from console.core.partitions import Policy, build_plan, discover_target, run_plan
    pg = fresh_db("pipe")
    settings = Settings(postgres=(pg.target,))
    tables = discover_target(pg, default_policy=Policy(premake=4))
    count = lambda: pg.fetch("SELECT count(*) AS n FROM pg_inherits")[0]["n"]  # noqa: E731
    before = count()
    return Case(pg, lambda s: run_plan(s, {pg.name: pg}, build_plan(tables), actor=ACTOR),
                lambda: build_plan(tables), lambda: count() != before, settings)


def drive_schema_apply(stack, fresh_db) -> Case:
    from console.core.schema import check_target, run_plan
    from console.core.schema.fixes import build_plan
    pg = fresh_db("pipe")
    pg.execute("CREATE TABLE public.safety_extra (id int)")
    settings = Settings(postgres=(pg.target,))
    report = check_target(pg, "pipe")
    assert not report.error, report.error
    plan = build_plan(pg.name, report.findings, allow_destructive=True)
    exists = lambda: bool(pg.fetch("SELECT to_regclass('public.safety_extra') AS r")[0]["r"])  # noqa: E731
    return Case(pg, lambda s: run_plan(s, pg, plan, actor=ACTOR), lambda: plan, lambda: not exists(), settings)


def drive_schema_migrate(stack, fresh_db) -> Case:
    from console.core import migrate
    pg = fresh_db("pipe", migrated=False)
    settings = Settings(postgres=(pg.target,))
    tables = lambda: pg.fetch("SELECT count(*) AS n FROM pg_tables WHERE schemaname NOT IN "  # noqa: E731
                              "('pg_catalog', 'information_schema', 'console')")[0]["n"]
    before = tables()
    return Case(pg, lambda s: migrate.migrate(s, pg, "pipe", actor=ACTOR),
                lambda: migrate.status(pg, "pipe"), lambda: tables() != before, settings)


def _sessions_case(stack, fresh_db, op: str) -> Case:
    from console.backends.redis import RedisBackend
    from console.config import RedisSettings
    from console.core import sessions
    pg = fresh_db("learning")
    url = stack.redis.url.rsplit("/", 1)[0] + "/8"
    key = f"session:safety_{uuid.uuid4().hex[:8]}"
    c = redis.Redis.from_url(url)
    c.set(key, json.dumps({"current_notebook": "x.ipynb"}), ex=3600)
    rb = RedisBackend(RedisSettings(url=url))
    settings = Settings(postgres=(pg.target,), redis=rb.settings)
    if op == "delete":
        run = lambda s: sessions.delete_session(s, rb, pg, key, ACTOR)  # noqa: E731
        preview = lambda: sessions.plan_delete(key, sessions.preview_key(rb, key))  # noqa: E731
        changed = lambda: not c.exists(key)  # noqa: E731
    else:
        run = lambda s: sessions.expire_session(s, rb, pg, key, 60, ACTOR)  # noqa: E731
        preview = lambda: sessions.plan_expire(key, 60, sessions.preview_key(rb, key))  # noqa: E731
        changed = lambda: c.ttl(key) <= 60  # noqa: E731

    def cleanup():
        c.delete(key)
        c.close()
        rb.close()
    return Case(pg, run, preview, changed, settings, cleanup)


def drive_diffs_generate(stack, fresh_db) -> Case:
    from console.backends.dynamo import DynamoBackend
    from console.backends.s3 import S3Backend
    from console.config import ZenginSettings
    from console.core.zengin import generator as gen
    from console.demo import zengin as zdemo
    z = ZenginSettings(env=f"s{uuid.uuid4().hex[:10]}", endpoint_url=stack.moto.url)
    dynamo, s3 = DynamoBackend(z), S3Backend(z)
    zdemo.create_table_and_bucket(dynamo, s3)
    pg = fresh_db("zengin")
    now = datetime.now(timezone.utc)
    source = {"0001": {"code": "0001", "name": "みずほ", "kana": "ミズホ", "branches": {}}}
    zdemo.seed_master(pg, source, now)
    incoming = {"0001": source["0001"], "0002": {"code": "0002", "name": "デモ", "kana": "デモ", "branches": {}}}
    settings = Settings(postgres=(pg.target,), zengin=replace(z, target=pg.name))
    items = lambda: dynamo.call("scan", TableName=dynamo.table, Select="COUNT")["Count"]  # noqa: E731
    before = items()

    def cleanup():
        dynamo.call("delete_table", TableName=dynamo.table)
        dynamo.close()
        s3.close()
    return Case(pg, lambda s: gen.generate(s, pg, dynamo, s3, incoming, now=now, actor=ACTOR),
                lambda: gen.generate(settings, pg, dynamo, s3, incoming, now=now, actor=ACTOR, dry_run=True)[0],
                lambda: items() != before, settings, cleanup)


def _diffs_case(stack, fresh_db, op: str) -> Case:
    """approve / reject / execute / reconcile of one diff on a fresh zengin database and a
    fresh moto table (helpers shared with tests/integration/test_diffs_*.py)."""
    from datetime import timedelta

    from console.core.zengin import workflow
    from console.core.zengin.records import iso_utc
    from console.core.zengin.service import DiffsService
    from tests.integration.test_diffs_helpers import NOW, bank, make_zen, ref, update

    zen = make_zen(stack, fresh_db)
    entry = update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行")

    def svc(settings: Settings) -> DiffsService:
        return DiffsService(settings, zen.pg, zen.dynamo, zen.s3)

    if op == "approve":
        rec = zen.put(entry)
        run = lambda s: svc(s).approve(ref(rec), ACTOR)  # noqa: E731
        preview = lambda: zen.svc.detail(ref(rec))  # noqa: E731
        changed = lambda: zen.get(rec).status == "approved"  # noqa: E731
    elif op == "reject":
        rec = zen.put(entry)
        run = lambda s: svc(s).reject(ref(rec), ACTOR, "not confirmed by the bank")  # noqa: E731
        preview = lambda: zen.svc.detail(ref(rec))  # noqa: E731
        changed = lambda: zen.get(rec).status == "rejected"  # noqa: E731
    elif op == "execute":
        rec = zen.put(entry, status="approved", approvedBy="approver-1")
        run = lambda s: svc(s).execute(ref(rec), ACTOR)  # noqa: E731
        preview = lambda: zen.svc.dry_run(ref(rec), ACTOR)  # noqa: E731
        changed = lambda: zen.get(rec).status == "completed" and bool(zen.history(rec))  # noqa: E731
    else:
        rec = zen.put(entry, status="approved", approvedBy="approver-1")
        workflow.transition(zen.dynamo, zen.get(rec), "approved", "executing", now=NOW,
                            sets={"executedBy": "crashed-console", "executedAt": iso_utc(NOW - timedelta(hours=1))})
        run = lambda s: svc(s).reconcile(ACTOR)  # noqa: E731
        preview = lambda: zen.svc.reconcile(ACTOR, dry_run=True)  # noqa: E731
        changed = lambda: zen.get(rec).status != "executing"  # noqa: E731

    def cleanup():
        zen.dynamo.call("delete_table", TableName=zen.dynamo.table)
    return Case(zen.pg, run, preview, changed, zen.settings, cleanup)


def drive_zengin_init(stack, fresh_db) -> Case:
    from console.backends.dynamo import DynamoBackend
    from console.backends.s3 import S3Backend
    from console.config import ZenginSettings
    from console.core.zengin import bootstrap
    pg = fresh_db("zengin")
    z = ZenginSettings(env=f"i{uuid.uuid4().hex[:10]}", endpoint_url=stack.moto.url, target=pg.name)
    dynamo, s3 = DynamoBackend(z), S3Backend(z)
    settings = Settings(postgres=(pg.target,), zengin=z)
    plan = bootstrap.build_plan(dynamo, s3, bootstrap.inspect(dynamo, s3))

    def cleanup():
        if bootstrap.inspect(dynamo, s3).table:
            dynamo.call("delete_table", TableName=dynamo.table)
        dynamo.close()
        s3.close()
    return Case(pg, lambda s: bootstrap.run_plan(s, dynamo, s3, plan, actor=ACTOR, audit_pg=pg),
                lambda: plan, lambda: bootstrap.inspect(dynamo, s3).table, settings, cleanup)


def drive_audit_reconcile(stack, fresh_db) -> Case:
    from types import SimpleNamespace
    pg = fresh_db("pipe")
    settings = Settings(postgres=(pg.target,))
    with pg.connection() as c:
        stale_id = c.execute("INSERT INTO console.audit_log (at, actor, action, target, outcome) VALUES "
                             "(now() - interval '1 hour', 'died', 'schema.apply', 'postgres:x', 'pending') "
                             "RETURNING id").fetchone()[0]
    state = lambda: pg.fetch("SELECT outcome FROM console.audit_log WHERE id = %s", (stale_id,))[0]["outcome"]  # noqa: E731
    return Case(pg, lambda s: audit.settle_stale(s, pg, older_than_s=60, principal=ACTOR),
                lambda: SimpleNamespace(items=audit.pending(pg, 60)), lambda: state() != "pending", settings)


DRIVERS: dict[str, Callable[..., Case]] = {
    "zengin.init": drive_zengin_init,
    "audit.reconcile": drive_audit_reconcile,
    "activity.cancel": drive_cancel,
    "activity.terminate": drive_terminate,
    "diffs.approve": lambda stack, fresh_db: _diffs_case(stack, fresh_db, "approve"),
    "diffs.reject": lambda stack, fresh_db: _diffs_case(stack, fresh_db, "reject"),
    "diffs.execute": lambda stack, fresh_db: _diffs_case(stack, fresh_db, "execute"),
    "diffs.reconcile": lambda stack, fresh_db: _diffs_case(stack, fresh_db, "reconcile"),
    "partitions.maintain": drive_partitions_maintain,
    "schema.apply": drive_schema_apply,
    "schema.migrate": drive_schema_migrate,
    "sessions.delete": lambda stack, fresh_db: _sessions_case(stack, fresh_db, "delete"),
    "sessions.expire": lambda stack, fresh_db: _sessions_case(stack, fresh_db, "expire"),
    "diffs.generate": drive_diffs_generate,
}


def _audit_rows(pg, query: str, params: tuple) -> list[dict]:
    if not pg.fetch("SELECT to_regclass('console.audit_log') IS NOT NULL AS ok")[0]["ok"]:
        return []          # schema.migrate on an empty database: no audit table yet
    return pg.fetch(query, params)


def _has_preview(p: Any) -> bool:
    """A preview that says something: a Plan with text, a dry run with its plan, a list of
    what would change (reconcile's items, migrate's pending files, a diff's entries)."""
    if p is None:
        return False
    if hasattr(p, "text") and callable(p.text):
        return bool(p.text().strip())
    if getattr(p, "plan", None) is not None:
        return _has_preview(p.plan)
    for attr in ("items", "pending", "entries", "steps"):
        if hasattr(p, attr):
            return bool(getattr(p, attr))
    return False


def test_registry_is_not_empty():
    assert {"partitions.maintain", "schema.apply", "schema.migrate", "sessions.delete"} <= set(ACTION_NAMES)


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_action_is_guarded_audited_and_previewed(name, stack, fresh_db):
    driver = DRIVERS.get(name)
    if driver is None:
        pytest.fail(f"mutating action '{name}' ({audit.ACTIONS[name].description}) has no driver in "
                    f"tests/safety/test_actions.py DRIVERS: add one that runs it against the real servers")
    case = driver(stack, fresh_db)
    try:
        assert _has_preview(case.preview()), f"{name}: no preview"

        # Refused in read-only mode, at the core, before anything changes.
        ro = replace(case.settings, read_only=True)
        with pytest.raises(ReadOnlyError):
            case.run(ro)
        assert not case.changed(), f"{name}: read-only run changed something"
        rows = _audit_rows(case.audit_pg, "SELECT outcome FROM console.audit_log WHERE action = %s", (name,))
        assert all(r["outcome"] == "refused" for r in rows), rows

        # A real run: exactly one audit record with who, what and when.
        started = case.audit_pg.fetch("SELECT now() AS t")[0]["t"]
        case.run(replace(case.settings, read_only=False))
        assert case.changed(), f"{name}: the run changed nothing (the driver must make a real change)"
        rows = case.audit_pg.fetch(
            "SELECT actor, action, target, outcome, at, settled_at FROM console.audit_log WHERE action = %s "
            "AND at >= %s AND outcome <> 'refused'", (name, started))
        assert len(rows) == 1, f"{name}: expected exactly one audit record, got {rows}"
        r = rows[0]
        assert r["actor"] == ACTOR and r["outcome"] == "ok" and r["target"]
        assert r["settled_at"] is not None, f"{name}: the record was never settled"
        assert (datetime.now(timezone.utc) - r["at"]).total_seconds() < 120
    finally:
        case.cleanup()


# --------------------------------------------------------------------------- static check

CORE = Path(console.__file__).parent / "core"
MUTATION = re.compile(
    r"""(\.execute\(\s*(f|rb|r|b)?["'](\s|--[^\n]*\n)*(INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|TRUNCATE)\b)"""
    r"""|(sql\.SQL\(\s*["'](INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|TRUNCATE)\b)"""
    r"""|(\bc(lient)?\.(delete|expire|set|hset|hdel|unlink|flushdb|flushall)\()"""
    r"""|(["'](put_item|update_item|delete_item|transact_write_items|batch_write_item|put_object|delete_object)["'])""",
    re.IGNORECASE)
# Modules that write but are not console actions, with the reason.
NOT_ACTIONS = {
    "core/audit.py": "writes the audit record itself",
    "core/schema/expected.py": "builds the expected catalog in a scratch database the console creates and drops",
    "core/recording.py": "writes the console's own local recording file (SQLite), never a server",
}


def _writers() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        hits = [m.group(0).strip() for m in MUTATION.finditer(text)]
        if hits:
            out[str(path.relative_to(CORE.parent)).replace("\\", "/")] = hits
    return out


def test_static_check_finds_known_writers():
    """The pattern is not blind: the modules we know write are found."""
    found = _writers()
    for known in ("core/partitions/planner.py", "core/sessions/actions.py", "core/migrate.py"):
        assert any(k.endswith(known.split("/", 1)[1]) for k in found), (known, sorted(found))


WRITE_AHEAD = ("audit.begin(", "audit.performing(")


def test_every_writing_core_module_refers_to_audit_guard():
    problems = []
    for rel, hits in _writers().items():
        if rel in NOT_ACTIONS:
            continue
        path = CORE.parent / rel
        text = path.read_text(encoding="utf-8")
        package_text = text
        # A module that only builds the statements (a planner) is covered when its package's
        # runner guards: accept audit.guard in the same package.
        if not any(w in text for w in ("audit.guard(",) + WRITE_AHEAD):
            package_text = "\n".join(p.read_text(encoding="utf-8") for p in path.parent.glob("*.py")) \
                if path.parent != CORE else text
        if not any(w in package_text for w in ("audit.guard(",) + WRITE_AHEAD):
            problems.append(f"{rel}: {hits[:3]}")
    assert not problems, "modules that write without audit.guard:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- audit-failure drill

# Actions whose code belongs to another engineer and is not converted to audit.begin yet:
# strict xfail, so the marker must go the day they are converted.
NOT_CONVERTED: dict[str, str] = {}      # action -> why it is not write-ahead yet (none now)

RAISE_ON_INSERT = """
CREATE OR REPLACE FUNCTION console.drill_refuse() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'audit drill: insert refused'; END $$;
CREATE TRIGGER drill_refuse BEFORE INSERT ON console.audit_log
    FOR EACH ROW EXECUTE FUNCTION console.drill_refuse();
"""


def _bootstrap_audit(pg) -> None:
    """schema.migrate starts from an empty database: give it the console schema (sql/common,
    recorded as applied) so that there is an audit table to break."""
    from console.core import migrate
    with pg.connection() as c:
        c.execute(migrate.VERSION_TABLE_DDL)
        for f in migrate.files_for("pipe"):
            if f.version.startswith("common/"):
                c.execute(f.path.read_text(encoding="utf-8"))
                c.execute("INSERT INTO console.schema_migrations VALUES (%s, %s, now(), 'drill', 0)",
                          (f.version, f.checksum))


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_action_is_refused_when_its_intent_cannot_be_written(name, stack, fresh_db, request):
    """The audit INSERT fails (a trigger raises): the action is refused, nothing changes."""
    if name in NOT_CONVERTED:
        request.applymarker(pytest.mark.xfail(strict=True, reason=NOT_CONVERTED[name]))
    driver = DRIVERS.get(name)
    if driver is None:
        pytest.fail(f"mutating action '{name}' has no driver in tests/safety/test_actions.py DRIVERS")
    case = driver(stack, fresh_db)
    try:
        if name == "schema.migrate":
            _bootstrap_audit(case.audit_pg)
        with case.audit_pg.connection() as c:
            c.execute(RAISE_ON_INSERT)
        with pytest.raises(audit.AuditUnavailable, match="audit record could not be written"):
            case.run(replace(case.settings, read_only=False))
        assert not case.changed(), f"{name}: changed something without its audit record"
    finally:
        try:
            case.audit_pg.execute("DROP TRIGGER IF EXISTS drill_refuse ON console.audit_log")
        finally:
            case.cleanup()


def test_every_converted_action_is_drilled():
    """The drill above covers the whole registry; only named, owned exceptions."""
    assert set(NOT_CONVERTED) <= set(ACTION_NAMES)
