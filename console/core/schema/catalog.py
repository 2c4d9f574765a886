"""Read a PostgreSQL catalog into plain dataclasses.

One set of queries serves both sides of the comparison: the *expected* snapshot is read
from a scratch database the ``sql/`` files were applied to, the *live* snapshot from the
target. Nothing here knows which side it reads. Objects that belong to extensions, the
system schemas and the console's own ``console.schema_migrations`` bookkeeping are left
out; child partitions are kept apart (``Snapshot.partitions``) so that they are checked
against their parent instead of being reported as tables of their own."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from psycopg.rows import dict_row

IGNORED_RELATIONS = frozenset({"console.schema_migrations"})
_SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema', 'pg_toast')"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None = None
    identity: str = ""        # '', 'a' (ALWAYS), 'd' (BY DEFAULT)
    generated: str = ""       # '', 's' (STORED)

    def describe(self) -> str:
        out = self.type
        if self.not_null:
            out += " NOT NULL"
        if self.default is not None:
            out += f" {'GENERATED ALWAYS AS (' + self.default + ') STORED' if self.generated else 'DEFAULT ' + self.default}"
        if self.identity:
            out += " GENERATED " + ("ALWAYS" if self.identity == "a" else "BY DEFAULT") + " AS IDENTITY"
        return out


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str                 # 'p' primary key, 'u' unique, 'f' foreign key, 'c' check, 'x' exclusion
    definition: str           # pg_get_constraintdef

    KINDS = {"p": "primary key", "u": "unique", "f": "foreign key", "c": "check", "x": "exclusion"}

    @property
    def kind_name(self) -> str:
        return self.KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str = "r"                                  # 'r' table, 'p' partitioned table
    columns: tuple[Column, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    partition_key: str | None = None                 # pg_get_partkeydef, e.g. 'RANGE ("timestamp")'
    parent: str | None = None                        # 'schema.name' of the parent when a partition
    bound: str | None = None                         # 'FOR VALUES FROM (...) TO (...)' / 'DEFAULT'

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def constraint(self, name: str) -> Constraint | None:
        return next((c for c in self.constraints if c.name == name), None)


_IDENT = r'(?:"(?:[^"]|"")*"|[^\s"]+)'
_INDEXDEF = re.compile(rf'^CREATE (UNIQUE )?INDEX ({_IDENT}) ON (ONLY )?({_IDENT}(?:\.{_IDENT})?) (.*)$', re.S)


def split_indexdef(definition: str) -> tuple[bool, str, str, str]:
    """``CREATE UNIQUE INDEX n ON ONLY s.t USING btree (a)`` -> (unique, name, table, rest)
    where rest is ``USING btree (a)`` (with any WHERE / INCLUDE / WITH clause)."""
    m = _INDEXDEF.match(definition.strip())
    if not m:
        return False, "", "", definition
    return bool(m.group(1)), m.group(2), m.group(4), m.group(5)


@dataclass(frozen=True)
class Index:
    schema: str
    name: str
    table: str                                        # 'schema.name' of the indexed relation
    definition: str                                   # pg_get_indexdef, verbatim
    valid: bool = True
    constraint: str | None = None                     # the constraint it backs (pkey, unique)
    parent_index: str | None = None                   # 'schema.name' of the partitioned index it is attached to
    on_partition: bool = False

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def unique(self) -> bool:
        return split_indexdef(self.definition)[0]

    @property
    def body(self) -> str:
        """``USING btree (a) WHERE ...``: what the index is, independent of its name."""
        return split_indexdef(self.definition)[3]

    @property
    def normalized(self) -> str:
        """The definition with the index name and ``ONLY`` taken out: two indexes with the
        same normalised text are the same index."""
        unique, _, table, rest = split_indexdef(self.definition)
        return f"{'UNIQUE ' if unique else ''}INDEX ON {table} {rest}"


@dataclass(frozen=True)
class View:
    schema: str
    name: str
    materialized: bool
    definition: str                                   # pg_get_viewdef(oid, true)
    columns: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    args: str                                         # pg_get_function_identity_arguments
    definition: str                                   # pg_get_functiondef (CREATE OR REPLACE ...)
    kind: str = "f"                                   # 'f' function, 'p' procedure

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}({self.args})"


@dataclass(frozen=True)
class Trigger:
    table: str                                        # 'schema.name'
    name: str
    definition: str                                   # pg_get_triggerdef

    @property
    def key(self) -> str:
        return f"{self.table}.{self.name}"


@dataclass
class Snapshot:
    schemas: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()
    tables: dict[str, Table] = field(default_factory=dict)
    partitions: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    views: dict[str, View] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    server_version_num: int = 0

    def partitions_of(self, parent: str) -> list[Table]:
        return sorted((p for p in self.partitions.values() if p.parent == parent), key=lambda p: p.key)

    def indexes_on(self, relation: str) -> list[Index]:
        return sorted((i for i in self.indexes.values() if i.table == relation), key=lambda i: i.key)


# --------------------------------------------------------------------------- queries

_NOT_EXTENSION_MEMBER = ("NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '{cat}'::regclass "
                         "AND d.objid = {oid} AND d.deptype = 'e')")

Q_SCHEMAS = f"""
SELECT n.nspname FROM pg_namespace n
WHERE n.nspname NOT IN {_SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
  AND {_NOT_EXTENSION_MEMBER.format(cat='pg_namespace', oid='n.oid')}
"""

Q_EXTENSIONS = "SELECT extname FROM pg_extension"

Q_RELATIONS = f"""
SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind, c.relispartition,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partkey,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS bound,
       (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i
          JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid LIMIT 1) AS parent,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS viewdef
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm')
  AND n.nspname NOT IN {_SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
  AND {_NOT_EXTENSION_MEMBER.format(cat='pg_class', oid='c.oid')}
"""

Q_COLUMNS = """
SELECT a.attrelid AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS "default",
       a.attidentity::text AS identity, a.attgenerated::text AS generated
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

Q_CONSTRAINTS = """
SELECT conrelid AS oid, conname AS name, contype::text AS kind, pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE conrelid = ANY(%s) AND contype IN ('p', 'u', 'f', 'c', 'x')
  -- constraints PostgreSQL derives itself (a foreign key to a partitioned table gets one
  -- per partition of the referenced table) are not objects sql/ defines
  AND conparentid = 0
ORDER BY conrelid, conname
"""

Q_INDEXES = """
SELECT n.nspname AS schema, ic.relname AS name, i.indrelid AS table_oid,
       pg_get_indexdef(i.indexrelid) AS definition, i.indisvalid AS valid,
       (SELECT conname FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
          AND k.contype IN ('p', 'u', 'x') LIMIT 1) AS "constraint",
       (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits h
          JOIN pg_class pc ON pc.oid = h.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE h.inhrelid = i.indexrelid LIMIT 1) AS parent_index
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE i.indrelid = ANY(%s)
"""

Q_FUNCTIONS = f"""
SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args,
       pg_get_functiondef(p.oid) AS definition, p.prokind::text AS kind
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p')
  AND n.nspname NOT IN {_SYSTEM_SCHEMAS} AND n.nspname NOT LIKE 'pg\\_%'
  AND {_NOT_EXTENSION_MEMBER.format(cat='pg_proc', oid='p.oid')}
"""

Q_TRIGGERS = """
SELECT t.tgrelid AS oid, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition
FROM pg_trigger t
WHERE t.tgrelid = ANY(%s) AND NOT t.tgisinternal AND t.tgparentid = 0
"""


def read_catalog(conn) -> Snapshot:
    """Read one database's catalog on ``conn`` (a psycopg connection; the caller's
    session carries the statement_timeout)."""
    with conn.cursor(row_factory=dict_row) as cur:
        def rows(q: str, params: Any = None) -> list[dict[str, Any]]:
            cur.execute(q, params)
            return cur.fetchall()

        snap = Snapshot()
        snap.server_version_num = int(rows("SELECT current_setting('server_version_num') AS v")[0]["v"])
        snap.schemas = frozenset(r["nspname"] for r in rows(Q_SCHEMAS))
        snap.extensions = frozenset(r["extname"] for r in rows(Q_EXTENSIONS))

        rels = [r for r in rows(Q_RELATIONS) if f"{r['schema']}.{r['name']}" not in IGNORED_RELATIONS]
        by_oid = {r["oid"]: r for r in rels}
        oids = list(by_oid)
        cols: dict[int, list[Column]] = {}
        for r in rows(Q_COLUMNS, (oids,)):
            cols.setdefault(r["oid"], []).append(Column(
                r["name"], r["type"], r["not_null"], r["default"], r["identity"] or "", r["generated"] or ""))
        cons: dict[int, list[Constraint]] = {}
        for r in rows(Q_CONSTRAINTS, (oids,)):
            cons.setdefault(r["oid"], []).append(Constraint(r["name"], r["kind"], r["definition"]))

        for oid, r in by_oid.items():
            key = f"{r['schema']}.{r['name']}"
            if r["relkind"] in ("v", "m"):
                snap.views[key] = View(r["schema"], r["name"], r["relkind"] == "m", r["viewdef"] or "",
                                       tuple(c.name for c in cols.get(oid, [])))
                continue
            t = Table(r["schema"], r["name"], r["relkind"], tuple(cols.get(oid, [])), tuple(cons.get(oid, [])),
                      partition_key=r["partkey"], parent=r["parent"] if r["relispartition"] else None,
                      bound=r["bound"])
            (snap.partitions if r["relispartition"] else snap.tables)[key] = t

        for r in rows(Q_INDEXES, (oids,)):
            rel = by_oid[r["table_oid"]]
            ix = Index(r["schema"], r["name"], f"{rel['schema']}.{rel['name']}", r["definition"], r["valid"],
                       r["constraint"], r["parent_index"], bool(rel["relispartition"]))
            snap.indexes[ix.key] = ix

        for r in rows(Q_FUNCTIONS):
            fn = Function(r["schema"], r["name"], r["args"], r["definition"], r["kind"])
            snap.functions[fn.key] = fn

        for r in rows(Q_TRIGGERS, (oids,)):
            rel = by_oid[r["oid"]]
            tg = Trigger(f"{rel['schema']}.{rel['name']}", r["name"], r["definition"])
            snap.triggers[tg.key] = tg
    return snap


def read_schema_version(conn) -> list[dict[str, Any]]:
    """``meta.schema_version`` (seed 000) rows, newest first; [] when the table is absent."""
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SELECT to_regclass('meta.schema_version') IS NOT NULL AS present")
        if not cur.fetchone()["present"]:
            return []
        cur.execute("SELECT version, description, applied_at, applied_by FROM meta.schema_version "
                    "ORDER BY applied_at DESC, id DESC LIMIT 200")
        return cur.fetchall()
