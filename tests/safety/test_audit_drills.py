"""Write-ahead audit drills beyond the registry walk: the audit server unreachable, the
settle failing after the change (reported with its own exit code), and intents left
pending settled by `audit.reconcile`."""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import replace

import pytest
import redis

from console.backends.postgres import PostgresBackend
from console.backends.redis import RedisBackend
from console.cli import main
from console.commands import EXIT_AUDIT_UNSETTLED
from console.config import IdentitySettings, PostgresTarget, RedisSettings, Settings
from console.core import audit, sessions


def _dead_pg() -> PostgresBackend:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                   # nothing listens there now
    return PostgresBackend(PostgresTarget(name="gone", system="learning", connect_timeout_s=1,
                                          dsn=f"postgresql://nobody@127.0.0.1:{port}/x"))


def _key(stack):
    url = stack.redis.url.rsplit("/", 1)[0] + "/9"
    c = redis.Redis.from_url(url)
    key = f"session:drill_{uuid.uuid4().hex[:8]}"
    c.set(key, json.dumps({"current_notebook": "n.ipynb"}), ex=3600)
    return url, c, key


def test_session_delete_refused_when_the_audit_server_is_down(stack):
    url, c, key = _key(stack)
    rb, dead = RedisBackend(RedisSettings(url=url)), _dead_pg()
    try:
        with pytest.raises(audit.AuditUnavailable):
            sessions.delete_session(Settings(redis=rb.settings), rb, dead, key, "drill")
        assert c.exists(key), "deleted without an audit record"
    finally:
        c.delete(key)
        rb.close()
        dead.close()


def test_approve_refused_when_the_audit_server_is_down(stack, fresh_db):
    from console.core.zengin import workflow
    from tests.integration.test_diffs_helpers import bank, make_zen, ref, update

    zen = make_zen(stack, fresh_db)
    rec = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    dead = _dead_pg()
    try:
        with pytest.raises(audit.AuditUnavailable):
            workflow.approve(zen.settings, zen.dynamo, zen.s3, dead, ref(rec), "drill")
        assert zen.get(rec).status == "pending", "approved without an audit record"
    finally:
        dead.close()
        zen.dynamo.call("delete_table", TableName=zen.dynamo.table)


RAISE_ON_SETTLE = """
CREATE OR REPLACE FUNCTION console.drill_no_settle() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'audit drill: settle refused'; END $$;
CREATE TRIGGER drill_no_settle BEFORE UPDATE ON console.audit_log
    FOR EACH ROW EXECUTE FUNCTION console.drill_no_settle();
"""


def test_done_but_unsettled_is_said_with_its_own_exit_code(stack, fresh_db, tmp_path, capsys):
    pg = fresh_db("learning")
    url, c, key = _key(stack)
    pg.execute(RAISE_ON_SETTLE)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.a]\ndsn = "{pg.target.dsn}"\nsystem = "learning"\n[redis]\nurl = "{url}"\n')
    try:
        rc = main(["--config", str(cfg), "sessions", "delete", key, "--yes"])
        err = capsys.readouterr().err
        assert rc == EXIT_AUDIT_UNSETTLED and audit.UNSETTLED_MESSAGE in err
        assert not c.exists(key)
        rows = pg.fetch("SELECT outcome, actor, principal_source, principal_verified FROM console.audit_log "
                        "WHERE action = 'sessions.delete'")
        assert [r["outcome"] for r in rows] == ["pending"], "the intent stays pending for audit reconcile"
        # no --as: the principal is what PostgreSQL says, verified
        assert rows[0]["principal_source"] == "postgres-session-user" and rows[0]["principal_verified"]
        pg.execute("DROP TRIGGER drill_no_settle ON console.audit_log")
        pg.execute("UPDATE console.audit_log SET at = at - interval '1 hour'")
        settled = audit.settle_stale(Settings(postgres=(pg.target,)), pg, older_than_s=60)
        assert [r["id"] for r in settled] == [pg.fetch("SELECT id FROM console.audit_log "
                                                       "WHERE action = 'sessions.delete'")[0]["id"]]
        assert pg.fetch("SELECT outcome FROM console.audit_log WHERE action = 'sessions.delete'")[0]["outcome"] \
            == "unknown"
    finally:
        c.delete(key)


def test_read_only_refusal_is_audited_and_declared_needs_permission(stack, fresh_db):
    pg = fresh_db("learning")
    url, c, key = _key(stack)
    rb = RedisBackend(RedisSettings(url=url))
    s = Settings(postgres=(pg.target,), redis=rb.settings)
    try:
        from console.backends.base import ReadOnlyError
        from console.core.identity import IdentityRefused, Principal
        with pytest.raises(ReadOnlyError):
            sessions.delete_session(replace(s, read_only=True), rb, pg, key, None)
        with pytest.raises(IdentityRefused):
            sessions.delete_session(s, rb, pg, key, Principal("mallory"))
        assert c.exists(key)
        rows = pg.fetch("SELECT outcome, detail FROM console.audit_log WHERE action = 'sessions.delete' ORDER BY id")
        assert [r["outcome"] for r in rows] == ["refused", "refused"]
        ok = sessions.delete_session(replace(s, identity=IdentitySettings(allow_declared=True)), rb, pg, key,
                                     Principal("mallory"))
        assert ok.ok and not c.exists(key)
        last = pg.fetch("SELECT actor, principal_source, principal_verified, outcome, settled_at "
                        "FROM console.audit_log ORDER BY id DESC LIMIT 1")[0]
        assert (last["actor"], last["principal_source"], last["principal_verified"], last["outcome"]) == \
            ("mallory", "declared", False, "ok") and last["settled_at"] is not None
    finally:
        c.delete(key)
        rb.close()
