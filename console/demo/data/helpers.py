"""Shared by the fillers: timelines, weighted choices, COPY, index rebuilds."""

from __future__ import annotations

import contextlib
import json
import random
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Sequence

import psycopg
from psycopg import sql

from ...core.partitions import add_months
from .partitions import (month_of, utc)


# --------------------------------------------------------------------------- helpers


def timeline(rng: random.Random, start: datetime, end: datetime, count: int,
             monthly_growth: float = 1.06) -> Iterator[datetime]:
    """``count`` ascending instants between ``start`` and ``end``, each month a little
    busier than the one before (traffic grows)."""
    spans: list[tuple[float, float]] = []
    if count <= 0 or start >= end:
        return
    m = month_of(start)
    while utc(m) < end:
        lo = max(utc(m), start).timestamp()
        hi = min(utc(add_months(m, 1)), end).timestamp()
        spans.append((lo, hi))
        m = add_months(m, 1)
    weights = [(hi - lo) * monthly_growth ** i for i, (lo, hi) in enumerate(spans)]
    total = sum(weights)
    counts = [int(count * w / total) for w in weights]
    counts[-1] += count - sum(counts)
    for (lo, hi), n in zip(spans, counts):
        for t in sorted(rng.uniform(lo, hi) for _ in range(n)):
            yield datetime.fromtimestamp(t, timezone.utc)


def rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]], size: int = 1000) -> list[Any]:
    """A lookup list: ``table[rng.randrange(len(table))]`` is a weighted draw, much
    cheaper per row than ``rng.choices``."""
    total = sum(w for _, w in pairs)
    out: list[Any] = []
    for value, w in pairs:
        out += [value] * max(1, round(size * w / total))
    rng.shuffle(out)
    return out


def copy_rows(conn: psycopg.Connection, table: sql.Composable, columns: Sequence[str],
              rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(table, sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


@contextlib.contextmanager
def indexes_rebuilt_after(conn: psycopg.Connection, table: sql.Identifier) -> Iterator[None]:
    """Drop ``table``'s indexes and primary / unique keys, run the block, then create the
    very same definitions again (``pg_get_indexdef`` / ``pg_get_constraintdef``): one
    sorted build per index instead of a million random B-tree inserts."""
    rel = table.as_string(conn)
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY conname", (rel,)).fetchall()
    indexes = conn.execute(
        "SELECT n.nspname, i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace "
        "WHERE x.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid) ORDER BY i.relname", (rel,)).fetchall()
    for schema, name, _definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, name)))
    for name, _definition in constraints:
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, sql.Identifier(name)))
    yield
    for name, definition in constraints:
        conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(table, sql.Identifier(name))
                     + sql.SQL(definition))
    for _schema, _name, definition in indexes:
        # A partitioned parent's definition reads "ON ONLY": without it, the index is
        # built on every partition too, as the original was.
        conn.execute(sql.SQL(definition.replace(" ON ONLY ", " ON ", 1)))


def insert_many(conn: psycopg.Connection, table: sql.Composable, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> int:
    stmt = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    with conn.cursor() as cur:
        cur.executemany(stmt, rows)
    return len(rows)


def T(schema: str, name: str) -> sql.Identifier:
    return sql.Identifier(schema, name)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
