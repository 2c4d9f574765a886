"""Replication and maintenance of one PostgreSQL target: replication slots and the WAL
each one retains, standbys and their lag, WAL generated per second (two samples of the
WAL position), and the VACUUM / ANALYZE / CREATE INDEX / CLUSTER commands running now
with their progress (pg_stat_progress_*). One pooled connection checkout per sample."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from psycopg.rows import dict_row

from ...backends.postgres import PostgresBackend
from .sqlfiles import sql_file


@dataclass(frozen=True)
class Slot:
    slot_name: str
    slot_type: str
    database: str | None
    active: bool
    active_pid: int | None
    temporary: bool
    restart_lsn: str | None
    confirmed_flush_lsn: str | None
    retained_bytes: float | None     # WAL kept on disk for this slot (None: never reserved)
    wal_status: str | None           # reserved | extended | unreserved | lost (13+)
    safe_wal_size: float | None


@dataclass(frozen=True)
class Standby:
    pid: int
    application_name: str | None
    client_addr: str | None
    state: str | None
    sync_state: str | None
    sent_lsn: str | None
    replay_lsn: str | None
    send_lag_bytes: float | None
    replay_lag_bytes: float | None
    write_lag_s: float | None
    flush_lag_s: float | None
    replay_lag_s: float | None


@dataclass(frozen=True)
class Progress:
    command: str                     # VACUUM, ANALYZE, CREATE INDEX [CONCURRENTLY], CLUSTER, VACUUM FULL
    pid: int
    datname: str | None
    phase: str | None
    relation: str | None
    done: float | None
    total: float | None
    unit: str
    percent: float | None
    age_s: float | None
    usename: str | None
    query: str | None


@dataclass(frozen=True)
class MaintenanceSample:
    target: str
    taken_at: datetime
    version_num: int
    in_recovery: bool
    wal_level: str
    lsn_bytes: float                 # WAL position, bytes from 0/0 (a counter)
    replay_delay_s: float | None     # on a standby: now - last replayed transaction
    slots: tuple[Slot, ...]
    standbys: tuple[Standby, ...]
    progress: tuple[Progress, ...]
    wal_bytes_s: float | None = None  # from the previous sample of the same sampler
    elapsed_ms: float = 0.0

    @property
    def retained_bytes(self) -> float:
        return sum(s.retained_bytes or 0 for s in self.slots)


def wal_rate(prev: MaintenanceSample | None, cur: MaintenanceSample) -> float | None:
    """WAL bytes per second between two samples; None without a previous one, or when the
    position went backwards (a different server, a promoted standby).

    >>> m = lambda at, lsn: MaintenanceSample('t', datetime.fromtimestamp(at, timezone.utc), 180000, False,
    ...                                       'replica', lsn, None, (), (), ())
    >>> wal_rate(m(0, 1000.0), m(2, 5096.0))
    2048.0
    """
    if prev is None:
        return None
    dt = (cur.taken_at - prev.taken_at).total_seconds()
    if dt <= 0 or cur.lsn_bytes < prev.lsn_bytes:
        return None
    return (cur.lsn_bytes - prev.lsn_bytes) / dt


class MaintenanceSampler:
    """Samples one target; keeps the previous WAL position for the rate (one worker at a
    time, like metrics.PgCollector)."""

    def __init__(self, backend: PostgresBackend):
        self.backend = backend
        self._prev: MaintenanceSample | None = None

    def sample(self) -> MaintenanceSample:
        started = time.perf_counter()
        with self.backend.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            v = conn.info.server_version

            def q(name: str) -> list[dict]:
                cur.execute(sql_file(name, v))
                return cur.fetchall()

            wal = q("wal")[0]
            slots = tuple(Slot(**r) for r in q("slots"))
            standbys = tuple(Standby(**r) for r in q("standbys"))
            progress = tuple(Progress(**r) for r in q("progress"))
        s = MaintenanceSample(self.backend.name, datetime.fromtimestamp(wal["at"], timezone.utc), v,
                              bool(wal["in_recovery"]), wal["wal_level"], float(wal["lsn_bytes"] or 0),
                              wal["replay_delay_s"], slots, standbys, progress)
        s = replace(s, wal_bytes_s=wal_rate(self._prev, s), elapsed_ms=(time.perf_counter() - started) * 1000)
        self._prev = s
        return s
