"""The console's own audit trail (``console.audit_log``, created by ``sql/common``), the one
registry of mutating actions, and the write-ahead protocol every action follows.

Registry
    ``ACT = audit.action("area.verb", "what it does")``. A test (tests/safety/test_actions.py)
    walks ``ACTIONS``: every action needs a driver there that proves it is refused in
    read-only mode, refused when its intent cannot be written, and leaves exactly one
    settled record when it completes.

Write-ahead protocol (no intent, no change)::

    intent = audit.begin(settings, ACT, target="postgres:lambda", principal=p,
                         plan=plan, detail={...}, audit_pg=backend)    # or conn=...
    ... the change ...
    audit.settle(intent, "ok", {"rows": 3})                            # or failed / unknown

    # or, doing both (settles "ok" on success, failed/unknown from the exception):
    with audit.performing(settings, ACT, target=..., principal=p, audit_pg=backend) as intent:
        ... the change ...

``begin(settings, act, *, target, principal=None, plan=None, plan_digest=None, detail=None,
audit_pg=None, conn=None, read_only_detail=None) -> Intent``

- refuses first: in read-only mode it records a ``refused`` row and raises
  ``ReadOnlyError``; a declared principal without ``[identity] allow_declared`` is recorded
  ``refused`` and raises ``identity.IdentityRefused``;
- writes the intent row (outcome ``pending``): with ``audit_pg`` (a PostgresBackend) on its
  own connection, committed before it returns; with ``conn`` (an open psycopg connection)
  on that connection: committed at once if it is in autocommit mode, else inside the
  caller's transaction (the record commits or rolls back with the change);
- raises :class:`AuditUnavailable` (a ``BackendError`` of kind ``refused``) when the row
  cannot be written (server down, a trigger raising, the table missing): the caller must
  then change NOTHING and report the refusal.

``settle(intent, outcome, detail=None, *, conn=None) -> Intent``

- ``outcome`` is ``ok``, ``failed`` or ``unknown`` (the console could not learn whether
  the change landed: say what to run next); ``detail`` is merged into the row's detail;
- runs on ``conn`` when given (put the settle in the change's own transaction when the
  change is in the audit database: the record then says ``ok`` exactly when the change
  committed), else on a new connection of the intent's backend;
- never raises for an audit failure: it sets ``intent.settle_error`` and the caller MUST
  report it ("done, but its audit record could not be settled": the CLI exits
  ``EXIT_AUDIT_UNSETTLED``). The intent then stays ``pending`` and ``audit reconcile``
  settles it later.

``refuse(settings, act, *, target, reason, principal=None, detail=None, audit_pg=None,
conn=None, read_only=False) -> Intent`` records an audited refusal (four-eyes, invalid,
wrong status...). Its ``Intent.id`` is None and ``settle_error`` says why when the refusal
itself could not be written (the action stays refused either way).

``pending(backend, older_than) / settle_stale(...)``: intents left ``pending`` by a
process that died between begin and settle (``console audit reconcile``).

Principals (core.identity.Principal): a verified one is recorded as is; a declared one is
recorded with ``principal_verified = false``; ``None`` or an ``unresolved`` placeholder
records the audit connection's ``session_user`` (verified by PostgreSQL). A plain ``str``
is recorded as declared (programmatic callers and tests; the CLI and the UI resolve through
``identity.for_cli``, which enforces ``allow_declared``, and ``begin`` refuses a declared
``Principal`` again when it is not allowed).

``record(conn, ...)`` (one finished row) stays for callers not converted yet.
"""

from __future__ import annotations

import hashlib
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..backends.base import BackendError, ErrorKind, ReadOnlyError
from ..config import Settings
from . import identity as ident
from .identity import IdentityRefused, Principal
from .text import visible

log = logging.getLogger("console.audit")

PENDING, OK, FAILED, UNKNOWN, REFUSED = "pending", "ok", "failed", "unknown", "refused"
OUTCOMES = (PENDING, OK, FAILED, UNKNOWN, REFUSED)
SETTLED = (OK, FAILED, UNKNOWN, REFUSED)      # REFUSED: a rule refused it after the intent

UNSETTLED_MESSAGE = "done, but its audit record could not be settled"


@dataclass(frozen=True)
class Action:
    name: str
    description: str


ACTIONS: dict[str, Action] = {}


def action(name: str, description: str) -> Action:
    a = Action(name, description)
    ACTIONS[name] = a
    return a


def guard(settings: Settings, act: Action) -> None:
    if settings.read_only:
        raise ReadOnlyError(act.name)


class AuditUnavailable(BackendError):
    """The intent could not be written: the action is refused and nothing was changed."""

    def __init__(self, act: Action, why: str):
        self.action = act.name
        self.why = why
        super().__init__("console", ErrorKind.REFUSED,
                         f"{act.name} refused: its audit record could not be written ({why}); nothing was changed")


@dataclass
class Intent:
    """One audit row: the intent of an action, later settled."""

    id: int | None
    act: Action
    target: str
    principal: Principal | None
    plan_digest: str | None = None
    outcome: str = PENDING
    backend: Any = field(default=None, repr=False)      # PostgresBackend the row lives on
    conn: Any = field(default=None, repr=False)         # or the connection it was written on
    settle_error: str | None = None

    @property
    def settled(self) -> bool:
        return self.outcome != PENDING and self.settle_error is None

    @property
    def unsettled(self) -> bool:
        """The change's result is known but the record could not say so."""
        return self.settle_error is not None

    def as_dict(self) -> dict[str, Any]:
        return {"audit_id": self.id, "audit_outcome": self.outcome, "audit_error": self.settle_error,
                "principal": self.principal.as_dict() if isinstance(self.principal, Principal) else self.principal}


# --------------------------------------------------------------------------- helpers


def digest(plan: Any) -> str | None:
    """``sha256:<hex>`` of what the person previewed: a Plan (its text), a string, bytes,
    or anything JSON-serialisable."""
    if plan is None:
        return None
    if hasattr(plan, "text") and callable(plan.text):
        data = plan.text().encode("utf-8", "surrogatepass")
    elif isinstance(plan, (bytes, bytearray)):
        data = bytes(plan)
    elif isinstance(plan, str):
        data = plan.encode("utf-8", "surrogatepass")
    else:
        data = json.dumps(plan, sort_keys=True, default=str, ensure_ascii=True).encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _json(detail: dict[str, Any] | None) -> str:
    # ensure_ascii: a lone surrogate (an undecodable Redis key) must not break the INSERT.
    return json.dumps(detail or {}, default=str, ensure_ascii=True)


def _principal(p: Principal | str | None) -> Principal:
    if isinstance(p, Principal):
        return p
    if p is None or not str(p).strip():
        return ident.unresolved()
    return Principal(str(p), ident.DECLARED, False)


def outcome_of(exc: BaseException) -> str:
    """The outcome of a change that raised ``exc`` before it could read back: a timeout or
    a lost connection means the console does not know (``unknown``), anything else
    ``failed``."""
    kind = getattr(exc, "kind", None)
    if kind in (ErrorKind.TIMEOUT, ErrorKind.UNREACHABLE):
        return UNKNOWN
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return FAILED
    if isinstance(exc, psycopg.OperationalError):
        state = getattr(exc, "sqlstate", None) or ""
        if not state or state.startswith("08") or state.startswith("57P"):
            return UNKNOWN          # the connection went away: did the commit land?
    return FAILED


def _err(exc: BaseException) -> str:
    msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return visible(str(msg).strip().splitlines()[0] if str(msg).strip() else type(exc).__name__)


INSERT = ("INSERT INTO console.audit_log (actor, action, target, detail, outcome, read_only, plan_digest, "
          "principal_source, principal_verified, os_user, ssh_origin, settled_at) "
          "VALUES (COALESCE(%(actor)s, session_user), %(action)s, %(target)s, %(detail)s::jsonb, %(outcome)s, "
          "%(read_only)s, %(digest)s, %(source)s, %(verified)s, %(os_user)s, %(ssh)s, "
          "CASE WHEN %(outcome)s = 'pending' THEN NULL ELSE now() END) RETURNING id, actor")

SETTLE = ("UPDATE console.audit_log SET outcome = %s, settled_at = now(), detail = detail || %s::jsonb "
          "WHERE id = %s AND outcome = 'pending' RETURNING id")


def _params(act: Action, p: Principal, target: str, outcome: str, detail: dict | None, read_only: bool,
            digest_: str | None) -> dict[str, Any]:
    from_db = p.source == ident.UNRESOLVED
    return {"actor": None if from_db else p.name, "action": act.name, "target": target,
            "detail": _json(detail), "outcome": outcome, "read_only": read_only, "digest": digest_,
            "source": ident.POSTGRES if from_db else p.source, "verified": True if from_db else p.verified,
            "os_user": p.os_user, "ssh": p.ssh_origin}


def _insert_on(conn, params: dict[str, Any]) -> tuple[int, str]:
    row = conn.execute(INSERT, params).fetchone()
    return int(row[0]), str(row[1])


def _write(params: dict[str, Any], *, audit_pg=None, conn=None) -> tuple[int, str]:
    """Write one row; raises BackendError / psycopg.Error."""
    if conn is not None:
        if getattr(conn, "autocommit", False):
            with conn.transaction():
                return _insert_on(conn, params)
        return _insert_on(conn, params)
    if audit_pg is None:
        raise BackendError("console", ErrorKind.REFUSED,
                           "no PostgreSQL audit target (configure audit_target or a [postgres.*] target)")
    with audit_pg.connection() as c:
        return _insert_on(c, params)


def _why(exc: BaseException) -> str:
    text = _err(exc)
    if "audit_log" in text and ("does not exist" in text or "column" in text):
        text += " — run `console schema migrate` on the audit target"
    return text


def _resolved(p: Principal, db_name: str) -> Principal:
    if p.source != ident.UNRESOLVED:
        return p
    return Principal(db_name, ident.POSTGRES, True, os_user_=p.os_user or "", ssh_origin_=p.ssh_origin or "")


# --------------------------------------------------------------------------- the protocol


def refuse(settings: Settings, act: Action, *, target: str, reason: str, principal: Principal | str | None = None,
           detail: dict[str, Any] | None = None, audit_pg=None, conn=None, read_only: bool = False,
           plan: Any = None) -> Intent:
    """Record a refusal (outcome ``refused``). Never raises for an audit failure: the
    returned Intent has ``id`` None and ``settle_error`` set instead (the action stays
    refused either way; report the error with the refusal)."""
    p = _principal(principal)
    params = _params(act, p, target, REFUSED, {**(detail or {}), "reason": reason}, read_only, digest(plan))
    if p.declared:
        params["detail"] = _json({**(detail or {}), "reason": reason, "declared": True})
    intent = Intent(None, act, target, p, params["digest"], REFUSED, audit_pg, conn)
    try:
        intent.id, name = _write(params, audit_pg=audit_pg, conn=conn)
        intent.principal = _resolved(p, name)
    except Exception as exc:  # noqa: BLE001 - reported through settle_error, never dropped
        intent.settle_error = f"the refusal could not be recorded: {_why(exc)}"
        log.warning("%s: %s", act.name, intent.settle_error)
    return intent


def _refusal_error(exc: BackendError, intent: Intent) -> BackendError:
    if intent.settle_error:
        exc.message = f"{exc.message} ({intent.settle_error})"
        exc.args = (f"{exc.backend}: {exc.kind.value}: {exc.message}",)
    exc.audit_id = intent.id  # type: ignore[attr-defined]
    return exc


def begin(settings: Settings, act: Action, *, target: str, principal: Principal | str | None = None,
          plan: Any = None, plan_digest: str | None = None, detail: dict[str, Any] | None = None,
          audit_pg=None, conn=None) -> Intent:
    """Refuse (audited) in read-only mode or for a declared principal that is not allowed,
    else write the intent (``pending``). Raises ReadOnlyError, IdentityRefused or
    AuditUnavailable; on any of them nothing may change."""
    p = _principal(principal)
    dg = plan_digest or digest(plan)
    typed = isinstance(principal, Principal)
    if settings.read_only:
        i = refuse(settings, act, target=target, reason="read-only", principal=p, detail=detail,
                   audit_pg=audit_pg, conn=conn, read_only=True, plan=plan)
        raise _refusal_error(ReadOnlyError(act.name), i)
    if typed and p.declared and not settings.identity.allow_declared:
        err = IdentityRefused(f"{act.name} refused: '{p.name}' is a declared identity and "
                              "[identity] allow_declared is not set")
        i = refuse(settings, act, target=target, reason="declared identity not allowed", principal=None,
                   detail={**(detail or {}), "declared_name": p.name}, audit_pg=audit_pg, conn=conn, plan=plan)
        raise _refusal_error(err, i)
    params = _params(act, p, target, PENDING, detail, False, dg)
    try:
        aid, name = _write(params, audit_pg=audit_pg, conn=conn)
    except Exception as exc:  # noqa: BLE001 - no intent, no change
        log.error("%s refused: its audit intent could not be written", act.name,
                  extra={"action": act.name, "target": target, "outcome": "refused", "error": _why(exc)})
        raise AuditUnavailable(act, _why(exc)) from None
    intent = Intent(aid, act, target, _resolved(p, name), dg, PENDING, audit_pg, conn)
    log.info("%s: intent #%s", act.name, aid, extra={"action": act.name, "target": target, "outcome": PENDING,
                                                     "actor": str(intent.principal or "")})
    return intent


def settle(intent: Intent, outcome: str, detail: dict[str, Any] | None = None, *, conn=None) -> Intent:
    """Settle a pending intent as ``ok``, ``failed``, ``unknown`` (or ``refused`` when a rule
    checked after the intent refused it: wrong status, invalid, four-eyes). Sets
    ``intent.settle_error`` (never raises) when the row cannot be updated."""
    if outcome not in SETTLED:
        raise ValueError(f"settle outcome must be one of {SETTLED}")
    if intent.id is None:
        intent.settle_error = intent.settle_error or "no intent to settle"
        return intent
    args = (outcome, _json(detail), intent.id)
    try:
        if conn is not None:
            if getattr(conn, "autocommit", False):
                with conn.transaction():
                    row = conn.execute(SETTLE, args).fetchone()
            else:
                row = conn.execute(SETTLE, args).fetchone()
        elif intent.conn is not None and not getattr(intent.conn, "closed", True) \
                and getattr(intent.conn, "autocommit", False):
            with intent.conn.transaction():
                row = intent.conn.execute(SETTLE, args).fetchone()
        elif intent.backend is not None:
            with intent.backend.connection() as c:
                row = c.execute(SETTLE, args).fetchone()
        elif intent.conn is not None and not getattr(intent.conn, "closed", True):
            row = intent.conn.execute(SETTLE, args).fetchone()     # the caller's open transaction
        else:
            raise BackendError("console", ErrorKind.UNREACHABLE, "the audit connection is closed")
        if row is None:
            raise BackendError("console", ErrorKind.CONFLICT, f"audit record #{intent.id} is no longer pending")
    except Exception as exc:  # noqa: BLE001 - reported through settle_error, never dropped
        intent.settle_error = f"audit record #{intent.id} could not be settled as {outcome}: {_why(exc)}"
        intent.outcome = outcome
        log.warning("%s: %s", intent.act.name, intent.settle_error)
        return intent
    intent.outcome = outcome
    intent.settle_error = None
    log.info("%s: #%s settled %s", intent.act.name, intent.id, outcome,
             extra={"action": intent.act.name, "target": intent.target, "outcome": outcome})
    return intent


@contextmanager
def performing(settings: Settings, act: Action, **kw: Any) -> Iterator[Intent]:
    """``begin`` ... ``settle``: ``ok`` when the block ends normally (unless it settled the
    intent itself), ``failed`` / ``unknown`` (:func:`outcome_of`) when it raises; the
    exception propagates. Read ``intent.settle_error`` after the block."""
    intent = begin(settings, act, **kw)
    try:
        yield intent
    except BaseException as exc:
        if intent.outcome == PENDING:
            settle(intent, outcome_of(exc), {"error": _err(exc)})
        raise
    else:
        if intent.outcome == PENDING:
            settle(intent, OK)


# --------------------------------------------------------------------------- left pending


PENDING_SELECT = ("SELECT id, at, actor, action, target, detail FROM console.audit_log "
                  "WHERE outcome = 'pending' AND at < now() - %s * interval '1 second' ORDER BY id")


def pending(backend, older_than_s: float = 60.0) -> list[dict[str, Any]]:
    """Intents still pending after ``older_than_s`` (a process died between its intent
    and its settle)."""
    return backend.fetch(PENDING_SELECT, (float(older_than_s),))


def settle_stale(settings: Settings, backend, *, older_than_s: float = 60.0,
                 principal: Principal | str | None = None) -> list[dict[str, Any]]:
    """Settle every stale pending intent as ``unknown`` (the console cannot know whether
    the change landed; the note says to check the target), recorded as an action itself
    (``audit.reconcile``)."""
    rows = pending(backend, older_than_s)
    if not rows:
        return []
    with performing(settings, RECONCILE, target=f"postgres:{backend.name}:console.audit_log",
                    principal=principal, audit_pg=backend, detail={"ids": [r["id"] for r in rows]}) as intent:
        with backend.connection() as c:
            for r in rows:
                c.execute(SETTLE, (UNKNOWN, _json({"settled_by": "audit.reconcile", "reconcile_audit_id": intent.id,
                                                   "note": "left pending: the process ended before it settled; "
                                                           "check the target to learn what happened"}), r["id"]))
    if intent.unsettled:
        raise BackendError("console", ErrorKind.ERROR, intent.settle_error or "")
    return rows


RECONCILE = action("audit.reconcile", "settle audit intents left pending by a process that died (as unknown)")


# --------------------------------------------------------------------------- legacy


def actor_name(settings: Settings, explicit: str | None = None) -> Principal:
    """The acting principal for a PostgreSQL or Redis action: a declared name (``--as``,
    ``operator``; IdentityRefused unless ``[identity] allow_declared``), else a
    placeholder the audit INSERT replaces with the audit target's ``session_user``."""
    return ident.for_cli(settings, "postgres", explicit)


LEGACY_INSERT = ("INSERT INTO console.audit_log (actor, action, target, detail, outcome, read_only) "
                 "VALUES (%s, %s, %s, %s::jsonb, %s, %s) RETURNING id")


def record(conn, *, actor: str, act: Action, target: str, outcome: str,
           detail: dict[str, Any] | None = None, read_only: bool = False) -> int:
    """Write one finished row on ``conn`` (inside the caller's transaction when it has one).
    Kept for callers not yet converted to begin/settle; new code uses :func:`begin`."""
    if outcome not in OUTCOMES or outcome == PENDING:
        raise ValueError(f"outcome must be one of {OUTCOMES[1:]}")
    if isinstance(actor, Principal) or actor:
        p = _principal(actor)
        return _insert_on(conn, _params(act, p, target, outcome, detail, read_only, None))[0]
    row = conn.execute(LEGACY_INSERT, (actor, act.name, target, _json(detail), outcome, read_only)).fetchone()
    return int(row[0])
