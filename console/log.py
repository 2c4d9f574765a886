"""Structured logging: one JSON object per line (``--log-file``), secrets scrubbed.

Backends report every call through :func:`backend_call` (system, target, operation,
duration, outcome; at DEBUG, so ``-v`` shows them; failures at WARNING), actions through
:func:`event`. Messages and fields from data pass through :func:`console.core.text.visible`
semantics here too (controls made visible) so a log viewed with ``cat`` cannot steer the
terminal. Nothing here imports the rest of the package: every layer may use it."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from datetime import datetime, timezone
from typing import Any, Iterator

log = logging.getLogger("console")
log.addHandler(logging.NullHandler())      # a library: silent unless the CLI sets up --log-file
calls = logging.getLogger("console.calls")

# An answer, not a failure: "no such table" while probing, a conditional write that lost.
_EXPECTED = ("not_found", "conflict")

_FIELDS = ("system", "target", "op", "ms", "outcome", "error", "action", "actor")


def _visible(s: str) -> str:
    from .core.text import visible
    return visible(s)


class JsonFormatter(logging.Formatter):
    """``{"ts": ISO-8601 UTC, "level", "logger", "msg", ...fields}``, secrets replaced by ***."""

    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.secrets = sorted((s for s in (secrets or []) if len(s) >= 4), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": _visible(record.getMessage()),
        }
        for f in _FIELDS:
            if hasattr(record, f):
                v = getattr(record, f)
                out[f] = _visible(v) if isinstance(v, str) else v
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            out["exception"] = _visible(f"{type(exc).__name__}: {exc}")   # never a traceback with locals
        line = json.dumps(out, ensure_ascii=False, default=str)
        for s in self.secrets:
            line = line.replace(s, "***").replace(json.dumps(s)[1:-1], "***")
        return line


@contextlib.contextmanager
def backend_call(system: str, target: str, op: str) -> Iterator[None]:
    """Time one backend call and log its outcome. Cheap when logging is off."""
    if not calls.isEnabledFor(logging.WARNING):
        yield
        return
    t0 = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        ms = round((time.perf_counter() - t0) * 1000, 2)
        kind = getattr(getattr(exc, "kind", None), "value", type(exc).__name__)
        level = logging.DEBUG if kind in _EXPECTED else logging.WARNING
        calls.log(level, "%s %s %s failed", system, target, op,
                      extra={"system": system, "target": target, "op": op, "ms": ms,
                             "outcome": kind if kind in _EXPECTED else "error",
                             "error": f"{kind}: {getattr(exc, 'message', exc)}"})
        raise
    if calls.isEnabledFor(logging.DEBUG):
        ms = round((time.perf_counter() - t0) * 1000, 2)
        calls.debug("%s %s %s", system, target, op,
                    extra={"system": system, "target": target, "op": op, "ms": ms, "outcome": "ok"})


def event(msg: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """An action or an error worth a line (``action=``, ``actor=``, ``target=``, ``outcome=``)."""
    log.log(level, msg, extra={k: v for k, v in fields.items() if k in _FIELDS})
