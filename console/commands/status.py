"""`console status`: the Overview's health table, headless."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from ..config import Settings
from ..core.text import markup as m
from . import EXIT_FAIL, EXIT_OK, print_json


def register(sub) -> None:
    p = sub.add_parser("status", help="health of every configured backend")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run)


def run(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.registry import Backends
    from ..core.health import checks_for, run_all

    backends = Backends.from_settings(settings)
    try:
        results = run_all(checks_for(backends))
    finally:
        backends.close()
    if not results:
        print("no backend configured", file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print_json([{**asdict(h), "error_kind": h.error_kind.value if h.error_kind else None} for h in results])
    else:
        from rich.console import Console
        from rich.table import Table
        t = Table(title=m(f"console status · env {settings.environment}"))
        for c in ("backend", "kind", "status", "latency", "version", "address / error"):
            t.add_column(c)
        for h in results:
            # every field a server answered (version, error message) is data: made visible
            t.add_row(m(h.name), m(h.kind), "[green]up[/]" if h.ok else "[red]down[/]",
                      f"{h.latency_ms:.1f} ms" if h.latency_ms is not None else "—", m(h.version or "—"),
                      m(h.address) if h.ok
                      else f"[red]{h.error_kind.value if h.error_kind else 'error'}: {m(h.error or '')}[/]")
        Console().print(t)
    return EXIT_OK if all(h.ok for h in results) else EXIT_FAIL
