"""Findings -> the DDL that fixes them, as :class:`~console.core.plan.Step` objects with
their lock and hazard, and a :class:`~console.core.plan.Plan` for a chosen set.

Index builds on live tables use ``CREATE INDEX CONCURRENTLY`` outside a transaction; on a
partitioned parent (where CONCURRENTLY is not supported) the index is created ``ON ONLY``
the parent, built concurrently on each partition and attached, so no partition is locked
against writes for the length of a build. Dropping anything is destructive and is never
selected by default."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Iterable

from psycopg import sql

from ..plan import Hazard, Plan, Step
from .catalog import Column, Index, Snapshot, Table, split_indexdef
from .compare import DRIFTED, KINDS, MISSING, UNEXPECTED, Finding

ACTION = "schema.apply"


def ident(*parts: str) -> str:
    """Quoted (schema-)qualified identifier, through psycopg.sql.Identifier."""
    return sql.Identifier(*parts).as_string(None)


def qkey(key: str) -> str:
    """'schema.name' -> '"schema"."name"'."""
    schema, _, name = key.partition(".")
    return ident(schema, name) if name else ident(schema)


def short_name(base: str, suffix: str) -> str:
    """``base + suffix`` within PostgreSQL's 63-byte identifier limit (a hash keeps it unique)."""
    name = base + suffix
    if len(name.encode()) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    keep = 63 - len(suffix.encode()) - 9
    return base.encode()[:keep].decode(errors="ignore") + "_" + digest + suffix


def column_sql(c: Column) -> str:
    out = f"{ident(c.name)} {c.type}"
    if c.generated and c.default is not None:
        out += f" GENERATED ALWAYS AS ({c.default}) STORED"
    elif c.default is not None:
        out += f" DEFAULT {c.default}"
    if c.identity:
        out += " GENERATED " + ("ALWAYS" if c.identity == "a" else "BY DEFAULT") + " AS IDENTITY"
    if c.not_null:
        out += " NOT NULL"
    return out


def create_table_sql(t: Table) -> str:
    items = [column_sql(c) for c in t.columns]
    order = {"p": 0, "u": 1, "c": 2, "x": 3, "f": 4}
    items += [f"CONSTRAINT {ident(k.name)} {k.definition}"
              for k in sorted(t.constraints, key=lambda k: (order.get(k.kind, 9), k.name))]
    out = f"CREATE TABLE {qkey(t.key)} (\n    " + ",\n    ".join(items) + "\n)"
    if t.partition_key:
        out += f" PARTITION BY {t.partition_key}"
    return out


def _lock(mode: str, key: str | None) -> str:
    return f"{mode} on {key}" if key else mode


def _is_partitioned(key: str, *snaps: Snapshot) -> bool:
    return any((t := s.tables.get(key)) is not None and t.kind == "p" for s in snaps)


def _index_sql(ix_def: str, name: str, table: str, *, concurrently: bool, only: bool = False) -> str:
    unique, _, _, body = split_indexdef(ix_def)
    return (f"CREATE {'UNIQUE ' if unique else ''}INDEX {'CONCURRENTLY ' if concurrently else ''}"
            f"{ident(name)} ON {'ONLY ' if only else ''}{qkey(table)} {body}")


def _partitioned_index_steps(ix: Index, name: str, live: Snapshot, what: str) -> list[Step]:
    """ON ONLY parent, then CONCURRENTLY per partition + ATTACH: the parent becomes valid
    when the last partition is attached."""
    steps = [Step(f"{what}: create {name} on the parent only (no build)",
                  _index_sql(ix.definition, name, ix.table, concurrently=False, only=True),
                  lock=_lock("SHARE", ix.table), hazard=Hazard.LOCK)]
    for p in live.partitions_of(ix.table):
        child = short_name(p.name, "_" + hashlib.sha1(name.encode()).hexdigest()[:6] + "_idx")
        steps.append(Step(f"build {child} on partition {p.key}",
                          _index_sql(ix.definition, child, p.key, concurrently=True),
                          lock=_lock("SHARE UPDATE EXCLUSIVE", p.key), hazard=Hazard.INDEX_BUILD,
                          transactional=False))
        steps.append(Step(f"attach {child} to {name}",
                          f"ALTER INDEX {ident(ix.schema, name)} ATTACH PARTITION {ident(p.schema, child)}"))
    return steps


def steps_for(f: Finding, expected: Snapshot, live: Snapshot) -> list[Step]:  # noqa: C901 - one case per kind
    e, a = f.expected_obj, f.actual_obj
    kind, st = f.kind, f.status
    tbl = f.table
    if kind == "schema":
        if st == MISSING:
            return [Step(f"create schema {f.object}", f"CREATE SCHEMA IF NOT EXISTS {ident(f.object)}")]
        return [Step(f"drop schema {f.object} (fails if not empty)", f"DROP SCHEMA {ident(f.object)}",
                     hazard=Hazard.DESTRUCTIVE)]
    if kind == "extension":
        return [Step(f"create extension {f.object}", f"CREATE EXTENSION IF NOT EXISTS {ident(f.object)}")]
    if kind in ("table", "partitioned table"):
        if st == MISSING:
            return [Step(f"create table {f.object}", create_table_sql(e))]
        if st == UNEXPECTED:
            return [Step(f"drop table {f.object} and its rows", f"DROP TABLE {qkey(f.object)}",
                         lock=_lock("ACCESS EXCLUSIVE", f.object), hazard=Hazard.DESTRUCTIVE)]
        return []  # partitioning strategy / key: recreate and move rows by hand
    if kind == "partition":
        if st == MISSING:
            return [Step(f"create partition {f.object}",
                         f"CREATE TABLE {qkey(f.object)} PARTITION OF {qkey(e.parent)} {e.bound}",
                         lock=_lock("ACCESS EXCLUSIVE", e.parent), hazard=Hazard.LOCK)]
        return [Step(f"attach {f.object} to {e.parent}",
                     f"ALTER TABLE {qkey(e.parent)} ATTACH PARTITION {qkey(f.object)} {e.bound}",
                     lock=_lock("SHARE UPDATE EXCLUSIVE", e.parent), hazard=Hazard.LOCK)]
    if kind == "column":
        alter = f"ALTER TABLE {qkey(tbl)}"
        lock = _lock("ACCESS EXCLUSIVE", tbl)
        if st == MISSING:
            return [Step(f"add column {f.object}", f"{alter} ADD COLUMN {column_sql(e)}", lock=lock,
                         hazard=Hazard.LOCK)]
        if st == UNEXPECTED:
            return [Step(f"drop column {f.object} and its data", f"{alter} DROP COLUMN {ident(a.name)}",
                         lock=lock, hazard=Hazard.DESTRUCTIVE)]
        col = ident(e.name)
        subs: list[str] = []
        if e.default != a.default and a.default is not None:
            subs.append(f"ALTER COLUMN {col} DROP DEFAULT")
        if e.type != a.type:
            subs.append(f"ALTER COLUMN {col} TYPE {e.type} USING {col}::{e.type}")
        if e.default != a.default and e.default is not None:
            subs.append(f"ALTER COLUMN {col} SET DEFAULT {e.default}")
        if e.not_null != a.not_null:
            subs.append(f"ALTER COLUMN {col} {'SET' if e.not_null else 'DROP'} NOT NULL")
        if not subs:
            return []  # identity / generated: by hand
        title = f"alter column {f.object}" + (" (rewrites the table)" if e.type != a.type else "")
        return [Step(title, f"{alter}\n    " + ",\n    ".join(subs), lock=lock, hazard=Hazard.LOCK)]
    if kind == "constraint":
        alter = f"ALTER TABLE {qkey(tbl)}"
        lock = _lock("ACCESS EXCLUSIVE", tbl)
        if st == MISSING:
            return [Step(f"add constraint {f.object}", f"{alter} ADD CONSTRAINT {ident(e.name)} {e.definition}",
                         lock=lock, hazard=Hazard.LOCK)]
        if st == UNEXPECTED:
            return [Step(f"drop constraint {f.object}", f"{alter} DROP CONSTRAINT {ident(a.name)}", lock=lock,
                         hazard=Hazard.DESTRUCTIVE)]
        return [Step(f"redefine constraint {f.object}",
                     f"{alter}\n    DROP CONSTRAINT {ident(a.name)},\n    ADD CONSTRAINT {ident(e.name)} {e.definition}",
                     lock=lock, hazard=Hazard.LOCK)]
    if kind in ("view", "materialized view"):
        lock = _lock("ACCESS EXCLUSIVE", f.object)
        if st == UNEXPECTED:
            return [Step(f"drop {kind} {f.object}",
                         f"DROP {'MATERIALIZED ' if a.materialized else ''}VIEW {qkey(f.object)}",
                         lock=lock, hazard=Hazard.DESTRUCTIVE)]
        body = e.definition.strip().rstrip(";")
        if not e.materialized:
            return [Step(f"{'create' if st == MISSING else 'replace'} view {f.object}",
                         f"CREATE OR REPLACE VIEW {qkey(f.object)} AS\n{body}", lock=lock, hazard=Hazard.LOCK)]
        stmts = []
        if st == DRIFTED:
            stmts.append(f"DROP {'MATERIALIZED ' if a.materialized else ''}VIEW {qkey(f.object)}")
        stmts.append(f"CREATE MATERIALIZED VIEW {qkey(f.object)} AS\n{body}\nWITH DATA")
        if st == DRIFTED:  # its indexes went with it
            stmts += [_index_sql(ix.definition, ix.name, ix.table, concurrently=False)
                      for ix in expected.indexes_on(f.object)]
        return [Step(f"{'create' if st == MISSING else 'recreate'} materialized view {f.object}",
                     ";\n".join(stmts), lock=lock, hazard=Hazard.LOCK)]
    if kind == "index":
        if st == UNEXPECTED:
            if _is_partitioned(a.table, live):
                return [Step(f"drop index {f.object}", f"DROP INDEX {qkey(f.object)}",
                             lock=_lock("ACCESS EXCLUSIVE", a.table), hazard=Hazard.DESTRUCTIVE)]
            return [Step(f"drop index {f.object}", f"DROP INDEX CONCURRENTLY {qkey(f.object)}",
                         lock=_lock("SHARE UPDATE EXCLUSIVE", a.table), hazard=Hazard.DESTRUCTIVE,
                         transactional=False)]
        if st == DRIFTED and a.normalized == e.normalized:   # same definition, invalid
            return [Step(f"rebuild invalid index {f.object}", f"REINDEX INDEX CONCURRENTLY {qkey(f.object)}",
                         lock=_lock("SHARE UPDATE EXCLUSIVE", e.table), hazard=Hazard.INDEX_BUILD,
                         transactional=False)]
        if e.table not in live.tables and e.table not in live.views:
            # the table is created by this plan: empty, a plain build is instant
            return [Step(f"create index {f.object}", _index_sql(e.definition, e.name, e.table, concurrently=False),
                         lock=_lock("SHARE", e.table), hazard=Hazard.INDEX_BUILD)]
        partitioned = _is_partitioned(e.table, live, expected)
        if st == MISSING:
            if partitioned:
                return _partitioned_index_steps(e, e.name, live, f"create index {f.object}")
            return [Step(f"build index {f.object}", _index_sql(e.definition, e.name, e.table, concurrently=True),
                         lock=_lock("SHARE UPDATE EXCLUSIVE", e.table), hazard=Hazard.INDEX_BUILD,
                         transactional=False)]
        tmp = short_name(e.name, "_new")
        if partitioned:
            steps = _partitioned_index_steps(e, tmp, live, f"replace index {f.object}")
            steps.append(Step(f"drop the old {f.object}", f"DROP INDEX {qkey(f.object)}",
                              lock=_lock("ACCESS EXCLUSIVE", e.table), hazard=Hazard.LOCK))
        else:
            steps = [Step(f"build the correct {f.object} as {tmp}",
                          _index_sql(e.definition, tmp, e.table, concurrently=True),
                          lock=_lock("SHARE UPDATE EXCLUSIVE", e.table), hazard=Hazard.INDEX_BUILD,
                          transactional=False),
                     Step(f"drop the old {f.object}", f"DROP INDEX CONCURRENTLY {qkey(f.object)}",
                          lock=_lock("SHARE UPDATE EXCLUSIVE", e.table), hazard=Hazard.LOCK, transactional=False)]
        steps.append(Step(f"rename {tmp} to {e.name}", f"ALTER INDEX {ident(e.schema, tmp)} RENAME TO {ident(e.name)}",
                          lock=_lock("SHARE UPDATE EXCLUSIVE", f.object), hazard=Hazard.LOCK))
        return steps
    if kind == "partition index":
        part: Table = a
        src: Index = e
        from_parent = src.table != part.key and src.table == part.parent
        if from_parent:
            child = short_name(part.name, "_" + src.name.removeprefix("idx_") + "_idx")
        else:
            sib = src.table.partition(".")[2]
            child = (src.name.replace(sib, part.name) if sib and sib in src.name
                     else short_name(part.name, "_" + hashlib.sha1(src.body.encode()).hexdigest()[:6] + "_idx"))
            child = short_name(child, "") if len(child.encode()) > 63 else child
        steps = [Step(f"build {child} on partition {part.key}",
                      _index_sql(src.definition, child, part.key, concurrently=True),
                      lock=_lock("SHARE UPDATE EXCLUSIVE", part.key), hazard=Hazard.INDEX_BUILD,
                      transactional=False)]
        if from_parent:
            steps.append(Step(f"attach {child} to {src.key}",
                              f"ALTER INDEX {qkey(src.key)} ATTACH PARTITION {ident(part.schema, child)}"))
        return steps
    if kind == "function":
        if st == UNEXPECTED:
            word = "PROCEDURE" if a.kind == "p" else "FUNCTION"
            return [Step(f"drop {word.lower()} {f.object}", f"DROP {word} {ident(a.schema, a.name)}({a.args})",
                         hazard=Hazard.DESTRUCTIVE)]
        return [Step(f"{'create' if st == MISSING else 'replace'} function {f.object}", e.definition.strip())]
    if kind == "trigger":
        lock = _lock("SHARE ROW EXCLUSIVE", tbl)
        drop = f"DROP TRIGGER {ident(f.name)} ON {qkey(tbl)}"
        if st == UNEXPECTED:
            return [Step(f"drop trigger {f.object}", drop, lock=lock, hazard=Hazard.DESTRUCTIVE)]
        stmts = ([drop] if st == DRIFTED else []) + [e.definition]
        return [Step(f"{'create' if st == MISSING else 'recreate'} trigger {f.object}", ";\n".join(stmts),
                     lock=lock, hazard=Hazard.LOCK)]
    return []


def attach(findings: Iterable[Finding], expected: Snapshot, live: Snapshot, target: str = "") -> list[Finding]:
    """Each finding with its fix steps (target and group set)."""
    out = []
    for f in findings:
        steps = tuple(dataclasses.replace(s, target=target, group=f.id) for s in steps_for(f, expected, live))
        out.append(dataclasses.replace(f, steps=steps))
    return out


def default_selection(findings: Iterable[Finding]) -> set[str]:
    """What 'apply fixes' selects unless told otherwise: every fixable, non-destructive finding."""
    return {f.id for f in findings if f.steps and not f.destructive}


def build_plan(target: str, findings: Iterable[Finding], *, selected: set[str] | None = None,
               allow_destructive: bool = False) -> Plan:
    """The plan for the chosen findings: creations and alterations first (schemas,
    functions, tables, ... triggers), then drops in the reverse order. Destructive fixes
    are only included when ``allow_destructive`` (and, with ``selected``, chosen)."""
    findings = [f for f in findings if f.steps]
    chosen = [f for f in findings if (selected is None or f.id in selected)
              and (allow_destructive or not f.destructive)]
    build = sorted((f for f in chosen if f.status != UNEXPECTED), key=lambda f: (KINDS.index(f.kind), f.object))
    drops = sorted((f for f in chosen if f.status == UNEXPECTED), key=lambda f: (-KINDS.index(f.kind), f.object))
    steps = tuple(s for f in build + drops for s in f.steps)
    n_destr = sum(1 for f in chosen if f.destructive)
    summary = (f"schema fixes for {target}: {len(chosen)} finding{'s' if len(chosen) != 1 else ''}, "
               f"{len(steps)} statement{'s' if len(steps) != 1 else ''}"
               + (f", {n_destr} destructive" if n_destr else ""))
    return Plan(ACTION, summary, steps)
