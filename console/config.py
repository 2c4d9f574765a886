"""TOML + environment + flags -> one typed, validated ``Settings`` object.

Search order for the file (first hit wins): ``--config PATH``, ``$CONSOLE_CONFIG``,
``./console.toml``, then the platformdirs user config dir (``console/console.toml``).
Environment variables override the file, command-line flags override both.

Secrets are never stored in ``Settings`` in a printable field: DSNs and URLs keep their
password, but every place that shows one goes through :func:`mask_url` / :func:`mask_dsn`.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import platformdirs

from console.config_types import (  # noqa: F401  (re-exported: the settings' one import path)
    SYSTEMS,
    ConfigError,
    IdentitySettings,
    InfluxSettings,
    PartitionPolicySettings,
    PartitionSettings,
    PostgresTarget,
    RedisSettings,
    Settings,
    ZenginSettings,
    mask_dsn,
    mask_url,
)

# --------------------------------------------------------------------------- parsing

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m)?\s*$")


class _Reader:
    """Typed access to one TOML table, remembering which keys were read so that the
    rest can be reported as unknown."""

    def __init__(self, data: Mapping[str, Any], prefix: str, path: Path | None):
        if not isinstance(data, Mapping):
            raise ConfigError(f"must be a table, got {_typename(data)}", path=path, key=prefix or None)
        self.data = data
        self.prefix = prefix
        self.path = path
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def _get(self, name: str, default: Any) -> Any:
        self.seen.add(name)
        return self.data.get(name, default)

    def err(self, name: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.path, key=self.key(name))

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        v = self._get(name, None)
        if v is None:
            if required:
                raise self.err(name, "is required")
            return default
        if not isinstance(v, str):
            raise self.err(name, f"must be a string, got {_typename(v)}")
        return v

    def bool(self, name: str, default: bool) -> bool:
        v = self._get(name, default)
        if not isinstance(v, bool):
            raise self.err(name, f"must be true or false, got {_typename(v)}")
        return v

    def int(self, name: str, default: int, *, minimum: int = 0) -> int:
        v = self._get(name, default)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.err(name, f"must be an integer, got {_typename(v)}")
        if v < minimum:
            raise self.err(name, f"must be >= {minimum}, got {v}")
        return v

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        v = self._get(name, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.err(name, f"must be a number, got {_typename(v)}")
        if v < minimum:
            raise self.err(name, f"must be >= {minimum}, got {v}")
        return float(v)

    def duration_ms(self, name: str, default: int, *, minimum: int = 1) -> int:
        """Integer milliseconds, or a string such as ``"5s"``, ``"500ms"``, ``"2min"``.
        At least ``minimum`` (1 ms by default: in PostgreSQL 0 means *no* timeout, which
        is never what an operations console should run with)."""
        v = self._get(name, default)
        if isinstance(v, bool):
            raise self.err(name, "must be milliseconds or a duration string like '5s'")
        if isinstance(v, int):
            ms = v
        elif isinstance(v, str):
            ms = parse_duration_ms(v, err=lambda m: self.err(name, m))
        else:
            ms = None
        if ms is not None:
            if ms < minimum:
                raise self.err(name, f"must be at least {minimum} ms (0 would mean no timeout at all)")
            return ms
        raise self.err(name, f"must be milliseconds or a duration string like '5s', got {_typename(v)}")

    def table(self, name: str) -> "_Reader | None":
        v = self._get(name, None)
        if v is None:
            return None
        return _Reader(v, self.key(name), self.path)

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.seen)
        if unknown:
            raise ConfigError("unknown key", path=self.path, key=self.key(unknown[0]))


def parse_duration_ms(text: str, err=None) -> int:
    m = _DURATION.match(text)
    if not m:
        message = f"'{text}' is not a duration (examples: 500ms, 5s, 2min)"
        raise err(message) if err else ConfigError(message)
    value, unit = float(m.group(1)), m.group(2) or "ms"
    factor = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000}[unit]
    return int(value * factor)


def _typename(v: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", int: "an integer",
            float: "a number", bool: "a boolean"}.get(type(v), type(v).__name__)


_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _parse(data: Mapping[str, Any], path: Path | None) -> Settings:
    root = _Reader(data, "", path)
    environment = root.str("environment", "default")
    read_only = root.bool("read_only", False)
    operator = root.str("operator")
    refresh = root.number("refresh_interval", 5.0, minimum=0.2)
    audit_target = root.str("audit_target")

    targets: list[PostgresTarget] = []
    pg = root.table("postgres")
    if pg is not None:
        for name in pg.data:
            tr = pg.table(name)
            assert tr is not None
            if not _NAME.match(name):
                raise tr.err("", "target names may use letters, digits, '_', '-' and '.'")
            dsn = tr.str("dsn")
            service = tr.str("service")
            if bool(dsn) == bool(service):
                raise ConfigError("give exactly one of 'dsn' or 'service'", path=path, key=tr.prefix)
            system = tr.str("system", required=True)
            if system not in SYSTEMS:
                raise tr.err("system", f"must be one of {', '.join(SYSTEMS)}, got '{system}'")
            targets.append(PostgresTarget(
                name=name, system=system, dsn=dsn, service=service,
                statement_timeout_ms=tr.duration_ms("statement_timeout", 5000),
                lock_timeout_ms=tr.duration_ms("lock_timeout", 3000),
                connect_timeout_s=tr.int("connect_timeout", 3, minimum=1),
            ))
            tr.finish()
        pg.finish()

    redis = None
    rr = root.table("redis")
    if rr is not None:
        redis_url = rr.str("url", required=True)
        if urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            raise rr.err("url", "must start with redis://, rediss:// or unix://")
        redis = RedisSettings(
            url=redis_url,
            socket_timeout_s=rr.number("socket_timeout", 3.0, minimum=0.1),
            scan_count=rr.int("scan_count", 1000, minimum=1),
            scan_pause_ms=rr.int("scan_pause_ms", 0),
            scan_cap=rr.int("scan_cap", 200_000, minimum=1),
        )
        rr.finish()

    influx = None
    ir = root.table("influxdb")
    if ir is not None:
        influx_url = ir.str("url", required=True).rstrip("/")
        if urlsplit(influx_url).scheme not in ("http", "https"):
            raise ir.err("url", "must be an http:// or https:// URL")
        influx = InfluxSettings(
            url=influx_url,
            database=ir.str("database", required=True),
            retention_policy=ir.str("retention_policy", ""),
            username=ir.str("username"),
            password=ir.str("password"),
            token=ir.str("token"),
            timeout_s=ir.number("timeout", 5.0, minimum=0.1),
        )
        ir.finish()

    zengin = None
    zr = root.table("zengin")
    if zr is not None:
        zengin = ZenginSettings(
            env=zr.str("env", "dev"),
            table_template=zr.str("table", "zengin-data-diff-{env}"),
            bucket_template=zr.str("bucket", "{env}-zengin-diff-data"),
            region=zr.str("region", "ap-northeast-1"),
            force_region=zr.bool("force_region", False),
            endpoint_url=zr.str("endpoint_url"),
            target=zr.str("target", "zengin"),
            forbid_self_execution=zr.bool("forbid_self_execution", True),
            stale_approvals=zr.str("stale_approvals", "confirm"),
            bulk_threshold_bytes=zr.int("bulk_threshold_bytes", 400 * 1024, minimum=1),
            timeout_s=zr.number("timeout", 5.0, minimum=0.1),
        )
        zr.finish()
        if zengin.stale_approvals not in ("confirm", "refuse"):
            raise ConfigError(f"must be \"confirm\" or \"refuse\", got {zengin.stale_approvals!r}", path=path,
                              key="zengin.stale_approvals")
        if zengin.endpoint_url is not None and urlsplit(zengin.endpoint_url).scheme not in ("http", "https"):
            raise ConfigError("must be an http:// or https:// URL", path=path, key="zengin.endpoint_url")
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", zengin.region):
            raise ConfigError(f"'{zengin.region}' is not an AWS region name (e.g. ap-northeast-1)",
                              path=path, key="zengin.region")
        for tmpl_key, tmpl in (("table", zengin.table_template), ("bucket", zengin.bucket_template)):
            try:
                tmpl.format(env=zengin.env)
            except (KeyError, IndexError, ValueError) as exc:
                raise ConfigError(f"bad template: {exc}", path=path, key=f"zengin.{tmpl_key}") from None
    schema_exclude: tuple[str, ...] = ()
    sr = root.table("schema")
    if sr is not None:
        raw_ex = sr._get("exclude", [])
        if not isinstance(raw_ex, list) or not all(isinstance(x, str) and x for x in raw_ex):
            raise sr.err("exclude", "must be an array of patterns, e.g. [\"public.tmp_*\"]")
        schema_exclude = tuple(raw_ex)
        sr.finish()
    partitions = PartitionSettings()
    pr = root.table("partitions")
    if pr is not None:
        defaults = _partition_policy(pr, PartitionPolicySettings(), allow_naming=False)
        tables: dict[str, PartitionPolicySettings] = {}
        tr = pr.table("tables")
        if tr is not None:
            for key in tr.data:
                one = tr.table(key)
                tables[key] = _partition_policy(one, defaults, allow_naming=True)
                one.finish()
            tr.finish()
        lock = pr.duration_ms("lock_timeout", 0, minimum=0) if "lock_timeout" in pr.data else None
        if lock is not None and lock < 1:
            raise pr.err("lock_timeout", "must be at least 1 ms (0 would mean no timeout at all)")
        partitions = PartitionSettings(defaults=defaults, tables=tables,
                                       lock_timeout_ms=lock,
                                       attempts=pr.int("attempts", 3, minimum=1),
                                       timezone=pr.str("timezone"))
        pr.finish()
    identity = IdentitySettings()
    idr = root.table("identity")
    if idr is not None:
        identity = IdentitySettings(allow_declared=idr.bool("allow_declared", False))
        idr.finish()
    keymap: list[tuple[str, str]] = []
    km = root.table("keymap")
    if km is not None:
        for ident in km.data:
            key = km.str(ident)
            if not key or not key.strip():
                raise km.err(ident, "must be a key string such as \"ctrl+r\"")
            keymap.append((ident, key.strip()))
        km.finish()
    root.finish()

    settings = Settings(
        source=path, environment=environment, read_only=read_only, operator=operator,
        refresh_interval_s=refresh, postgres=tuple(targets), redis=redis, influx=influx,
        zengin=zengin, audit_target=audit_target, partitions=partitions, schema_exclude=schema_exclude,
        identity=identity, keymap=tuple(keymap),
    )
    if zengin is not None and targets and zengin.target not in {t.name for t in targets}:
        raise ConfigError(f"names no configured PostgreSQL target ('{zengin.target}')",
                          path=path, key="zengin.target")
    if audit_target is not None and audit_target not in {t.name for t in targets}:
        raise ConfigError(f"names no configured PostgreSQL target ('{audit_target}')",
                          path=path, key="audit_target")
    return settings


def _partition_policy(r: "_Reader", base: PartitionPolicySettings, *, allow_naming: bool) -> PartitionPolicySettings:
    retention = r._get("retention", base.retention)
    if retention is not None and (isinstance(retention, bool) or not isinstance(retention, int) or retention < 0):
        raise r.err("retention", "must be a whole number of months >= 0")
    naming = r.str("naming") if allow_naming else None
    if naming is not None and not any(p in naming for p in ("{YYYY}", "{IYYY}", "{N}")):
        raise r.err("naming", "must contain {YYYY} (or {IYYY}, {N}), e.g. '{table}_y{YYYY}m{MM}'")
    return PartitionPolicySettings(
        premake=r.int("premake", base.premake),
        retention=retention,
        retention_keep_table=r.bool("retention_keep_table", base.retention_keep_table),
        retention_schema=r.str("retention_schema", base.retention_schema),
        naming=naming,
        take_over_partman=r.bool("take_over_partman", base.take_over_partman),
    )


# --------------------------------------------------------------------------- loading


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir("console")) / "console.toml"


def find_config(explicit: str | os.PathLike | None, env: Mapping[str, str],
                cwd: Path | None = None) -> Path | None:
    """The file to read, per the documented search order; ``None`` if there is none.
    An explicit path (flag or ``$CONSOLE_CONFIG``) that does not exist is an error."""
    if explicit:
        p = Path(explicit).expanduser()
        if not p.is_file():
            raise ConfigError("no such configuration file", path=p)
        return p
    if env.get("CONSOLE_CONFIG"):
        p = Path(env["CONSOLE_CONFIG"]).expanduser()
        if not p.is_file():
            raise ConfigError("no such configuration file (from $CONSOLE_CONFIG)", path=p)
        return p
    local = (cwd or Path.cwd()) / "console.toml"
    if local.is_file():
        return local
    user = user_config_path()
    if user.is_file():
        return user
    for folder in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep):
        system = Path(folder) / "console" / "console.toml"
        if folder and system.is_file():
            return system
    return None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _env_bool(env: Mapping[str, str], name: str) -> bool | None:
    if name not in env:
        return None
    v = env[name].strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"${name} must be true or false, got '{env[name]}'")


def _env_read_only(env: Mapping[str, str]) -> bool:
    """``$CONSOLE_READ_ONLY`` can only switch read-only ON: a true value turns it on, a
    false or empty one changes nothing (it never lifts the file's or the flag's
    ``read_only``), anything else is a configuration error."""
    return bool(_env_bool(env, "CONSOLE_READ_ONLY"))


def _apply_env(settings: Settings, env: Mapping[str, str]) -> Settings:
    """Environment variables override the file, except read-only, which they can only
    tighten (see :func:`_env_read_only`)."""
    s = settings
    if (v := env.get("CONSOLE_ENVIRONMENT")):
        s = dataclasses.replace(s, environment=v)
    if _env_read_only(env):
        s = dataclasses.replace(s, read_only=True)
    if (v := env.get("CONSOLE_OPERATOR")):
        s = dataclasses.replace(s, operator=v)
    if (v := env.get("CONSOLE_REFRESH_INTERVAL")):
        try:
            s = dataclasses.replace(s, refresh_interval_s=max(0.2, float(v)))
        except ValueError:
            raise ConfigError(f"$CONSOLE_REFRESH_INTERVAL must be a number of seconds, got '{v}'") from None
    targets = []
    for t in s.postgres:
        var = f"CONSOLE_PG_{re.sub(r'[^A-Za-z0-9]', '_', t.name).upper()}_DSN"
        targets.append(dataclasses.replace(t, dsn=env[var], service=None) if env.get(var) else t)
    s = dataclasses.replace(s, postgres=tuple(targets))
    if s.redis and env.get("CONSOLE_REDIS_URL"):
        s = dataclasses.replace(s, redis=dataclasses.replace(s.redis, url=env["CONSOLE_REDIS_URL"]))
    if s.influx:
        inf = s.influx
        if env.get("CONSOLE_INFLUX_URL"):
            inf = dataclasses.replace(inf, url=env["CONSOLE_INFLUX_URL"].rstrip("/"))
        if env.get("CONSOLE_INFLUX_PASSWORD"):
            inf = dataclasses.replace(inf, password=env["CONSOLE_INFLUX_PASSWORD"])
        if env.get("CONSOLE_INFLUX_TOKEN"):
            inf = dataclasses.replace(inf, token=env["CONSOLE_INFLUX_TOKEN"])
        s = dataclasses.replace(s, influx=inf)
    if s.zengin:
        z = s.zengin
        if env.get("CONSOLE_ZENGIN_ENV"):
            z = dataclasses.replace(z, env=env["CONSOLE_ZENGIN_ENV"])
        if env.get("CONSOLE_ZENGIN_ENDPOINT_URL"):
            z = dataclasses.replace(z, endpoint_url=env["CONSOLE_ZENGIN_ENDPOINT_URL"])
        s = dataclasses.replace(s, zengin=z)
    return s


def select_context(data: Mapping[str, Any], name: str | None, path: Path | None
                   ) -> tuple[dict[str, Any], str | None, tuple[str, ...], bool]:
    """Several environments in one file (k9s contexts)::

        context = "staging"                 # the default one
        refresh_interval = 5                # top-level keys are shared by every context
        [contexts.prod]
        production = true                   # starts read-only
        [contexts.prod.postgres.main]
        dsn = "service=prod_main"

    A key a context sets replaces the top-level key of the same name whole (a context's
    ``[postgres]`` is its own list of targets). The context is ``name`` (``--context`` or
    ``$CONSOLE_CONTEXT``), else the file's ``context``, else the only one. Returns the merged
    table, the context's name, every context's name and whether it is a production one."""
    data = dict(data)
    raw = data.pop("contexts", None)
    default = data.pop("context", None)
    if raw is None:
        if name:
            raise ConfigError(f"no [contexts] in the file, so no context '{name}'", path=path, key="contexts")
        if default is not None:
            raise ConfigError("'context' needs [contexts.<name>] tables", path=path, key="context")
        production = data.pop("production", False)
        if not isinstance(production, bool):
            raise ConfigError("must be true or false", path=path, key="production")
        return data, None, (), production
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, dict) for v in raw.values()):
        raise ConfigError("must hold one table per context, e.g. [contexts.prod]", path=path, key="contexts")
    names = tuple(raw)
    chosen = name or default or (names[0] if len(names) == 1 else None)
    if chosen is None:
        raise ConfigError(f"several contexts ({', '.join(names)}): choose one with --context, "
                          f"$CONSOLE_CONTEXT or a top-level 'context' key", path=path, key="context")
    if chosen not in raw:
        raise ConfigError(f"no context '{chosen}' (known: {', '.join(names)})", path=path, key="context")
    merged = {**data, **raw[chosen]}
    production = merged.pop("production", False)
    if not isinstance(production, bool):
        raise ConfigError("must be true or false", path=path, key=f"contexts.{chosen}.production")
    return merged, chosen, names, production


def parse_text(text: str, path: Path | None = None, *, context: str | None = None) -> Settings:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None
    merged, chosen, names, production = select_context(data, context, path)
    settings = _parse(merged, path)
    return dataclasses.replace(settings, context=chosen, contexts=names, production=production,
                               environment=chosen if chosen and "environment" not in merged else settings.environment)


def load(explicit: str | os.PathLike | None = None, *, env: Mapping[str, str] | None = None,
         read_only: bool | None = None, operator: str | None = None,
         refresh_interval: float | None = None, cwd: Path | None = None,
         context: str | None = None, write: bool = False) -> Settings:
    """Load settings: file (its context), then environment, then the given flag values. Read-only
    only tightens: the file, ``$CONSOLE_READ_ONLY`` and ``--read-only`` can each switch it on and
    none of them can switch off what another switched on. A production context is read-only
    unless ``write`` (``--write`` on the command line) asks for write access; ``write`` never
    lifts an explicit ``read_only``."""
    env = os.environ if env is None else env
    context = context or env.get("CONSOLE_CONTEXT") or None
    path = find_config(explicit, env, cwd)
    if path is None:
        if context:
            raise ConfigError(f"context '{context}' asked for, but there is no configuration file")
        settings = Settings()
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror}", path=path) from None
        settings = parse_text(text, path, context=context)
    settings = _apply_env(settings, env)
    if settings.production and not write:
        settings = dataclasses.replace(settings, read_only=True)
    if read_only:                       # a flag can only switch read-only on
        settings = dataclasses.replace(settings, read_only=True)
    if operator:
        settings = dataclasses.replace(settings, operator=operator)
    if refresh_interval is not None:
        settings = dataclasses.replace(settings, refresh_interval_s=max(0.2, refresh_interval))
    return settings
