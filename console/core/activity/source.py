"""The live Activity source: one query per target per tick (``sql/activity*.sql``), on a
pooled connection of the target (``statement_timeout``, ``application_name=console``).

The console's own sessions (``application_name = 'console'``, which every connection of
its pools carries, and the sampling connection itself) are marked ``console=True``: they
are shown, and no action may target them."""

from __future__ import annotations

import time
from dataclasses import fields
from datetime import datetime, timezone
from typing import Any, Sequence

from ...backends.postgres import APPLICATION_NAME, PostgresBackend
from .model import ActivitySample, Backend
from .sqlfiles import sql_file

ROW_LIMIT = 2000


# The activity query's columns are named as Backend's fields; ``console`` is worked out here.
_COLUMNS = tuple(f.name for f in fields(Backend) if f.name != "console")


def backends_from_rows(rows: Sequence[Sequence[Any]], names: Sequence[str], self_pid: int) -> tuple[Backend, ...]:
    """The sessions of a sample's rows (``names``: the columns), made for every row of
    every tick. A frozen dataclass's ``__init__`` sets each of its 19 fields through
    ``object.__setattr__``, which was a third of a sample's CPU (0.48 of 1.4 ms for 64 rows,
    measured between 1 s pauses as the screen runs it), so each instance gets its fields in
    one ``__dict__`` update: the same fields, and still frozen after."""
    at = [(name, names.index(name)) for name in _COLUMNS]
    new = object.__new__
    out = []
    for r in rows:
        values = {name: r[i] for name, i in at}
        values["pid"] = pid = int(values["pid"])
        values["backend_type"] = values["backend_type"] or ""
        values["blocked_by"] = tuple(values["blocked_by"] or ())
        values["console"] = pid == self_pid or values["application_name"] == APPLICATION_NAME
        b = new(Backend)
        b.__dict__.update(values)
        out.append(b)
    return tuple(out)


def is_console_session(application_name: str | None, pid: int, self_pid: int | None = None) -> bool:
    return application_name == APPLICATION_NAME or (self_pid is not None and pid == self_pid)


def sample_backend(backend: PostgresBackend, *, row_limit: int = ROW_LIMIT) -> ActivitySample:
    """One sample of pg_stat_activity through ``backend`` (blocks; call from a worker)."""
    started = time.perf_counter()
    # One statement, one snapshot of pg_stat_activity: in autocommit (no BEGIN and COMMIT
    # round trips, each as costly to the console as the query itself).
    with backend.connection(autocommit=True) as conn, conn.cursor() as cur:
        version = conn.info.server_version
        cur.execute(sql_file("activity", version), {"limit": row_limit + 1})
        rows = cur.fetchall()
        names = [col.name for col in cur.description or ()]
        if not rows:   # pg_stat_activity always shows this session; defensive only
            cur.execute("SELECT extract(epoch FROM clock_timestamp())::float8 AS at, pg_backend_pid() AS self_pid, "
                        "current_database() AS self_datname")
            meta = dict(zip([col.name for col in cur.description or ()], cur.fetchone() or ()))
        else:
            meta = dict(zip(names, rows[0]))
    truncated = len(rows) > row_limit
    rows = rows[:row_limit]
    self_pid = int(meta["self_pid"])
    return ActivitySample(
        target=backend.name, taken_at=datetime.fromtimestamp(meta["at"], timezone.utc), version_num=version,
        datname=meta["self_datname"], self_pid=self_pid,
        rows=backends_from_rows(rows, names, self_pid), truncated=truncated,
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
