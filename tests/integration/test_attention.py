"""The Overview's attention counts from the real servers: the same core code as the
screens, and a failing source is an error on its count, never an exception."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import redis as redislib

from console.backends.registry import Backends
from console.config import RedisSettings, Settings, ZenginSettings
from console.core import attention
from console.demo import data
from console.demo.stack import free_port
from console.demo.zengin import create_table_and_bucket


def test_counts_on_real_servers(stack, fresh_db):
    lam = fresh_db("lambda")
    data.fill_postgres({"lambda": lam}, datetime.now(timezone.utc), request_log_rows=3_000)
    lam.execute("CREATE TABLE public.stray (id int)")          # one schema finding
    env = f"att{uuid.uuid4().hex[:6]}"
    url = stack.redis.url.rsplit("/", 1)[0] + "/9"
    r = redislib.Redis.from_url(url)
    r.flushdb()
    for i in range(25):
        r.set(f"session:u{i}", "{}", ex=600)
    r.set("class_summary:x", "{}")
    settings = Settings(postgres=(lam.target,), redis=RedisSettings(url=url, scan_count=10),
                        zengin=ZenginSettings(env=env, endpoint_url=stack.moto.url, target=lam.target.name))
    backends = Backends.from_settings(settings)
    try:
        create_table_and_bucket(backends.dynamo, backends.s3)
        for i, status in enumerate(["pending", "pending", "approved"]):
            backends.dynamo.call("put_item", TableName=backends.dynamo.table, Item={
                "id": {"S": f"diff-x-{i}"}, "timestamp": {"S": f"2026-11-22T00:00:0{i}.000Z"},
                "status": {"S": status}})
        got = {}
        for src in attention.sources_for(backends):
            for c in src.collect():
                got[c.key] = c
        assert all(c.error is None for c in got.values()), got
        assert got["schema"].value == 2          # the stray table + the demo's drifted index
        assert got["partitions.ahead"].value >= 1 and got["partitions.default"].value > 0
        assert got["diffs.pending"].value == 2
        assert got["sessions"].value == 25 and not got["sessions"].approximate
        capped = attention.active_sessions(backends, cap=10)[0]
        assert capped.value == 10 and capped.approximate
    finally:
        r.flushdb()
        backends.close()


def test_a_dead_backend_is_an_error_not_an_exception():
    settings = Settings(redis=RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0", socket_timeout_s=0.5),
                        zengin=ZenginSettings(env="x", endpoint_url=f"http://127.0.0.1:{free_port()}", timeout_s=0.5))
    backends = Backends.from_settings(settings)
    counts = [c for src in attention.sources_for(backends) for c in src.collect()]
    assert {c.key for c in counts} == {"diffs.pending", "sessions"}
    assert all(c.value is None and "unreachable" in c.error for c in counts), counts
