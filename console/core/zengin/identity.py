"""Who is acting on a diff: ``--as`` (which the CLI folds into ``settings.operator``), else
the configured ``operator``, else the AWS caller identity (STS GetCallerIdentity with the
zengin endpoint and region, so moto / LocalStack answer in tests and demos). There is no
OS-user fallback: approving and executing bank master data needs a name that can be
traced, so without one the action is refused."""

from __future__ import annotations

import threading

from ...backends.aws import classify, make_client
from ...backends.base import BackendError, ErrorKind
from ...config import Settings

_cache: dict[tuple, str] = {}
_lock = threading.Lock()


def caller_identity(settings: Settings) -> str:
    """The ARN of the AWS caller (cached per endpoint/region for the process)."""
    z = settings.zengin
    if z is None:
        raise BackendError("sts", ErrorKind.REFUSED, "no [zengin] configured: cannot ask AWS who you are")
    key = (z.endpoint_url, z.region)
    with _lock:
        if key in _cache:
            return _cache[key]
    client = make_client("sts", z)
    try:
        arn = client.get_caller_identity()["Arn"]
    except Exception as exc:  # noqa: BLE001 - classified
        raise classify("sts", exc) from None
    finally:
        client.close()
    with _lock:
        _cache[key] = str(arn)
    return str(arn)


def resolve(settings: Settings, explicit: str | None = None) -> str:
    """The acting identity, or BackendError(REFUSED) when there is none."""
    if explicit and explicit.strip():
        return explicit.strip()
    if settings.operator and settings.operator.strip():
        return settings.operator.strip()
    try:
        return caller_identity(settings)
    except BackendError as exc:
        raise BackendError("console", ErrorKind.REFUSED,
                           f"cannot tell who you are (use --as or set operator): {exc.message}") from None
