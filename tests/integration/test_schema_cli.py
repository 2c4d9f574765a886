"""`console schema check/apply` exit codes and output against real PostgreSQL."""

from __future__ import annotations

import io
import json

from console.cli import main
from console.demo.stack import free_port


def _config(tmp_path, backend, name="lam"):
    path = tmp_path / "c.toml"
    path.write_text(f'[postgres.{name}]\ndsn = "{backend.target.dsn}"\nsystem = "{backend.target.system}"\n')
    return path


def test_check_exit_codes_clean_drift_error(tmp_path, fresh_db, capsys):
    b = fresh_db("lambda")
    cfg = _config(tmp_path, b)
    assert main(["--config", str(cfg), "schema", "check"]) == 0
    assert "lam (lambda): clean" in capsys.readouterr().out

    b.execute("DROP INDEX public.idx_error_logs_error_code")
    assert main(["--config", str(cfg), "schema", "check", "--json"]) == 3
    out = json.loads(capsys.readouterr().out)["items"]
    (f,) = out[0]["findings"]
    assert f["status"] == "missing" and f["object"] == "public.idx_error_logs_error_code"
    assert f["source"] == "sql/lambda/002_request_logs.sql:54" and "CONCURRENTLY" in f["fix"][0]["sql"]

    bad = tmp_path / "bad.toml"
    bad.write_text(f'[postgres.down]\ndsn = "postgresql://x:hunter2@127.0.0.1:{free_port()}/x"\n'
                   f'system = "lambda"\nconnect_timeout = 1\n')
    assert main(["--config", str(bad), "schema", "check"]) == 1
    text = capsys.readouterr().out
    assert "ERROR unreachable" in text and "hunter2" not in text


def test_check_with_dev_url(tmp_path, fresh_db, stack, capsys, monkeypatch):
    """The expected side is built on the --dev-url server, not the target's."""
    from console.core.schema import expected

    expected.clear_cache()                     # else an earlier test's snapshot is reused
    made: list[str] = []
    real = expected.expected_snapshot

    def spy(backend, *a, **kw):
        made.append(backend.target.dsn)
        return real(backend, *a, **kw)
    monkeypatch.setattr("console.core.schema.check.expected_snapshot", spy)
    b = fresh_db("zengin")
    cfg = _config(tmp_path, b, "z")
    dev = stack.postgres.dsn("postgres")
    assert main(["--config", str(cfg), "schema", "check", "--dev-url", dev]) == 0
    assert made == [dev]


def test_apply_dry_run_refusal_and_yes(tmp_path, fresh_db, capsys, monkeypatch):
    b = fresh_db("lambda")
    cfg = _config(tmp_path, b)
    b.execute("ALTER TABLE meta.sessions ALTER COLUMN status TYPE varchar(32)")
    b.execute("CREATE TABLE public.stray (id int)")

    assert main(["--config", str(cfg), "schema", "apply", "--dry-run"]) == 3
    out = capsys.readouterr().out
    assert 'ALTER COLUMN "status" TYPE character varying(16)' in out
    assert "held back (destructive" in out and 'DROP TABLE' not in out

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--config", str(cfg), "schema", "apply"]) == 1
    assert "pass --yes" in capsys.readouterr().err

    assert main(["--config", str(cfg), "--read-only", "schema", "apply", "--yes"]) == 4   # refused, audited
    assert main(["--config", str(cfg), "schema", "apply", "--yes", "--allow-destructive"]) == 0
    assert "[2/2] ok" in capsys.readouterr().out
    assert main(["--config", str(cfg), "schema", "check"]) == 0
    assert [r["outcome"] for r in b.fetch("SELECT outcome FROM console.audit_log WHERE action = 'schema.apply' "
                                          "ORDER BY id")] == ["refused", "ok"]


def test_apply_json_output_is_only_json(tmp_path, fresh_db, capsys):
    """`schema apply --json` is for scripts: stdout must parse, dry run included."""
    import json as _json

    b = fresh_db("lambda")
    cfg = _config(tmp_path, b)
    b.execute("DROP INDEX public.idx_error_logs_timestamp") if b.fetch(
        "SELECT to_regclass('public.idx_error_logs_timestamp') AS r")[0]["r"] else b.execute(
        "ALTER TABLE meta.sessions ALTER COLUMN status TYPE varchar(32)")
    assert main(["--config", str(cfg), "schema", "apply", "--dry-run", "--json"]) == 3
    dry = _json.loads(capsys.readouterr().out)
    assert dry["dry_run"] and dry["plan"]
    assert main(["--config", str(cfg), "schema", "apply", "--yes", "--json"]) == 0
    done = _json.loads(capsys.readouterr().out)["items"]
    assert done and all(r["ok"] for r in done)


def test_exclude_patterns_from_flag_and_config(tmp_path, fresh_db, capsys):
    b = fresh_db("lambda")
    b.execute("CREATE TABLE public.tmp_scratch (id int)")
    cfg = _config(tmp_path, b)
    assert main(["--config", str(cfg), "schema", "check"]) == 3
    capsys.readouterr()
    assert main(["--config", str(cfg), "schema", "check", "--exclude", "public.tmp_*"]) == 0
    out = capsys.readouterr().out
    assert "clean (1 excluded)" in out and "excluded" in out and "public.tmp_scratch" in out
    # the same from the configuration, and shown as excluded in --json
    cfg.write_text(cfg.read_text() + '[schema]\nexclude = ["table:public.tmp_*"]\n')
    assert main(["--config", str(cfg), "schema", "check", "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)["items"]
    assert report["clean"] and report["findings"] == []
    assert report["excluded"] == [{"id": "table:public.tmp_scratch", "status": "unexpected",
                                   "object": "public.tmp_scratch"}]
    # a pattern that matches something else does not hide it
    b.execute("DROP INDEX public.idx_error_logs_error_code")
    assert main(["--config", str(cfg), "schema", "check"]) == 3
    capsys.readouterr()
    bad = tmp_path / "bad.toml"
    bad.write_text(cfg.read_text().replace('["table:public.tmp_*"]', '"public.x"'))
    assert main(["--config", str(bad), "schema", "check"]) == 1
    assert "schema.exclude" in capsys.readouterr().err
