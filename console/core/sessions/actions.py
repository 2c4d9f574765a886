"""Audited mutations (expire, delete) following the write-ahead audit protocol
(``audit.begin`` refuses in read-only mode, records the intent before the Redis command,
``audit.settle`` after it) on the PostgreSQL audit target, and the service the screen and
the CLI use. Keys are bytes on the wire (core.sessions.keys): any key can be deleted."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ...backends.base import BackendError, ErrorKind
from ...config import RedisSettings, Settings
from .. import audit
from ..plan import Hazard, Plan, Step
from ..text import visible
from . import keys as K
from .scan import ConnectionsReport, ScanBatch, list_caches, list_connections, read_records, scan_sessions
from .stats import ServerInfo, server_info
from .tail import TailMessage, TailStatus, tail
from .values import CHANNELS, SESSION_PREFIX, CacheRecord, fmt_ttl

EXPIRE = audit.action("sessions.expire", "set a new TTL on a Redis session key")
DELETE = audit.action("sessions.delete", "delete a Redis session key")

# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class KeyPreview:
    key: str
    exists: bool
    type: str
    ttl_s: int | None
    size_bytes: int | None
    summary: str

    def text(self) -> str:
        if not self.exists:
            return f"{K.escaped(self.key)}: does not exist"
        ttl = "no TTL" if self.ttl_s is None else f"TTL {fmt_ttl(self.ttl_s)} ({self.ttl_s} s)"
        size = f"{self.size_bytes:,} bytes" if self.size_bytes is not None else "size ?"
        return f"{K.escaped(self.key)}  [{self.type}]  {ttl}  {size}\nvalue: {self.summary or '—'}"


@dataclass(frozen=True)
class ActionResult:
    action: str
    key: str
    ok: bool
    message: str
    audit_id: int | None = None
    outcome: str = "ok"                 # ok | failed | unknown (audit outcome of the change)
    audit_error: str | None = None      # set: done, but the audit record could not be settled



def check_session_key(key: bytes | str) -> None:
    b = K.to_bytes(key)
    prefix = SESSION_PREFIX.encode()
    if not b.startswith(prefix) or len(b) == len(prefix):
        raise BackendError("console", ErrorKind.REFUSED,
                           f"'{K.escaped(b)}' is not a session key (expected {SESSION_PREFIX}<user>)")


def preview_key(backend, key: bytes | str) -> KeyPreview:
    key = K.to_str(key)
    recs = read_records(backend, [key])
    r = recs[0]
    if r.kind == "gone" or (r.ttl_s == -2):
        return KeyPreview(key, False, "none", None, None, "")
    parts = [p for p in (r.notebook and f"notebook={r.notebook}",
                         r.last_activity and f"last_activity={r.last_activity}", r.summary) if p]
    kind = r.kind if r.kind in ("hash", "list", "set", "zset", "stream") else "string"
    return KeyPreview(key, True, kind, r.ttl_s, r.size_bytes,
                      f"{r.kind}: " + "; ".join(parts) if parts else r.kind)


def plan_delete(key: bytes | str, preview: KeyPreview | None = None) -> Plan:
    check_session_key(key)
    key = K.escaped(key)         # the plan is text a person reads: the escaped form
    note = (f" (TTL now: {'none' if preview.ttl_s is None else fmt_ttl(preview.ttl_s)})"
            if preview and preview.exists else "")
    return Plan(DELETE.name, f"delete Redis session {key}{note}",
                (Step(f"DEL {key}", call=f"Redis DEL {key}", hazard=Hazard.DESTRUCTIVE, target="redis",
                      transactional=False),))


def plan_expire(key: bytes | str, seconds: int, preview: KeyPreview | None = None) -> Plan:
    check_session_key(key)
    key = K.escaped(key)
    if seconds <= 0:
        raise BackendError("console", ErrorKind.REFUSED, "the new TTL must be at least 1 second")
    note = f" (now: {'no TTL' if preview.ttl_s is None else fmt_ttl(preview.ttl_s)})" if preview else ""
    return Plan(EXPIRE.name, f"set TTL of Redis session {key} to {seconds} s{note}",
                (Step(f"EXPIRE {key} {seconds}", call=f"Redis EXPIRE {key} {seconds} (no-op if the key is gone)",
                      target="redis", transactional=False),))


def _audit_and_run(settings: Settings, act: audit.Action, redis_backend, audit_pg_backend, key: str,
                   actor, detail: dict[str, Any], op: Callable[[], tuple[bool, str]],
                   plan: Plan | None = None) -> ActionResult:
    """Write-ahead: the intent on the audit target first (refused, audited, in read-only
    mode; no intent, no change), then the Redis operation, then the intent settled. A
    timeout or a lost connection is read back (does the key still have the old state?)
    before the outcome is decided."""
    target = f"redis:{redis_backend.name}:{visible(K.escaped(key))}"
    intent = audit.begin(settings, act, target=target, principal=actor, plan=plan, detail=detail,
                         audit_pg=audit_pg_backend)
    try:
        ok, message = op()
        outcome = audit.OK if ok else audit.FAILED
    except BackendError as exc:
        outcome = audit.outcome_of(exc)
        message = f"{exc.kind.value}: {exc.message}"
        if outcome == audit.UNKNOWN:
            message += "; the outcome is unknown: check the key (console sessions list) before retrying"
        audit.settle(intent, outcome, {"error": exc.message})
        return ActionResult(act.name, key, False, message, intent.id, outcome, intent.settle_error)
    audit.settle(intent, outcome, {"result": message})
    return ActionResult(act.name, key, ok, message, intent.id, outcome, intent.settle_error)


def _detail(key: str) -> dict[str, Any]:
    return {"key": K.escaped(key), "key_hex": K.to_bytes(key).hex()}


def delete_session(settings: Settings, redis_backend, audit_pg_backend, key: bytes | str,
                   actor: str) -> ActionResult:
    """DEL one session key (bytes, or the byte-exact ``str`` of .keys): refused in
    read-only mode, one audit row per run."""
    check_session_key(key)
    key = K.to_str(key)
    wire = K.to_bytes(key)
    detail: dict[str, Any] = _detail(key)
    if not settings.read_only:
        pv = preview_key(redis_backend, key)
        detail.update({"ttl_s": pv.ttl_s, "type": pv.type, "size_bytes": pv.size_bytes})

    def op():
        n = int(redis_backend.call(lambda c: c.delete(wire)))
        return (True, "deleted") if n else (False, "key did not exist")
    return _audit_and_run(settings, DELETE, redis_backend, audit_pg_backend, key, actor, detail, op,
                          plan_delete(key))


def expire_session(settings: Settings, redis_backend, audit_pg_backend, key: bytes | str, seconds: int,
                   actor: str) -> ActionResult:
    """EXPIRE one session key to ``seconds``: refused in read-only mode, one audit row."""
    check_session_key(key)
    key = K.to_str(key)
    wire = K.to_bytes(key)
    if seconds <= 0:
        raise BackendError("console", ErrorKind.REFUSED, "the new TTL must be at least 1 second")
    detail: dict[str, Any] = {**_detail(key), "seconds": seconds}
    if not settings.read_only:
        pv = preview_key(redis_backend, key)
        detail.update({"previous_ttl_s": pv.ttl_s})

    def op():
        n = int(redis_backend.call(lambda c: c.expire(wire, seconds)))
        return (True, f"TTL set to {seconds} s") if n else (False, "key did not exist")
    return _audit_and_run(settings, EXPIRE, redis_backend, audit_pg_backend, key, actor, detail, op,
                          plan_expire(key, seconds))


# --------------------------------------------------------------------------- service


class SessionsService:
    """What the screen and the CLI use: the Redis backend plus the audit target."""

    def __init__(self, settings: Settings, redis_backend, audit_pg_backend=None):
        self.settings = settings
        self.redis = redis_backend
        self.audit_pg = audit_pg_backend

    @property
    def configured(self) -> bool:
        return self.redis is not None

    @property
    def read_only(self) -> bool:
        return self.settings.read_only

    @property
    def redis_settings(self) -> RedisSettings:
        return self.redis.settings

    @property
    def address(self) -> str:
        return self.redis.address if self.redis else ""

    def info(self) -> ServerInfo:
        return server_info(self.redis)

    def scan(self, pattern: str, stop: threading.Event) -> Iterator[ScanBatch]:
        return scan_sessions(self.redis, self.redis.settings, pattern, stop=stop)

    def connections(self) -> ConnectionsReport:
        return list_connections(self.redis, self.redis.settings)

    def caches(self) -> list[CacheRecord]:
        return list_caches(self.redis, self.redis.settings)

    def tail(self, stop: threading.Event, keyevents: bool) -> Iterator[TailMessage | TailStatus]:
        return tail(self.redis.settings, CHANNELS, stop=stop, keyevents=keyevents, name=self.redis.name)

    def preview(self, key: bytes | str) -> KeyPreview:
        return preview_key(self.redis, key)

    def delete(self, key: bytes | str, actor: str) -> ActionResult:
        return delete_session(self.settings, self.redis, self.audit_pg, key, actor)

    def expire(self, key: bytes | str, seconds: int, actor: str) -> ActionResult:
        return expire_session(self.settings, self.redis, self.audit_pg, key, seconds, actor)

    def actor(self):
        """The acting principal (core.identity.Principal): declared only with
        ``[identity] allow_declared``, else the audit target's ``session_user``."""
        return audit.actor_name(self.settings)
