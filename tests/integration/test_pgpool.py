"""The thread-less connection pool against the real PostgreSQL: bounded, reused, checked,
transactional, and it starts no thread however many targets there are."""

from __future__ import annotations

import threading

import psycopg
import pytest

from console.backends.base import BackendError, ErrorKind
from console.backends.pgpool import PoolBusy, SmallPool
from console.backends.postgres import PostgresBackend
from console.config import PostgresTarget

from ..activity_helpers import wait_until


def _pool(dsn: str, **kw) -> SmallPool:
    return SmallPool(lambda: psycopg.connect(dsn, application_name="pgpool-test"), **kw)


def _pid(conn) -> int:
    return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def test_idle_connection_is_reused_and_bounded(fresh_db):
    pg = fresh_db("lambda")
    pool = _pool(pg.target.dsn, max_size=2, timeout_s=0.3)
    try:
        with pool.connection() as c:
            first = _pid(c)
        with pool.connection() as c:
            assert _pid(c) == first, "an idle connection is reused"
        with pool.connection() as a, pool.connection() as b:
            assert _pid(a) != _pid(b)
            with pytest.raises(PoolBusy):
                with pool.connection():
                    pass
        assert pool.idle == 2
    finally:
        pool.close()
    assert pool.idle == 0


def test_commit_on_success_rollback_on_error(fresh_db):
    pg = fresh_db("lambda")
    pg.execute("CREATE TABLE public.t_pool (v int)")
    pool = _pool(pg.target.dsn)
    try:
        with pool.connection() as c:
            c.execute("INSERT INTO public.t_pool VALUES (1)")
        with pytest.raises(RuntimeError):
            with pool.connection() as c:
                c.execute("INSERT INTO public.t_pool VALUES (2)")
                raise RuntimeError("boom")
        with pool.connection() as c:
            assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert [r["v"] for r in pg.fetch("SELECT v FROM public.t_pool")] == [1]
    finally:
        pool.close()


def _gone(pg, pid: int) -> bool:
    return not pg.fetch("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))


def test_a_connection_the_server_ended_is_replaced(fresh_db):
    pg = fresh_db("lambda")
    pool = _pool(pg.target.dsn)
    try:
        with pool.connection() as c:
            old = _pid(c)
        pg.execute("SELECT pg_terminate_backend(%s)", (old,))
        wait_until(lambda: _gone(pg, old), what="the terminated backend to exit")
        with pool.connection() as c:
            new = _pid(c)
        assert new != old
    finally:
        pool.close()


def test_a_quiet_idle_connection_is_reused_without_a_round_trip(fresh_db, monkeypatch):
    """Nothing waiting on an idle connection's socket: it is taken as it is (the empty-query
    check is a round trip each refresh pays); something waiting (the server's farewell):
    checked, and replaced when the check fails."""
    import console.backends.pgpool as pgpool

    checked: list[int] = []
    real_check = pgpool.check
    monkeypatch.setattr(pgpool, "check", lambda conn: (checked.append(1), real_check(conn)))
    pg = fresh_db("lambda")
    pool = _pool(pg.target.dsn)
    try:
        with pool.connection() as c:
            first = _pid(c)
        for _ in range(3):
            with pool.connection() as c:
                assert _pid(c) == first
        assert checked == [], "a connection with nothing to read was checked with a round trip"
        pg.execute("SELECT pg_terminate_backend(%s)", (first,))
        wait_until(lambda: _gone(pg, first), what="the terminated backend to exit")
        with pool.connection() as c:
            assert _pid(c) != first
        assert checked == [1], "the ended connection was not checked before reuse"
    finally:
        pool.close()


def test_autocommit_blocks_commit_each_statement_and_hand_back_a_transactional_connection(fresh_db):
    pg = fresh_db("lambda")
    pg.execute("CREATE TABLE public.t_auto (v int)")
    pool = _pool(pg.target.dsn, max_size=1)
    try:
        with pytest.raises(RuntimeError):
            with pool.connection(autocommit=True) as c:
                assert c.autocommit
                c.execute("INSERT INTO public.t_auto VALUES (1)")
                assert c.info.transaction_status == psycopg.pq.TransactionStatus.IDLE, "no transaction open"
                raise RuntimeError("after the statement")
        assert [r["v"] for r in pg.fetch("SELECT v FROM public.t_auto")] == [1], "committed on its own"
        with pool.connection() as c:
            assert not c.autocommit, "the next caller's block is a transaction again"
            c.execute("INSERT INTO public.t_auto VALUES (2)")
            assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    finally:
        pool.close()


def test_backend_errors_are_the_real_reason(stack):
    """A wrong database is 'not found' at once (psycopg-pool said only 'timed out' after the
    whole wait), and a busy pool is a timeout that says so."""
    t = PostgresTarget(name="nope", system="lambda", dsn=stack.postgres.dsn("no_such_db_here"))
    b = PostgresBackend(t)
    try:
        with pytest.raises(BackendError) as exc:
            b.fetch("SELECT 1")
        assert exc.value.kind == ErrorKind.NOT_FOUND
    finally:
        b.close()


def test_forty_targets_start_no_thread(fresh_db):
    pg = fresh_db("lambda")
    before = threading.active_count()
    backends = [PostgresBackend(PostgresTarget(name=f"t{i}", system="lambda", dsn=pg.target.dsn))
                for i in range(40)]
    try:
        for b in backends:
            assert b.fetch("SELECT 1 AS one") == [{"one": 1}]
        assert threading.active_count() == before
        n = pg.fetch("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
                     "AND application_name = 'console' AND pid <> pg_backend_pid()")[0]["n"]
        assert n >= 40
    finally:
        for b in backends:
            b.close()
    # A backend process leaves pg_stat_activity a moment after its client closed the socket.
    wait_until(lambda: pg.fetch(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name = 'console' AND pid <> pg_backend_pid()")[0]["n"] == 0,
        "closing the backends closes their idle connections")
