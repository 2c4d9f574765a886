"""Debian's PostgreSQL 15 with pg_partman 4.x, started for a while in a temp dir on a free
loopback port (initdb/pg_ctl as the unprivileged ``postgres`` user when we are root):
the reference the pg_partman parity tests (tests/conftest.py ``partman_pg``) and the
partition benchmark measure against."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG15_BIN = Path("/usr/lib/postgresql/15/bin")
PG15_EXT = Path("/usr/share/postgresql/15/extension")


def missing() -> str | None:
    """Why the server cannot be started here (None: it can)."""
    if not (PG15_BIN / "initdb").exists():
        return "no PostgreSQL 15 binaries (Debian's postgresql-15)"
    if not list(PG15_EXT.glob("pg_partman*.control")):
        return "no pg_partman for PostgreSQL 15 (Debian's postgresql-15-partman; scripts/test installs it as root)"
    return None


class Pg15:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="console-pg15-"))
        self.root.chmod(0o755)
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            for p in (self.root, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.as_user, *cmd], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       cwd=self.root, timeout=120)

    def start(self) -> "Pg15":
        self._run(str(PG15_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")
        opts = (f"-p {self.port} -k {self.sock} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=40")
        self._run(str(PG15_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", opts,
                  "-w", "start")
        return self

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(PG15_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                        "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.root, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, db: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db}"

    def create_database(self, name: str) -> str:
        import psycopg
        with psycopg.connect(self.dsn(), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        import psycopg
        with psycopg.connect(self.dsn(), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
