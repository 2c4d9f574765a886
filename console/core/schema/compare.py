"""Pure comparison: an expected and a live :class:`Snapshot` -> findings.

No I/O: every rule here is tested on hand-made snapshots (tests/unit/test_schema_compare.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .catalog import Index, Snapshot, Table

MISSING, DRIFTED, UNEXPECTED = "missing", "drifted", "unexpected"
STATUSES = (MISSING, DRIFTED, UNEXPECTED)

# Order in which kinds are listed (and, for creation, fixed).
KINDS = ("schema", "extension", "function", "table", "partitioned table", "partition", "column",
         "constraint", "view", "materialized view", "index", "partition index", "trigger")


@dataclass(frozen=True)
class Source:
    file: str          # 'lambda/002_request_logs.sql'
    line: int          # 1-based

    def __str__(self) -> str:
        return f"sql/{self.file}:{self.line}"


@dataclass(frozen=True)
class Finding:
    kind: str                         # one of KINDS
    object: str                       # display name, e.g. 'public.request_logs.status_code'
    status: str                       # missing / drifted / unexpected
    expected: str = ""                # expected text ('' when unexpected)
    actual: str = ""                  # live text ('' when missing)
    detail: str = ""                  # the difference in one line
    table: str | None = None          # relation it belongs to ('schema.name')
    name: str = ""                    # the bare object name (search key for the sql/ file)
    source: Source | None = None
    steps: tuple = ()                 # plan.Step fixes (filled by fixes.attach)
    expected_obj: Any = field(default=None, compare=False, repr=False)
    actual_obj: Any = field(default=None, compare=False, repr=False)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.object}"

    @property
    def destructive(self) -> bool:
        return any(s.destructive for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "object": self.object, "status": self.status, "detail": self.detail,
                "expected": self.expected, "actual": self.actual,
                "source": str(self.source) if self.source else None,
                "fix": [{"sql": s.sql, "hazard": s.hazard.value, "lock": s.lock,
                         "transactional": s.transactional} for s in self.steps]}


def render_table(t: Table) -> str:
    lines = [f"{c.name} {c.describe()}" for c in t.columns]
    lines += [f"CONSTRAINT {k.name} {k.definition}" for k in sorted(t.constraints, key=lambda k: k.name)]
    out = f"TABLE {t.key} (\n    " + ",\n    ".join(lines) + "\n)"
    if t.partition_key:
        out += f" PARTITION BY {t.partition_key}"
    return out


def _diff_fields(pairs: list[tuple[str, Any, Any]]) -> str:
    return "; ".join(f"{label}: expected {e!s}, found {a!s}" for label, e, a in pairs if e != a)


def compare(expected: Snapshot, live: Snapshot) -> list[Finding]:
    out: list[Finding] = []
    add = out.append

    # ---- schemas and extensions
    for s in sorted(expected.schemas - live.schemas):
        add(Finding("schema", s, MISSING, expected=f"SCHEMA {s}", name=s, detail="schema does not exist"))
    for s in sorted(live.schemas - expected.schemas):
        add(Finding("schema", s, UNEXPECTED, actual=f"SCHEMA {s}", name=s, detail="schema not defined in sql/"))
    for e in sorted(expected.extensions - live.extensions):
        add(Finding("extension", e, MISSING, expected=f"EXTENSION {e}", name=e, detail="extension not installed"))

    # ---- tables, columns, constraints
    missing_tables: set[str] = set()
    unexpected_tables: set[str] = set()
    for key, t in sorted(expected.tables.items()):
        lt = live.tables.get(key)
        kind = "partitioned table" if t.kind == "p" else "table"
        if lt is None:
            missing_tables.add(key)
            add(Finding(kind, key, MISSING, expected=render_table(t), name=t.name, table=key,
                        detail="table does not exist", expected_obj=t))
            continue
        if t.kind != lt.kind or t.partition_key != lt.partition_key:
            add(Finding("partitioned table", key, DRIFTED,
                        expected=f"PARTITION BY {t.partition_key}" if t.partition_key else "not partitioned",
                        actual=f"PARTITION BY {lt.partition_key}" if lt.partition_key else "not partitioned",
                        detail="partitioning strategy or key differs (fix by hand: recreate and move rows)",
                        name=t.name, table=key, expected_obj=t, actual_obj=lt))
        for c in t.columns:
            lc = lt.column(c.name)
            obj = f"{key}.{c.name}"
            if lc is None:
                add(Finding("column", obj, MISSING, expected=c.describe(), detail="column does not exist",
                            table=key, name=c.name, expected_obj=c))
            elif lc != c:
                add(Finding("column", obj, DRIFTED, expected=c.describe(), actual=lc.describe(), table=key,
                            name=c.name, expected_obj=c, actual_obj=lc,
                            detail=_diff_fields([("type", c.type, lc.type),
                                                 ("not null", c.not_null, lc.not_null),
                                                 ("default", c.default, lc.default),
                                                 ("identity", c.identity, lc.identity),
                                                 ("generated", c.generated, lc.generated)])))
        for lc in lt.columns:
            if t.column(lc.name) is None:
                add(Finding("column", f"{key}.{lc.name}", UNEXPECTED, actual=lc.describe(), table=key,
                            name=lc.name, detail="column not defined in sql/", actual_obj=lc))
        for k in t.constraints:
            lk = lt.constraint(k.name)
            obj = f"{key}.{k.name}"
            if lk is None:
                add(Finding("constraint", obj, MISSING, expected=k.definition, table=key, name=k.name,
                            detail=f"{k.kind_name} constraint does not exist", expected_obj=k))
            elif (lk.kind, lk.definition) != (k.kind, k.definition):
                add(Finding("constraint", obj, DRIFTED, expected=k.definition, actual=lk.definition, table=key,
                            name=k.name, detail=f"{k.kind_name} constraint definition differs",
                            expected_obj=k, actual_obj=lk))
        for lk in lt.constraints:
            if t.constraint(lk.name) is None:
                add(Finding("constraint", f"{key}.{lk.name}", UNEXPECTED, actual=lk.definition, table=key,
                            name=lk.name, detail=f"{lk.kind_name} constraint not defined in sql/",
                            actual_obj=lk))
    for key, lt in sorted(live.tables.items()):
        if key in expected.tables:
            continue
        if key in expected.partitions:
            p = expected.partitions[key]
            add(Finding("partition", key, DRIFTED, expected=f"PARTITION OF {p.parent} {p.bound}",
                        actual="a plain table (detached)", table=key, name=p.name,
                        detail=f"not attached to {p.parent}", expected_obj=p, actual_obj=lt))
            continue
        unexpected_tables.add(key)
        add(Finding("partitioned table" if lt.kind == "p" else "table", key, UNEXPECTED, actual=render_table(lt),
                    table=key, name=lt.name, detail="table not defined in sql/", actual_obj=lt))

    # ---- partitions: the expected ones exist, and every partition matches its parent's template
    for key, p in sorted(expected.partitions.items()):
        if key not in live.partitions and key not in live.tables:
            add(Finding("partition", key, MISSING, expected=f"PARTITION OF {p.parent} {p.bound}", table=key,
                        name=p.name, detail=f"partition of {p.parent} does not exist", expected_obj=p))
    out.extend(check_partitions(expected, live))

    # ---- views and materialized views
    for key, v in sorted(expected.views.items()):
        kind = "materialized view" if v.materialized else "view"
        lv = live.views.get(key)
        if lv is None:
            add(Finding(kind, key, MISSING, expected=v.definition, name=v.name, table=key,
                        detail=f"{kind} does not exist", expected_obj=v))
        elif lv.materialized != v.materialized or lv.definition != v.definition:
            detail = (f"is a {'materialized view' if lv.materialized else 'view'}" if lv.materialized != v.materialized
                      else "query differs")
            add(Finding(kind, key, DRIFTED, expected=v.definition, actual=lv.definition, name=v.name, table=key,
                        detail=detail, expected_obj=v, actual_obj=lv))
    for key, lv in sorted(live.views.items()):
        if key not in expected.views:
            kind = "materialized view" if lv.materialized else "view"
            add(Finding(kind, key, UNEXPECTED, actual=lv.definition, name=lv.name, table=key,
                        detail=f"{kind} not defined in sql/", actual_obj=lv))

    # ---- indexes (not those backing constraints: the constraint is compared; not those of
    # partitions: checked against the parent's template above)
    def plain(s: Snapshot) -> dict[str, Index]:
        return {k: i for k, i in s.indexes.items() if not i.on_partition and not i.constraint}

    exp_ix, live_ix = plain(expected), plain(live)
    for key, ix in sorted(exp_ix.items()):
        li = live_ix.get(key)
        if li is None:
            add(Finding("index", key, MISSING, expected=ix.definition, table=ix.table, name=ix.name,
                        detail="index does not exist", expected_obj=ix))
        elif li.normalized != ix.normalized:
            add(Finding("index", key, DRIFTED, expected=ix.definition, actual=li.definition, table=ix.table,
                        name=ix.name, detail="index definition differs", expected_obj=ix, actual_obj=li))
        elif not li.valid and live.tables.get(li.table, Table("", "")).kind != "p":
            add(Finding("index", key, DRIFTED, expected=ix.definition, actual=li.definition + "  -- INVALID",
                        table=ix.table, name=ix.name, expected_obj=ix, actual_obj=li,
                        detail="index is invalid (a failed CREATE INDEX CONCURRENTLY?)"))
    for key, li in sorted(live_ix.items()):
        if key not in exp_ix and li.table not in unexpected_tables:
            add(Finding("index", key, UNEXPECTED, actual=li.definition, table=li.table, name=li.name,
                        detail="index not defined in sql/", actual_obj=li))

    # ---- functions
    for key, fn in sorted(expected.functions.items()):
        lf = live.functions.get(key)
        if lf is None:
            add(Finding("function", key, MISSING, expected=fn.definition, name=fn.name,
                        detail="function does not exist", expected_obj=fn))
        elif lf.definition != fn.definition:
            add(Finding("function", key, DRIFTED, expected=fn.definition, actual=lf.definition, name=fn.name,
                        detail="function definition differs", expected_obj=fn, actual_obj=lf))
    for key, lf in sorted(live.functions.items()):
        if key not in expected.functions:
            add(Finding("function", key, UNEXPECTED, actual=lf.definition, name=lf.name,
                        detail="function not defined in sql/", actual_obj=lf))

    # ---- triggers
    for key, tg in sorted(expected.triggers.items()):
        lg = live.triggers.get(key)
        if lg is None:
            add(Finding("trigger", key, MISSING, expected=tg.definition, table=tg.table, name=tg.name,
                        detail="trigger does not exist", expected_obj=tg))
        elif lg.definition != tg.definition:
            add(Finding("trigger", key, DRIFTED, expected=tg.definition, actual=lg.definition, table=tg.table,
                        name=tg.name, detail="trigger definition differs", expected_obj=tg, actual_obj=lg))
    for key, lg in sorted(live.triggers.items()):
        if key not in expected.triggers and lg.table not in unexpected_tables:
            add(Finding("trigger", key, UNEXPECTED, actual=lg.definition, table=lg.table, name=lg.name,
                        detail="trigger not defined in sql/", actual_obj=lg))

    return sort_findings(out)


def check_partitions(expected: Snapshot, live: Snapshot) -> list[Finding]:
    """Each live partition of an expected partitioned table against its parent's template:
    every index declared on the parent (primary key included) must be attached on every
    partition, and an index that most siblings carry on their own (not from the parent)
    must not be missing on one of the others."""
    out: list[Finding] = []
    for parent_key, parent in sorted(live.tables.items()):
        if parent.kind != "p" or parent_key not in expected.tables:
            continue
        parts = live.partitions_of(parent_key)
        if not parts:
            continue
        children: dict[str, list[Index]] = {p.key: live.indexes_on(p.key) for p in parts}
        for pix in live.indexes_on(parent_key):
            for p in parts:
                if any(ci.parent_index == pix.key for ci in children[p.key]):
                    continue
                what = f"primary key / {pix.constraint}" if pix.constraint else pix.name
                unique, _, _, body = _split(pix)
                out.append(Finding(
                    "partition index", f"{p.key} ({pix.name})", MISSING,
                    expected=f"CREATE {'UNIQUE ' if unique else ''}INDEX ON {p.key} {body}  -- attached to {pix.key}",
                    actual="no index attached to the parent's index", table=p.key, name=pix.name,
                    detail=f"partition lacks the parent's index {what}", expected_obj=pix, actual_obj=p))
        # indexes that most range partitions carry on their own (the default partition is
        # neither counted nor flagged: per-partition indexes are usually per month)
        by_shape: dict[tuple[bool, str], list[tuple[str, Index]]] = defaultdict(list)
        for pkey, ixs in children.items():
            for ci in ixs:
                if ci.parent_index is None and not ci.constraint:
                    by_shape[(ci.unique, ci.body)].append((pkey, ci))
        for (unique, body), have in sorted(by_shape.items()):
            holders = {k for k, _ in have}
            ranged = [p for p in parts if (p.bound or "").upper() != "DEFAULT"]
            if len(holders) < 2 or len(holders) * 2 <= len(ranged):
                continue
            sample = have[0][1]
            for p in ranged:
                if p.key in holders:
                    continue
                out.append(Finding(
                    "partition index", f"{p.key} ({body})", MISSING,
                    expected=f"CREATE {'UNIQUE ' if unique else ''}INDEX ON {p.key} {body}",
                    actual=f"absent here; present on {len(holders)} of {len(parts)} partitions (e.g. {sample.key})",
                    table=p.key, name=sample.name,
                    detail="per-partition index the sibling partitions have", expected_obj=sample, actual_obj=p))
    return out


def _split(ix: Index):
    from .catalog import split_indexdef
    return split_indexdef(ix.definition)


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (STATUSES.index(f.status), KINDS.index(f.kind), f.object))


def counts(findings: list[Finding]) -> dict[str, int]:
    c = {s: 0 for s in STATUSES}
    for f in findings:
        c[f.status] += 1
    return c
