"""Headless subcommands, one module per area. Each module defines

    register(subparsers) -> None      add its parser(s); set ``handler=run`` via set_defaults
    run(settings, args) -> int        the exit code

``console/cli.py`` discovers the modules listed in ``MODULES`` that exist, so a screen's
issue adds its commands by adding its module here, nothing else."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import date, datetime, timezone
from typing import Any

MODULES = ("status", "schema", "partitions", "metrics", "sessions", "diffs", "zengin", "activity", "recording",
           "audit")


def load_all() -> list:
    out = []
    for name in MODULES:
        try:
            out.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return out


JSON_VERSION = 1


def _json_default(value: Any) -> Any:
    """Timestamps as ISO 8601 in UTC (``2026-12-01T09:30:00Z``); anything else as its text."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def json_shape(data: Any) -> dict[str, Any]:
    """Every ``--json`` output has one shape: one object with ``version`` first; a list becomes
    ``items``; an error is an object (``{"error": {"kind": ..., "message": ...}}``)."""
    if not isinstance(data, dict):
        data = {"items": data}
    out: dict[str, Any] = {"version": JSON_VERSION}
    out.update(data)
    if isinstance(out.get("error"), str):
        out["error"] = {"kind": str(out.pop("kind", "error")), "message": out["error"]}
    errs = out.get("errors")
    if isinstance(errs, dict):          # {source: message} -> objects, like every other error
        out["errors"] = [{"source": str(k), "kind": "error", "message": str(v)} for k, v in errs.items()]
    return out


def print_json(data: Any) -> None:
    data = json_shape(data)
    text = json.dumps(data, indent=2, default=_json_default, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # a lone surrogate (bytes that were not UTF-8) cannot be written as UTF-8: JSON escapes
        text = json.dumps(data, indent=2, default=_json_default, ensure_ascii=True)
    text += "\n"
    for i in range(0, len(text), 16384):      # in pieces, as json.dump does: a closed pipe is seen here
        sys.stdout.write(text[i:i + 16384])


EXIT_OK, EXIT_FAIL = 0, 1
# One exit-code scheme for every command (console --help lists it):
#   0 success / clean; 1 error; 2 usage; 3 findings (drift, a dry run with something to do);
#   4 refused (read-only, not confirmed, four-eyes, audit unavailable);
#   5 the outcome of a change is unknown (timeout, lost connection): check, then act;
#   6 done, but its audit record could not be settled (`console audit reconcile` settles it).
EXIT_USAGE, EXIT_FINDINGS, EXIT_REFUSED = 2, 3, 4
EXIT_UNKNOWN = 5
EXIT_AUDIT_UNSETTLED = 6


def worst(a: int, b: int) -> int:
    """The exit code that says more of two (for a command that runs on several targets):
    unknown > unsettled > refused > error > findings > ok."""
    order = (EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAIL, EXIT_REFUSED, EXIT_AUDIT_UNSETTLED, EXIT_UNKNOWN)
    return max(a, b, key=lambda c: order.index(c) if c in order else len(order))


def say(*parts: object, file=None) -> None:
    """One line of CLI text output: every part is data made visible (core.text), never a
    terminal command. ``--json`` output does not go through here."""
    from ..core.text import visible
    print(" ".join(visible(p) for p in parts), file=file or sys.stdout)
