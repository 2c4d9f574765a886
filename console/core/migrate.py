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
    """``$CONSOLE_SQL_DIR``; else the copy an installed wheel carries (``console/sql``); else the
    repository's top-level ``sql/`` (a checkout or an editable install)."""
    if os.environ.get("CONSOLE_SQL_DIR"):
        return Path(os.environ["CONSOLE_SQL_DIR"])
    packaged = Path(__file__).resolve().parents[1] / "sql"
    if packaged.is_dir():
        return packaged
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


def migrate(settings: Settings, backend: PostgresBackend, system: str, *, actor: str,
            root: Path | None = None, progress=None) -> MigrationResult:
    """Apply every pending file. Stops at the first failing file (its transaction is
    rolled back, earlier files stay applied and recorded)."""
    audit.guard(settings, MIGRATE)
    files = files_for(system, root)
    result = MigrationResult(backend.name)
    conn = backend.connect(autocommit=True, statement_timeout_ms=0)
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with conn.transaction():
            conn.execute(VERSION_TABLE_DDL)
        applied = dict(conn.execute("SELECT version, checksum FROM console.schema_migrations").fetchall())
        for i, f in enumerate(files):
            if f.version in applied:
                result.skipped += 1
                if applied[f.version] != f.checksum:
                    result.changed.append(f.version)
                continue
            if progress:
                progress(i, len(files), f.version)
            started = time.perf_counter()
            try:
                with conn.transaction():
                    conn.execute(f.path.read_text(encoding="utf-8"))
                    conn.execute(
                        "INSERT INTO console.schema_migrations (version, checksum, applied_by, execution_ms) "
                        "VALUES (%s, %s, %s, %s)",
                        (f.version, f.checksum, actor, int((time.perf_counter() - started) * 1000)))
            except Exception as exc:  # noqa: BLE001 - reported with the file's name
                err = classify(backend.name, exc)
                result.failed, result.error = f.version, err.message
                break
            result.applied.append(f.version)
        has_audit = conn.execute("SELECT to_regclass('console.audit_log') IS NOT NULL").fetchone()[0]
        if (result.applied or result.failed) and has_audit:
            with conn.transaction():
                audit.record(conn, actor=actor, act=MIGRATE, target=f"postgres:{backend.name}",
                             outcome="failed" if result.failed else "ok",
                             detail={"applied": result.applied, "failed": result.failed, "error": result.error})
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    finally:
        conn.close()
    return result

