"""Child names: the conventions tried per interval, pg_partman's, the seeds', and names kept
within PostgreSQL's 63-byte identifier limit. Pure: no I/O."""

from __future__ import annotations

from datetime import date

from .bounds import month_start
from .interval import MONTHLY_UTC, NAMINGS, Interval, Slot, fallback_naming

IDENTIFIER_MAX_BYTES = 63

# ------------------------------------------------------------------ naming

# Placeholders: {table} {YYYY} {MM} {DD} {HH} {MI} {IYYY} {IW} {Q} {N}; per interval, tried in
# order when detecting (interval.NAMINGS).
CANDIDATE_NAMINGS = NAMINGS["month"]
# The seeds' conventions (sql/README.md), used when a table has no monthly child yet.
KNOWN_NAMINGS = {
    "request_logs": "{table}_y{YYYY}m{MM}",
    "access_logs": "{table}_{YYYY}_{MM}",
    "pipeline_runs": "{table}_y{YYYY}m{MM}",
    "learning_sessions": "{table}_{YYYY}_{MM}",
}
FALLBACK_NAMING = "{table}_p{YYYY}_{MM}"


def format_name(naming: str, table: str, fields: dict[str, str]) -> str:
    """The child's name, kept within PostgreSQL's 63-byte identifier limit by shortening
    the table part (never the suffix), as pg_partman does."""
    suffix = naming.replace("{table}", "\x00").format(**fields)
    head, _, tail = suffix.partition("\x00")
    room = IDENTIFIER_MAX_BYTES - len(head.encode()) - len(tail.encode())
    t = table.encode()[:max(room, 0)].decode("utf-8", errors="ignore")
    return f"{head}{t}{tail}"


def partition_name(naming: str, table: str, month: date) -> str:
    """The monthly child's name for ``month`` (see :func:`format_name`)."""
    return format_name(naming, table, MONTHLY_UTC.fields(month_start(month)))


def detect_naming_for(interval: Interval, table: str, children: list[tuple[str, Slot]]) -> tuple[str, str]:
    """(naming, how it was found) from existing children ``(name, slot)``."""
    best, hits = None, 0
    children = [(name, interval.fields(s)) for name, s in children[-24:]]   # the newest say enough
    for cand in NAMINGS[interval.unit]:
        n = sum(1 for name, f in children if format_name(cand, table, f) == name)
        if n > hits:
            best, hits = cand, n
    if best:
        return best, f"detected from {hits} of {len(children)} partitions"
    if interval.unit == "month" and table in KNOWN_NAMINGS:
        return KNOWN_NAMINGS[table], "the seeds' convention (no partition to detect from)"
    return fallback_naming(interval.unit), "pg_partman's naming (no partition name to detect from)"


def detect_naming(table: str, children: list[tuple[str, date]]) -> tuple[str, str]:
    """Monthly children ``(name, month)`` (kept for callers that speak months)."""
    return detect_naming_for(MONTHLY_UTC, table, [(n, month_start(m)) for n, m in children])
