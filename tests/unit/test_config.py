"""Configuration: search order, precedence (file < environment < flags), validation
errors that name the key and the file, masking of secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from console import config as C

GOOD = """
environment = "prod"
operator = "alice"
refresh_interval = 2.5

[postgres.lambda]
dsn = "postgresql://console:s3cret-pw@db1:5432/lambda"
system = "lambda"
statement_timeout = "2s"

[postgres.zengin]
service = "zengin_prod"
system = "zengin"

[redis]
url = "redis://:redis-pw@cache:6379/0"

[influxdb]
url = "http://metrics:8086/"
database = "learning"
username = "reader"
password = "influx-pw"

[zengin]
env = "prod"
target = "zengin"
"""


def write(tmp_path: Path, text: str, name: str = "console.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_parses_every_section(tmp_path):
    s = C.load(write(tmp_path, GOOD), env={})
    assert s.environment == "prod" and s.operator == "alice" and s.refresh_interval_s == 2.5
    lam = s.target("lambda")
    assert lam.statement_timeout_ms == 2000 and lam.system == "lambda"
    assert s.target("zengin").conninfo() == "service=zengin_prod"
    assert s.influx.url == "http://metrics:8086"
    assert s.zengin.table == "zengin-data-diff-prod" and s.zengin.bucket == "prod-zengin-diff-data"
    assert s.audit_target_name == "zengin"


def test_search_order(tmp_path, monkeypatch):
    monkeypatch.setattr(C, "user_config_path", lambda: tmp_path / "user" / "console.toml")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    assert C.find_config(None, {}, cwd) is None
    (tmp_path / "user").mkdir()
    user = write(tmp_path / "user", 'environment = "user"')
    assert C.find_config(None, {}, cwd) == user
    local = write(cwd, 'environment = "local"')
    assert C.find_config(None, {}, cwd) == local
    env_file = write(tmp_path, 'environment = "env"', "env.toml")
    assert C.find_config(None, {"CONSOLE_CONFIG": str(env_file)}, cwd) == env_file
    flag = write(tmp_path, 'environment = "flag"', "flag.toml")
    assert C.find_config(flag, {"CONSOLE_CONFIG": str(env_file)}, cwd) == flag


def test_explicit_missing_file_is_an_error(tmp_path):
    with pytest.raises(C.ConfigError, match="no such configuration file"):
        C.find_config(tmp_path / "nope.toml", {})
    with pytest.raises(C.ConfigError, match="CONSOLE_CONFIG"):
        C.find_config(None, {"CONSOLE_CONFIG": str(tmp_path / "nope.toml")})


def test_environment_overrides_file_and_flags_override_both(tmp_path):
    path = write(tmp_path, GOOD)
    env = {"CONSOLE_OPERATOR": "bob", "CONSOLE_READ_ONLY": "true", "CONSOLE_REFRESH_INTERVAL": "9",
           "CONSOLE_PG_LAMBDA_DSN": "postgresql://other@db9/lambda", "CONSOLE_INFLUX_PASSWORD": "from-env",
           "CONSOLE_REDIS_URL": "redis://cache2:6379/1"}
    s = C.load(path, env=env)
    assert s.operator == "bob" and s.read_only is True and s.refresh_interval_s == 9
    assert s.target("lambda").dsn == "postgresql://other@db9/lambda"
    assert s.influx.password == "from-env" and s.redis.url == "redis://cache2:6379/1"
    s = C.load(path, env=env, operator="carol", refresh_interval=1.0)
    assert s.operator == "carol" and s.refresh_interval_s == 1.0


def test_read_only_flag_only_tightens(tmp_path):
    path = write(tmp_path, "read_only = true")
    assert C.load(path, env={}, read_only=None).read_only is True
    assert C.load(write(tmp_path, "", "b.toml"), env={}, read_only=True).read_only is True


@pytest.mark.parametrize("text, key, message", [
    ("bogus = 1", "bogus", "unknown key"),
    ("refresh_interval = 'fast'", "refresh_interval", "must be a number"),
    ("read_only = 'yes'", "read_only", "must be true or false"),
    ("[postgres.a]\nsystem = 'lambda'\ndsn = 'x'\nport = 5", "postgres.a.port", "unknown key"),
    ("[postgres.a]\nsystem = 'nope'\ndsn = 'x'", "postgres.a.system", "must be one of"),
    ("[postgres.a]\nsystem = 'lambda'", "postgres.a", "exactly one of 'dsn' or 'service'"),
    ("[postgres.a]\nsystem = 'lambda'\ndsn = 'x'\nstatement_timeout = 'soon'", "postgres.a.statement_timeout",
     "is not a duration"),
    ("[redis]\nurl = 5", "redis.url", "must be a string"),
    ("[influxdb]\nurl = 'http://x'", "influxdb.database", "is required"),
    ("[zengin]\ntable = 'zengin-{nope}'", "zengin.table", "bad template"),
    ("[postgres.a]\nsystem='lambda'\ndsn='x'\n[zengin]\ntarget = 'b'", "zengin.target", "names no configured"),
    ("redis = 3", "redis", "must be a table"),
    ("[redis]\nurl = 'http://cache:6379'", "redis.url", "must start with redis://"),
    ("[influxdb]\nurl = 'metrics:8086'\ndatabase = 'x'", "influxdb.url", "http:// or https://"),
    ("[zengin]\nregion = 'tokyo'", "zengin.region", "not an AWS region"),
    ("[zengin]\nendpoint_url = 'localhost:5000'", "zengin.endpoint_url", "http:// or https://"),
    ("[postgres.a]\nsystem = 'lambda'\ndsn = 'x'\nlock_timeout = '0s'", "postgres.a.lock_timeout", "at least 1 ms"),
    ("[partitions]\nlock_timeout = 0", "partitions.lock_timeout", "at least 1 ms"),
])
def test_validation_errors_name_key_and_file(tmp_path, text, key, message):
    path = write(tmp_path, text)
    with pytest.raises(C.ConfigError) as info:
        C.load(path, env={})
    err = info.value
    assert err.key == key and err.path == path
    assert message in str(err) and str(path) in str(err) and key in str(err)


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "environment = ")
    with pytest.raises(C.ConfigError, match="not valid TOML") as info:
        C.load(path, env={})
    assert info.value.path == path


def test_bad_environment_values_are_clear(tmp_path):
    with pytest.raises(C.ConfigError, match="CONSOLE_READ_ONLY"):
        C.load(write(tmp_path, ""), env={"CONSOLE_READ_ONLY": "maybe"})


@pytest.mark.parametrize("raw, masked", [
    ("postgresql://console:s3cret@db:5432/x", "postgresql://console:***@db:5432/x"),
    ("postgresql://console@db:5432/x", "postgresql://console@db:5432/x"),
    ("host=db user=console password=s3cret dbname=x", "host=db user=console password=*** dbname=x"),
    ("host=db password='s3 cret' dbname=x", "host=db password=*** dbname=x"),
    ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
    ("http://metrics:8086/query?u=a&password=s3cret", "http://metrics:8086/query?u=a&password=***"),
])
def test_masking(raw, masked):
    assert C.mask_dsn(raw) == masked
    assert "s3cret" not in C.mask_dsn(raw)


def test_secrets_are_not_in_repr(tmp_path):
    """Tracebacks with locals print reprs: a DSN or Redis URL password must not be in one."""
    s = C.load(write(tmp_path, GOOD), env={})
    assert "s3cret-pw" not in repr(s) and "redis-pw" not in repr(s) and "influx-pw" not in repr(s)


def test_secrets_are_collected_and_never_in_display(tmp_path):
    s = C.load(write(tmp_path, GOOD), env={"CONSOLE_INFLUX_TOKEN": "tok-123456"})
    assert set(s.secrets()) >= {"s3cret-pw", "redis-pw", "influx-pw", "tok-123456"}
    shown = " ".join([t.display for t in s.postgres] + [s.redis.display, s.influx.display, repr(s.influx)])
    for secret in s.secrets():
        assert secret not in shown


def test_duration_parsing():
    assert C.parse_duration_ms("500ms") == 500
    assert C.parse_duration_ms("5s") == 5000
    assert C.parse_duration_ms("2min") == 120_000
    with pytest.raises(C.ConfigError):
        C.parse_duration_ms("five")


def test_log_records_are_scrubbed_of_secrets(tmp_path):
    import logging

    from console.log import JsonFormatter

    s = C.load(write(tmp_path, GOOD), env={})
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    h = Keep()
    h.setFormatter(JsonFormatter(s.secrets()))
    logger = logging.getLogger("scrub-test")
    logger.addHandler(h)
    logger.propagate = False
    logger.error("connect failed for %s with %s", s.target("lambda").dsn, s.influx.password)
    assert records and "s3cret-pw" not in records[0] and "influx-pw" not in records[0]
    assert "***" in records[0]


def test_partition_policies(tmp_path):
    s = C.load(write(tmp_path, """
[partitions]
premake = 4
retention = 12
lock_timeout = "2s"
attempts = 5
[partitions.tables."lambda.public.request_logs"]
premake = 6
naming = "{table}_y{YYYY}m{MM}"
"""), env={})
    p = s.partitions
    assert p.defaults.premake == 4 and p.defaults.retention == 12 and p.lock_timeout_ms == 2000 and p.attempts == 5
    t = p.tables["lambda.public.request_logs"]
    assert t.premake == 6 and t.retention == 12 and t.naming == "{table}_y{YYYY}m{MM}"
    from console.core.partitions import PartitionService
    svc = PartitionService.from_settings(s, {})
    assert svc.default_policy.premake == 4 and svc.policies["lambda.public.request_logs"].premake == 6
    assert svc.options.attempts == 5 and svc.options.lock_timeout_ms == 2000


@pytest.mark.parametrize("text, key", [
    ("[partitions]\nretention = -1", "partitions.retention"),
    ("[partitions.tables.x]\nnaming = 'x'", "partitions.tables.x.naming"),
    ("[partitions.tables.x]\nbogus = 1", "partitions.tables.x.bogus"),
])
def test_partition_policy_errors(tmp_path, text, key):
    with pytest.raises(C.ConfigError) as info:
        C.load(write(tmp_path, text), env={})
    assert info.value.key == key


# --------------------------------------------------------------------------- contexts

CONTEXTS = '''
context = "staging"
refresh_interval = 7
[contexts.staging.postgres.main]
dsn = "postgresql://console@staging-db/main"
system = "lambda"
[contexts.prod]
production = true
[contexts.prod.postgres.main]
dsn = "postgresql://console@prod-db/main"
system = "lambda"
[contexts.prod.postgres.logs]
dsn = "postgresql://console@prod-db/logs"
system = "accesslog"
'''


def test_contexts_choose_merge_and_mark_production(tmp_path):
    from console.config import ConfigError, load
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONTEXTS)
    staging = load(cfg, env={})
    assert staging.context == "staging" and staging.contexts == ("staging", "prod")
    assert [t.name for t in staging.postgres] == ["main"] and "staging-db" in staging.postgres[0].dsn
    assert staging.refresh_interval_s == 7 and not staging.production and not staging.read_only
    assert staging.environment == "staging"

    prod = load(cfg, env={"CONSOLE_CONTEXT": "prod"})
    assert prod.context == "prod" and [t.name for t in prod.postgres] == ["main", "logs"]
    assert prod.production and prod.read_only, "a production context starts read-only"
    assert not load(cfg, env={}, context="prod", write=True).read_only, "--write asks for write access"
    # the flag beats the environment
    assert load(cfg, env={"CONSOLE_CONTEXT": "prod"}, context="staging").context == "staging"

    with pytest.raises(ConfigError, match="no context 'qa'"):
        load(cfg, env={}, context="qa")


def test_write_never_lifts_an_explicit_read_only(tmp_path):
    from console.config import load
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONTEXTS.replace("production = true", "production = true\nread_only = true"))
    assert load(cfg, env={}, context="prod", write=True).read_only


def test_several_contexts_without_a_default_is_an_error(tmp_path):
    from console.config import ConfigError, load
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONTEXTS.replace('context = "staging"\n', ""))
    with pytest.raises(ConfigError, match="several contexts"):
        load(cfg, env={})
    plain = tmp_path / "p.toml"
    plain.write_text('[postgres.a]\ndsn = "postgresql://x@h/a"\nsystem = "pipe"\n')
    with pytest.raises(ConfigError, match="no \\[contexts\\]"):
        load(plain, env={}, context="prod")


def test_xdg_config_dirs_is_searched_after_the_user_dir(tmp_path, monkeypatch):
    from console.config import find_config
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home"))
    site = tmp_path / "site" / "console"
    site.mkdir(parents=True)
    (site / "console.toml").write_text("")
    env = {"XDG_CONFIG_DIRS": f"{tmp_path / 'nothing'}:{tmp_path / 'site'}"}
    assert find_config(None, env, cwd=tmp_path) == site / "console.toml"
    assert find_config(None, {"XDG_CONFIG_DIRS": str(tmp_path / "nothing")}, cwd=tmp_path) is None


def test_the_aws_profile_region_beats_the_configured_one_unless_forced(monkeypatch, tmp_path):
    from console.backends.aws import effective_region
    from console.config import ZenginSettings
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    z = ZenginSettings(region="ap-northeast-3")
    assert effective_region(z) == "ap-northeast-3", "no profile region: the configured one"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert effective_region(z) == "eu-west-1", "the profile's region wins"
    assert effective_region(ZenginSettings(region="ap-northeast-3", force_region=True)) == "ap-northeast-3"
    cfg = tmp_path / "aws-config"
    cfg.write_text("[profile ops]\nregion = us-west-2\n")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    assert effective_region(z) == "us-west-2"
