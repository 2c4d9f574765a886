"""`console sessions ...` end to end against the real Redis and PostgreSQL."""

from __future__ import annotations

import json

from console.cli import main


def setup(tmp_path, stack, pg, db=8):
    import redis

    url = stack.redis.url.rsplit("/", 1)[0] + f"/{db}"
    c = redis.Redis.from_url(url)
    c.flushdb()
    c.set("session:alice", json.dumps({"current_notebook": "nb/1", "last_activity": "t"}), ex=600)
    c.set("session:bob", "not json", ex=60)
    c.set("session:carol", "{}")
    c.hset("websocket_connections", "ws-a", json.dumps({"user_id": "alice"}))
    c.hset("websocket_connections", "ws-z", json.dumps({"user_id": "zed"}))
    c.set("class_summary:nb1", json.dumps({"total_students": 3}), ex=120)
    path = tmp_path / "c.toml"
    path.write_text(f'operator = "dba-jane"\n[identity]\nallow_declared = true\n[postgres.zengin]\ndsn = "{pg.target.dsn}"\nsystem = "zengin"\n'
                    f'[redis]\nurl = "{url}"\n')
    return str(path), c


def test_list_and_stats_json(tmp_path, stack, fresh_db, capsys):
    pg = fresh_db("zengin")
    cfg, c = setup(tmp_path, stack, pg)
    try:
        assert main(["--config", cfg, "sessions", "list", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert [s["key"] for s in out["sessions"]] == ["session:alice", "session:bob", "session:carol"]
        assert out["sessions"][0]["notebook"] == "nb/1" and out["sessions"][2]["ttl_s"] is None
        assert main(["--config", cfg, "sessions", "list", "--limit", "1", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["count"] == 1 and out["capped"] and out["dbsize"] == 5

        assert main(["--config", cfg, "sessions", "stats", "--json"]) == 0
        st = json.loads(capsys.readouterr().out)
        assert st["sessions"]["count"] == 3 and st["sessions"]["ttl_histogram"]["no TTL"] == 1
        assert st["connections"]["orphan_connections"] == ["ws-z"]
        assert st["connections"]["sessions_without_connection"] == ["session:bob", "session:carol"]
        assert st["caches"]["keys"] == ["class_summary:nb1"]
        assert main(["--config", cfg, "sessions", "stats"]) == 0
        assert "orphan connections (no session): 1" in capsys.readouterr().out
    finally:
        c.flushdb()
        c.close()


def test_delete_and_expire(tmp_path, stack, fresh_db, capsys):
    pg = fresh_db("zengin")
    cfg, c = setup(tmp_path, stack, pg)
    try:
        assert main(["--config", cfg, "sessions", "delete", "session:alice", "--dry-run"]) == 3
        assert "DEL session:alice" in capsys.readouterr().out and c.exists("session:alice")
        # Not confirmed (no terminal under pytest): nothing happens.
        assert main(["--config", cfg, "sessions", "delete", "session:alice"]) == 4
        assert c.exists("session:alice")
        assert main(["--config", cfg, "--read-only", "sessions", "delete", "session:alice", "--yes", "--json"]) == 4
        capsys.readouterr()
        assert c.exists("session:alice")
        assert main(["--config", cfg, "sessions", "expire", "session:alice", "20", "--yes", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["ok"] and c.ttl("session:alice") <= 20
        assert main(["--config", cfg, "sessions", "delete", "session:alice", "--yes"]) == 0
        assert not c.exists("session:alice")
        assert main(["--config", cfg, "sessions", "delete", "session:alice", "--yes"]) == 1
        rows = pg.fetch("SELECT actor, action, outcome FROM console.audit_log "
                        "WHERE action LIKE 'sessions.%' ORDER BY id")
        assert [(r["action"], r["outcome"]) for r in rows] == [
            ("sessions.delete", "refused"), ("sessions.expire", "ok"), ("sessions.delete", "ok")]
        assert {r["actor"] for r in rows} == {"dba-jane"}
    finally:
        c.flushdb()
        c.close()
