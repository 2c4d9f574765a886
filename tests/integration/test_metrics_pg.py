"""Metrics core against the real embedded PostgreSQL 18: a blocking chain made by three
connections shows in blocking order, generated traffic gives a positive TPS delta, a
view past its statement_timeout is reported as timed out while the others come back."""

from __future__ import annotations

import threading
import time

import pytest

from console.core import metrics
from console.core.metrics import AnalyticsCollector, PgCollector


def _wait(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def _waiting_pids(backend) -> set[int]:
    rows = backend.fetch("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                         "AND datname = current_database()")
    return {r["pid"] for r in rows}


def test_blocking_chain_in_order(fresh_db):
    db = fresh_db("lambda", migrated=False, lock_timeout_ms=30000, statement_timeout_ms=30000)
    db.execute("CREATE TABLE t1 (id int); CREATE TABLE t2 (id int)")
    a, b, c = (db.connect() for _ in range(3))
    errors: list[BaseException] = []

    def run(conn, stmt):
        try:
            conn.execute(stmt)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    try:
        pid_a, pid_b, pid_c = (x.info.backend_pid for x in (a, b, c))
        a.execute("LOCK TABLE t1 IN SHARE MODE")                  # A holds t1
        b.execute("LOCK TABLE t2 IN EXCLUSIVE MODE")              # B holds t2 ...
        tb = threading.Thread(target=run, args=(b, "LOCK TABLE t1 IN EXCLUSIVE MODE"))  # ... waits on A
        tb.start()
        _wait(lambda: pid_b in _waiting_pids(db))
        tc = threading.Thread(target=run, args=(c, "LOCK TABLE t2 IN SHARE MODE"))      # C waits on B
        tc.start()
        _wait(lambda: pid_c in _waiting_pids(db))

        sample = PgCollector(db).sample()
        chain = [(line.depth, line.session.pid) for line in sample.chains]
        assert chain == [(0, pid_a), (1, pid_b), (2, pid_c)]
        assert sample.waiting == 2
        by_pid = {s.pid: s for s in sample.locks}
        assert by_pid[pid_c].blocked_by == (pid_b,)
        assert by_pid[pid_b].wait and by_pid[pid_b].wait.startswith("Lock:")
        assert by_pid[pid_a].state == "idle in transaction"
        assert sample.longest_xact is not None and sample.longest_xact.pid == pid_a
        states = {state: here for state, _server, here in sample.connections}
        assert states.get("idle in transaction", 0) >= 1 and states.get("active", 0) >= 2
    finally:
        a.rollback()
        _wait(lambda: pid_c not in _waiting_pids(db) and pid_b not in _waiting_pids(db) or not tb.is_alive())
        b.rollback()
        tb.join(5)
        tc.join(5)
        c.rollback()
        for x in (a, b, c):
            x.close()
    assert not errors


def test_tps_and_rows_from_generated_traffic(fresh_db):
    db = fresh_db("lambda", migrated=False)
    db.execute("CREATE TABLE traffic (id int)")
    collector = PgCollector(db)
    first = collector.sample()
    assert first.rates is None and first.version_num >= 140000
    with db.connect(autocommit=True) as conn:       # 200 committed transactions
        for i in range(200):
            conn.execute("INSERT INTO traffic VALUES (%s)", (i,))
    # the generating backend flushed its statistics when it exited
    time.sleep(0.2)
    second = collector.sample()
    assert second.rates is not None
    assert second.rates.tps > 0
    assert second.rates.tps * second.rates.seconds >= 200
    assert second.rates.rows_written_s * second.rates.seconds >= 200
    assert second.size_bytes > 0 and second.max_connections == 100
    assert second.queries == len(metrics.PG_QUERIES)
    assert set(second.checkpoints) == {"timed", "requested", "buffers_written"}
    assert any(t.name == "traffic" for t in second.tables)


def test_view_past_its_statement_timeout_is_reported(fresh_db):
    db = fresh_db("lambda")
    db.execute("""
        INSERT INTO public.request_logs (request_id, language_title, timestamp, status_code, duration_ms, cached)
        SELECT 'r' || g, 'python-fn' || (g % 5), now() - (g % 5) * interval '1 day',
               CASE WHEN g % 20 = 0 THEN 500 ELSE 200 END, g % 1000, g % 3 = 0
          FROM generate_series(1, 60000) g""")
    db.execute("REFRESH MATERIALIZED VIEW analytics.daily_stats_mv")
    sample = AnalyticsCollector(db, timeouts_ms={"daily_usage_stats": 1}).sample()
    usage = sample.views["daily_usage_stats"]
    assert usage.status == "timeout", usage
    assert "timed out after 1 ms" in usage.error
    assert sample.views["function_performance"].ok
    assert len(sample.views["function_performance"].rows) == 5
    assert sample.views["error_summary"].ok              # no error_logs: empty, but answered
    # trends fall back to the materialized view
    assert sample.trend_source == "daily_stats_mv"
    assert len(sample.trends) == 5
    assert all(sum(t.requests) == 12000 for t in sample.trends)

    ok = AnalyticsCollector(db).sample()
    assert ok.views["daily_usage_stats"].ok and ok.trend_source == "daily_usage_stats"
    assert [t.requests for t in ok.trends] == [t.requests for t in sample.trends]


def test_analytics_views_absent_on_other_systems(fresh_db):
    db = fresh_db("zengin")
    sample = AnalyticsCollector(db).sample()
    assert {v.status for v in sample.views.values()} == {"absent"}
    assert sample.trends == () and sample.trend_source is None


@pytest.mark.parametrize("version,table", [(140000, "pg_stat_bgwriter"), (160000, "pg_stat_bgwriter"),
                                           (170000, "pg_stat_checkpointer"), (180000, "pg_stat_checkpointer")])
def test_sql_chosen_by_server_version(version, table):
    assert table in metrics.sql_file("checkpoints", version)
