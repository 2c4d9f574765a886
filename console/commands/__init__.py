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

MODULES = ("status", "schema", "partitions", "metrics", "sessions", "diffs", "zengin")


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
# The scheme every command moves to: 2 is a usage error only; findings (drift, a dry run with
# something to do) are 3; a refusal (read-only, not confirmed, four-eyes) is 4.
EXIT_USAGE, EXIT_FINDINGS, EXIT_REFUSED = 2, 3, 4
