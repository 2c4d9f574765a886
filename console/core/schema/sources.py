"""Where in ``sql/`` an object is defined: the file and line of its CREATE statement,
found by searching the files for the object's name (no hand-kept index)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .compare import Finding, Source

_Q = r'"?'  # optional identifier quote


@dataclass
class SqlText:
    version: str        # 'lambda/002_request_logs'
    text: str

    @property
    def file(self) -> str:
        return self.version + ".sql"


def load(files) -> list[SqlText]:
    """``files``: migrate.MigrationFile list (sql/common then sql/<system>)."""
    return [SqlText(f.version, Path(f.path).read_text(encoding="utf-8")) for f in files]


def _pattern(kind: str, name: str) -> str:
    n = re.escape(name)
    obj = rf'(?:{_Q}\w+{_Q}\.)?{_Q}{n}{_Q}(?![\w$])'
    return {
        "schema": rf'CREATE\s+SCHEMA\s+(?:IF\s+NOT\s+EXISTS\s+)?{obj}',
        "extension": rf'CREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?{obj}',
        "table": rf'CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{obj}',
        "index": rf'CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?{obj}',
        "view": rf'CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+{obj}',
        "materialized view": rf'CREATE\s+MATERIALIZED\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?{obj}',
        "function": rf'CREATE\s+(?:OR\s+REPLACE\s+)?(?:FUNCTION|PROCEDURE)\s+{obj}\s*\(',
        "trigger": rf'CREATE\s+(?:OR\s+REPLACE\s+)?(?:CONSTRAINT\s+)?TRIGGER\s+{obj}',
        "constraint": rf'CONSTRAINT\s+{obj}',
    }[kind]


def _find(texts: list[SqlText], pattern: str, schema: str | None = None,
          within: tuple[str, int, int] | None = None) -> tuple[SqlText, int] | None:
    rx = re.compile(pattern, re.IGNORECASE)
    best = None
    for t in texts:
        if within and t.version != within[0]:
            continue
        lo, hi = (within[1], within[2]) if within else (0, len(t.text))
        for m in rx.finditer(t.text, lo, hi):
            line_start = t.text.rfind("\n", 0, m.start()) + 1
            if "--" in t.text[line_start:m.start()]:
                continue   # inside a comment
            head = t.text[m.start():m.end()]
            if schema and re.search(rf'{_Q}(\w+){_Q}\.', head) and not re.search(
                    rf'{_Q}{re.escape(schema)}{_Q}\.', head, re.IGNORECASE):
                continue   # same name, other schema
            if best is None:
                best = (t, m.start())
            if schema is None or re.search(rf'{_Q}{re.escape(schema)}{_Q}\.', head, re.IGNORECASE):
                return t, m.start()
    return best


def _line(t: SqlText, offset: int) -> int:
    return t.text.count("\n", 0, offset) + 1


def _split(key: str) -> tuple[str, str]:
    schema, _, name = key.partition(".")
    return schema, name


def locate(f: Finding, texts: list[SqlText]) -> Source | None:
    """The file and line defining the finding's object; ``None`` for unexpected objects
    and for anything the files do not name."""
    if f.status == "unexpected":
        return None
    kind = f.kind
    if kind in ("partitioned table", "partition"):
        kind = "table"
    if kind == "partition index":
        kind = "index"
    if kind in ("column", "constraint") and f.table:
        schema, tname = _split(f.table)
        hit = _find(texts, _pattern("table", tname), schema)
        if kind == "constraint":
            inner = _find(texts, _pattern("constraint", f.name))
            if inner:
                return Source(inner[0].file, _line(*inner))
        if hit is None:
            return None
        t, start = hit
        end = t.text.find(";", start)
        end = len(t.text) if end < 0 else end
        if kind == "column":
            col = re.compile(rf'^\s*{_Q}{re.escape(f.name)}{_Q}\s', re.IGNORECASE | re.MULTILINE)
            m = col.search(t.text, start, end)
            if m:
                return Source(t.file, _line(t, m.start() + len(m.group(0)) - len(m.group(0).lstrip())))
        return Source(t.file, _line(t, start))
    schema, name = (None, f.object) if kind in ("schema", "extension") else _split(f.object)
    if kind == "function":
        name = f.name
    elif kind == "trigger":
        schema, name = None, f.name
    elif kind == "index":
        name = f.name
    hit = _find(texts, _pattern(kind, name), schema)
    return Source(hit[0].file, _line(*hit)) if hit else None
