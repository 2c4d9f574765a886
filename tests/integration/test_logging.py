"""`--log-file` / `-v`: JSON lines with every backend call (system, target, operation,
duration, outcome) and every error, secrets scrubbed, control characters made visible."""

from __future__ import annotations

import json

from console.cli import main
from console.demo.stack import free_port


def _lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_verbose_log_records_backend_calls_and_errors(tmp_path, fresh_db, capsys):
    db = fresh_db("lambda")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.lam]\ndsn = "{db.target.dsn}"\nsystem = "lambda"\n'
                   f'[postgres.down]\ndsn = "postgresql://u:hunter2-secret@127.0.0.1:{free_port()}/x"\n'
                   f'system = "pipe"\nconnect_timeout = 1\n')
    log = tmp_path / "console.log"
    main(["--config", str(cfg), "--log-file", str(log), "-v", "status"])
    capsys.readouterr()
    lines = _lines(log)
    assert lines, "nothing logged"
    for rec in lines:
        assert rec["ts"].endswith("+00:00") and rec["level"] and "msg" in rec
    pg_ok = [r for r in lines if r.get("system") == "postgres" and r.get("target") == "lam" and r["outcome"] == "ok"]
    assert pg_ok and all(isinstance(r["ms"], (int, float)) and r["op"] for r in pg_ok)
    failed = [r for r in lines if r.get("target") == "down" and r.get("outcome") == "error"]
    assert failed and failed[0]["level"] == "warning" and "unreachable" in failed[0]["error"]
    text = log.read_text(encoding="utf-8")
    assert "hunter2-secret" not in text


def test_without_verbose_only_failures_are_logged(tmp_path, fresh_db, capsys):
    db = fresh_db("lambda")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.lam]\ndsn = "{db.target.dsn}"\nsystem = "lambda"\n')
    log = tmp_path / "console.log"
    assert main(["--config", str(cfg), "--log-file", str(log), "status"]) == 0
    capsys.readouterr()
    assert not [r for r in (_lines(log) if log.exists() else []) if r.get("outcome") == "ok"]


def test_log_lines_make_controls_visible():
    import logging

    from console.log import JsonFormatter
    rec = logging.LogRecord("console", logging.INFO, __file__, 1, "key %s", ("session:\x1b]0;x\x07",), None)
    line = JsonFormatter([]).format(rec)
    assert "\x1b" not in line and "\\u001b" not in line and "␛" in json.loads(line)["msg"]


def test_actions_are_logged_with_their_outcome(tmp_path, fresh_db, capsys):
    db = fresh_db("lambda")
    db.execute("CREATE TABLE public.extra_for_log (id int)")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.lam]\ndsn = "{db.target.dsn}"\nsystem = "lambda"\n')
    log = tmp_path / "console.log"
    rc = main(["--config", str(cfg), "--log-file", str(log), "schema", "apply", "--yes", "--allow-destructive"])
    capsys.readouterr()
    assert rc == 0
    acts = [(r["action"], r["outcome"]) for r in _lines(log) if r.get("action")]
    assert ("schema.apply", "pending") in acts and ("schema.apply", "ok") in acts, acts
