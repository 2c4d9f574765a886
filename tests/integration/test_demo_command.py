"""`console demo --no-ui` as a user runs it: it starts and fills the stack, prints the
config path, other tools can use it (`console status` says every backend is up), and
SIGTERM stops every server it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest


def _open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_demo_no_ui_serves_and_stops_on_sigterm(signum):
    data = Path(tempfile.mkdtemp(prefix="console-demo-test-"))
    data.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CONSOLE_"))}
    proc = subprocess.Popen([sys.executable, "-m", "console.cli", "demo", "--no-ui", "--data-dir", str(data / "d"),
                             "--request-log-rows", "2000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().strip()          # the config path, once ready
        assert line, proc.stderr.read()
        config = Path(line)
        assert config.is_file()
        cfg = tomllib.loads(config.read_text())
        ports = [urlsplit(cfg["redis"]["url"]).port, urlsplit(cfg["zengin"]["endpoint_url"]).port,
                 urlsplit(cfg["postgres"]["lambda"]["dsn"]).port]
        if "influxdb" in cfg:
            ports.append(urlsplit(cfg["influxdb"]["url"]).port)
        assert all(_open(p) for p in ports)
        sh = f". {config.parent / 'env.sh'} && {sys.executable} -m console.cli status --json"
        status = subprocess.run(["bash", "-c", sh], capture_output=True, text=True, timeout=120, env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        proc.send_signal(signum)            # SIGHUP: the SSH session that ran it went away
        t0 = time.monotonic()
        proc.wait(60)
        gone_after = time.monotonic() - t0
        assert "stack stopped" in proc.stderr.read()
        assert gone_after < 10, f"console demo took {gone_after:.1f}s to exit after SIGTERM"
        deadline = time.monotonic() + 10
        while any(_open(p) for p in ports) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_open(p) for p in ports), "a server outlived the demo"
    finally:
        if proc.poll() is None:          # stop it the way a user would, so its servers stop too
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        import shutil
        shutil.rmtree(data, ignore_errors=True)
