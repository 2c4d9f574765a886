"""Discovery from the catalog: every partitioned table of a target with its children,
bounds, estimated rows, sizes, indexes and referencing foreign keys in three round trips,
plus one exact, time-limited count per default partition (default partitions are meant to
be small; a count that hits the timeout is reported, not fatal). Integer sets, and time
sets counting premake from their newest row, read ``max(key)`` child by child from the
highest down to the first with a row, and of the default partition (as pg_partman does).
Never ``count(*)`` on a live monthly partition: that is :func:`count_rows`, an explicit
action."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from psycopg import sql

from ...backends.base import BackendError
from ...backends.postgres import PostgresBackend, classify
from .interval import Interval, Slot, offset_zone
from .build import INT_TYPES, make_table, tell_interval
from .model import Discovery, ForeignKeyRef, IndexInfo, PartmanConfig, Partition, Policy, TableInfo, \
    parse_bound, policy_for

DEFAULT_COUNT_TIMEOUT_MS = 2000

TABLES_SQL = """
SELECT pc.oid AS parent_oid, pn.nspname AS schema, pc.relname AS name,
       CASE pt.partstrat WHEN 'r' THEN 'range' WHEN 'l' THEN 'list' WHEN 'h' THEN 'hash' END AS strategy,
       pg_get_partkeydef(pc.oid) AS key_def,
       CASE WHEN pt.partnatts = 1 AND pt.partattrs[0] <> 0 THEN
            (SELECT attname FROM pg_attribute WHERE attrelid = pc.oid AND attnum = pt.partattrs[0]) END AS key_column,
       CASE WHEN pt.partnatts = 1 AND pt.partattrs[0] <> 0 THEN
            (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
              WHERE attrelid = pc.oid AND attnum = pt.partattrs[0]) END AS key_type,
       ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = pc.oid AND attnum > 0
              AND NOT attisdropped AND attgenerated = '' ORDER BY attnum) AS columns
FROM pg_partitioned_table pt
JOIN pg_class pc ON pc.oid = pt.partrelid
JOIN pg_namespace pn ON pn.oid = pc.relnamespace
WHERE NOT pc.relispartition
  AND pn.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY pn.nspname, pc.relname
"""

CHILDREN_SQL = """
SELECT i.inhparent AS parent_oid, cn.nspname AS schema, c.relname AS name,
       pg_get_expr(c.relpartbound, c.oid) AS bound,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT sum(GREATEST(lc.reltuples, 0))::bigint FROM pg_partition_tree(c.oid) t
               JOIN pg_class lc ON lc.oid = t.relid WHERE t.isleaf)
            ELSE c.reltuples::bigint END AS reltuples,
       CASE WHEN c.relkind = 'p' THEN
            (SELECT sum(pg_total_relation_size(t.relid))::bigint FROM pg_partition_tree(c.oid) t WHERE t.isleaf)
            ELSE pg_total_relation_size(c.oid) END AS size_bytes,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS sub_key,
       c.reloptions::text[] AS reloptions, pg_get_userbyid(c.relowner) AS owner, c.relacl::text[] AS acl,
       {pending} AS detach_pending,
       -- the definition only of indexes not inherited from a parent index (the template for
       -- new partitions); pg_get_indexdef on every inherited index costs more than the rest
       COALESCE((SELECT json_agg(json_build_array(ic.relname,
                                   CASE WHEN ii.inhrelid IS NULL THEN pg_get_indexdef(x.indexrelid) END,
                                   ii.inhrelid IS NOT NULL) ORDER BY ic.relname)
                   FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
                   LEFT JOIN pg_inherits ii ON ii.inhrelid = x.indexrelid
                  WHERE x.indrelid = c.oid), '[]'::json) AS indexes
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_namespace cn ON cn.oid = c.relnamespace
WHERE i.inhparent = ANY(%s)
"""

FKS_SQL = """
SELECT con.confrelid AS parent_oid, rn.nspname AS ref_schema, rc.relname AS ref_name, con.conname AS name,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o) AS columns,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o) AS ref_columns,
       con.confdeltype::text AS on_delete,
       -- what setting the referencing rows aside (DELETE, later INSERT) would fire besides
       CASE WHEN con.conrelid = con.confrelid THEN 'it references its own table'
            WHEN EXISTS (SELECT 1 FROM pg_constraint c2 WHERE c2.contype = 'f' AND c2.confrelid = con.conrelid)
              THEN 'it is referenced by foreign keys of its own'
            WHEN EXISTS (SELECT 1 FROM pg_trigger tg WHERE tg.tgrelid = con.conrelid AND NOT tg.tgisinternal
                           AND tg.tgenabled <> 'D' AND (tg.tgtype & (4 | 8)) <> 0)
              THEN 'it has INSERT or DELETE triggers'
       END AS aside_blocker,
       ARRAY(SELECT attname::text FROM pg_attribute WHERE attrelid = con.conrelid AND attnum > 0
              AND NOT attisdropped AND attgenerated = '' ORDER BY attnum) AS ref_columns_all,
       EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = con.conrelid AND attidentity = 'a'
               AND NOT attisdropped) AS identity_always
FROM pg_constraint con
JOIN pg_class rc ON rc.oid = con.conrelid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.contype = 'f' AND con.confrelid = ANY(%s) AND con.conparentid = 0
ORDER BY 2, 3, 4
"""


PARTMAN_SQL = """
SELECT parent_table, partition_interval, premake, retention, retention_keep_table, retention_schema,
       automatic_maintenance = 'on' AS automatic, infinite_time_partitions, datetime_string,
       EXISTS (SELECT 1 FROM {schema}.part_config_sub s WHERE s.sub_parent = c.parent_table) AS sub,
       CASE WHEN retention IS NOT NULL AND partition_interval !~ '^\\s*-?\\d+\\s*$'
            THEN %s::timestamptz - retention::interval END AS cutoff,
       -- 4.7 and 5.x have it, older 4.x not
       COALESCE((to_jsonb(c) ->> 'ignore_default_data')::boolean, false) AS ignore_default
FROM {schema}.part_config c
"""


def slot_expr(iv: Interval, key_column: str, key_type: str | None, alias: str | None = None) -> sql.Composable:
    """The slot (interval start) of the key, as the server computes it: a local timestamp
    for time sets (see Interval.from_local), a bigint for integer sets."""
    col = sql.Identifier(alias, key_column) if alias else sql.Identifier(key_column)
    if not iv.is_time:
        return sql.SQL("({a} + floor(({c} - {a})::numeric / {s}) * {s})::bigint").format(
            c=col, a=sql.Literal(iv.anchor), s=sql.Literal(iv.step))
    if key_type == "timestamp with time zone":
        tz = (sql.SQL("INTERVAL {}").format(sql.Literal(iv.tz_name)) if iv.tz_name[:1] in "+-"
              else sql.Literal(iv.tz_name))
        local = sql.SQL("{} AT TIME ZONE {}").format(col, tz)
    else:
        local = sql.SQL("{}::timestamp").format(col)
    return sql.SQL("date_trunc({}, {})").format(sql.Literal(iv.unit), local)


def _slot_of(iv: Interval, v):
    if v is None:
        return None
    return int(v) if not iv.is_time else iv.from_local(v)


def _read_partman(conn, now: datetime) -> dict[str, PartmanConfig]:
    """``part_config`` by ``schema.table`` where the pg_partman extension is installed."""
    row = conn.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                       "WHERE e.extname = 'pg_partman'").fetchone()
    if not row:
        return {}
    out: dict[str, PartmanConfig] = {}
    with conn.transaction():
        cur = conn.execute(sql.SQL(PARTMAN_SQL).format(schema=sql.Identifier(row[0])), (now,))
        for (parent, interval, premake, retention, keep, rschema, auto, infinite, dts, sub,
             cutoff, ignore_default) in cur.fetchall():
            out[parent] = PartmanConfig(interval=interval, premake=int(premake), retention=retention,
                                        retention_keep_table=bool(keep), retention_schema=rschema,
                                        automatic_maintenance=bool(auto), infinite_time_partitions=bool(infinite),
                                        datetime_string=dts, sub_partitioned=bool(sub), retention_cutoff=cutoff,
                                        ignore_default_data=bool(ignore_default))
    return out


def _key_value(v) -> Slot | None:
    """A key value as a slot value: int, or an aware UTC datetime (``timestamp`` and ``date``
    keys are UTC wall clock, as their sets are told in UTC)."""
    if v is None or isinstance(v, int):
        return v
    if isinstance(v, datetime):
        return v if v.tzinfo is not None else v.replace(tzinfo=timezone.utc)
    if isinstance(v, date):
        return datetime(v.year, v.month, v.day, tzinfo=timezone.utc)
    return int(v)


def _newest_keys(conn, key_column: str, live: list[Partition], default: Partition | None,
                 timeout_ms: int) -> tuple[Slot | None, Slot | None]:
    """(highest key of the children, highest key of the default partition), as pg_partman's
    run_maintenance and drop_partition_id take them: ``max(key)`` of each child from the
    highest down, stopping at the first that has a row (never a scan of the whole set).
    (None, None) when not known (a timeout): no premake counted from data, no id retention."""
    col = sql.Identifier(key_column)
    order = sorted(live, key=lambda c: (c.upper is not None, c.upper if c.upper is not None else 0), reverse=True)
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(int(timeout_ms))))
            top = None
            for c in order:
                top = conn.execute(sql.SQL("SELECT max({}) FROM {}").format(
                    col, sql.Identifier(c.schema, c.name))).fetchone()[0]
                if top is not None:
                    break
            dflt = None if default is None else conn.execute(sql.SQL("SELECT max({}) FROM {}").format(
                col, sql.Identifier(default.schema, default.name))).fetchone()[0]
            conn.execute("SET LOCAL statement_timeout = DEFAULT")
    except Exception:  # noqa: BLE001 - not known: no premake or retention counted from it
        return None, None
    return _key_value(top), _key_value(dflt)


def discover_target(backend: PostgresBackend, *, now: datetime | None = None,
                    policies: dict[str, Policy] | None = None, default_policy: Policy | None = None,
                    count_default: bool = True, count_timeout_ms: int = DEFAULT_COUNT_TIMEOUT_MS,
                    timezone_name: str | None = None) -> list[TableInfo]:
    now = now or datetime.now(timezone.utc)
    tables: list[TableInfo] = []
    with backend.connection() as conn:
        db_tz = conn.execute("SELECT current_setting('TimeZone')").fetchone()[0]
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        conn.execute("SET LOCAL IntervalStyle = 'postgres'")
        version = int(conn.execute("SELECT current_setting('server_version_num')").fetchone()[0])
        cur = conn.cursor()
        parents = cur.execute(TABLES_SQL).fetchall()
        if not parents:
            return []
        cols = [d.name for d in cur.description]
        parents = [dict(zip(cols, r)) for r in parents]
        oids = [p["parent_oid"] for p in parents]
        integer = {p["parent_oid"]: (p["key_type"] or "") in INT_TYPES for p in parents}
        pending = "i.inhdetachpending" if version >= 140000 else "false"
        cur.execute(CHILDREN_SQL.format(pending=pending), (oids,))
        ccols = [d.name for d in cur.description]
        children: dict[int, list[Partition]] = {}
        for r in cur.fetchall():
            r = dict(zip(ccols, r))
            is_default, lo, hi, understood = parse_bound(r["bound"], integer=integer[r["parent_oid"]])
            children.setdefault(r["parent_oid"], []).append(Partition(
                schema=r["schema"], name=r["name"], bound=r["bound"], lower=lo, upper=hi,
                is_default=is_default, understood=understood,
                est_rows=None if r["reltuples"] is None or r["reltuples"] < 0 else int(r["reltuples"]),
                size_bytes=int(r["size_bytes"] or 0),
                indexes=tuple(IndexInfo(n, d or "", bool(inh)) for n, d, inh in (r["indexes"] or [])),
                detach_pending=bool(r["detach_pending"]), sub_partitioned=r["sub_key"],
                reloptions=tuple(r["reloptions"] or ()), owner=r["owner"], acl=tuple(r["acl"] or ())))
        cur.execute(FKS_SQL, (oids,))
        fks: dict[int, list[ForeignKeyRef]] = {}
        for parent_oid, ref_schema, ref_name, name, fcols, rcols, on_delete, blocker, allc, ident in cur.fetchall():
            fks.setdefault(parent_oid, []).append(
                ForeignKeyRef(ref_schema, ref_name, name, tuple(fcols), tuple(rcols), on_delete=on_delete,
                              aside_blocker=blocker, ref_columns_all=tuple(allc), ref_identity_always=bool(ident)))
        partman = _read_partman(conn, now)

        facts: dict[int, dict] = {}
        for p in parents:
            parts = children.get(p["parent_oid"], [])
            pol = policy_for(policies, backend.name, p["schema"], p["name"], default_policy)
            live = [c for c in parts if not c.is_default and not c.detach_pending]
            first = min((c.lower for c in live if isinstance(c.lower, datetime)), default=None)
            zones = tuple(z for z in (timezone_name, db_tz, "UTC", first and offset_zone(first)) if z) if live \
                else (timezone_name or "UTC",)      # nothing to tell from: the configured zone, else UTC
            pm = partman.get(f"{p['schema']}.{p['name']}")
            iv, why = tell_interval(live, strategy=p["strategy"], key_column=p["key_column"], key_type=p["key_type"],
                                    zones=zones, name=p["name"], partman=pm)
            f = facts[p["parent_oid"]] = {"interval": iv, "why": why, "zones": zones, "partman": pm, "policy": pol,
                                          "max_key": None, "max_child_key": None, "counts": (None, None)}
            if iv is None or not p["key_column"]:
                continue
            dflt = next((c for c in parts if c.is_default), None)
            infinite = pm.infinite_time_partitions if pm is not None and pol.take_over_partman \
                else pol.infinite_time_partitions
            if not iv.is_time or not infinite:
                top, top_default = _newest_keys(conn, p["key_column"], live, dflt, count_timeout_ms)
                if pm is not None and pol.take_over_partman and pm.ignore_default_data and iv.is_time:
                    top_default = None
                f["max_child_key"] = top
                f["max_key"] = max((k for k in (top, top_default) if k is not None), default=None)
            if count_default and dflt is not None:
                f["counts"] = _count_default(conn, backend.name, dflt, p["key_column"], p["key_type"], iv,
                                             count_timeout_ms)
                if f["counts"][0] and fks.get(p["parent_oid"]):
                    fks[p["parent_oid"]] = [_count_refs(conn, fk, dflt, p["key_column"], p["key_type"], iv,
                                                        count_timeout_ms) for fk in fks[p["parent_oid"]]]

    for p in parents:
        parts = children.get(p["parent_oid"], [])
        f = facts[p["parent_oid"]]
        default_rows, err = f["counts"]
        tables.append(make_table(
            target=backend.name, schema=p["schema"], name=p["name"], partitions=parts, now=now, policy=f["policy"],
            strategy=p["strategy"], key_def=p["key_def"], key_column=p["key_column"], key_type=p["key_type"],
            default_rows=default_rows, default_count_error=err, columns=tuple(p["columns"]),
            fks=tuple(fks.get(p["parent_oid"], ())), server_version=version, interval=f["interval"],
            interval_source=f["why"], zones=f["zones"], max_key=f["max_key"], max_child_key=f["max_child_key"],
            partman=f["partman"]))
    return tables


def _count_query(default: Partition, key_column: str, key_type: str | None, iv: Interval) -> sql.Composable:
    return sql.SQL("SELECT {m} AS slot, count(*) FROM {t} GROUP BY 1 ORDER BY 1").format(
        m=slot_expr(iv, key_column, key_type), t=sql.Identifier(default.schema, default.name))


def _count_default(conn, target: str, default: Partition, key_column: str, key_type: str | None, iv: Interval,
                   timeout_ms: int) -> tuple[dict | None, str | None]:
    """Inside discovery's transaction, in a savepoint with its own statement_timeout, so a
    count that times out is reported and the rest of the discovery goes on."""
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(int(timeout_ms))))
            rows = conn.execute(_count_query(default, key_column, key_type, iv)).fetchall()
            conn.execute("SET LOCAL statement_timeout = DEFAULT")
    except Exception as exc:  # noqa: BLE001 - psycopg errors, classified
        err = classify(target, exc)
        return None, f"{err.kind.value}: {err.message}"
    return {_slot_of(iv, m): int(n) for m, n in rows}, None


def refs_query(fk: ForeignKeyRef, default: Partition, key_column: str, key_type: str | None,
               iv: Interval) -> sql.Composable:
    """Rows of the referencing table pointing at rows of the default partition, per slot."""
    on = sql.SQL(" AND ").join(sql.SQL("r.{} = d.{}").format(sql.Identifier(c), sql.Identifier(rc))
                               for c, rc in zip(fk.columns, fk.ref_columns))
    return sql.SQL("SELECT {m} AS slot, count(*) FROM {ref} r JOIN {d} d ON {on} GROUP BY 1").format(
        m=slot_expr(iv, key_column, key_type, "d"),
        ref=sql.Identifier(fk.schema, fk.table), d=sql.Identifier(default.schema, default.name), on=on)


def _count_refs(conn, fk: ForeignKeyRef, default: Partition, key_column: str, key_type: str | None,
                iv: Interval, timeout_ms: int) -> ForeignKeyRef:
    """The referencing rows a move out of the default partition involves (None: not counted,
    which the planner treats as a reason not to move)."""
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(int(timeout_ms))))
            rows = conn.execute(refs_query(fk, default, key_column, key_type, iv)).fetchall()
            conn.execute("SET LOCAL statement_timeout = DEFAULT")
    except Exception:  # noqa: BLE001 - psycopg errors: reported as "not counted"
        return fk
    return replace(fk, moving_refs=tuple((_slot_of(iv, m), int(n)) for m, n in rows))


def count_rows(backend: PostgresBackend, schema: str, name: str, *, timeout_ms: int = 60_000) -> int:
    """The explicit exact-count action (scans the partition): read-only, time-limited."""
    with backend.connection() as conn:
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(int(timeout_ms))))
        return int(conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))).fetchone()[0])


def discover(backends: dict[str, PostgresBackend], *, now: datetime | None = None,
             policies: dict[str, Policy] | None = None, default_policy: Policy | None = None,
             count_default: bool = True, timezone_name: str | None = None) -> Discovery:
    """Every target, concurrently; a target that fails is reported, the others listed."""
    from concurrent.futures import ThreadPoolExecutor

    now = now or datetime.now(timezone.utc)
    out = Discovery(taken_at=now)
    if not backends:
        return out
    with ThreadPoolExecutor(max_workers=min(8, len(backends))) as ex:
        futs = {name: ex.submit(discover_target, b, now=now, policies=policies, default_policy=default_policy,
                                count_default=count_default, timezone_name=timezone_name)
                for name, b in backends.items()}
        for name, fut in futs.items():
            try:
                out.tables.extend(fut.result())
            except BackendError as exc:
                out.errors[name] = f"{exc.kind.value}: {exc.message}"
            except Exception as exc:  # noqa: BLE001 - one target's surprise must not hide the others
                err = classify(name, exc)
                out.errors[name] = f"{err.kind.value}: {err.message}"
    out.tables.sort(key=lambda t: (t.target, t.schema, t.name))
    return out
