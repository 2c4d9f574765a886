"""Build every configured backend from Settings, once, and close them together."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..config import Settings
from .dynamo import DynamoBackend
from .influx import InfluxBackend
from .postgres import PostgresBackend
from .redis import RedisBackend
from .s3 import S3Backend
from ..core.text import error_text

log = logging.getLogger("console.backends")


@dataclass
class Backends:
    settings: Settings
    postgres: dict[str, PostgresBackend] = field(default_factory=dict)
    redis: RedisBackend | None = None
    influx: InfluxBackend | None = None
    dynamo: DynamoBackend | None = None
    s3: S3Backend | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, only: "set[str] | None" = None,
                      targets: "list[str] | None" = None) -> "Backends":
        """Every configured backend, or ``only`` some kinds ("postgres", "redis", "influx",
        "zengin") and ``targets`` of PostgreSQL (a headless command builds what it uses).
        Nothing connects before it is used."""
        b = cls(settings)
        want = only if only is not None else {"postgres", "redis", "influx", "zengin"}
        if "postgres" in want:
            for t in settings.postgres:
                if targets is None or t.name in targets:
                    b.postgres[t.name] = PostgresBackend(t)
        if settings.redis and "redis" in want:
            b.redis = RedisBackend(settings.redis)
        if settings.influx and "influx" in want:
            b.influx = InfluxBackend(settings.influx)
        if settings.zengin and "zengin" in want:
            b.dynamo = DynamoBackend(settings.zengin)
            b.s3 = S3Backend(settings.zengin)
        return b

    def all(self) -> list:
        out: list = list(self.postgres.values())
        out.extend(x for x in (self.redis, self.influx, self.dynamo, self.s3) if x is not None)
        return out

    def pg(self, name: str) -> PostgresBackend:
        self.settings.target(name)  # raises a clear ConfigError for unknown names
        return self.postgres[name]

    def close(self) -> None:
        for b in self.all():
            try:
                b.close()
            except Exception as exc:  # noqa: BLE001 - closing is best effort; nothing to undo
                log.debug("closing %s failed: %s", type(b).__name__, error_text(exc))
