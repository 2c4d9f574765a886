"""`console metrics snapshot` against the real stack: JSON with rates (two samples a
second apart), exit 0 when every source answers, 1 when one is down."""

from __future__ import annotations

import json
import threading

import psycopg

from console.cli import main
from console.demo.stack import free_port


def write_config(tmp_path, stack, lambda_db, *, influx: bool, extra_target: str = "") -> str:
    text = f"""
environment = "cli-test"
[postgres.lambda]
dsn = "{lambda_db.target.dsn}"
system = "lambda"
{extra_target}
"""
    if influx and stack.influx is not None:
        text += f"""
[influxdb]
url = "{stack.influx.url}"
database = "{stack.influx.database}"
username = "{stack.influx.username}"
"""
    path = tmp_path / "c.toml"
    path.write_text(text)
    return str(path)


def test_snapshot_json(tmp_path, stack, fresh_db, capsys, monkeypatch):
    db = fresh_db("lambda")
    if stack.influx is not None:
        monkeypatch.setenv("CONSOLE_INFLUX_PASSWORD", stack.influx.password)
    stop = threading.Event()

    def load() -> None:      # commits between the snapshot's two samples, for its rate to count
        with psycopg.connect(db.target.dsn, autocommit=True) as conn:
            while not stop.wait(0.01):
                conn.execute("SELECT 1")

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    try:
        rc = main(["--config", write_config(tmp_path, stack, db, influx=True), "metrics", "snapshot", "--json"])
    finally:
        stop.set()
        worker.join(10)
    out = json.loads(capsys.readouterr().out)
    assert rc == 0, out["failures"]
    pg = out["postgres"]["lambda"]
    assert pg["rates"]["tps"] > 0 and 0.9 < pg["rates"]["seconds"] < 5
    assert pg["max_connections"] == 100 and pg["chains"] == []
    views = out["analytics"]["lambda"]["views"]
    assert {v: views[v]["status"] for v in views} == {"function_performance": "ok", "error_summary": "ok",
                                                      "daily_usage_stats": "ok", "daily_stats_mv": "ok"}
    if stack.influx is not None:
        assert out["influxdb"]["version"].startswith("1.")
        assert len(out["influxdb"]["executions"]) == 6


def test_snapshot_exit_code_when_a_target_is_down(tmp_path, stack, fresh_db, capsys):
    db = fresh_db("lambda")
    dead = f'[postgres.dead]\ndsn = "postgresql://console@127.0.0.1:{free_port()}/x"\nsystem = "pipe"\nconnect_timeout = 1\n'
    rc = main(["--config", write_config(tmp_path, stack, db, influx=False, extra_target=dead),
               "metrics", "snapshot"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "unreachable" in out and "lambda" in out
