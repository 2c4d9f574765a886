"""The expected catalog, computed from ``sql/`` itself: the target's files are applied to
a scratch database (``console_scratch_<random>``, created on the target's server or on a
``--dev-url`` server the user gives, the way Atlas uses a dev database), its catalog is
read with the same code as the live side, and the scratch database is dropped.

Snapshots are cached in memory per (system, checksum of the files, server version)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import logging
from pathlib import Path

from psycopg import sql

from ...backends.base import BackendError, ErrorKind
from ...backends.postgres import PostgresBackend, classify
from .. import migrate
from ..text import error_text
from .catalog import Snapshot, read_catalog

log = logging.getLogger("console.schema")

SCRATCH_PREFIX = "console_scratch_"
_cache: dict[tuple[str, str, int], Snapshot] = {}
_lock = threading.Lock()


def files_checksum(files: list[migrate.MigrationFile]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.version.encode() + b"\0" + f.checksum.encode() + b"\0")
    return h.hexdigest()


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def cached(system: str, checksum: str, server_version_num: int) -> Snapshot | None:
    with _lock:
        return _cache.get((system, checksum, server_version_num))


def expected_snapshot(server: PostgresBackend, system: str, *, server_version_num: int,
                      root: Path | None = None, use_cache: bool = True) -> Snapshot:
    """Apply the system's files to a scratch database on ``server``'s PostgreSQL and read
    its catalog. ``server`` needs the CREATEDB privilege."""
    files = migrate.files_for(system, root)
    key = (system, files_checksum(files), server_version_num)
    if use_cache and (snap := cached(*key)) is not None:
        return snap
    snap = build_expected(server, files)
    with _lock:
        _cache[key] = snap
    return snap


def build_expected(server: PostgresBackend, files: list[migrate.MigrationFile]) -> Snapshot:
    name = SCRATCH_PREFIX + secrets.token_hex(6)
    admin = server.connect(autocommit=True)
    try:
        try:
            admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)))
        except Exception as exc:  # noqa: BLE001
            err = classify(server.name, exc)
            raise BackendError(server.name, err.kind,
                               f"cannot create the scratch database for the expected schema "
                               f"(needs CREATEDB, or give --dev-url): {err.message}") from None
        try:
            scratch = server.connect(dbname=name, statement_timeout_ms=0, client_encoding="utf8")
            try:
                for f in files:
                    try:
                        with scratch.transaction():
                            scratch.execute(f.path.read_text(encoding="utf-8"))
                    except Exception as exc:  # noqa: BLE001
                        err = classify(server.name, exc)
                        raise BackendError("schema", ErrorKind.ERROR,
                                           f"sql/{f.version}.sql does not apply: {err.message}") from None
                scratch.execute(f"SET statement_timeout = {int(server.target.statement_timeout_ms) * 4}")
                return read_catalog(scratch)
            finally:
                scratch.close()
        finally:
            try:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            except Exception as exc:  # noqa: BLE001 - best effort; say it, the name says what it is
                log.warning("schema: the scratch database %s was not dropped (drop it by hand): %s",
                            name, error_text(exc))
    finally:
        admin.close()
