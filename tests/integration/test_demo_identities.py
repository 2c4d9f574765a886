"""The demo's two verified principals: IAM users in the demo's moto written as AWS profiles;
the env.sh the demo writes points the SDK at them, STS answers each user's ARN, and the
four-eyes rule compares those ARNs (the same profile for approve and execute is refused,
two profiles go through). Real moto (IAM, STS, DynamoDB, S3) and PostgreSQL, separate
processes, as a person runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import boto3

from console.config import parse_text
from console.demo.identities import DEMO_PRINCIPALS, write_env, write_profiles

from .test_diffs_helpers import bank, branch, make_zen, update


def test_profiles_are_iam_users_that_sts_names(stack, tmp_path):
    creds, conf, arns = write_profiles(tmp_path, stack.moto.url)
    assert set(arns) == set(DEMO_PRINCIPALS)
    assert oct(creds.stat().st_mode & 0o777) == "0o600" and oct(conf.stat().st_mode & 0o777) == "0o600"
    for name in DEMO_PRINCIPALS:
        c = boto3.session.Session(
            aws_access_key_id=_profile_key(creds, name, "aws_access_key_id"),
            aws_secret_access_key=_profile_key(creds, name, "aws_secret_access_key"),
            region_name="ap-northeast-1").client("sts", endpoint_url=stack.moto.url)
        assert c.get_caller_identity()["Arn"] == arns[name] and arns[name].endswith(f":user/{name}")


def _profile_key(path, profile, field) -> str:
    import configparser
    cp = configparser.ConfigParser()
    cp.read(path)
    return cp[profile][field]


def test_demo_config_allows_declared_names_and_names_no_operator(stack):
    text = stack.config_toml()
    settings = parse_text(text)
    assert settings.identity.allow_declared and settings.operator is None
    assert "operator" not in tomllib.loads(text)


def _config(tmp_path, zen) -> str:
    z = zen.settings.zengin
    path = tmp_path / "console.toml"
    path.write_text("[identity]\nallow_declared = true\n"
                    f'[postgres.{zen.pg.target.name}]\ndsn = "{zen.pg.target.dsn}"\nsystem = "zengin"\n'
                    f'[zengin]\nenv = "{z.env}"\nendpoint_url = "{z.endpoint_url}"\ntarget = "{zen.pg.target.name}"\n')
    return str(path)


def _as(env_sh, profile: str, *args: str) -> subprocess.CompletedProcess:
    """`. env.sh && AWS_PROFILE=<profile> console ...` in bash, as the README says. The
    test process has AWS keys in its environment (the moto harness sets them): env.sh must
    clear them, or they would beat AWS_PROFILE."""
    cmd = f'. "{env_sh}" && AWS_PROFILE={profile} "{sys.executable}" -m console.cli ' + " ".join(args)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "demo-access-key", "AWS_SECRET_ACCESS_KEY": "demo-secret-key"}
    return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120, env=env)


def test_four_eyes_with_two_verified_principals(stack, fresh_db, tmp_path):
    zen = make_zen(stack, fresh_db)
    cfg = _config(tmp_path, zen)
    env_sh = write_env(tmp_path, cfg, stack.moto.url)        # the demo's env.sh, pointing at this config
    arns = {n: f"arn:aws:iam::123456789012:user/{n}" for n in DEMO_PRINCIPALS}

    one = zen.put(update(bank("0009", "三井住友", "ミツイスミトモ"), bankName="三井住友銀行"))
    two = zen.put(update(branch("0001", "001", "東京営業部", "トウキヨウ"), branchName="東京"))

    r = _as(env_sh, "approver", "diffs", "approve", one.id, two.id)
    assert r.returncode == 0, r.stdout + r.stderr
    assert zen.get(one).approvedBy == arns["approver"] == zen.get(two).approvedBy

    # the same principal cannot execute what it approved: refused, nothing changed
    r = _as(env_sh, "approver", "diffs", "execute", one.id)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "forbid_self_execution" in r.stdout + r.stderr
    assert zen.get(one).status == "approved"

    # another verified principal can
    r = _as(env_sh, "executor", "diffs", "execute", one.id)
    assert r.returncode == 0, r.stdout + r.stderr
    done = zen.get(one)
    assert done.status == "completed" and done.executedBy == arns["executor"]

    rows = zen.pg.fetch("SELECT action, actor, outcome, principal_source, principal_verified, detail "
                        "FROM console.audit_log WHERE action LIKE 'diffs.%%' ORDER BY id")
    # the per-diff records (each batch's own intent row, without a diff id, aside)
    executes = [r for r in rows if r["action"] == "diffs.execute" and (r["detail"] or {}).get("id")]
    assert [(r["actor"], r["outcome"]) for r in executes] == [(arns["approver"], "refused"),
                                                             (arns["executor"], "ok")]
    assert all(r["principal_source"] == "aws-sts" and r["principal_verified"] for r in rows)
