"""The test harness: one embedded stack (real PostgreSQL, Redis, moto, influxd) per test
run, started here once and stopped at the end. Tests that need a database get a fresh,
uniquely named one with the sql/ files applied."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
# Never let a developer's own configuration or AWS profile leak into a test.
for _var in ("CONSOLE_CONFIG", "AWS_PROFILE", "PGSERVICEFILE", "PGPASSFILE", "PGHOST", "PGPORT",
             "PGUSER", "PGPASSWORD", "PGDATABASE"):
    os.environ.pop(_var, None)

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def stack():
    from console.demo.stack import Stack

    data_dir = Path(tempfile.mkdtemp(prefix="console-test-"))
    data_dir.chmod(0o755)
    s = Stack(data_dir, zengin_env="test")
    s.start(with_influx=True, require_influx=IN_CI)
    s.create_databases()
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def influx_server(stack):
    """The real influxd. Outside CI a machine without one skips with the reason; in CI
    (CI=true) a missing influxd fails the run at stack start instead."""
    if stack.influx is None:
        pytest.skip(f"no influxd: {stack.influx_error}")
    return stack.influx


_db_counter = itertools.count(1)


@pytest.fixture
def fresh_db(stack, request):
    """``fresh_db(system) -> PostgresBackend`` on a new database with sql/common and
    sql/<system> applied by the real migration runner."""
    from console.backends.postgres import PostgresBackend
    from console.config import PostgresTarget, Settings
    from console.core import migrate

    made: list[PostgresBackend] = []

    def make(system: str, *, migrated: bool = True, **target_kw) -> PostgresBackend:
        name = f"t_{system}_{next(_db_counter)}_{os.getpid()}"
        stack.postgres.create_database(name)
        target = PostgresTarget(name=name, system=system, dsn=stack.postgres.dsn(name), **target_kw)
        backend = PostgresBackend(target)
        made.append(backend)
        if migrated:
            res = migrate.migrate(Settings(postgres=(target,)), backend, system, actor="pytest")
            assert res.failed is None, f"{res.failed}: {res.error}"
        return backend

    yield make
    for b in made:
        b.close()
        stack.postgres.drop_database(b.target.name)


# --------------------------------------------------------------------------- pg_partman

PG15_BIN = Path("/usr/lib/postgresql/15/bin")


def _partman_missing() -> str | None:
    if not (PG15_BIN / "initdb").exists():
        return "no PostgreSQL 15 binaries (Debian's postgresql-15)"
    if not list(Path("/usr/share/postgresql/15/extension").glob("pg_partman*.control")):
        return "no pg_partman for PostgreSQL 15 (Debian's postgresql-15-partman; scripts/test installs it as root)"
    return None


@pytest.fixture(scope="session")
def partman_pg():
    """A PostgreSQL 15 with pg_partman 4.x (Debian's binaries), started once per session on a
    free loopback port in a temp dir (initdb/pg_ctl as the unprivileged ``postgres`` user
    when we are root) and stopped at the end. ``partman_pg.create_database(name)`` /
    ``dsn(name)`` / ``drop_database(name)``. Outside CI a machine without it skips with the
    reason; in CI (CI=true) it fails."""
    import socket
    import subprocess

    why = _partman_missing()
    if why:
        if IN_CI:
            pytest.fail(f"pg_partman parity tests need {why}")
        pytest.skip(why)
    root = Path(tempfile.mkdtemp(prefix="console-pg15-"))
    root.chmod(0o755)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam("postgres")
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = root / "log"

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=root, timeout=120)

    run(str(PG15_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
    opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c max_connections=40")
    run(str(PG15_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "start")

    class Server:
        def dsn(self, db: str = "postgres") -> str:
            return f"host=127.0.0.1 port={port} user=postgres dbname={db}"

        def create_database(self, name: str) -> str:
            import psycopg
            with psycopg.connect(self.dsn(), autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            return self.dsn(name)

        def drop_database(self, name: str) -> None:
            import psycopg
            with psycopg.connect(self.dsn(), autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    try:
        yield Server()
    finally:
        subprocess.run([*as_user, str(PG15_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
