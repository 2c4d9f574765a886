"""core.activity against the real embedded PostgreSQL: the sample, a blocking chain, cancel
(the query ends, the session stays) and terminate (the session ends), both audited and
refused in read-only mode, the refusals (own, server process, other database),
pg_stat_statements present and absent, a replication slot and the WAL rate, and a
CREATE INDEX CONCURRENTLY seen in progress."""

from __future__ import annotations

import uuid
from dataclasses import FrozenInstanceError, fields, replace

import psycopg
import pytest

from console.backends.base import ReadOnlyError
from console.config import Settings
from console.core.activity import (ActivityFilter, ActivitySource, SignalRefused, apply_filter, blocking_chain,
                                   plan_signal, run_signal, sort_rows)
from console.core.activity.maintenance import MaintenanceSampler
from console.core.activity.model import Backend
from console.core.activity.statements import deltas, sample_statements
from tests.activity_helpers import Victim, active_in, exists, wait_until


def _source(pg) -> ActivitySource:
    return ActivitySource({pg.name: pg})


def _audit(pg, action: str) -> list[dict]:
    return pg.fetch("SELECT actor, target, outcome, detail, settled_at FROM console.audit_log WHERE action = %s "
                    "ORDER BY id", (action,))


def test_sample_rows_and_console_marks(fresh_db):
    pg = fresh_db("pipe")
    v = Victim(pg.target.dsn, "victim").start("SELECT pg_sleep(30) /* hello \u202e\x1b[31m */")
    try:
        wait_until(lambda: active_in(pg, v.pid, "pg_sleep"), "pg_sleep running")
        s = _source(pg).sample(pg.name)
        assert s.datname == pg.target.name and s.version_num >= 100000
        row = s.row(v.pid)
        assert row is not None and row.client and row.state == "active"
        assert row.application_name == "victim"
        assert "pg_sleep(30) /* hello \u202e\x1b[31m */" in row.query and row.query_age_s >= 0  # raw: display escapes
        assert row.backend_start is not None and not row.console
        me = s.row(s.self_pid)
        assert me is not None and me.console
        assert any(not r.client for r in s.rows), "background processes are in the sample"
        # filter and sort on real rows
        only = apply_filter(s.rows, ActivityFilter("app:victim query:hello", hide_idle=True))
        assert [r.pid for r in only] == [v.pid]
        assert v.pid not in [r.pid for r in apply_filter(s.rows, ActivityFilter(min_duration_s=3600))]
        assert sort_rows(apply_filter(s.rows, ActivityFilter(clients_only=True)), "pid", descending=False)[0].pid == \
            min(r.pid for r in s.rows if r.client)
        # each session is made without its dataclass __init__: every field is its own, and
        # it is the session __init__ makes of the same values (and as frozen)
        names = {f.name for f in fields(Backend)}
        for r in s.rows:
            assert set(vars(r)) == names, set(vars(r)) ^ names
            assert Backend(**vars(r)) == r
        with pytest.raises(FrozenInstanceError):
            row.state = "idle"  # type: ignore[misc]
    finally:
        v.close(killer=pg)


def test_a_blocked_session_shows_its_chain(fresh_db):
    pg = fresh_db("pipe")
    pg.execute("CREATE TABLE public.t_lock (id int PRIMARY KEY, v int)")
    pg.execute("INSERT INTO public.t_lock VALUES (1, 0)")
    holder = Victim(pg.target.dsn, "holder", autocommit=False)
    holder.execute("UPDATE public.t_lock SET v = 1 WHERE id = 1")       # keeps the row lock, txn open
    waiter = Victim(pg.target.dsn, "waiter").start("UPDATE public.t_lock SET v = 2 WHERE id = 1")
    third = None
    try:
        src = _source(pg)
        s = wait_until(lambda: (lambda x: x if (x.row(waiter.pid) and x.row(waiter.pid).blocked_by) else None)(
            src.sample(pg.name)), "the waiter to be blocked")
        assert s.row(waiter.pid).blocked_by == (holder.pid,)
        assert s.row(waiter.pid).wait_event_type == "Lock"
        third = Victim(pg.target.dsn, "third").start("UPDATE public.t_lock SET v = 3 WHERE id = 1")
        s = wait_until(lambda: (lambda x: x if (x.row(third.pid) and x.row(third.pid).blocked_by) else None)(
            src.sample(pg.name)), "the third session to be blocked")
        chain = blocking_chain(s.rows, holder.pid)
        assert not chain.blockers
        assert {w.pid for w in chain.waiters} == {waiter.pid, third.pid}
        up = blocking_chain(s.rows, third.pid)
        assert holder.pid in {b.pid for b in up.blockers}
        assert up.lines()[0][1].pid in (holder.pid, waiter.pid)
        plan = plan_signal(s, holder.pid, "terminate")
        assert set(plan.sessions[0].blocks) == {waiter.pid, third.pid}
        assert "blocks 2 session(s)" in plan.text() and "idle in transaction" in plan.text()
    finally:
        holder.conn.rollback()
        waiter.close(killer=pg)
        if third is not None:
            third.close(killer=pg)
        holder.close()


def test_cancel_ends_the_query_and_keeps_the_session(fresh_db):
    pg = fresh_db("pipe")
    v = Victim(pg.target.dsn).start("SELECT pg_sleep(600)")
    try:
        wait_until(lambda: active_in(pg, v.pid, "pg_sleep"), "pg_sleep running")
        plan = plan_signal(_source(pg).sample(pg.name), v.pid, "cancel")
        assert "pg_cancel_backend" in plan.text() and "pg_sleep(600)" in plan.text()
        settings = Settings(postgres=(pg.target,))
        with pytest.raises(ReadOnlyError):
            run_signal(replace(settings, read_only=True), pg, plan, actor="dba-1")
        assert active_in(pg, v.pid, "pg_sleep"), "read-only must not cancel"
        assert [r["outcome"] for r in _audit(pg, "activity.cancel")] == ["refused"]
        [res] = run_signal(settings, pg, plan, actor="dba-1")
        assert res.ok and res.confirmed and res.outcome == "ok", res
        v.join()
        assert isinstance(v.error, psycopg.errors.QueryCanceled)
        assert v.alive() and exists(pg, v.pid), "cancel keeps the session"
        rows = _audit(pg, "activity.cancel")
        assert [r["outcome"] for r in rows] == ["refused", "ok"]
        assert rows[1]["actor"] == "dba-1" and rows[1]["settled_at"] is not None
        assert rows[1]["detail"]["pid"] == v.pid and "pg_sleep(600)" in rows[1]["detail"]["query"]
        assert rows[1]["detail"]["confirmed"] is True
    finally:
        v.close(killer=pg)


def test_terminate_ends_the_session(fresh_db):
    pg = fresh_db("pipe")
    v = Victim(pg.target.dsn).start("SELECT pg_sleep(600)")
    try:
        wait_until(lambda: active_in(pg, v.pid, "pg_sleep"), "pg_sleep running")
        plan = plan_signal(_source(pg).sample(pg.name), v.pid, "terminate")
        settings = Settings(postgres=(pg.target,))
        with pytest.raises(ReadOnlyError):
            run_signal(replace(settings, read_only=True), pg, plan, actor="dba-1")
        assert exists(pg, v.pid)
        [res] = run_signal(settings, pg, plan, actor="dba-1")
        assert res.ok and res.confirmed, res
        assert not exists(pg, v.pid)
        v.join()
        assert v.error is not None and not v.alive()
        assert [r["outcome"] for r in _audit(pg, "activity.terminate")] == ["refused", "ok"]
        # the same plan again: the backend is gone, the server-side re-check refuses to hit a reused pid
        [again] = run_signal(settings, pg, plan, actor="dba-1")
        assert not again.ok and again.outcome == "failed" and "no longer" in again.message
    finally:
        v.close(killer=pg)


def test_refusals_own_server_processes_and_other_databases(fresh_db):
    pg = fresh_db("pipe")
    other = fresh_db("pipe")
    v = Victim(other.target.dsn).start("SELECT pg_sleep(600)")
    try:
        wait_until(lambda: active_in(other, v.pid, "pg_sleep"), "pg_sleep running elsewhere")
        s = _source(pg).sample(pg.name)
        bg = next(r.pid for r in s.rows if r.backend_type == "checkpointer")
        plan = plan_signal(s, [s.self_pid, bg, v.pid, 999_999_999], "terminate")
        reasons = dict(plan.refused)
        assert not plan.sessions
        assert "console's own" in reasons[s.self_pid]
        assert "server process (checkpointer)" in reasons[bg]
        # a session of another database is not in this target's sample at all (each client
        # backend is listed under its own database's target), so it cannot be signalled from here
        assert v.pid not in {r.pid for r in s.rows} and "no such session" in reasons[v.pid]
        assert "no such session" in reasons[999_999_999]
        with pytest.raises(SignalRefused):
            run_signal(Settings(postgres=(pg.target,)), pg, plan, actor="dba-1")
        assert exists(other, v.pid) and active_in(other, v.pid, "pg_sleep")
        assert _audit(pg, "activity.terminate") == []
    finally:
        v.close(killer=other)


def test_statements_absent_then_present(fresh_db):
    pg = fresh_db("pipe")
    absent = sample_statements(pg)
    assert not absent.available and absent.loaded and absent.installed is None
    assert absent.how_to == (f'pg_stat_statements is loaded by the server but not created in database '
                             f'"{pg.target.name}". To enable it:\n  1. in database "{pg.target.name}": '
                             f'CREATE EXTENSION pg_stat_statements;')
    pg.execute("CREATE EXTENSION pg_stat_statements")
    marker = f"stmt_{uuid.uuid4().hex[:8]}"
    first = sample_statements(pg, limit=5000)
    assert first.available and first.how_to is None and first.stats_reset is not None
    with pg.connection() as c:
        for i in range(7):
            c.execute(f"SELECT %s::int AS {marker}", (i,))
    second = sample_statements(pg, limit=5000)
    mine = [s for s in second.statements if marker in (s.query or "")]
    assert len(mine) == 1 and mine[0].calls >= 7 and mine[0].rows >= 7
    d = deltas(first, second)
    assert d is not None
    dm = [x for x in d if marker in (x.statement.query or "")]
    assert len(dm) == 1 and dm[0].calls == 7 and dm[0].total_ms >= 0 and dm[0].seconds > 0


def test_replication_slot_wal_rate_and_progress(stack, fresh_db):
    pg = fresh_db("pipe")
    slot = f"t_slot_{uuid.uuid4().hex[:8]}"
    assert pg.fetch("SHOW wal_level")[0]["wal_level"] in ("replica", "logical")
    pg.execute("SELECT pg_create_physical_replication_slot(%s, true)", (slot,))
    holder = writer = None
    try:
        sampler = MaintenanceSampler(pg)
        first = sampler.sample()
        assert first.wal_bytes_s is None and not first.in_recovery
        pg.execute("CREATE TABLE public.t_wal AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 20000) g")
        second = sampler.sample()
        assert second.wal_bytes_s is not None and second.wal_bytes_s > 0
        mine = [s for s in second.slots if s.slot_name == slot]
        assert len(mine) == 1 and mine[0].slot_type == "physical" and not mine[0].active
        assert mine[0].retained_bytes > 4_000_000, "the slot retains the WAL written since it was created"
        assert mine[0].wal_status in ("reserved", "extended")
        assert second.standbys == ()

        # A CREATE INDEX CONCURRENTLY waiting for an open writer is visible with its phase.
        holder = Victim(pg.target.dsn, "writer", autocommit=False)
        holder.execute("UPDATE public.t_wal SET pad = 'y' WHERE id = 1")
        writer = Victim(stack.postgres.dsn(pg.target.name), "indexer").start(
            "CREATE INDEX CONCURRENTLY t_wal_pad ON public.t_wal (pad)")
        # The backend reports "initializing" for a moment before it reaches the wait: wait for the
        # phase the open writer must hold it in, not merely for the row.
        def waiting():
            m = sampler.sample()
            return m if any(p.pid == writer.pid and p.phase and "waiting" in p.phase for p in m.progress) else None
        s = wait_until(waiting, "CREATE INDEX CONCURRENTLY waiting in pg_stat_progress_create_index")
        p = next(p for p in s.progress if p.pid == writer.pid)
        assert p.command == "CREATE INDEX CONCURRENTLY" and p.relation == "t_wal"
        assert p.phase and "waiting" in p.phase and "CREATE INDEX" in p.query
    finally:
        if holder is not None:
            holder.conn.rollback()
            holder.close()
        if writer is not None:
            writer.close(killer=pg)
        pg.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
