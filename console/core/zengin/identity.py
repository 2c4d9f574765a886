"""Who is acting on a diff (kept for existing imports; the rules live in core.identity):
a declared name (``--as`` / ``operator``) only with ``[identity] allow_declared``, else the
AWS caller identity (STS GetCallerIdentity with the zengin credentials, endpoint and
region). There is no OS-user fallback: approving and executing bank master data needs a
principal that AWS vouches for; without one the action is refused."""

from __future__ import annotations

from ...config import Settings
from .. import identity as core_identity
from ..identity import Principal


def caller_identity(settings: Settings) -> str:
    """The ARN of the AWS caller (cached per credential set for the process)."""
    return core_identity.caller_arn(settings)


def resolve(settings: Settings, explicit: str | None = None) -> Principal:
    """The acting principal, or BackendError(REFUSED) when there is none."""
    return core_identity.for_cli(settings, "aws", explicit)
