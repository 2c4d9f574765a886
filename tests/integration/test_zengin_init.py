"""`console zengin init` against a standalone moto server started the way docker-compose's
`aws` service starts it (moto's own server process, one endpoint for DynamoDB and S3): a
bare endpoint becomes usable by the Diffs screen's queue; previewed, idempotent, audited,
refused in read-only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from console.backends.dynamo import DynamoBackend
from console.backends.s3 import S3Backend
from console.cli import main
from console.config import load
from console.core.zengin import bootstrap
from console.demo.stack import free_port

AWS = {"AWS_ACCESS_KEY_ID": "init-test", "AWS_SECRET_ACCESS_KEY": "init-test", "AWS_DEFAULT_REGION": "ap-northeast-1"}


@pytest.fixture(scope="module")
def moto_endpoint():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **AWS})
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("moto server did not start")
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def aws_env(monkeypatch):
    for k, v in AWS.items():
        monkeypatch.setenv(k, v)


def test_init_makes_a_bare_endpoint_usable(moto_endpoint, aws_env, fresh_db, tmp_path, capsys):
    pg = fresh_db("zengin")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.zen]\ndsn = "{pg.target.dsn}"\nsystem = "zengin"\n'
                   f'[zengin]\nenv = "inittest"\nendpoint_url = "{moto_endpoint}"\ntarget = "zen"\n')
    settings = load(cfg, env={})
    dynamo, s3 = DynamoBackend(settings.zengin), S3Backend(settings.zengin)
    audit_rows = lambda: pg.fetch("SELECT outcome, read_only FROM console.audit_log "  # noqa: E731
                                  "WHERE action = 'zengin.init' ORDER BY id")
    try:
        assert not bootstrap.inspect(dynamo, s3).table
        # the Diffs queue cannot be read from a bare endpoint
        assert main(["--config", str(cfg), "diffs", "list", "--json"]) != 0
        capsys.readouterr()

        assert main(["--config", str(cfg), "zengin", "init", "--dry-run", "--json"]) == 3
        preview = json.loads(capsys.readouterr().out)
        assert preview["applied"] is False and len(preview["steps"]) == 7
        assert main(["--config", str(cfg), "zengin", "init"]) == 4          # not confirmed
        assert "--yes" in capsys.readouterr().err
        assert main(["--config", str(cfg), "--read-only", "zengin", "init", "--yes"]) == 4
        capsys.readouterr()
        assert not bootstrap.inspect(dynamo, s3).table
        assert audit_rows() == [{"outcome": "refused", "read_only": True}]

        assert main(["--config", str(cfg), "zengin", "init", "--yes", "--pitr"]) == 0
        assert "complete" in capsys.readouterr().out
        state = bootstrap.inspect(dynamo, s3)
        assert state.complete and state.pitr, state
        desc = dynamo.call("describe_table", TableName=dynamo.table)["Table"]
        assert [k["AttributeName"] for k in desc["KeySchema"]] == ["id", "timestamp"]
        assert desc["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        (gsi,) = desc["GlobalSecondaryIndexes"]
        assert gsi["IndexName"] == "StatusIndex"
        assert [k["AttributeName"] for k in gsi["KeySchema"]] == ["status", "timestamp"]
        assert s3.call("get_bucket_versioning", Bucket=s3.bucket)["Status"] == "Enabled"
        assert audit_rows()[-1] == {"outcome": "ok", "read_only": False}

        # idempotent: nothing left to do, and the queue is readable now
        assert main(["--config", str(cfg), "zengin", "init", "--dry-run"]) == 0
        assert "nothing to do" in capsys.readouterr().out
        assert main(["--config", str(cfg), "diffs", "list", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["counts"]["pending"] == 0
        assert len(audit_rows()) == 2
    finally:
        dynamo.close()
        s3.close()
