"""What every backend shares: typed errors and the health result."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone


class ErrorKind(str, enum.Enum):
    UNREACHABLE = "unreachable"      # connection refused, DNS, socket gone
    AUTH = "auth"                    # wrong password / token / credentials
    TIMEOUT = "timeout"              # connect, statement or read timeout
    LOCK_TIMEOUT = "lock_timeout"    # lock_timeout hit while waiting for a lock
    NOT_FOUND = "not_found"          # database, table, bucket, key does not exist
    CONFLICT = "conflict"            # a conditional write lost (status changed under us)
    THROTTLED = "throttled"          # the service asked us to slow down
    REFUSED = "refused"              # refused by the console itself (read-only mode, rule)
    BAD_RESPONSE = "bad_response"    # the server answered something we cannot use
    ERROR = "error"                  # any other server-side error


class BackendError(Exception):
    """A failure talking to a backend, with a kind a screen can act on and a message a
    person can read. Messages never carry secrets: callers build them from masked
    addresses and server error texts only."""

    def __init__(self, backend: str, kind: ErrorKind, message: str):
        self.backend = backend
        self.kind = kind
        self.message = message
        super().__init__(f"{backend}: {kind.value}: {message}")


class ReadOnlyError(BackendError):
    def __init__(self, action: str):
        super().__init__("console", ErrorKind.REFUSED, f"{action} refused: the console is in read-only mode")


@dataclass(frozen=True)
class Health:
    """One health probe of one backend."""

    name: str                 # configured name, e.g. "lambda" or "redis"
    kind: str                 # "postgres", "redis", "influxdb", "dynamodb", "s3"
    address: str              # masked DSN / URL / table name, safe to show
    ok: bool
    latency_ms: float | None = None
    version: str | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class Stopwatch:
    def __enter__(self) -> "Stopwatch":
        self.start = time.perf_counter()
        self.ms = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.ms = (time.perf_counter() - self.start) * 1000.0


def probe(name: str, kind: str, address: str, fn) -> Health:
    """Run ``fn()`` timed, turning a BackendError into a failed Health.

    ``fn`` returns the server version, or ``(version, round_trip_ms)`` when it can time
    the round trip more precisely than the whole call (excluding a pool checkout)."""
    try:
        with Stopwatch() as sw:
            result = fn()
    except BackendError as exc:
        return Health(name, kind, address, ok=False, error=exc.message, error_kind=exc.kind)
    version, latency = result if isinstance(result, tuple) else (result, sw.ms)
    return Health(name, kind, address, ok=True, latency_ms=latency, version=version)
