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


@pytest.fixture(scope="session")
def partman_pg():
    """A PostgreSQL 15 with pg_partman 4.x (Debian's binaries, bench/pg15.py), started once
    per session on a free loopback port in a temp dir (initdb/pg_ctl as the unprivileged
    ``postgres`` user when we are root) and stopped at the end: ``create_database(name)``,
    ``dsn(name)``, ``drop_database(name)``. Outside CI a machine without it skips with the
    reason; in CI (CI=true) it fails."""
    from bench.pg15 import Pg15, missing

    why = missing()
    if why:
        if IN_CI:
            pytest.fail(f"pg_partman parity tests need {why}")
        pytest.skip(why)
    server = Pg15().start()
    try:
        yield server
    finally:
        server.stop()
