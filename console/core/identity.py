"""Who is acting: a principal a backend vouches for, never a name typed on the command line.

A :class:`Principal` is a ``str`` (its name: an AWS ARN, a PostgreSQL role, or a declared
name) carrying where the name comes from and whether a backend verified it, plus the OS
user and the SSH origin of the session that acted. Being a ``str`` keeps every existing
comparison (``rec.approvedBy == actor``) and every DynamoDB attribute write working while
the four-eyes rule compares principals, not typed names.

Sources:

- ``aws-sts``: STS GetCallerIdentity with the same credentials (and endpoint, region) that
  write DynamoDB: zengin actions (approve, reject, execute, reconcile, generate);
- ``postgres-session-user``: ``session_user`` of the audit target's connection, read by
  the audit INSERT itself: PostgreSQL and Redis actions (schema, partitions, sessions);
- ``declared``: ``--as`` / ``operator`` / ``$CONSOLE_OPERATOR``. Accepted only with
  ``[identity] allow_declared = true``; recorded as declared, and every confirmation says
  :data:`DECLARED_NOTE` (use :func:`confirmation_note`).

:func:`for_cli` is what the CLI and the UI call: the declared name when one is given (and
allowed), else the verified principal for the action's kind.
"""

from __future__ import annotations

import getpass
import os
import threading
from typing import Any, Mapping

from ..backends.base import BackendError, ErrorKind
from ..config import Settings

AWS = "aws-sts"
POSTGRES = "postgres-session-user"
DECLARED = "declared"
UNRESOLVED = "unresolved"          # "let the audit target's PostgreSQL say who this is"
SOURCES = (AWS, POSTGRES, DECLARED)

DECLARED_NOTE = "declared, not verified"


def os_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return None


def ssh_origin(env: Mapping[str, str] | None = None) -> str | None:
    """``client-ip client-port`` from SSH_CONNECTION (or SSH_CLIENT), None when local."""
    env = os.environ if env is None else env
    raw = env.get("SSH_CONNECTION") or env.get("SSH_CLIENT")
    if not raw:
        return None
    parts = raw.split()
    return " ".join(parts[:2]) if parts else None


class Principal(str):
    """A name with its provenance. ``str(p)`` / ``p.name`` is the name."""

    source: str
    verified: bool
    os_user: str | None
    ssh_origin: str | None

    def __new__(cls, name: str, source: str = DECLARED, verified: bool | None = None, *,
                os_user_: str | None = None, ssh_origin_: str | None = None) -> "Principal":
        name = str(name).strip()
        if not name:
            raise ValueError("a principal needs a name")
        self = super().__new__(cls, name)
        self.source = source
        self.verified = (source in (AWS, POSTGRES)) if verified is None else bool(verified)
        if source == DECLARED:
            self.verified = False
        self.os_user = os_user_ if os_user_ is not None else os_user()
        self.ssh_origin = ssh_origin_ if ssh_origin_ is not None else ssh_origin()
        return self

    @property
    def name(self) -> str:
        return str.__str__(self)

    @property
    def declared(self) -> bool:
        return self.source == DECLARED

    def label(self) -> str:
        """``alice (declared, not verified)`` / ``arn:aws:iam::…:user/alice (verified: aws-sts)``."""
        if self.source == UNRESOLVED:
            return f"{self.name} (to be verified by the audit target)"
        return f"{self.name} ({DECLARED_NOTE})" if not self.verified else f"{self.name} (verified: {self.source})"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "verified": self.verified,
                "os_user": self.os_user, "ssh_origin": self.ssh_origin}

    def __reduce__(self):
        return (_rebuild, (self.name, self.source, self.verified, self.os_user, self.ssh_origin))


def _rebuild(name, source, verified, os_u, ssh):
    return Principal(name, source, verified, os_user_=os_u or "", ssh_origin_=ssh or "")


def confirmation_note(p: "Principal | str | None") -> str:
    """The line every confirmation shows about who acts (plain text: pass it through
    core.text before it reaches a terminal; the name is data)."""
    if p is None:
        return "acting as: (not resolved yet)"
    if not isinstance(p, Principal):
        return f"acting as {p} — {DECLARED_NOTE}"
    if not p.verified:
        return (f"acting as {p.name} — {DECLARED_NOTE}" if p.source == DECLARED
                else f"acting as {p.name} — will be verified by the audit target")
    return f"acting as {p.name} (verified by {p.source})"


def unresolved() -> Principal:
    """A placeholder for PostgreSQL/Redis actions: the audit INSERT records the audit
    target's ``session_user`` as the principal."""
    return Principal(os_user() or "unknown", UNRESOLVED, False)


class IdentityRefused(BackendError):
    def __init__(self, message: str):
        super().__init__("console", ErrorKind.REFUSED, message)


def declared_name(settings: Settings, explicit: str | None = None) -> str | None:
    for v in (explicit, settings.operator):
        if v and v.strip():
            return v.strip()
    return None


def declared(settings: Settings, name: str) -> Principal:
    """A declared principal, or IdentityRefused without ``[identity] allow_declared``."""
    if not settings.identity.allow_declared:
        raise IdentityRefused(
            f"a declared identity ('{name}', from --as / operator / $CONSOLE_OPERATOR) is not accepted: "
            "the acting identity is the one the backends verify (AWS caller identity, PostgreSQL "
            "session_user); set [identity] allow_declared = true to allow declared names")
    return Principal(name, DECLARED, False)


# --------------------------------------------------------------------------- AWS

_cache: dict[tuple, str] = {}
_lock = threading.Lock()


def _aws_key(settings: Settings) -> tuple:
    z = settings.zengin
    env = os.environ
    return (z.endpoint_url, z.region, env.get("AWS_PROFILE"), env.get("AWS_ACCESS_KEY_ID"),
            env.get("AWS_SHARED_CREDENTIALS_FILE"))


def caller_arn(settings: Settings) -> str:
    """The ARN of the AWS caller, asked with the zengin credentials, endpoint and region
    (cached per credential set for the process)."""
    from ..backends.aws import classify, make_client

    z = settings.zengin
    if z is None:
        raise BackendError("sts", ErrorKind.REFUSED, "no [zengin] configured: cannot ask AWS who you are")
    key = _aws_key(settings)
    with _lock:
        if key in _cache:
            return _cache[key]
    client = make_client("sts", z)
    try:
        arn = str(client.get_caller_identity()["Arn"])
    except Exception as exc:  # noqa: BLE001 - classified
        raise classify("sts", exc) from None
    finally:
        client.close()
    with _lock:
        _cache[key] = arn
    return arn


def aws(settings: Settings) -> Principal:
    return Principal(caller_arn(settings), AWS, True)


def postgres(backend) -> Principal:
    """``session_user`` of a connection to ``backend`` (a PostgresBackend)."""
    rows = backend.fetch("SELECT session_user AS u")
    return Principal(str(rows[0]["u"]), POSTGRES, True)


# --------------------------------------------------------------------------- the one entry point


def for_cli(settings: Settings, kind: str, explicit: str | None = None, *, backend=None) -> Principal:
    """The acting principal for an action of ``kind`` (``"aws"`` or ``"postgres"``):

    - a declared name (``explicit`` / ``settings.operator``) when given: accepted only with
      ``[identity] allow_declared`` (IdentityRefused otherwise), marked declared;
    - ``"aws"``: the STS caller identity (BackendError REFUSED when AWS cannot say);
    - ``"postgres"``: ``session_user`` of ``backend`` when given, else :func:`unresolved`
      (the audit INSERT records the audit target's ``session_user``)."""
    name = declared_name(settings, explicit)
    if name is not None:
        return declared(settings, name)
    if kind == "aws":
        try:
            return aws(settings)
        except BackendError as exc:
            raise BackendError("console", ErrorKind.REFUSED,
                               f"cannot tell who you are: the AWS caller identity is unavailable "
                               f"({exc.message})") from None
    if kind == "postgres":
        return postgres(backend) if backend is not None else unresolved()
    raise ValueError(f"unknown principal kind {kind!r}")


def same_principal(a: "Principal | str | None", b: "Principal | str | None") -> bool:
    """The four-eyes comparison: the same principal name (an ARN, a role, a declared
    name). Empty names are never the same person."""
    if not a or not b:
        return False
    return str.__str__(a).strip() == str.__str__(b).strip()
