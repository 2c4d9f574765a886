"""The SQL of every metrics query: one file each in ``metrics_sql/``, chosen by ``server_version_num``."""

from __future__ import annotations

import functools
import re
from pathlib import Path


SQL_DIR = Path(__file__).resolve().parent.parent / "metrics_sql"
_VERSIONED = re.compile(r"^(?P<name>[a-z_]+)(?:\.(?P<min>\d{5,6}))?\.sql$")


# --------------------------------------------------------------------------- SQL files


@functools.lru_cache(maxsize=None)
def _sql_variants() -> dict[str, list[tuple[int, str]]]:
    """name -> [(minimum server_version_num, file name)], highest minimum first."""
    out: dict[str, list[tuple[int, str]]] = {}
    for path in SQL_DIR.glob("*.sql"):
        m = _VERSIONED.match(path.name)
        if m:
            out.setdefault(m["name"], []).append((int(m["min"] or 0), path.name))
    for variants in out.values():
        variants.sort(reverse=True)
    return out


@functools.lru_cache(maxsize=None)
def _read(file_name: str) -> str:
    return (SQL_DIR / file_name).read_text(encoding="utf-8")


def sql_file(name: str, version_num: int = 180000) -> str:
    """The text of ``metrics_sql/<name>.sql``, or of ``<name>.<N>.sql`` for the highest
    ``N <= version_num`` (e.g. ``checkpoints.170000.sql`` on PostgreSQL 17+).

    >>> 'pg_stat_checkpointer' in sql_file('checkpoints', 170004)
    True
    >>> 'pg_stat_bgwriter' in sql_file('checkpoints', 160008)
    True
    """
    variants = _sql_variants().get(name)
    if not variants:
        raise KeyError(f"no metrics_sql/{name}.sql")
    for minimum, file_name in variants:
        if version_num >= minimum:
            return _read(file_name)
    raise KeyError(f"no metrics_sql/{name}*.sql for server_version_num {version_num}")


def sql_files() -> list[str]:
    return sorted(p.name for p in SQL_DIR.glob("*.sql"))
