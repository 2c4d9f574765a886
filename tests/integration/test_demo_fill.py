"""The demo data against the real servers of the test stack: the zengin table, bucket and
diff queue (moto), the PostgreSQL fill (partitions, default-partition rows, the drifted
index), Redis keys and the publisher, InfluxDB points."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import redis
from psycopg import sql

from console.backends.base import ReadOnlyError
from console.backends.dynamo import DynamoBackend
from console.backends.influx import InfluxBackend
from console.backends.s3 import S3Backend
from console.config import InfluxSettings, Settings, ZenginSettings
from console.core.zengin import generator as gen
from console.core.zengin.records import DiffRecord, parse_bulk_document
from console.demo import data
from console.demo import zengin as zdemo
from console.demo.stack import RedisServer

from ..activity_helpers import wait_until

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def aws(stack):
    settings = ZenginSettings(env=f"t{uuid.uuid4().hex[:12]}", endpoint_url=stack.moto.url)
    dynamo, s3 = DynamoBackend(settings), S3Backend(settings)
    zdemo.create_table_and_bucket(dynamo, s3)
    yield settings, dynamo, s3
    dynamo.call("delete_table", TableName=dynamo.table)
    dynamo.close()
    s3.close()


def by_status(dynamo: DynamoBackend, status: str) -> list[DiffRecord]:
    out, kw = [], {}
    while True:
        resp = dynamo.call("query", TableName=dynamo.table, IndexName="StatusIndex",
                           KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                           ExpressionAttributeValues={":s": {"S": status}}, ScanIndexForward=False, **kw)
        out += [DiffRecord.from_item(i) for i in resp["Items"]]
        if "LastEvaluatedKey" not in resp:
            return out
        kw = {"ExclusiveStartKey": resp["LastEvaluatedKey"]}


# --------------------------------------------------------------------------- zengin


def test_table_and_bucket_follow_seed_003(aws):
    settings, dynamo, s3 = aws
    zdemo.create_table_and_bucket(dynamo, s3)          # idempotent
    table = dynamo.call("describe_table", TableName=dynamo.table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"},
                                  {"AttributeName": "timestamp", "KeyType": "RANGE"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "StatusIndex" and gsi["Projection"] == {"ProjectionType": "ALL"}
    assert gsi["KeySchema"] == [{"AttributeName": "status", "KeyType": "HASH"},
                                {"AttributeName": "timestamp", "KeyType": "RANGE"}]
    ttl = dynamo.call("describe_time_to_live", TableName=dynamo.table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    assert s3.call("get_bucket_location", Bucket=s3.bucket)["LocationConstraint"] == "ap-northeast-1"
    assert s3.call("get_bucket_versioning", Bucket=s3.bucket)["Status"] == "Enabled"


@pytest.mark.slow
def test_demo_queue(aws, fresh_db):
    settings, dynamo, s3 = aws
    pg = fresh_db("zengin")
    source, version = gen.load_zengin_code()
    counts = zdemo.seed_master(pg, source, NOW)
    assert counts == {"banks": len(source), "branches": sum(len(b["branches"]) for b in source.values())}
    assert pg.fetch("SELECT count(*) AS n FROM public.branches")[0]["n"] == counts["branches"]

    changed = zdemo.changed_copy(source, seed=1)
    assert zdemo.changed_copy(source, seed=1) == changed          # deterministic
    demo = zdemo.queue_demo_diffs(pg, dynamo, s3, changed, NOW, source_version=version)
    assert len(set(demo.all_ids)) == len(demo.all_ids) == len(demo.pending) + 7

    pending = by_status(dynamo, "pending")
    assert {r.id for r in pending} == set(demo.pending) | {demo.bulk, demo.stale, demo.invalid, demo.expired,
                                                             demo.orphan}
    assert [r.id for r in by_status(dynamo, "approved")] == [demo.approved]
    assert [r.id for r in by_status(dynamo, "rejected")] == [demo.rejected]
    assert [r.timestamp for r in pending] == sorted((r.timestamp for r in pending), reverse=True)
    for r in pending + by_status(dynamo, "approved") + by_status(dynamo, "rejected"):
        assert r.problems == (), (r.id, r.problems)

    records = {r.id: r for r in pending}
    bulk = records[demo.bulk]
    assert bulk.diffType == "bulk_update" and bulk.dataSize > 400 * 1024
    bucket, key = bulk.s3_location
    assert bucket == s3.bucket
    raw = s3.get_bytes(key)
    assert len(raw) == bulk.dataSize
    doc = parse_bulk_document(raw, expected_id=bulk.id, expected_summary=bulk.dataSummary)
    assert doc.problems == () and len(doc.records) == bulk.dataSummary["totalRecords"] > 1000
    assert {e.key[0] for e in doc.records} <= set(changed.bulk_banks)

    singles = [records[i] for i in demo.pending]
    assert {r.diffType for r in singles} == {"addition", "update", "deletion"}
    assert {r.entry.table for r in singles} == {"banks", "branches"}
    assert all(r.metadata["sourceVersion"] == version for r in singles)

    # The planted ones: the stale diff's currentData is not what PostgreSQL holds, the
    # invalid one breaks the code format, the expired one's TTL has passed.
    stale = records[demo.stale]
    bank, branch = stale.currentData["bankCode"], stale.currentData["branchCode"]
    row = pg.fetch("SELECT branch_name FROM public.branches WHERE bank_code = %s AND branch_code = %s",
                   (bank, branch))[0]
    assert row["branch_name"] != stale.currentData["branchName"]
    assert records[demo.invalid].zenginData["bankCode"] == "12345"
    assert records[demo.expired].display_status(NOW) == "expired"
    assert all(records[i].display_status(NOW) == "pending" for i in demo.pending)


def test_generate_writes_single_items_with_audit(aws, fresh_db):
    settings, dynamo, s3 = aws
    pg = fresh_db("zengin")
    source = {"0001": {"code": "0001", "name": "みずほ", "kana": "ミズホ", "branches": {
        "001": {"code": "001", "name": "東京営業部", "kana": "トウキヨウ"}}}}
    zdemo.seed_master(pg, source, NOW)
    incoming = json.loads(json.dumps(source))
    incoming["0001"]["branches"]["001"]["name"] = "東京中央"
    incoming["0001"]["branches"]["002"] = {"code": "002", "name": "丸の内", "kana": "マルノウチ"}
    incoming["0002"] = {"code": "0002", "name": "デモ", "kana": "デモ", "branches": {}}
    full = Settings(zengin=settings)

    with pytest.raises(ReadOnlyError):
        gen.generate(Settings(zengin=settings, read_only=True), pg, dynamo, s3, incoming, now=NOW, actor="ro")
    assert by_status(dynamo, "pending") == []

    plan, result = gen.generate(full, pg, dynamo, s3, incoming, now=NOW, actor="tester")
    assert not result.bulk and len(result.ids) == 3 and result.conflicts == 0
    assert sorted(result.ids) == [f"diff-{NOW:%Y%m%d}-{n:06d}" for n in (1, 2, 3)]
    assert {r.id for r in by_status(dynamo, "pending")} == set(result.ids)
    audit_rows = pg.fetch("SELECT actor, action, outcome, detail FROM console.audit_log "
                          "WHERE action = 'diffs.generate' ORDER BY id")
    assert [(a["actor"], a["action"], a["outcome"]) for a in audit_rows] == [
        ("ro", "diffs.generate", "refused"), ("tester", "diffs.generate", "ok")], "the read-only refusal is audited"
    assert audit_rows[1]["detail"]["count"] == 3

    # A second run the same day continues the sequence.
    _plan, again = gen.generate(full, pg, dynamo, s3, incoming, now=NOW + timedelta(minutes=5), actor="tester")
    assert sorted(again.ids) == [f"diff-{NOW:%Y%m%d}-{n:06d}" for n in (4, 5, 6)]


def test_a_taken_id_is_skipped_never_overwritten(aws):
    settings, dynamo, s3 = aws
    entries = gen.compare(gen.master_from_source({"0009": {"name": "x", "kana": "エツクス", "branches": {}}}),
                          gen.Master({}, {}))
    plan = gen.plan_diffs(entries, now=NOW)
    # Someone wrote diff-…-000001 at exactly our first item's key without using the counter.
    squatter = gen.build_record(plan, 0, gen.diff_id(gen.day_of(NOW), 1))
    squatter = DiffRecord(**{**squatter.__dict__, "status": "rejected", "metadata": {"by": "someone else"}})
    assert gen.put_new(dynamo, squatter)
    result = gen.write_plan(dynamo, s3, plan)
    assert result.ids == [gen.diff_id(gen.day_of(NOW), 2)] and result.conflicts == 1
    kept = DiffRecord.from_item(dynamo.call("get_item", TableName=dynamo.table, Key=squatter.key)["Item"])
    assert kept.metadata == {"by": "someone else"}


def test_concurrent_producers_never_share_an_id(aws):
    settings, dynamo, s3 = aws
    source = {f"{i:04d}": {"name": f"銀行{i}", "kana": "ギンコウ", "branches": {}} for i in range(1, 16)}
    entries = gen.compare(gen.master_from_source(source), gen.Master({}, {}))
    results: list = []

    def produce(k: int) -> None:
        plan = gen.plan_diffs(entries, now=NOW + timedelta(milliseconds=k), metadata={"producer": k})
        results.append(gen.write_plan(dynamo, s3, plan).ids)

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [i for r in results for i in r]
    assert len(ids) == 45 and len(set(ids)) == 45


def test_bulk_write_puts_the_document_first(aws):
    settings, dynamo, s3 = aws
    source = {"0001": {"name": "みずほ", "kana": "ミズホ", "branches": {
        f"{i:03d}": {"name": f"支店{i}", "kana": "シテン"} for i in range(1, 200)}}}
    plan = gen.plan_diffs(gen.compare(gen.master_from_source(source), gen.Master({}, {})), now=NOW,
                          threshold_bytes=10_000)
    result = gen.write_plan(dynamo, s3, plan)
    assert result.bulk and len(result.ids) == 1
    (rec,) = by_status(dynamo, "pending")
    doc = parse_bulk_document(s3.get_bytes(rec.s3_location[1]), expected_id=rec.id, expected_summary=rec.dataSummary)
    assert doc.problems == () and len(doc.records) == 200
    assert result.data_location == rec.dataLocation and result.data_size == rec.dataSize


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.slow
def test_fill_postgres(fresh_db):
    backends = {s: fresh_db(s) for s in ("lambda", "accesslog", "pipe", "learning")}
    report = data.fill_postgres(backends, NOW, request_log_rows=20_000,
                                rows={"accesslog": 5_000, "pipe": 3_000, "learning": 3_000})
    current = data.month_of(NOW)
    for system, pg in backends.items():
        spec = data.PARTITIONED[system]
        months, gap = data.partition_months(NOW, spec)
        children = {r["name"]: r for r in pg.fetch(
            "SELECT c.relname AS name, c.reltuples AS est FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass", (f"public.{spec.table}",))}
        expected = {spec.partition_name(m) for m in months} | {spec.default_partition}
        assert set(children) == expected == set(report.partitions[system]) | {spec.default_partition}
        assert spec.partition_name(data.add_months(current, 1)) in children          # next month only
        assert spec.partition_name(data.add_months(current, 2)) not in children
        assert spec.partition_name(gap) not in children and report.gap[system] == spec.partition_name(gap)
        assert len(months) == 14
        # Rows of the gap month sit in the default partition, and nothing else does.
        key = {"lambda": "timestamp", "accesslog": "created_at"}.get(system, "started_at")
        stats = pg.fetch(sql.SQL("SELECT count(*) AS n, min({k}) AS lo, max({k}) AS hi FROM {t}").format(
            k=sql.Identifier(key), t=sql.Identifier("public", spec.default_partition)))[0]
        assert stats["n"] > 0
        assert data.utc(gap) <= stats["lo"] and stats["hi"] < data.utc(data.add_months(gap, 1))
        # ANALYZE ran: the catalog has estimates for the filled partitions.
        assert children[spec.partition_name(current)]["est"] > 0
        assert all(v >= 0 for v in report.rows[system].values())

    lam = backends["lambda"]
    # The indexes dropped for the load are back, valid, on the parent and every partition.
    per_partition = lam.fetch(
        "SELECT c.relname, count(*) AS n, bool_and(x.indisvalid) AS valid FROM pg_inherits h "
        "JOIN pg_class c ON c.oid = h.inhrelid JOIN pg_index x ON x.indrelid = c.oid "
        "WHERE h.inhparent = 'public.request_logs'::regclass GROUP BY c.relname")
    assert len(per_partition) == 15 and all(r["n"] == 7 and r["valid"] for r in per_partition)
    assert lam.fetch("SELECT pg_get_constraintdef(oid) AS d FROM pg_constraint "
                     "WHERE conname = 'request_logs_pkey'")[0]["d"] == 'PRIMARY KEY (id, "timestamp")'
    idx = lam.fetch("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = %s",
                    (data.DRIFTED_INDEX,))[0]["indexdef"]
    assert "WHERE (status_code >= 400)" in idx
    assert lam.fetch("SELECT count(*) AS n FROM analytics.daily_stats_mv")[0]["n"] > 0
    assert lam.fetch("SELECT count(*) AS n FROM analytics.function_performance")[0]["n"] > 0
    assert lam.fetch("SELECT count(*) AS n FROM analytics.error_summary")[0]["n"] > 0
    expired_active = "SELECT count(*) AS n FROM meta.sessions WHERE status = 'active' AND expires_at < now()"
    assert lam.fetch(expired_active)[0]["n"] > 0
    codes = {r["status_code"] for r in lam.fetch("SELECT DISTINCT status_code FROM public.request_logs")}
    assert {200, 404, 500} <= codes

    # Same seed and clock, same data.
    again = {s: fresh_db(s) for s in ("pipe",)}
    data.fill_postgres(again, NOW, rows={"pipe": 3_000})
    digest = ("SELECT md5(string_agg(id::text || status || started_at::text, ',' ORDER BY started_at, id)) AS h "
              "FROM public.pipeline_runs")
    assert again["pipe"].fetch(digest) == backends["pipe"].fetch(digest)


# --------------------------------------------------------------------------- Redis


@pytest.fixture
def redis_db(stack):
    client = redis.Redis(host="127.0.0.1", port=stack.redis.port, db=7)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_fill_redis(redis_db):
    report = data.fill_redis(redis_db, NOW, seed=3)
    keys = {k.decode() for k in redis_db.scan_iter("session:*")}
    assert set(report.sessions) | set(report.unparsable) | set(report.without_ttl) | set(report.wrong_type) == keys
    for key in report.sessions:
        assert 0 < redis_db.ttl(key) <= 8 * 3600 + 60
        value = json.loads(redis_db.get(key))
        assert {"current_notebook", "last_activity", "user_id"} <= set(value)
    for key in report.unparsable:
        with pytest.raises(ValueError):
            json.loads(redis_db.get(key))
    assert redis_db.ttl(report.without_ttl[0]) == -1
    assert redis_db.type(report.wrong_type[0]) == b"hash"

    conns = {k.decode(): json.loads(v) if v.startswith(b"{") else {"user_id": v.decode()}
             for k, v in redis_db.hgetall("websocket_connections").items()}
    assert sum(1 for v in redis_db.hvals("websocket_connections") if not v.startswith(b"{")) == 2
    assert len(conns) == report.connections
    session_users = {k.split(":", 1)[1] for k in report.sessions}
    orphans = {c for c, v in conns.items() if v["user_id"] not in session_users}
    assert orphans == set(report.orphan_connections)
    assert session_users - {v["user_id"] for v in conns.values()}     # sessions without a connection
    for key in report.class_summaries:
        assert 0 < redis_db.ttl(key) <= 300


def test_publisher_survives_a_redis_restart(tmp_path, capfd):
    server = RedisServer(tmp_path / "redis")
    server.start()
    publisher = data.Publisher(server.url, rate_per_s=20).start()
    try:
        def receive(count: int) -> set[bytes]:
            client = redis.Redis.from_url(server.url)
            sub = client.pubsub()
            sub.subscribe(*data.CHANNELS)
            seen, deadline = [], time.monotonic() + 10
            while len(seen) < count and time.monotonic() < deadline:
                msg = sub.get_message(timeout=0.5)
                if msg and msg["type"] == "message":
                    event = json.loads(msg["data"])
                    assert {"event_type", "user_id", "data", "timestamp"} <= set(event)
                    seen.append(msg["channel"])
            sub.close()
            client.close()
            return set(seen) if len(seen) >= count else set()

        assert receive(10)
        server.restart()
        assert receive(10), "the publisher did not come back after the restart"
        assert publisher.running
    finally:
        publisher.stop()
        server.stop()
    out, err = capfd.readouterr()
    assert out == "" and err == ""


# --------------------------------------------------------------------------- InfluxDB


@pytest.mark.influx
def test_fill_influx(influx_server):
    influx = InfluxBackend(InfluxSettings(url=influx_server.url, database=influx_server.database,
                                          username=influx_server.username, password=influx_server.password))
    influx.query('DROP SERIES FROM "cell_executions", "learning_progress", "performance_metrics"')
    report = data.fill_influx(influx, NOW, seed=2)
    # Bounded by NOW (the fill's clock), not the server's now(): this test may run long after
    # NOW was taken, and the first hourly point then fell out of a `now() - 25h` window.
    since = (NOW - timedelta(hours=26)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for measurement, n in report.points.items():
        (series,) = influx.query(f'SELECT count(*) FROM "{measurement}" WHERE time > \'{since}\'')
        assert max(v for v in series.values[0][1:] if v is not None) == n > 100
    (errors,) = influx.query('SELECT count("execution_duration_ms") FROM "cell_executions" '
                             f"WHERE has_error = true AND time > '{since}'")
    assert 0 < errors.values[0][1] < report.points["cell_executions"] / 4

    traffic = data.TrafficGenerator(influx=influx, seed=2).start()
    wait_until(lambda: traffic.written_points > 0, "the traffic generator wrote points")
    traffic.stop()
    assert traffic.written_points > 0 and traffic.errors == 0
    influx.close()


@pytest.mark.slow
def test_demo_orphan_is_flagged_and_its_deletions_execute_in_order(aws, fresh_db):
    """The demo's queue: the planted bank deletion is flagged with the branches it would
    orphan and cannot be approved; every generated single diff, approved and executed as
    one batch in whatever order the queue returns, completes (bank deletions after their
    branches' deletions)."""
    from console.core.zengin.service import DiffsService
    from console.core.zengin.workflow import Ref

    settings, dynamo, s3 = aws
    pg = fresh_db("zengin")
    source, version = gen.load_zengin_code()
    zdemo.seed_master(pg, source, NOW)
    demo = zdemo.queue_demo_diffs(pg, dynamo, s3, zdemo.changed_copy(source, seed=1), NOW, source_version=version)
    full = Settings(postgres=(pg.target,), zengin=dataclasses.replace(settings, target=pg.target.name))
    svc = DiffsService(full, pg, dynamo, s3)
    orphan = next(r for r in by_status(dynamo, "pending") if r.id == demo.orphan)
    (flag,) = svc.orphans([orphan]).values()
    assert "would orphan" in flag and "branch(es)" in flag
    res = svc.approve_many([Ref.parse(i) for i in demo.pending + [demo.orphan]], "approver")
    assert res.counts() == {"ok": len(demo.pending), "refused": 1}, res.summary()
    assert any(d.diffType == "deletion" and d.entry.table == "banks" for d in (o.record for o in res.outcomes))
    res = svc.execute_many(None, "executor")
    assert res.counts() == {"ok": len(demo.pending) + 1}, [o.message for o in res.outcomes if not o.ok][:5]


def test_the_diff_counter_is_atomic_under_concurrent_takes(aws):
    """DynamoDB's ADD is atomic; the embedded moto applies one request at a time so that it
    is too (its threaded server let two ADDs read the same value: two producers, one id)."""
    settings, dynamo, s3 = aws
    taken: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        allocator = gen.IdAllocator(dynamo, NOW)
        for _ in range(25):
            (rid,) = allocator.take(1)
            with lock:
                taken.append(rid)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 200 and len(set(taken)) == 200
