"""The headless entry point: global options before the subcommand, `status` exit codes
and JSON, configuration errors printed plainly (no traceback), secrets never printed."""

from __future__ import annotations

import json
import subprocess
import sys

from console.cli import main
from console.demo.stack import free_port


def config(tmp_path, stack, *, redis_url=None, extra=""):
    path = tmp_path / "c.toml"
    path.write_text(f"""
environment = "cli-test"
[postgres.main]
dsn = "{stack.postgres.dsn('postgres')}"
system = "lambda"
[redis]
url = "{redis_url or stack.redis.url}"
{extra}
""")
    return path


def test_status_json_all_up(tmp_path, stack, capsys):
    rc = main(["--config", str(config(tmp_path, stack)), "status", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["version"] == 1
    out = doc["items"]
    assert {r["name"]: r["ok"] for r in out} == {"main": True, "redis": True}
    assert all(r["latency_ms"] > 0 and r["version"] for r in out)


def test_status_exit_code_when_one_backend_is_down(tmp_path, stack, capsys):
    path = config(tmp_path, stack, redis_url=f"redis://:hunter2-secret@127.0.0.1:{free_port()}/0")
    rc = main(["--config", str(path), "status"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "down" in out and "unreachable" in out
    assert "hunter2-secret" not in out


def test_global_options_before_subcommand(tmp_path, stack, capsys, fresh_db):
    backend = fresh_db("zengin", migrated=False)
    path = tmp_path / "m.toml"
    path.write_text(f'[postgres.z]\ndsn = "{backend.target.dsn}"\nsystem = "zengin"\n')
    rc = main(["--config", str(path), "--read-only", "schema", "migrate", "--json"])
    out = json.loads(capsys.readouterr().out)["items"]
    assert rc == 4 and out[0]["kind"] == "refused"   # 4: refused (exit-code scheme)
    rc = main(["--config", str(path), "--as", "dba-jane", "schema", "migrate", "--json"])
    err = capsys.readouterr()
    assert rc == 4 and "allow_declared" in err.out + err.err, "a declared name needs [identity] allow_declared"
    path.write_text(path.read_text() + "[identity]\nallow_declared = true\n")
    rc = main(["--config", str(path), "--as", "dba-jane", "schema", "migrate", "--dry-run", "--json"])
    pending = json.loads(capsys.readouterr().out)["items"][0]["pending"]
    assert rc == 0 and pending[0] == "common/001_console"
    rc = main(["--config", str(path), "--as", "dba-jane", "schema", "migrate", "--json"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["items"][0]["applied"] == pending
    assert backend.fetch("SELECT actor FROM console.audit_log")[0]["actor"] == "dba-jane"


def test_bad_config_is_one_clear_line_in_a_real_process(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[redis]\nurl = 'redis://x'\ncolour = 'blue'\n")
    res = subprocess.run([sys.executable, "-m", "console.cli", "--config", str(path), "status"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr
    assert res.stderr.strip() == f"console: configuration error: {path}: key 'redis.colour': unknown key"


def test_output_into_a_closed_pipe_is_quiet(tmp_path, stack):
    """`console sessions list --json | head -c 1`: far more output than a pipe buffers."""
    import redis as redislib

    url = stack.redis.url.rsplit("/", 1)[0] + "/11"
    r = redislib.Redis.from_url(url)
    r.flushdb()
    with r.pipeline(transaction=False) as p:
        for i in range(3000):
            p.set(f"session:pipe{i:05d}", '{"current_notebook": "notebooks/a_rather_long_name.ipynb"}', ex=600)
        p.execute()
    try:
        path = config(tmp_path, stack, redis_url=url)
        cmd = (f"{sys.executable} -m console.cli --config {path} sessions list --json | head -c 1; "
               "echo \" ${PIPESTATUS[0]}\"")
        res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=60)
        assert "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr, res.stderr
        # the command did produce its JSON (so the pipe really closed on it) and exited 1
        assert res.stdout == "[ 1\n" or res.stdout == "{ 1\n", res.stdout
    finally:
        r.flushdb()


def test_markup_looking_data_is_printed_as_it_is(tmp_path, stack, capsys):
    """A Redis key such as session:[/x] used to raise rich's MarkupError in the table."""
    import redis as redislib

    url = stack.redis.url.rsplit("/", 1)[0] + "/11"
    r = redislib.Redis.from_url(url)
    r.flushdb()
    r.set("session:[/x]", "{}", ex=600)
    r.set("session:[bold]y", "{}", ex=600)
    try:
        rc = main(["--config", str(config(tmp_path, stack, redis_url=url)), "sessions", "list"])
        out = capsys.readouterr().out
        assert rc == 0 and "session:[/x]" in out and "session:[bold]y" in out
    finally:
        r.flushdb()


def test_config_refuses_timeouts_that_mean_no_timeout(tmp_path, stack, capsys):
    path = config(tmp_path, stack).read_text().replace('system = "lambda"', 'system = "lambda"\nstatement_timeout = 0')
    (tmp_path / "z.toml").write_text(path)
    rc = main(["--config", str(tmp_path / "z.toml"), "status"])
    assert rc == 1 and "statement_timeout" in capsys.readouterr().err


def test_an_escaping_backend_error_is_one_line(tmp_path, stack, capsys, monkeypatch):
    """Whatever a command lets through, the user sees one line, not a traceback."""
    from console.backends.base import BackendError, ErrorKind
    from console.commands import status

    def boom(settings, args):
        raise BackendError("lambda", ErrorKind.UNREACHABLE, "connection refused")

    monkeypatch.setattr(status, "run", boom)
    import console.cli as cli
    parser_rc = cli.main(["--config", str(config(tmp_path, stack)), "status"])
    err = capsys.readouterr().err
    assert parser_rc == 1 and err.strip() == "console: lambda: unreachable: connection refused"


def test_version_help_and_completion(capsys):
    import pytest as _pytest
    with _pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("console ")
    with _pytest.raises(SystemExit):
        main(["--help"])
    helptext = capsys.readouterr().out
    for needle in ("exit codes:", "CONSOLE_CONTEXT", "examples:"):
        assert needle in helptext
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert "complete" in script and "zengin" in script and "--context" in script
