"""`console audit list / reconcile` against the real PostgreSQL audit target."""

from __future__ import annotations

import json
import re

from console.cli import main
from console.config import Settings
from console.core import audit, sessions

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
ACT = sessions.DELETE


def _cfg(tmp_path, pg) -> str:
    p = tmp_path / "c.toml"
    p.write_text(f'[postgres.a]\ndsn = "{pg.target.dsn}"\nsystem = "learning"\n')
    return str(p)


def test_list_shows_records_as_plain_text_and_json(tmp_path, fresh_db, capsys):
    pg = fresh_db("learning")
    cfg = _cfg(tmp_path, pg)
    s = Settings(postgres=(pg.target,))
    i = audit.begin(s, ACT, target="redis:redis:session:\x1b]0;pwned\x07[/]", audit_pg=pg,
                    detail={"key": "\u202eevil\x1b[2J"})
    audit.settle(i, audit.OK)
    audit.begin(s, ACT, target="redis:redis:session:left", audit_pg=pg)      # left pending

    assert main(["--config", cfg, "audit", "list"]) == 0
    out = capsys.readouterr().out
    assert not RAW_CONTROL.search(out) and "Traceback" not in out
    assert "session:␛]0;pwned␇[/]" in out and "<U+202E>evil" in out
    assert out.index("session:left") < out.index("pwned"), "newest first"

    assert main(["--config", cfg, "audit", "list", "--pending", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["items"]
    assert [r["target"] for r in rows] == ["redis:redis:session:left"] and rows[0]["outcome"] == "pending"
    assert main(["--config", cfg, "audit", "list", "--limit", "1", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["items"]) == 1


def test_reconcile_previews_confirms_and_settles_stale_intents(tmp_path, fresh_db, capsys, monkeypatch):
    import io

    pg = fresh_db("learning")
    cfg = _cfg(tmp_path, pg)
    s = Settings(postgres=(pg.target,))
    stale = audit.begin(s, ACT, target="redis:redis:session:stale", audit_pg=pg)
    pg.execute("UPDATE console.audit_log SET at = at - interval '1 hour' WHERE id = %s", (stale.id,))
    fresh = audit.begin(s, ACT, target="redis:redis:session:fresh", audit_pg=pg)

    assert main(["--config", cfg, "audit", "reconcile", "--dry-run"]) == 3
    out = capsys.readouterr().out
    assert f"#{stale.id}" in out and f"#{fresh.id}" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--config", cfg, "audit", "reconcile"]) == 4                      # not confirmed
    assert main(["--config", cfg, "--read-only", "audit", "reconcile", "--yes"]) == 4
    outcomes = {r["id"]: r["outcome"] for r in pg.fetch("SELECT id, outcome FROM console.audit_log")}
    assert outcomes[stale.id] == "pending" and outcomes[fresh.id] == "pending"
    capsys.readouterr()

    assert main(["--config", cfg, "audit", "reconcile", "--yes", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["settled"] == [stale.id]
    rows = {r["id"]: r for r in pg.fetch("SELECT id, action, outcome, detail FROM console.audit_log")}
    assert rows[stale.id]["outcome"] == "unknown" and rows[fresh.id]["outcome"] == "pending"
    rec = [r for r in rows.values() if r["action"] == "audit.reconcile"]
    assert [r["outcome"] for r in rec] == ["refused", "ok"], "the read-only refusal and the run, both recorded"
    assert main(["--config", cfg, "audit", "reconcile", "--yes"]) == 0
    assert "nothing to settle" in capsys.readouterr().out
