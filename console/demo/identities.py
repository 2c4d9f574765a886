"""Two verified principals for the demo: IAM users in the demo's moto, written as AWS
profiles (``approver``, ``executor``) under the data folder. moto's STS answers
GetCallerIdentity with the IAM user that owns the access key, so

    . env.sh
    AWS_PROFILE=approver console diffs approve ID
    AWS_PROFILE=executor console diffs execute ID

acts as two different principals and the four-eyes rule compares their ARNs; the same
profile for both is refused. The keys are fake keys of a local moto, still written
owner-only."""

from __future__ import annotations

from pathlib import Path

from .stack import DEMO_AWS_ENV

DEMO_PRINCIPALS = ("approver", "executor")


def create_principals(endpoint_url: str, names: tuple[str, ...] = DEMO_PRINCIPALS) -> dict[str, dict[str, str]]:
    """An IAM user with a fresh access key per name, through moto's IAM endpoint as any
    IAM client would: ``{name: {"key", "secret", "arn"}}``. A user left by an earlier
    call gets its old keys replaced."""
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint_url, region_name=DEMO_AWS_ENV["AWS_DEFAULT_REGION"],
                       aws_access_key_id=DEMO_AWS_ENV["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=DEMO_AWS_ENV["AWS_SECRET_ACCESS_KEY"])
    out: dict[str, dict[str, str]] = {}
    try:
        for name in names:
            try:
                arn = iam.create_user(UserName=name)["User"]["Arn"]
            except iam.exceptions.EntityAlreadyExistsException:
                arn = iam.get_user(UserName=name)["User"]["Arn"]
                for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                    iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
            key = iam.create_access_key(UserName=name)["AccessKey"]
            out[name] = {"key": key["AccessKeyId"], "secret": key["SecretAccessKey"], "arn": arn}
    finally:
        iam.close()
    return out


def write_profiles(data_dir: Path, endpoint_url: str) -> tuple[Path, Path, dict[str, str]]:
    """``aws/credentials`` and ``aws/config`` under ``data_dir``: ``default`` (the demo's
    own key) plus one profile per :data:`DEMO_PRINCIPALS`. Returns the two paths and
    ``{profile: ARN}``."""
    users = create_principals(endpoint_url)
    folder = data_dir / "aws"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o700)
    region = DEMO_AWS_ENV["AWS_DEFAULT_REGION"]
    creds = ["[default]", f"aws_access_key_id = {DEMO_AWS_ENV['AWS_ACCESS_KEY_ID']}",
             f"aws_secret_access_key = {DEMO_AWS_ENV['AWS_SECRET_ACCESS_KEY']}", ""]
    conf = ["[default]", f"region = {region}", ""]
    for name, u in users.items():
        creds += [f"[{name}]", f"aws_access_key_id = {u['key']}", f"aws_secret_access_key = {u['secret']}", ""]
        conf += [f"[profile {name}]", f"region = {region}", ""]
    cpath, fpath = folder / "credentials", folder / "config"
    for path, lines in ((cpath, creds), (fpath, conf)):
        path.write_text("\n".join(lines))
        path.chmod(0o600)
    return cpath, fpath, {n: u["arn"] for n, u in users.items()}


def write_env(data_dir: Path, config_path: Path, endpoint_url: str) -> Path:
    """``env.sh``: CONSOLE_CONFIG and the AWS SDK pointed at the demo's profiles rather
    than at keys in the environment (keys in the environment would beat AWS_PROFILE)."""
    creds, conf, _ = write_profiles(data_dir, endpoint_url)
    env = data_dir / "env.sh"
    env.write_text("# source me: . env.sh   (then AWS_PROFILE=approver or executor picks who acts)\n"
                   "unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE\n"
                   f"export AWS_SHARED_CREDENTIALS_FILE={creds}\n"
                   f"export AWS_CONFIG_FILE={conf}\n"
                   f"export AWS_DEFAULT_REGION={DEMO_AWS_ENV['AWS_DEFAULT_REGION']}\n"
                   f"export CONSOLE_CONFIG={config_path}\n")
    return env
