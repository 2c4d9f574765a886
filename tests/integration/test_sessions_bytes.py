"""Byte-exact Redis keys through the CLI, against the real Redis and PostgreSQL: keys that
are not UTF-8, or hold NUL, a newline, ESC sequences or bidi controls are listed (escaped),
shown, expired and deleted, by their escaped form or by --hex; no traceback anywhere."""

from __future__ import annotations

import json
import re

import redis

from console.cli import main
from console.core.sessions import keys as K

HOSTILE = [b"session:\xff\x00", b"session:a\nb", b"session:\x1b]0;pwned\x07", b"session:\xe2\x80\xaeevil",
           b"session:\x00", b"session:back\\slash"]
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\udc80-\udcff]")


def _setup(tmp_path, stack, pg, db=9):
    url = stack.redis.url.rsplit("/", 1)[0] + f"/{db}"
    c = redis.Redis.from_url(url)
    c.flushdb()
    for k in HOSTILE:
        c.set(k, b'{"current_notebook": "nb\x1b[2J"}', ex=600)
    c.set(b"session:plain", "{}", ex=600)
    c.hset("websocket_connections", b"ws-\xff\x1b[2J", b"\xfe\xff")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.a]\ndsn = "{pg.target.dsn}"\nsystem = "learning"\n[redis]\nurl = "{url}"\n')
    return str(cfg), c


def _clean(text: str) -> None:
    assert "Traceback" not in text
    assert not RAW_CONTROL.search(text), repr(RAW_CONTROL.search(text).group(0))


def test_hostile_keys_listed_escaped_and_deleted_by_what_the_list_shows(tmp_path, stack, fresh_db, capsys,
                                                                        monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")          # a wide table: no key folded over two lines
    pg = fresh_db("learning")
    cfg, c = _setup(tmp_path, stack, pg)
    try:
        assert main(["--config", cfg, "sessions", "list", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert sorted(bytes.fromhex(s["key_hex"]) for s in out["sessions"]) == sorted(HOSTILE + [b"session:plain"])
        assert main(["--config", cfg, "sessions", "stats", "--json"]) == 0
        st = json.loads(capsys.readouterr().out)
        assert st["connections"]["count"] == 1
        assert main(["--config", cfg, "sessions", "stats"]) == 0
        _clean(capsys.readouterr().out)

        assert main(["--config", cfg, "sessions", "list"]) == 0
        text = capsys.readouterr().out
        _clean(text)
        for k in HOSTILE:
            assert K.escaped(k) in text, (K.escaped(k), text)

        # expire by the escaped form, then delete every key by the form the list showed
        assert main(["--config", cfg, "sessions", "expire", K.escaped(HOSTILE[2]), "30", "--yes"]) == 0
        assert 0 < c.ttl(HOSTILE[2]) <= 30
        _clean(capsys.readouterr().out)
        for k in HOSTILE[:-1]:
            assert main(["--config", cfg, "sessions", "delete", K.escaped(k), "--yes"]) == 0, k
            res = capsys.readouterr()
            _clean(res.out + res.err)
            assert not c.exists(k), k
        # --hex, and --json says which key it was
        last = HOSTILE[-1]
        assert main(["--config", cfg, "sessions", "delete", "--hex", last.hex(), "--yes", "--json"]) == 0
        res = json.loads(capsys.readouterr().out)
        assert res["key_hex"] == last.hex() and res["ok"] and res["outcome"] == "ok"
        assert [k for k in c.keys("*")] in ([b"websocket_connections", b"session:plain"],
                                            [b"session:plain", b"websocket_connections"])

        rows = pg.fetch("SELECT target, detail FROM console.audit_log WHERE action = 'sessions.delete' ORDER BY id")
        assert [bytes.fromhex(r["detail"]["key_hex"]) for r in rows] == HOSTILE[:-1] + [last]
        for r in rows:
            _clean(r["target"])
    finally:
        c.flushdb()
        c.close()


def test_bad_key_forms_are_usage_errors_without_traceback(tmp_path, stack, fresh_db, capsys):
    pg = fresh_db("learning")
    cfg, c = _setup(tmp_path, stack, pg)
    try:
        assert main(["--config", cfg, "sessions", "delete", "session:\\q", "--yes"]) == 2
        assert "bad escape" in capsys.readouterr().err
        assert main(["--config", cfg, "sessions", "delete", "--hex", "zz", "--yes"]) == 2
        assert main(["--config", cfg, "sessions", "delete", "--yes"]) == 2
        assert main(["--config", cfg, "sessions", "expire", "session:plain", "soon", "--yes"]) == 2
        # raw bytes typed on a command line (surrogate escapes in argv) are taken exactly
        raw = HOSTILE[0].decode("utf-8", "surrogateescape")
        assert main(["--config", cfg, "sessions", "delete", raw, "--dry-run"]) == 3
        out = capsys.readouterr().out
        _clean(out)
        assert "DEL session:\\xff\\x00" in out
        assert c.exists(HOSTILE[0])
        # a key that is not a session key is refused with its escaped form, never raw
        assert main(["--config", cfg, "sessions", "delete", "other:\\x1b[2J", "--yes"]) == 1
        err = capsys.readouterr().err
        _clean(err)
        assert "other:\\x1b[2J" in err
    finally:
        c.flushdb()
        c.close()
