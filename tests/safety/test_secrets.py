"""A configured password, token and AWS secret never appear in a rendered screen, a
screenshot, a log line, an error message or a headless command's output.

One configuration carries every kind of secret: a PostgreSQL DSN with a (wrong) password
written into it, a second target whose right password comes from the passfile, an
InfluxDB password and token, a Redis URL with a password, and AWS_SECRET_ACCESS_KEY.
Every screen of ``console.ui.app.SCREENS`` is shown (a new screen is picked up by itself),
its text and SVG screenshot are searched, and so are the log file and the CLI outputs."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from console.cli import setup_logging
from console.config import load
from console.ui.app import SCREENS, ConsoleApp
from console.ui.screens.help import HelpScreen
from console.ui.services import Services

from ..drills.helpers import answered, screen_text
from ..ui.conftest import wait_for

SNAPSHOTS = Path(__file__).resolve().parents[1] / "ui" / "__snapshots__"


@pytest.fixture
def secret_config(stack, fresh_db, tmp_path, monkeypatch):
    good = fresh_db("lambda")
    wrong_pg = f"WrongPg{uuid.uuid4().hex[:12]}"
    influx_pw = stack.influx.password if stack.influx else f"InfluxPw{uuid.uuid4().hex[:12]}"
    influx_token = f"InfluxTok{uuid.uuid4().hex[:12]}"
    redis_pw = f"RedisPw{uuid.uuid4().hex[:12]}"
    aws_secret = f"AwsSecret{uuid.uuid4().hex[:12]}"
    influx_url = stack.influx.url if stack.influx else "http://127.0.0.1:9"
    text = f"""
refresh_interval = 0.5
operator = "secret-drill"
[postgres.good]
dsn = "{good.target.dsn}"
system = "lambda"
connect_timeout = 1
[postgres.wrongpw]
dsn = "{stack.postgres.dsn(good.target.name, password=wrong_pg)}"
system = "lambda"
connect_timeout = 1
[redis]
url = "redis://:{redis_pw}@127.0.0.1:{stack.redis.port}/0"
socket_timeout = 1
[influxdb]
url = "{influx_url}"
database = "learning"
username = "console"
password = "{influx_pw}"
timeout = 1
[zengin]
env = "secrets"
endpoint_url = "{stack.moto.url}"
target = "good"
timeout = 1
"""
    cfg = tmp_path / "console.toml"
    cfg.write_text(text)
    monkeypatch.setenv("CONSOLE_INFLUX_TOKEN", influx_token)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws_secret)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "secret-drill-key-id")
    secrets = {"postgres superuser password (passfile)": stack.postgres.password,
               "wrong postgres password in DSN": wrong_pg, "influx password": influx_pw,
               "influx token": influx_token, "redis password": redis_pw, "aws secret": aws_secret}
    return cfg, secrets


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value and value in text]


def test_no_secret_on_any_screen_or_log(secret_config, tmp_path):
    cfg, secrets = secret_config
    settings = load(cfg)
    assert set(settings.secrets()) >= {secrets["wrong postgres password in DSN"], secrets["redis password"],
                                       secrets["influx token"]}
    log_file = tmp_path / "console.log"
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    setup_logging(settings, str(log_file), True)
    services = Services.from_settings(settings)
    rendered: dict[str, str] = {}

    async def go():
        app = ConsoleApp(services, initial_mode="overview")
        async with app.run_test(size=(160, 50)) as pilot:
            for mode, key, _title, _what in SCREENS:
                await pilot.press(key)
                # Every live source of the screen has answered (a value or an error) and
                # been rendered: the screen shows what the servers said, not "loading".
                await wait_for(pilot, lambda m=mode: app.screen.id == m and answered(app.screen),
                               f"{mode}: every source answered", timeout=30)
                rendered[f"{mode} text"] = screen_text(app)
                rendered[f"{mode} svg"] = app.export_screenshot()
                await pilot.press("question_mark")
                await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help shown")
                rendered[f"{mode} help"] = screen_text(app)
                await pilot.press("escape")
                await wait_for(pilot, lambda m=mode: app.screen.id == m, "help closed")
            logging.getLogger("console").error("drill: the settings are %r", settings)

    try:
        asyncio.run(go())
    finally:
        services.close()
        for h in list(root.handlers):
            if h not in saved[0]:
                root.removeHandler(h)
                h.close()
        root.setLevel(saved[1])

    assert {m for m, *_ in SCREENS} <= {k.split()[0] for k in rendered}
    # The screens really did talk to the servers (and failed where the secret is wrong).
    overview = rendered["overview text"]
    assert "auth" in overview, overview
    problems = {where: _leaks(text, secrets) for where, text in rendered.items()}
    problems = {k: v for k, v in problems.items() if v}
    assert not problems, f"secrets on screen: {problems}"
    assert all("Traceback" not in t for t in rendered.values())
    log_text = log_file.read_text() if log_file.exists() else ""
    assert "drill: the settings are" in log_text
    assert not _leaks(log_text, secrets), f"secrets in the log: {_leaks(log_text, secrets)}"


CLI_RUNS = [
    ["status", "--json"],
    ["metrics", "snapshot", "--json"],
    ["sessions", "stats", "--json"],
    ["sessions", "list", "--json"],
    ["partitions", "list", "--json"],
    ["schema", "check", "--json"],
]


@pytest.mark.parametrize("args", CLI_RUNS, ids=lambda a: " ".join(a))
def test_no_secret_in_cli_output(secret_config, tmp_path, args):
    cfg, secrets = secret_config
    log_file = tmp_path / "cli.log"
    env = {**os.environ}
    proc = subprocess.run([sys.executable, "-m", "console.cli", "--config", str(cfg), "--log-file", str(log_file),
                           "-v", *args], capture_output=True, text=True, timeout=90, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1, 2), out
    assert out.strip(), "the command said nothing"
    assert "Traceback" not in out, out
    assert not _leaks(out, secrets), f"{args}: secrets in output: {_leaks(out, secrets)}"
    log_text = log_file.read_text() if log_file.exists() else ""
    assert not _leaks(log_text, secrets), f"{args}: secrets in the log: {_leaks(log_text, secrets)}"


SECRETISH = [
    r"password\s*[=:]\s*['\"]?(?!\*\*\*)[A-Za-z0-9_\-]{6,}",
    r"://[^:/\s@]+:(?!\*\*\*)[^@\s/]{3,}@",
    r"(?i)token\s*[=:]\s*['\"]?(?!\*\*\*)[A-Za-z0-9_\-]{12,}",
    r"(?i)aws_secret_access_key",
    r"demo-secret-key",
]


def test_committed_snapshots_carry_no_secret_looking_values():
    import re
    svgs = sorted(SNAPSHOTS.rglob("*.svg"))
    assert svgs, "no committed snapshots found"
    found = []
    for svg in svgs:
        text = svg.read_text(encoding="utf-8", errors="replace").replace("&#160;", " ")
        for pat in SECRETISH:
            m = re.search(pat, text)
            if m:
                found.append(f"{svg.name}: {m.group(0)[:60]}")
    assert not found, "\n".join(found)
