"""Headless subcommands, one module per area. Each module defines

    register(subparsers) -> None      add its parser(s); set ``handler=run`` via set_defaults
    run(settings, args) -> int        the exit code

``console/cli.py`` discovers the modules listed in ``MODULES`` that exist, so a screen's
issue adds its commands by adding its module here, nothing else."""

from __future__ import annotations

import importlib
import json
import sys
from typing import Any

MODULES = ("status", "schema", "partitions", "metrics", "sessions", "diffs")


def load_all() -> list:
    out = []
    for name in MODULES:
        try:
            out.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    return out


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str, ensure_ascii=False)
    sys.stdout.write("\n")


EXIT_OK, EXIT_FAIL, EXIT_DRIFT = 0, 1, 2
EXIT_UNKNOWN = 3            # the outcome of a change is unknown (timeout, lost connection): check, then act
EXIT_AUDIT_UNSETTLED = 4    # done, but its audit record could not be settled (audit reconcile settles it)


def say(*parts: object, file=None) -> None:
    """One line of CLI text output: every part is data made visible (core.text), never a
    terminal command. ``--json`` output does not go through here."""
    from ..core.text import visible
    print(" ".join(visible(p) for p in parts), file=file or sys.stdout)
