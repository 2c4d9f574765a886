"""The migration runner: applies ``sql/common`` then ``sql/<system>`` files in order, each
file in its own transaction, recording version and checksum in
``console.schema_migrations``. Idempotent: applied files are skipped; a file whose checksum
changed since it was applied is reported, never re-run silently."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..backends.base import BackendError, ErrorKind
from ..backends.postgres import PostgresBackend, classify
from ..config import Settings
from . import audit

MIGRATE = audit.action("schema.migrate", "apply pending sql/ files to a PostgreSQL target")

VERSION_TABLE_DDL = """
CREATE SCHEMA IF NOT EXISTS console;
CREATE TABLE IF NOT EXISTS console.schema_migrations (
    version      text PRIMARY KEY,
    checksum     text NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    applied_by   text NOT NULL,
    execution_ms integer NOT NULL
);
"""

# One runner per database at a time (two consoles migrating together would race).
LOCK_KEY = 0x636F6E736F6C65  # "console"


def sql_root() -> Path:
    if os.environ.get("CONSOLE_SQL_DIR"):
        return Path(os.environ["CONSOLE_SQL_DIR"])
    return Path(__file__).resolve().parents[2] / "sql"


@dataclass(frozen=True)
class MigrationFile:
    version: str        # "common/001_console" or "lambda/002_views"
    path: Path
    checksum: str

    @classmethod
    def load(cls, root: Path, path: Path) -> "MigrationFile":
        rel = path.relative_to(root).with_suffix("")
        return cls(rel.as_posix(), path, hashlib.sha256(path.read_bytes()).hexdigest())


def files_for(system: str, root: Path | None = None) -> list[MigrationFile]:
    root = root or sql_root()
    folder = root / system
    if not folder.is_dir():
        raise BackendError("schema", ErrorKind.NOT_FOUND, f"no sql folder for system '{system}' in {root}")
    out = [MigrationFile.load(root, p) for p in sorted((root / "common").glob("*.sql"))]
    out += [MigrationFile.load(root, p) for p in sorted(folder.glob("*.sql"))]
    return out


@dataclass(frozen=True)
class AppliedVersion:
    version: str
    checksum: str
    applied_at: object
    applied_by: str


@dataclass
class MigrationStatus:
    target: str
    applied: list[AppliedVersion] = field(default_factory=list)
    pending: list[MigrationFile] = field(default_factory=list)
    changed: list[MigrationFile] = field(default_factory=list)   # applied, file differs now
    unknown: list[AppliedVersion] = field(default_factory=list)  # applied, file gone


def status(backend: PostgresBackend, system: str, root: Path | None = None) -> MigrationStatus:
    files = files_for(system, root)
    rows = backend.fetch("SELECT to_regclass('console.schema_migrations') IS NOT NULL AS present")
    applied: dict[str, AppliedVersion] = {}
    if rows and rows[0]["present"]:
        for r in backend.fetch("SELECT version, checksum, applied_at, applied_by "
                               "FROM console.schema_migrations ORDER BY version"):
            applied[r["version"]] = AppliedVersion(r["version"], r["checksum"], r["applied_at"], r["applied_by"])
    st = MigrationStatus(backend.name, applied=list(applied.values()))
    names = {f.version for f in files}
    for f in files:
        a = applied.get(f.version)
        if a is None:
            st.pending.append(f)
        elif a.checksum != f.checksum:
            st.changed.append(f)
    st.unknown = [a for v, a in applied.items() if v not in names]
    return st


@dataclass
class MigrationResult:
    target: str
    applied: list[str] = field(default_factory=list)
    skipped: int = 0
    changed: list[str] = field(default_factory=list)
    failed: str | None = None
    error: str | None = None
    audit_id: int | None = None
    audit_error: str | None = None      # applied, but the audit record could not be settled


AUDIT_READY = ("SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('console.audit_log') "
               "AND attname = 'settled_at' AND NOT attisdropped)")


def migrate(settings: Settings, backend: PostgresBackend, system: str, *, actor=None,
            root: Path | None = None, progress=None) -> MigrationResult:
    """Apply every pending file. Stops at the first failing file (its transaction is
    rolled back, earlier files stay applied and recorded).

    Write-ahead audit on the target: when its audit table is ready the intent is committed
    before the first file (no intent, nothing applied) and settled after the last. On a
    database without it (first run), the pending ``sql/common`` files, which create it,
    run in ONE transaction together with the intent, so that either both commit or
    neither does. Read-only mode is refused (and audited where the table exists)."""
    files = files_for(system, root)
    result = MigrationResult(backend.name)
    target = f"postgres:{backend.name}"
    conn = backend.connect(autocommit=True, statement_timeout_ms=0)
    try:
        ready = bool(conn.execute(AUDIT_READY).fetchone()[0])
        if settings.read_only:
            if ready:
                audit.begin(settings, MIGRATE, target=target, principal=actor, conn=conn)  # raises, audited
            audit.guard(settings, MIGRATE)
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with conn.transaction():
            conn.execute(VERSION_TABLE_DDL)
        applied = dict(conn.execute("SELECT version, checksum FROM console.schema_migrations").fetchall())
        todo = [f for f in files if f.version not in applied]
        detail = {"pending": [f.version for f in todo]}
        intent = None
        if ready and todo:
            intent = audit.begin(settings, MIGRATE, target=target, principal=actor, conn=conn,
                                 plan="\n".join(f"{f.version} {f.checksum}" for f in todo), detail=detail)
        for f in files:
            if f.version in applied and applied[f.version] != f.checksum:
                result.changed.append(f.version)
        result.skipped = len(files) - len(todo)
        boot = [f for f in todo if f.version.startswith("common/")] if not ready else []
        groups: list[list[MigrationFile]] = ([boot] if boot else []) + [[f] for f in todo if f not in boot]
        for group in groups:
            if progress:
                progress(files.index(group[0]), len(files), group[0].version)
            try:
                with conn.transaction():
                    for f in group:
                        started = time.perf_counter()
                        conn.execute(f.path.read_text(encoding="utf-8"))
                        conn.execute(
                            "INSERT INTO console.schema_migrations (version, checksum, applied_by, execution_ms) "
                            "VALUES (%s, %s, session_user, %s)",
                            (f.version, f.checksum, int((time.perf_counter() - started) * 1000)))
                    if group is boot:
                        # the audit table exists from here on: the intent commits with it
                        intent = audit.begin(settings, MIGRATE, target=target, principal=actor, conn=conn,
                                             plan="\n".join(f"{f.version} {f.checksum}" for f in todo),
                                             detail={**detail, "bootstrap": [f.version for f in boot]})
            except audit.AuditUnavailable:
                raise
            except Exception as exc:  # noqa: BLE001 - reported with the file's name
                err = classify(backend.name, exc)
                result.failed, result.error = group[-1].version if len(group) == 1 else "+".join(
                    f.version for f in group), err.message
                break
            result.applied += [f.version for f in group]
        if intent is not None:
            audit.settle(intent, audit.FAILED if result.failed else audit.OK,
                         {"applied": result.applied, "failed": result.failed, "error": result.error})
            result.audit_id, result.audit_error = intent.id, intent.settle_error
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        conn.close()
    return result
