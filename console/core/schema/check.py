"""One target's schema status: expected (from sql/) vs live, findings with their source
line and fix, migration history and ``meta.schema_version``."""

from __future__ import annotations

import dataclasses
import fnmatch
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from ...backends.base import BackendError
from ...backends.postgres import PostgresBackend
from .. import migrate
from . import fixes, sources
from .catalog import Snapshot, read_catalog, read_schema_version
from .compare import Finding, compare, counts
from .expected import expected_snapshot


@dataclass
class TargetReport:
    target: str
    system: str
    findings: list[Finding] = field(default_factory=list)
    migrations: migrate.MigrationStatus | None = None
    schema_version: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    expected_ms: float = 0.0
    live_ms: float = 0.0
    expected: Snapshot | None = field(default=None, repr=False)
    live: Snapshot | None = field(default=None, repr=False)
    excluded: list[Finding] = field(default_factory=list)     # matched an exclude pattern

    @property
    def clean(self) -> bool:
        return self.error is None and not self.findings

    @property
    def counts(self) -> dict[str, int]:
        return counts(self.findings)

    def as_dict(self) -> dict[str, Any]:
        m = self.migrations
        return {
            "target": self.target, "system": self.system, "clean": self.clean,
            "error": self.error, "error_kind": self.error_kind, "counts": self.counts,
            "findings": [f.as_dict() for f in self.findings],
            "excluded": [{"id": f.id, "status": f.status, "object": f.object} for f in self.excluded],
            "migrations": None if m is None else {
                "applied": [{"version": a.version, "applied_at": a.applied_at, "applied_by": a.applied_by}
                            for a in m.applied],
                "pending": [f.version for f in m.pending], "changed": [f.version for f in m.changed],
                "unknown": [a.version for a in m.unknown]},
            "schema_version": self.schema_version,
            "checked_at": self.checked_at.isoformat(),
        }


def excluded_by(f: Finding, patterns: Sequence[str]) -> str | None:
    """The first pattern that excludes ``f``: shell-style (``*``, ``?``, ``[..]``), matched
    against the object (``public.tmp_*``) or ``kind:object`` (``index:public.idx_scratch_*``)."""
    for p in patterns:
        if fnmatch.fnmatchcase(f.object, p) or fnmatch.fnmatchcase(f.id, p):
            return p
    return None


def check_target(backend: PostgresBackend, system: str, *, dev: PostgresBackend | None = None,
                 root: Path | None = None, exclude: Sequence[str] = ()) -> TargetReport:
    """Never raises a BackendError: a failure is the report's ``error``. Findings matching an
    ``exclude`` pattern go to ``excluded``: shown, but not drift."""
    report = TargetReport(backend.name, system)
    try:
        t0 = time.perf_counter()
        with backend.connection() as conn:
            live = read_catalog(conn)
            report.schema_version = read_schema_version(conn)
        report.live_ms = (time.perf_counter() - t0) * 1000
        report.migrations = migrate.status(backend, system, root)
        t1 = time.perf_counter()
        expected = expected_snapshot(dev or backend, system, server_version_num=live.server_version_num, root=root)
        report.expected_ms = (time.perf_counter() - t1) * 1000
    except BackendError as exc:
        report.error, report.error_kind = exc.message, exc.kind.value
        return report
    texts = sources.load(migrate.files_for(system, root))
    found = fixes.attach(compare(expected, live), expected, live, target=backend.name)
    located = [dataclasses.replace(f, source=sources.locate(f, texts)) for f in found]
    report.findings = [f for f in located if not excluded_by(f, exclude)]
    report.excluded = [f for f in located if excluded_by(f, exclude)]
    report.expected, report.live = expected, live
    return report
