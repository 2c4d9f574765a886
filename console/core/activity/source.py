"""The live Activity source: one query per target per tick (``sql/activity*.sql``), on a
pooled connection of the target (``statement_timeout``, ``application_name=console``).

The console's own sessions (``application_name = 'console'``, which every connection of
its pools carries, and the sampling connection itself) are marked ``console=True``: they
are shown, and no action may target them."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from psycopg.rows import dict_row

from ...backends.postgres import APPLICATION_NAME, PostgresBackend
from .model import ActivitySample, Backend
from .sqlfiles import sql_file

ROW_LIMIT = 2000


def backend_from_row(r: dict[str, Any], self_pid: int) -> Backend:
    return Backend(
        pid=int(r["pid"]), datname=r["datname"], usename=r["usename"], application_name=r["application_name"],
        client_addr=r["client_addr"], client_port=r["client_port"], backend_type=r["backend_type"] or "",
        state=r["state"], wait_event_type=r["wait_event_type"], wait_event=r["wait_event"],
        backend_start=r["backend_start"], xact_age_s=r["xact_age_s"], query_age_s=r["query_age_s"],
        state_age_s=r["state_age_s"], query=r["query"], blocked_by=tuple(r["blocked_by"] or ()),
        query_id=r["query_id"], leader_pid=r["leader_pid"],
        console=r["pid"] == self_pid or r["application_name"] == APPLICATION_NAME)


def is_console_session(application_name: str | None, pid: int, self_pid: int | None = None) -> bool:
    return application_name == APPLICATION_NAME or (self_pid is not None and pid == self_pid)


def sample_backend(backend: PostgresBackend, *, row_limit: int = ROW_LIMIT) -> ActivitySample:
    """One sample of pg_stat_activity through ``backend`` (blocks; call from a worker)."""
    started = time.perf_counter()
    # One statement, one snapshot of pg_stat_activity: in autocommit (no BEGIN and COMMIT
    # round trips, each as costly to the console as the query itself).
    with backend.connection(autocommit=True) as conn, conn.cursor(row_factory=dict_row) as cur:
        version = conn.info.server_version
        cur.execute(sql_file("activity", version), {"limit": row_limit + 1})
        rows = cur.fetchall()
        if not rows:   # pg_stat_activity always shows this session; defensive only
            cur.execute("SELECT extract(epoch FROM clock_timestamp())::float8 AS at, pg_backend_pid() AS self_pid, "
                        "current_database() AS self_datname")
            rows_meta = cur.fetchone()
        else:
            rows_meta = rows[0]
    truncated = len(rows) > row_limit
    rows = rows[:row_limit]
    self_pid = int(rows_meta["self_pid"])
    return ActivitySample(
        target=backend.name, taken_at=datetime.fromtimestamp(rows_meta["at"], timezone.utc), version_num=version,
        datname=rows_meta["self_datname"], self_pid=self_pid,
        rows=tuple(backend_from_row(r, self_pid) for r in rows), truncated=truncated,
        elapsed_ms=(time.perf_counter() - started) * 1000)


class ActivitySource:
    """Every PostgreSQL target's backends. ``sample`` blocks (call it from a worker thread)
    and raises ``BackendError`` on failure; it keeps no state between ticks."""

    def __init__(self, postgres: dict[str, PostgresBackend], *, row_limit: int = ROW_LIMIT):
        self._pg = dict(postgres)
        self.row_limit = row_limit

    @classmethod
    def from_backends(cls, backends) -> "ActivitySource":
        return cls(dict(backends.postgres))

    @property
    def targets(self) -> list[str]:
        return list(self._pg)

    def backend(self, target: str) -> PostgresBackend:
        return self._pg[target]

    def sample(self, target: str) -> ActivitySample:
        return sample_backend(self._pg[target], row_limit=self.row_limit)
