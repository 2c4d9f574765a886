"""Redis through redis-py: health, typed errors. The session screen's SCAN / pipeline
calls build on ``client``."""

from __future__ import annotations

import redis as redislib

from ..config import RedisSettings
from ..log import backend_call
from .base import BackendError, ErrorKind, Health, Stopwatch, probe


def classify(name: str, exc: BaseException) -> BackendError:
    if isinstance(exc, BackendError):
        return exc
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, redislib.AuthenticationError) or "WRONGPASS" in text or "NOAUTH" in text:
        return BackendError(name, ErrorKind.AUTH, text)
    if isinstance(exc, redislib.TimeoutError):
        return BackendError(name, ErrorKind.TIMEOUT, text)
    if isinstance(exc, redislib.ConnectionError):
        return BackendError(name, ErrorKind.UNREACHABLE, text)
    if isinstance(exc, redislib.ResponseError):
        return BackendError(name, ErrorKind.ERROR, text)
    return BackendError(name, ErrorKind.ERROR, text)


class RedisBackend:
    kind = "redis"

    def __init__(self, settings: RedisSettings, name: str = "redis"):
        self.settings = settings
        self.name = name
        self.client = redislib.Redis.from_url(
            settings.url,
            socket_timeout=settings.socket_timeout_s,
            socket_connect_timeout=settings.socket_timeout_s,
            health_check_interval=30,
            retry_on_timeout=False,
            client_name="console",
        )

    @property
    def address(self) -> str:
        return self.settings.display

    def call(self, fn, *args, **kwargs):
        """Run ``fn(client, ...)`` mapping redis-py exceptions to BackendError."""
        with backend_call("redis", self.name, getattr(fn, "__name__", "call")):
            try:
                return fn(self.client, *args, **kwargs)
            except redislib.RedisError as exc:
                raise classify(self.name, exc) from None
            except OSError as exc:
                raise BackendError(self.name, ErrorKind.UNREACHABLE, str(exc)) from None

    def _health(self) -> tuple[str, float]:
        def go(c: redislib.Redis):
            with Stopwatch() as sw:
                c.ping()
            info = c.info("server")
            return f"Redis {info.get('redis_version', '?')}", sw.ms
        return self.call(go)

    def health(self) -> Health:
        return probe(self.name, self.kind, self.address, self._health)

    def close(self) -> None:
        self.client.close()
