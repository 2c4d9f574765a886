"""The counts the Overview puts in front of a DBA: what needs attention across the fleet.

Each count comes from the same core code as its screen (schema check, partition
discovery, the diff queue's StatusIndex, the session SCAN), runs on a slow cadence of its
own, and never raises: a failure is the count's ``error``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..backends.base import BackendError

if TYPE_CHECKING:      # typing only: importing the registry imports every driver (psycopg, redis, boto3)
    from ..backends.registry import Backends


@dataclass(frozen=True)
class Count:
    key: str
    label: str
    value: int | None = None
    detail: str = ""
    error: str | None = None
    approximate: bool = False     # "at least" (a capped scan)


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    every_s: float
    collect: Callable[[], list[Count]]


def _safe(key: str, label: str, fn: Callable[[], list[Count]]) -> Callable[[], list[Count]]:
    def run() -> list[Count]:
        try:
            return fn()
        except BackendError as exc:
            return [Count(key, label, error=f"{exc.kind.value}: {exc.message}")]
        except Exception as exc:  # noqa: BLE001 - a count must never take the Overview down
            return [Count(key, label, error=f"{type(exc).__name__}: {exc}")]
    return run


def schema_counts(backends: Backends) -> list[Count]:
    from .schema import check_target

    drift, failed, detail = 0, [], []
    for name, b in backends.postgres.items():
        r = check_target(b, b.target.system, exclude=backends.settings.schema_exclude)
        if r.error:
            failed.append(f"{name}: {r.error}")
        elif r.findings:
            drift += len(r.findings)
            detail.append(f"{name} {len(r.findings)}")
    return [Count("schema", "schema drift", drift, ", ".join(detail) or "every target clean",
                  error="; ".join(failed) or None)]


def partition_counts(backends: Backends) -> list[Count]:
    from .partitions import PartitionService

    svc = PartitionService.from_settings(backends.settings, backends.postgres)
    d = svc.discover()
    err = "; ".join(f"{k}: {v}" for k, v in d.errors.items()) or None
    ahead = [t for t in d.tables if t.coverage.missing_ahead]
    past = [t for t in d.tables if t.coverage.past_retention]
    dflt = [t for t in d.tables if t.default_row_total]

    def names(ts):
        return ", ".join(f"{t.target}.{t.name}" for t in ts[:3]) + (" …" if len(ts) > 3 else "")

    return [
        Count("partitions.ahead", "partitions missing ahead", sum(len(t.coverage.missing_ahead) for t in ahead),
              names(ahead), error=err),
        Count("partitions.retention", "partitions past retention", sum(len(t.coverage.past_retention) for t in past),
              names(past), error=err),
        Count("partitions.default", "rows in default partitions", sum(t.default_row_total or 0 for t in dflt),
              names(dflt), error=err),
    ]


def pending_diffs(backends: Backends) -> list[Count]:
    """Items in StatusIndex under ``pending`` (COUNT queries, paginated; nothing read)."""
    dyn = backends.dynamo
    total, start = 0, None
    while True:
        kw = dict(TableName=dyn.table, IndexName="StatusIndex", Select="COUNT",
                  KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                  ExpressionAttributeValues={":s": {"S": "pending"}})
        if start:
            kw["ExclusiveStartKey"] = start
        page = dyn.call("query", **kw)
        total += int(page.get("Count", 0))
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return [Count("diffs.pending", "pending zengin diffs", total, dyn.table)]


def active_sessions(backends: Backends, cap: int = 100_000) -> list[Count]:
    """``session:*`` keys by SCAN (never KEYS), stopping at ``cap``."""
    from . import sessions

    settings = backends.settings.redis
    n, capped = 0, False
    for keys, _cursor, _done, was_capped, _calls in sessions.scan_keys(
            backends.redis, settings, sessions.SESSION_PATTERN, cap=min(cap, settings.scan_cap)):
        n += len(keys)
        capped = capped or was_capped
    return [Count("sessions", "active sessions", n, "session:* keys", approximate=capped)]


def sources_for(backends: Backends) -> list[Source]:
    out: list[Source] = []
    if backends.postgres:
        out.append(Source("schema", "schema drift", 300.0,
                          _safe("schema", "schema drift", lambda: schema_counts(backends))))
        out.append(Source("partitions", "partitions", 60.0,
                          _safe("partitions", "partitions", lambda: partition_counts(backends))))
    if backends.dynamo is not None:
        out.append(Source("diffs", "pending zengin diffs", 60.0,
                          _safe("diffs.pending", "pending zengin diffs", lambda: pending_diffs(backends))))
    if backends.redis is not None:
        out.append(Source("sessions", "active sessions", 60.0,
                          _safe("sessions", "active sessions", lambda: active_sessions(backends))))
    return out
