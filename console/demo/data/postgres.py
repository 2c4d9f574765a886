"""Filling every PostgreSQL target: the entry point the demo and the tests call."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable


from ...backends.postgres import PostgresBackend
from .partitions import (PARTITIONED, utc, partition_months, create_partitions)
from .lambda_ import (fill_lambda)
from .accesslog import (fill_accesslog)
from .pipe import (fill_pipe)
from .learning import (fill_learning)


# --------------------------------------------------------------------------- PostgreSQL entry point

FILLERS: dict[str, Callable[..., dict[str, int]]] = {
    "lambda": fill_lambda, "accesslog": fill_accesslog, "pipe": fill_pipe, "learning": fill_learning}


@dataclass
class FillReport:
    """What fill_postgres made, per system: partitions created, the gap month, row counts."""

    partitions: dict[str, list[str]] = field(default_factory=dict)
    gap: dict[str, str] = field(default_factory=dict)        # system -> missing partition's name
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def fill_system(backend: PostgresBackend, now: datetime, *, rows: int, seed: int, report: FillReport) -> None:
    system = backend.target.system
    spec = PARTITIONED[system]
    started = time.perf_counter()
    rng = random.Random(f"{seed}:{system}")
    months, gap = partition_months(now, spec)
    start = utc(months[0])
    with backend.connect(autocommit=True, statement_timeout_ms=0) as conn:
        with conn.transaction():
            report.partitions[system] = create_partitions(conn, spec, months)
            report.gap[system] = spec.partition_name(gap)
            report.rows[system] = FILLERS[system](conn, rng, now, start, rows)
        # Row estimates (reltuples) are what the console reads; a small sample gets them
        # right at a fraction of the default target's cost on the JSONB columns.
        conn.execute("SET default_statistics_target = 10")
        conn.execute("ANALYZE")
    report.seconds[system] = time.perf_counter() - started


DEFAULT_ROWS = {"accesslog": 80_000, "pipe": 25_000, "learning": 20_000}


def fill_postgres(backends: dict[str, PostgresBackend], now: datetime, *, request_log_rows: int = 200_000,
                  seed: int = 1, rows: dict[str, int] | None = None, parallel: bool = True) -> FillReport:
    """Fill every lambda / accesslog / pipe / learning target (other systems are skipped;
    zengin has :mod:`console.demo.zengin`). One transaction per target, then ANALYZE so
    that the catalog's row estimates exist. Targets run in parallel threads: the
    server's COPY and index work overlaps the row generation of the others."""
    counts = {**DEFAULT_ROWS, **(rows or {}), "lambda": request_log_rows}
    report = FillReport()
    todo = [b for b in backends.values() if b.target.system in PARTITIONED]
    # The biggest first, so that it is never the one left running alone at the end.
    todo.sort(key=lambda b: -counts[b.target.system])
    if not parallel:
        for b in todo:
            fill_system(b, now, rows=counts[b.target.system], seed=seed, report=report)
        return report
    errors: list[BaseException] = []

    def run(b: PostgresBackend) -> None:
        try:
            fill_system(b, now, rows=counts[b.target.system], seed=seed, report=report)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(b,), name=f"fill-{b.name}") for b in todo]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return report
