"""Every backend's health and its typed errors, against the real servers of the harness:
up, wrong password, server down (a closed port), timeout."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis as redislib

from console.backends.base import ErrorKind
from console.backends.dynamo import DynamoBackend
from console.backends.influx import InfluxBackend
from console.backends.postgres import PostgresBackend
from console.backends.redis import RedisBackend
from console.backends.s3 import S3Backend
from console.config import InfluxSettings, PostgresTarget, RedisSettings, ZenginSettings
from console.demo.stack import free_port


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers (a hung server)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    for c in held:
        c.close()
    srv.close()


# ------------------------------------------------------------------ PostgreSQL


def pg(dsn: str, **kw) -> PostgresBackend:
    return PostgresBackend(PostgresTarget(name="t", system="lambda", dsn=dsn, connect_timeout_s=2, **kw))


def test_postgres_health_up(stack):
    b = pg(stack.postgres.dsn("postgres"))
    try:
        h = b.health()
        assert h.ok, h.error
        assert h.version.startswith("PostgreSQL ") and h.latency_ms > 0
        with b.connection() as conn:
            app, st = conn.execute("SELECT current_setting('application_name'), "
                                   "current_setting('statement_timeout')").fetchone()
        assert app == "console" and st == "5s"
    finally:
        b.close()


def test_postgres_wrong_password_is_auth_and_not_leaked(stack):
    b = pg(stack.postgres.dsn("postgres", password="not-the-password"))
    try:
        h = b.health()
        assert not h.ok and h.error_kind is ErrorKind.AUTH
        assert "not-the-password" not in (h.error or "") and "not-the-password" not in h.address
    finally:
        b.close()


def test_postgres_down_is_unreachable():
    b = pg(f"postgresql://console@127.0.0.1:{free_port()}/x")
    try:
        h = b.health()
        assert not h.ok and h.error_kind is ErrorKind.UNREACHABLE, h
    finally:
        b.close()


def test_postgres_unknown_database_is_not_found(stack):
    b = pg(stack.postgres.dsn("no_such_db"))
    try:
        h = b.health()
        assert not h.ok and h.error_kind is ErrorKind.NOT_FOUND
    finally:
        b.close()


def test_postgres_statement_timeout_is_timeout(stack):
    b = pg(stack.postgres.dsn("postgres"), statement_timeout_ms=200)
    try:
        with pytest.raises(Exception) as info:
            b.fetch("SELECT pg_sleep(2)")
        assert getattr(info.value, "kind", None) is ErrorKind.TIMEOUT
        assert b.health().ok  # the pool threw the cancelled connection's transaction away
    finally:
        b.close()


def test_postgres_hung_server_times_out(silent_port):
    b = pg(f"postgresql://console@127.0.0.1:{silent_port}/x")
    try:
        started = time.monotonic()
        h = b.health()
        assert not h.ok and h.error_kind in (ErrorKind.TIMEOUT, ErrorKind.UNREACHABLE)
        assert time.monotonic() - started < 15
    finally:
        b.close()


# ------------------------------------------------------------------ Redis


def test_redis_health_up(stack):
    b = RedisBackend(RedisSettings(url=stack.redis.url))
    h = b.health()
    assert h.ok and h.version.startswith("Redis ") and h.latency_ms > 0


def test_redis_wrong_password_is_auth(stack):
    admin = redislib.Redis.from_url(stack.redis.url)
    admin.execute_command("ACL", "SETUSER", "tester", "on", ">right-password", "~*", "+@all")
    try:
        b = RedisBackend(RedisSettings(url=stack.redis.url.replace("redis://", "redis://tester:wrong-pw@")))
        h = b.health()
        assert not h.ok and h.error_kind is ErrorKind.AUTH, h
        assert "wrong-pw" not in (h.error or "") and "wrong-pw" not in h.address
        ok = RedisBackend(RedisSettings(url=stack.redis.url.replace("redis://", "redis://tester:right-password@")))
        assert ok.health().ok
    finally:
        admin.execute_command("ACL", "DELUSER", "tester")


def test_redis_down_is_unreachable():
    h = RedisBackend(RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0", socket_timeout_s=1)).health()
    assert not h.ok and h.error_kind is ErrorKind.UNREACHABLE


def test_redis_hung_server_times_out(silent_port):
    h = RedisBackend(RedisSettings(url=f"redis://127.0.0.1:{silent_port}/0", socket_timeout_s=0.5)).health()
    assert not h.ok and h.error_kind is ErrorKind.TIMEOUT, h


# ------------------------------------------------------------------ InfluxDB


def influx(server, **kw) -> InfluxBackend:
    base = dict(url=server.url, database=server.database, username=server.username, password=server.password)
    base.update(kw)
    return InfluxBackend(InfluxSettings(**base))


def test_influx_health_write_and_query(influx_server):
    from influxdb_client import Point

    b = influx(influx_server)
    h = b.health()
    assert h.ok and h.version.startswith("InfluxDB ")
    now_ms = int(time.time() * 1000)
    b.write([Point("backend_test").tag("who", "pytest").field("v", 1.5).time(now_ms, "ms"),
             Point("backend_test").tag("who", "pytest").field("v", 2.5).time(now_ms + 1, "ms")])
    series = b.query("SELECT mean(v) AS m, count(v) AS n FROM backend_test WHERE who = $who",
                     params={"who": "pytest"})
    assert series and series[0].rows()[0]["m"] == pytest.approx(2.0) and series[0].rows()[0]["n"] == 2


def test_influx_wrong_password_is_auth(influx_server):
    h = influx(influx_server, password="wrong-influx-pw").health()
    # /ping needs no auth on 1.x: the failure shows on the first query.
    assert h.ok
    with pytest.raises(Exception) as info:
        influx(influx_server, password="wrong-influx-pw").query("SHOW DATABASES")
    assert info.value.kind is ErrorKind.AUTH
    assert "wrong-influx-pw" not in str(info.value)


def test_influx_query_error_is_reported(influx_server):
    with pytest.raises(Exception) as info:
        influx(influx_server).query("SELEKT nonsense")
    assert info.value.kind is ErrorKind.ERROR and "error parsing query" in info.value.message


def test_influx_down_and_hung(silent_port):
    down = InfluxBackend(InfluxSettings(url=f"http://127.0.0.1:{free_port()}", database="x")).health()
    assert not down.ok and down.error_kind is ErrorKind.UNREACHABLE
    hung = InfluxBackend(InfluxSettings(url=f"http://127.0.0.1:{silent_port}", database="x", timeout_s=0.5)).health()
    assert not hung.ok and hung.error_kind is ErrorKind.TIMEOUT


# ------------------------------------------------------------------ DynamoDB and S3


def zs(stack, env: str, **kw) -> ZenginSettings:
    return ZenginSettings(env=env, endpoint_url=stack.moto.url, **kw)


def test_dynamo_and_s3_health(stack):
    import uuid

    s = zs(stack, f"health{uuid.uuid4().hex[:8]}")
    d, b = DynamoBackend(s), S3Backend(s)
    missing = d.health()
    assert not missing.ok and missing.error_kind is ErrorKind.NOT_FOUND
    assert not b.health().ok and b.health().error_kind is ErrorKind.NOT_FOUND
    d.call("create_table", TableName=s.table, BillingMode="PAY_PER_REQUEST",
           KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
           AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    b.call("create_bucket", Bucket=s.bucket, CreateBucketConfiguration={"LocationConstraint": s.region})
    try:
        hd, hb = d.health(), b.health()
        assert hd.ok and "ACTIVE" in hd.version and hb.ok
    finally:
        d.call("delete_table", TableName=s.table)
        b.call("delete_bucket", Bucket=s.bucket)


def test_aws_down_is_unreachable():
    s = ZenginSettings(env="x", endpoint_url=f"http://127.0.0.1:{free_port()}")
    h = DynamoBackend(s).health()
    assert not h.ok and h.error_kind is ErrorKind.UNREACHABLE
    assert not S3Backend(s).health().ok


def test_aws_without_credentials_is_auth(stack, monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    h = DynamoBackend(zs(stack, "nocreds")).health()
    assert not h.ok and h.error_kind is ErrorKind.AUTH, h


def test_aws_hung_endpoint_times_out(silent_port):
    s = ZenginSettings(env="x", endpoint_url=f"http://127.0.0.1:{silent_port}", timeout_s=0.5)
    b = DynamoBackend(s)
    started = time.monotonic()
    h = b.health()
    assert not h.ok and h.error_kind is ErrorKind.TIMEOUT, h
    assert time.monotonic() - started < 10
