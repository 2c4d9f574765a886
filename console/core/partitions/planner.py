"""TableInfo -> a Plan a DBA reads before anything runs (pure: no I/O).

Per table, in this order (one plan group per table: a failing step stops that table only):

1. ``DETACH PARTITION ... FINALIZE`` for every partition left pending by an interrupted
   ``DETACH ... CONCURRENTLY``.
2. One step (one transaction) per interval to create (the table's own interval, told from
   its children: hourly … yearly, integer ranges): the current one up to ``premake``
   ahead, those of gaps, and those whose rows sit in the default partition. The new partition is a standalone table ``LIKE`` the parent plus a
   CHECK matching its bounds, the default partition's rows of that month moved into it
   (``DELETE ... RETURNING`` feeding an ``INSERT``), the template partition's own
   (non-inherited) indexes, then ``ATTACH PARTITION`` (SHARE UPDATE EXCLUSIVE on the
   parent; the CHECK lets PostgreSQL skip the validation scan of the new table; the
   default partition, now free of that month's rows, is still scanned) and the CHECK
   dropped.
3. Retention: for each partition past retention (never the newest), a check that no row
   of a referencing table points into it, the DETACH (CONCURRENTLY where PostgreSQL >= 14
   and the table has no default partition), then DROP, or move to ``retention_schema``,
   or keep.
"""

from __future__ import annotations


from psycopg import sql

from ..schema.catalog import split_indexdef

from ..plan import Hazard, Plan, Step
from .interval import Slot
from .model import IDENTIFIER_MAX_BYTES, Partition, TableInfo

ACTION_NAME = "partitions.maintain"
BOUNDS_CHECK = "console_partition_bounds"
MAX_AHEAD_FOR_DEFAULT_ROWS = 24     # default rows further ahead than this are reported, not moved


def _q(c: sql.Composable) -> str:
    return c.as_string(None)


def _ident(schema: str, name: str) -> sql.Identifier:
    return sql.Identifier(schema, name)


def bound_literal(v, key_type: str | None) -> str:
    if isinstance(v, int):
        return str(v)
    if key_type == "date":
        return v.date().isoformat()
    if key_type == "timestamp with time zone":
        return v.strftime("%Y-%m-%d %H:%M:%S+00")
    return v.strftime("%Y-%m-%d %H:%M:%S")


MAX_CREATE = 400     # never more new partitions than this in one plan per table


def slots_to_create(t: TableInfo) -> list[tuple[Slot, str]]:
    """(slot, why) for every interval the plan creates, ascending: the current one up to
    ``premake`` ahead, the whole intervals of gaps, and those whose rows sit in the default
    partition (not past retention, not further ahead than MAX_AHEAD_FOR_DEFAULT_ROWS)."""
    if not t.supported or t.interval is None:
        return []
    iv = t.interval
    why: dict = {}
    cov = t.coverage
    cutoff = t.retention_cutoff

    def kept(s) -> bool:
        return cutoff is None or iv.upper(s) > cutoff

    for s in cov.missing_ahead:
        why[s] = "ahead" if s != t.now_slot else "current"
    for g in cov.gaps:
        for s in g.slots:
            if kept(s):
                why.setdefault(s, "gap")
    for s, n in (t.default_rows or {}).items():
        if s is None or n <= 0 or t.partition_for_slot(s) is not None or not kept(s):
            continue
        if t.now_slot is not None and iv.between(t.now_slot, s) > MAX_AHEAD_FOR_DEFAULT_ROWS:
            continue
        why.setdefault(s, "default rows")
    # keep the set contiguous: intervals between a new partition and the existing ones are
    # gaps too (else a second run would find them)
    ranged = [p for p in t.partitions if p.lower is not None and p.upper is not None]
    if why:
        starts = [*why, *(iv.floor(ranged[0].lower), iv.floor(ranged[-1].lower))] if ranged else list(why)
        lo, hi = min(starts), max(starts)
        s, n = lo, 0
        while s < hi and n < MAX_CREATE * 4:
            if s not in why and kept(s) and t.partition_for_slot(s) is None:
                why[s] = "gap"
            s, n = iv.add(s, 1), n + 1
    # an interval touched by an existing partition cannot be created whole
    out = sorted((s, w) for s, w in why.items() if t.partition_for_slot(s) is None and move_refusal(t, s) is None)
    return out[:MAX_CREATE]


def months_to_create(t: TableInfo) -> list[tuple[Slot, str]]:
    """Kept for callers that speak months: see :func:`slots_to_create`."""
    return slots_to_create(t)


def _template(t: TableInfo) -> Partition | None:
    """The newest sibling: its local indexes, reloptions, owner and grants are copied."""
    return t.template


def _local_index_sql(t: TableInfo, template: Partition | None, new_name: str) -> list[str]:
    """The template partition's indexes that do not come from a parent index (PostgreSQL
    creates those by itself at ATTACH), re-targeted at the new partition: the definition's
    name and table are replaced by parsing pg_get_indexdef (which writes the table
    unquoted, e.g. ``ON public.t``), never by text substitution."""
    if template is None:
        return []
    out = []
    new_q = _q(_ident(t.schema, new_name))
    for ix in template.indexes:
        if ix.inherited:
            continue
        unique, _old_name, table, body = split_indexdef(ix.definition)
        if not table:
            continue
        name = _index_name(t, template, ix.name, new_name)
        name = name.encode()[:IDENTIFIER_MAX_BYTES].decode("utf-8", errors="ignore")
        out.append(f"CREATE {'UNIQUE ' if unique else ''}INDEX {_q(sql.Identifier(name))} ON {new_q} {body}")
    return out


def move_refusal(t: TableInfo, month: Slot) -> str | None:
    """Why the default partition's rows of ``month`` are not moved (None: they can be). The
    move DELETEs them from the default partition, which fires every foreign key referencing
    the parent: referencing rows are set aside and put back in the same transaction, unless
    that would fire more than the move means to, or they could not be counted."""
    if not (t.default_rows or {}).get(month):
        return None
    for fk in t.fks:
        n = fk.refs_for(month)
        if n is None:
            return (f"rows of {fk.qualified} referencing the rows to move ({fk.name}, ON DELETE {fk.action}) "
                    f"could not be counted")
        if n and fk.aside_blocker:
            return (f"{n:,} row(s) of {fk.qualified} reference the rows to move ({fk.name}, ON DELETE "
                    f"{fk.action}) and cannot be set aside and put back: {fk.aside_blocker}")
    return None


def _ref_match(fk, dflt: Partition, key: sql.Identifier, lo_l: str, hi_l: str) -> sql.Composable:
    """``(r.fk_cols) IN (SELECT d.pk_cols FROM default d WHERE key in [lo, hi))``."""
    return sql.SQL("({rc}) IN (SELECT {dc} FROM {d} d WHERE d.{k} >= {lo} AND d.{k} < {hi})").format(
        rc=sql.SQL(", ").join(sql.Identifier("r", c) for c in fk.columns),
        dc=sql.SQL(", ").join(sql.Identifier("d", c) for c in fk.ref_columns),
        d=_ident(dflt.schema, dflt.name), k=key, lo=sql.Literal(lo_l), hi=sql.Literal(hi_l))


def _index_name(t: TableInfo, template: Partition, old: str, new_name: str) -> str:
    """A local index's name for the new partition: the template partition's name, or its
    suffix (``_y2026m11``, ``2026_11``), replaced by the new one; else prefixed."""
    if template.name in old:
        return old.replace(template.name, new_name)
    if template.name.startswith(t.name) and new_name.startswith(t.name):
        old_sfx, new_sfx = template.name[len(t.name):].lstrip("_"), new_name[len(t.name):].lstrip("_")
        for o, n in ((old_sfx, new_sfx), (old_sfx.lstrip("py"), new_sfx.lstrip("py"))):
            if len(o) >= 4 and o in old:
                return old.replace(o, n)
    return f"{new_name}_{old}"


_PRIVS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
          "t": "TRIGGER", "m": "MAINTAIN"}


def _grants_sql(acl: tuple[str, ...], child: sql.Composable) -> list[str]:
    """``relacl`` items (``alice=arw*d/owner``) as GRANT statements on the new partition."""
    out = []
    for item in acl:
        grantee, _, rest = item.partition("=")
        privs = rest.split("/", 1)[0]
        plain, with_opt = [], []
        i = 0
        while i < len(privs):
            p = _PRIVS.get(privs[i])
            opt = i + 1 < len(privs) and privs[i + 1] == "*"
            if p:
                (with_opt if opt else plain).append(p)
            i += 2 if opt else 1
        who = sql.SQL("PUBLIC") if not grantee else sql.Identifier(grantee.strip('"'))
        for privs_, suffix in ((plain, ""), (with_opt, " WITH GRANT OPTION")):
            if privs_:
                out.append(_q(sql.SQL("GRANT {} ON {} TO {}{}").format(
                    sql.SQL(", ").join(sql.SQL(x) for x in privs_), child, who, sql.SQL(suffix))))
    return out


def _properties_sql(template: Partition | None, child: sql.Composable) -> list[str]:
    """The newest sibling's storage parameters, owner and grants, as pg_partman copies them."""
    if template is None:
        return []
    out = []
    opts = [o.split("=", 1) for o in template.reloptions if "=" in o]
    if opts:
        out.append(_q(sql.SQL("ALTER TABLE {} SET ({})").format(child, sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.SQL(".".join(_safe_key(p) for p in k.split("."))), sql.Literal(v))
            for k, v in opts))))
    if template.owner:
        out.append(_q(sql.SQL("ALTER TABLE {} OWNER TO {}").format(child, sql.Identifier(template.owner))))
    out += _grants_sql(template.acl, child)
    return out


def _safe_key(k: str) -> str:
    if not k.replace("_", "").isalnum():
        raise ValueError(f"unexpected storage parameter {k!r}")
    return k


def create_step(t: TableInfo, month: Slot, why: str) -> Step:
    name = t.partition_name(month)
    lo, hi = month, t.interval.upper(month)
    lo_l, hi_l = bound_literal(lo, t.key_type), bound_literal(hi, t.key_type)
    parent, child = _ident(t.schema, t.name), _ident(t.schema, name)
    key = sql.Identifier(t.key_column or "")
    moving = (t.default_rows or {}).get(month, 0) if t.default is not None else 0
    stmts: list[str] = []
    tags: list[str] = []

    def add(stmt: sql.Composable | str, tag: str = "") -> None:
        stmts.append(stmt if isinstance(stmt, str) else _q(stmt))
        tags.append(tag)

    refs: list[dict] = []
    if moving:
        # Referencing rows first: lock their tables (ATTACH needs SHARE ROW EXCLUSIVE on them
        # anyway), then set the rows aside, so the DELETE of the move fires no ON DELETE action.
        for i, fk in enumerate(t.fks):
            n = fk.refs_for(month) or 0
            add(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(_ident(fk.schema, fk.table)))
            match = _ref_match(fk, t.default, key, lo_l, hi_l)
            if fk.aside_blocker:
                # none at plan time: make sure none appeared since (else roll back)
                add(sql.SQL("SELECT count(*) FROM {} r WHERE {}").format(_ident(fk.schema, fk.table), match),
                    f"guard:{i}")
                refs.append({"table": fk.qualified, "fk": fk.name, "on_delete": fk.action, "rows": n,
                             "kept": "guarded"})
                continue
            aside = sql.Identifier(f"console_aside_{i}")
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in fk.ref_columns_all)
            add(sql.SQL("CREATE TEMP TABLE {a} ON COMMIT DROP AS SELECT {cols} FROM {ref} LIMIT 0").format(
                a=aside, cols=cols, ref=_ident(fk.schema, fk.table)))
            add(sql.SQL("WITH aside AS (DELETE FROM {ref} r WHERE {m} RETURNING {rcols}) "
                        "INSERT INTO {a} ({cols}) SELECT {cols} FROM aside").format(
                ref=_ident(fk.schema, fk.table), m=match, a=aside, cols=cols,
                rcols=sql.SQL(", ").join(sql.Identifier("r", c) for c in fk.ref_columns_all)), f"aside:{i}")
            refs.append({"table": fk.qualified, "fk": fk.name, "on_delete": fk.action, "rows": n, "kept": "aside"})
    add(sql.SQL("CREATE TABLE {child} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                "INCLUDING STORAGE INCLUDING COMMENTS INCLUDING GENERATED)").format(child=child, parent=parent))
    add(sql.SQL("ALTER TABLE {child} ADD CONSTRAINT {chk} CHECK ({k} IS NOT NULL AND {k} >= {lo} AND {k} < {hi})")
        .format(child=child, chk=sql.Identifier(BOUNDS_CHECK), k=key, lo=sql.Literal(lo_l), hi=sql.Literal(hi_l)))
    if moving:
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in t.columns)
        add(sql.SQL(
            "WITH moved AS (DELETE FROM {dflt} WHERE {k} >= {lo} AND {k} < {hi} RETURNING {cols}) "
            "INSERT INTO {child} ({cols}) SELECT {cols} FROM moved").format(
            dflt=_ident(t.default.schema, t.default.name), k=key, lo=sql.Literal(lo_l), hi=sql.Literal(hi_l),
            cols=cols, child=child), "move")
    for ix in _local_index_sql(t, _template(t), name):
        add(ix)
    for stmt in _properties_sql(_template(t), child):
        add(stmt)
    add(sql.SQL("ALTER TABLE {parent} ATTACH PARTITION {child} FOR VALUES FROM ({lo}) TO ({hi})")
        .format(parent=parent, child=child, lo=sql.Literal(lo_l), hi=sql.Literal(hi_l)))
    add(sql.SQL("ALTER TABLE {child} DROP CONSTRAINT {chk}").format(child=child, chk=sql.Identifier(BOUNDS_CHECK)))
    if moving:
        for i, fk in enumerate(t.fks):
            if fk.aside_blocker:
                continue
            cols = sql.SQL(", ").join(sql.Identifier(c) for c in fk.ref_columns_all)
            add(sql.SQL("INSERT INTO {ref} ({cols}){ov} SELECT {cols} FROM {a}").format(
                ref=_ident(fk.schema, fk.table), cols=cols, a=sql.Identifier(f"console_aside_{i}"),
                ov=sql.SQL(" OVERRIDING SYSTEM VALUE" if fk.ref_identity_always else "")), f"putback:{i}")
    locks = [f"SHARE UPDATE EXCLUSIVE on {t.qualified}"]
    if t.default is not None:
        locks.append(f"ACCESS EXCLUSIVE on {t.default.qualified} (scanned at ATTACH)")
    locks += [f"SHARE ROW EXCLUSIVE on {fk.qualified} (ATTACH adds the {fk.name} triggers"
              + (", referencing rows set aside and put back)" if moving and not fk.aside_blocker else ")")
              for fk in t.fks]
    title = f"create {t.schema}.{name} for {t.slot_label(month)} ({why})"
    if moving:
        title += f", moving {moving:,} row(s) out of {t.default.name}"
        kept = [f"{r['rows']:,} row(s) of {r['table']} (ON DELETE {r['on_delete']}) set aside and put back"
                for r in refs if r["rows"] and r["kept"] == "aside"]
        if kept:
            title += "; " + "; ".join(kept)
    return Step(title=title, sql=";\n".join(stmts), lock="; ".join(locks),
                hazard=Hazard.DATA_MOVE if moving else Hazard.LOCK, transactional=True,
                target=t.target, group=t.key,
                meta={"kind": "create", "statements": stmts, "tags": tags, "table": t.qualified, "partition": name,
                      "month": t.slot_label(month), "moves": moving, "why": why, "references": refs,
                      "chain": f"{t.key}:{name}",
                      "relations": [t.qualified] + ([t.default.qualified] if t.default else [])
                      + [fk.qualified for fk in t.fks]})


def _chain(t: TableInfo, p: Partition) -> str:
    """Steps of one chain depend on each other (check → detach → drop of one partition);
    a failing step stops its chain only, never the other steps of the table."""
    return f"{t.key}:{p.name}"


def finalize_step(t: TableInfo, p: Partition) -> Step:
    s = _q(sql.SQL("ALTER TABLE {} DETACH PARTITION {} FINALIZE").format(
        _ident(t.schema, t.name), _ident(p.schema, p.name)))
    locks = [f"SHARE UPDATE EXCLUSIVE on {t.qualified}", f"ACCESS EXCLUSIVE on {p.qualified}"]
    locks += [f"SHARE ROW EXCLUSIVE on {fk.qualified} (its {fk.name} triggers are removed)" for fk in t.fks]
    return Step(title=f"finish the interrupted detach of {p.qualified}", sql=s,
                lock="; ".join(locks), hazard=Hazard.LOCK, transactional=False,
                target=t.target, group=t.key,
                meta={"kind": "finalize", "statements": [s], "table": t.qualified, "partition": p.name,
                      "chain": _chain(t, p), "relations": [t.qualified, p.qualified] + [fk.qualified for fk in t.fks]})


def fk_check_sql(t: TableInfo, p: Partition, fk) -> str:
    cond = sql.SQL(" AND ").join(
        sql.SQL("p.{} = r.{}").format(sql.Identifier(rc), sql.Identifier(fc)) for fc, rc in zip(fk.columns, fk.ref_columns))
    return _q(sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {ref} r WHERE EXISTS (SELECT 1 FROM {part} p WHERE {cond}) "
                      "LIMIT 1001) x").format(ref=_ident(fk.schema, fk.table), part=_ident(p.schema, p.name), cond=cond))


def _past(t: TableInfo, p: Partition) -> bool:
    return t.retention_cutoff is not None and p.upper is not None and p.upper <= t.retention_cutoff


def _after_detach(t: TableInfo, p: Partition, detached_from: str) -> list[Step]:
    """The retention action on a detached partition: move to retention_schema, drop, or keep."""
    pol = t.policy
    meta = {"table": t.qualified, "partition": p.name, "chain": _chain(t, p), "relations": [p.qualified]}
    if pol.retention_schema:
        stmts = [_q(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(pol.retention_schema))),
                 _q(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                     _ident(p.schema, p.name), sql.Identifier(pol.retention_schema)))]
        return [Step(title=f"move detached {p.name} to schema {pol.retention_schema}", sql=";\n".join(stmts),
                     lock=f"ACCESS EXCLUSIVE on {p.qualified}", hazard=Hazard.LOCK, target=t.target,
                     group=t.key, meta={"kind": "set_schema", "statements": stmts, **meta})]
    if pol.retention_keep_table:
        return []
    s = _q(sql.SQL("DROP TABLE {}").format(_ident(p.schema, p.name)))
    rows = f"~{p.est_rows:,} rows, " if p.est_rows is not None else ""
    return [Step(title=f"drop {p.qualified} ({rows}{_size(p.size_bytes)}{detached_from})", sql=s,
                 lock=f"ACCESS EXCLUSIVE on {p.qualified}", hazard=Hazard.DESTRUCTIVE,
                 target=t.target, group=t.key, meta={"kind": "drop", "statements": [s], **meta})]


def pending_steps(t: TableInfo) -> list[Step]:
    """An interrupted DETACH … CONCURRENTLY: finalize it, then (past retention) apply the
    retention action in the same run, so retention does not silently stop."""
    steps: list[Step] = []
    for p in t.pending_detach:
        steps.append(finalize_step(t, p))
        if t.supported and _past(t, p):
            steps += _after_detach(t, p, ", past retention, its detach was interrupted")
    return steps


def retention_steps(t: TableInfo) -> list[Step]:
    steps: list[Step] = []
    by_name = {p.name: p for p in t.partitions}
    concurrent = t.server_version >= 140000 and t.default is None
    for name in t.coverage.past_retention:
        p = by_name[name]
        chain = _chain(t, p)
        for fk in t.fks:
            s = fk_check_sql(t, p, fk)
            steps.append(Step(title=f"check that no row of {fk.qualified} references {p.qualified} ({fk.name})",
                              sql=s, lock=f"ACCESS SHARE on {fk.qualified}", target=t.target, group=t.key,
                              meta={"kind": "fk_check", "statements": [s], "table": t.qualified,
                                    "partition": p.name, "fk": fk.name, "ref": fk.qualified, "chain": chain,
                                    "relations": [fk.qualified]}))
        d = _q(sql.SQL("ALTER TABLE {} DETACH PARTITION {}{}").format(
            _ident(t.schema, t.name), _ident(p.schema, p.name), sql.SQL(" CONCURRENTLY" if concurrent else "")))
        locks = [f"SHARE UPDATE EXCLUSIVE on {t.qualified}" if concurrent else f"ACCESS EXCLUSIVE on {t.qualified}",
                 f"ACCESS EXCLUSIVE on {p.qualified}"]
        if t.default is not None:
            locks.append(f"ACCESS EXCLUSIVE on {t.default.qualified} (its partition constraint changes)")
        locks += [f"SHARE ROW EXCLUSIVE on {fk.qualified} (its {fk.name} triggers are removed)" for fk in t.fks]
        steps.append(Step(
            title=f"detach {p.qualified} (past retention: {_retention_text(t)})"
                  + (" concurrently" if concurrent else ""),
            sql=d, lock="; ".join(locks),
            hazard=Hazard.LOCK, transactional=not concurrent, target=t.target, group=t.key,
            meta={"kind": "detach", "statements": [d], "table": t.qualified, "partition": p.name,
                  "concurrent": concurrent, "parent": [t.schema, t.name], "schema": p.schema, "chain": chain,
                  "relations": [t.qualified, p.qualified] + ([t.default.qualified] if t.default else [])
                  + [fk.qualified for fk in t.fks]}))
        steps += _after_detach(t, p, "")
    return steps


def _retention_text(t: TableInfo) -> str:
    if t.partman is not None and t.policy.take_over_partman and t.partman.retention:
        return f"pg_partman retention {t.partman.retention}"
    unit = t.interval.unit if t.interval and t.interval.is_time else "interval"
    return f"{t.policy.retention} {unit}(s)"


def _size(n: int) -> str:
    from .model import human_bytes
    return human_bytes(n)


def table_steps(t: TableInfo) -> list[Step]:
    if t.managed_by and not t.policy.take_over_partman:
        return []           # pg_partman's: left to it
    steps = pending_steps(t)
    if not t.supported:
        return steps
    steps += [create_step(t, m, why) for m, why in slots_to_create(t)]
    steps += retention_steps(t)
    return steps


def notes(t: TableInfo) -> list[str]:
    """What the plan sees but does not change (said in the summary)."""
    out = []
    if not t.supported:
        out.append(f"{t.key}: not maintained: {t.not_maintained}")
        return out
    if t.default_count_error:
        out.append(f"{t.key}: default partition not counted ({t.default_count_error}); its rows are not moved")
    created = {m for m, _ in slots_to_create(t)}
    refused = {m: move_refusal(t, m) for m in (t.default_rows or {}) if m is not None}
    for m, why in sorted((m, w) for m, w in refused.items() if w):
        out.append(f"{t.key}: {t.slot_label(m)} not created, its {t.default_rows[m]:,} default-partition row(s) "
                   f"not moved: {why}")
    stay = {m: n for m, n in (t.default_rows or {}).items() if n and m not in created and not refused.get(m)
            and (m is None or t.partition_for_slot(m) is None)}
    if stay:
        out.append(f"{t.key}: {sum(stay.values()):,} default-partition row(s) left in place "
                   f"(past retention, too far ahead or NULL key): "
                   + ", ".join(t.slot_label(m) for m in sorted(stay, key=lambda m: (m is not None, m or 0))))
    if t.coverage.overlaps:
        out.append(f"{t.key}: overlapping partitions " + ", ".join(f"{a}/{b}" for a, b in t.coverage.overlaps))
    return out


def build_plan(tables: list[TableInfo]) -> Plan:
    steps: list[Step] = []
    extra: list[str] = []
    for t in tables:
        steps += table_steps(t)
        extra += notes(t)
    kinds: dict[str, int] = {}
    for s in steps:
        kinds[s.meta["kind"]] = kinds.get(s.meta["kind"], 0) + 1
    groups = len({s.group for s in steps})
    if steps:
        summary = (f"partition maintenance: {len(steps)} step(s) on {groups} table(s) — "
                   + ", ".join(f"{n} {k}" for k, n in kinds.items()))
    else:
        summary = f"partition maintenance: nothing to do on {len(tables)} table(s)"
    if extra:
        summary += "\n-- " + "\n-- ".join(extra)
    return Plan(action=ACTION_NAME, summary=summary, steps=tuple(steps))


