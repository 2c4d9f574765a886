"""A cached loader of the ``.sql`` files next to this module, chosen by
``server_version_num`` (pg_activity's way, as ``core/metrics_sql``): ``<name>.sql`` is the
oldest variant, ``<name>.<N>.sql`` applies from server_version_num ``N`` up."""

from __future__ import annotations

import functools
import re
from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")
_VERSIONED = re.compile(r"^(?P<name>[a-z_]+)(?:\.(?P<min>\d{5,6}))?\.sql$")


@functools.lru_cache(maxsize=None)
def _variants() -> dict[str, list[tuple[int, str]]]:
    out: dict[str, list[tuple[int, str]]] = {}
    for path in SQL_DIR.glob("*.sql"):
        m = _VERSIONED.match(path.name)
        if m:
            out.setdefault(m["name"], []).append((int(m["min"] or 0), path.name))
    for v in out.values():
        v.sort(reverse=True)
    return out


@functools.lru_cache(maxsize=None)
def _read(file_name: str) -> str:
    return (SQL_DIR / file_name).read_text(encoding="utf-8")


def sql_file(name: str, version_num: int = 180000) -> str:
    """The text of ``sql/<name>.sql`` or of ``<name>.<N>.sql`` for the highest ``N <= version_num``.

    >>> 'query_id' in sql_file('activity', 170000) and 'NULL::bigint AS query_id' not in sql_file('activity', 170000)
    True
    >>> 'NULL::bigint AS query_id' in sql_file('activity', 130000)
    True
    """
    variants = _variants().get(name)
    if not variants:
        raise KeyError(f"no activity sql/{name}.sql")
    for minimum, file_name in variants:
        if version_num >= minimum:
            return _read(file_name)
    raise KeyError(f"no activity sql/{name}*.sql for server_version_num {version_num}")


def sql_files() -> list[str]:
    return sorted(p.name for p in SQL_DIR.glob("*.sql"))
