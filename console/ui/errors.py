"""How a failure reads on screen: a backend error by its kind, anything else by its type.
Workers catch everything with this, so a worker never dies silently and leaves a screen
stuck in 'loading' or 'busy'."""

from __future__ import annotations

from ..backends.base import BackendError


def error_text(exc: BaseException) -> str:
    if isinstance(exc, BackendError):
        return f"{exc.kind.value}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"
