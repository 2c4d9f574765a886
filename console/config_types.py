"""The typed settings: one frozen dataclass per section, the error a person can fix, and the
masking of every secret a DSN or URL can carry. Parsing and loading are in :mod:`console.config`,
which re-exports every name here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import re
from urllib.parse import urlsplit, urlunsplit

SYSTEMS = ("lambda", "accesslog", "pipe", "zengin", "learning")


class ConfigError(Exception):
    """A configuration problem a person can fix: names the file and the key."""

    def __init__(self, message: str, *, path: Path | None = None, key: str | None = None):
        self.path = path
        self.key = key
        where = []
        if path is not None:
            where.append(str(path))
        if key is not None:
            where.append(f"key '{key}'")
        prefix = ": ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


# --------------------------------------------------------------------------- masking

_DSN_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def mask_url(url: str | None) -> str:
    """``scheme://user:secret@host/db`` -> ``scheme://user:***@host/db``; also masks a
    ``password=`` query parameter. Anything unparsable is returned with key=value
    passwords masked."""
    if not url:
        return ""
    if "://" not in url:
        return mask_dsn(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{hostport}"
    query = re.sub(r"(?i)((?:^|&)(?:password|token|secret)[^=&]*=)[^&]*", r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_dsn(dsn: str | None) -> str:
    """Mask a libpq DSN in either URL or ``key=value`` form."""
    if not dsn:
        return ""
    if "://" in dsn:
        return mask_url(dsn)
    return _DSN_PASSWORD.sub(r"\1***", dsn)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class PostgresTarget:
    name: str
    system: str
    dsn: str | None = field(default=None, repr=False)     # may carry a password
    service: str | None = None
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 3000
    connect_timeout_s: int = 3

    def conninfo(self) -> str:
        """The libpq conninfo; passwords come from it, PG* variables, service files or
        ``.pgpass`` (libpq resolves those itself)."""
        if self.dsn:
            return self.dsn
        return f"service={self.service}"

    @property
    def display(self) -> str:
        return mask_dsn(self.dsn) if self.dsn else f"service={self.service}"


@dataclass(frozen=True)
class RedisSettings:
    url: str = field(repr=False)                           # may carry a password
    socket_timeout_s: float = 3.0
    scan_count: int = 1000
    scan_pause_ms: int = 0
    scan_cap: int = 200_000

    @property
    def display(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True)
class InfluxSettings:
    url: str
    database: str
    retention_policy: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    timeout_s: float = 5.0

    @property
    def display(self) -> str:
        return mask_url(self.url)


@dataclass(frozen=True)
class ZenginSettings:
    env: str = "dev"
    table_template: str = "zengin-data-diff-{env}"
    bucket_template: str = "{env}-zengin-diff-data"
    region: str = "ap-northeast-1"        # used when the AWS profile/environment names none
    force_region: bool = False            # true: ``region`` beats the profile's region
    endpoint_url: str | None = None
    target: str = "zengin"
    forbid_self_execution: bool = True
    stale_approvals: str = "confirm"      # confirm: a second confirmation | refuse: never approved
    bulk_threshold_bytes: int = 400 * 1024
    timeout_s: float = 5.0

    @property
    def table(self) -> str:
        return self.table_template.format(env=self.env)

    @property
    def bucket(self) -> str:
        return self.bucket_template.format(env=self.env)


@dataclass(frozen=True)
class PartitionPolicySettings:
    """pg_partman's part_config for one table (or the defaults): see core.partitions."""
    premake: int = 3
    retention: int | None = None
    retention_keep_table: bool = False
    retention_schema: str | None = None
    naming: str | None = None
    take_over_partman: bool = False        # maintain a table pg_partman's part_config has


@dataclass(frozen=True)
class PartitionSettings:
    defaults: PartitionPolicySettings = field(default_factory=PartitionPolicySettings)
    tables: dict[str, PartitionPolicySettings] = field(default_factory=dict)  # "target.schema.table" ...
    lock_timeout_ms: int | None = None     # None: the target's lock_timeout
    attempts: int = 3
    timezone: str | None = None            # zone of new time boundaries (default: the children's)


@dataclass(frozen=True)
class IdentitySettings:
    """``[identity]``: whether a declared name (``--as``, ``operator``) may stand in for
    the principal the backends verify (see core.identity)."""
    allow_declared: bool = False


@dataclass(frozen=True)
class Settings:
    source: Path | None = None
    environment: str = "default"
    read_only: bool = False
    operator: str | None = None
    refresh_interval_s: float = 5.0
    postgres: tuple[PostgresTarget, ...] = ()
    redis: RedisSettings | None = None
    influx: InfluxSettings | None = None
    zengin: ZenginSettings | None = None
    audit_target: str | None = None
    partitions: PartitionSettings = field(default_factory=PartitionSettings)
    context: str | None = None             # the [contexts.<name>] in use, if the file has contexts
    contexts: tuple[str, ...] = ()         # every context the file defines
    production: bool = False               # a production context: starts read-only
    schema_exclude: tuple[str, ...] = ()   # [schema] exclude: drift patterns not reported as drift
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    # [keymap]: binding id -> key string (README: Keys); checked against the UI's table there.
    keymap: tuple[tuple[str, str], ...] = ()

    def target(self, name: str) -> PostgresTarget:
        for t in self.postgres:
            if t.name == name:
                return t
        known = ", ".join(t.name for t in self.postgres) or "none configured"
        raise ConfigError(f"unknown PostgreSQL target '{name}' (known: {known})", path=self.source)

    @property
    def audit_target_name(self) -> str | None:
        """Where audit records of actions that are not PostgreSQL DDL go (Redis session
        deletes, diff approvals): the configured ``audit_target``, else the zengin target,
        else the first PostgreSQL target."""
        if self.audit_target:
            return self.audit_target
        if self.zengin and any(t.name == self.zengin.target for t in self.postgres):
            return self.zengin.target
        return self.postgres[0].name if self.postgres else None

    def secrets(self) -> list[str]:
        """Every secret value this configuration carries (used to scrub output)."""
        out: list[str] = []
        for t in self.postgres:
            if t.dsn:
                out.extend(_secrets_in(t.dsn))
        if self.redis:
            out.extend(_secrets_in(self.redis.url))
        if self.influx:
            out.extend(_secrets_in(self.influx.url))
            out.extend(s for s in (self.influx.password, self.influx.token) if s)
        return [s for s in out if s]


def _secrets_in(url_or_dsn: str) -> list[str]:
    if "://" in url_or_dsn:
        try:
            p = urlsplit(url_or_dsn)
        except ValueError:
            return []
        return [p.password] if p.password else []
    return [m.group(2).strip("'") for m in _DSN_PASSWORD.finditer(url_or_dsn)]
