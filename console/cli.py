"""The ``console`` command: the TUI by default, headless subcommands for cron and CI, and
``demo``. Global options come before the subcommand::

    console --config prod.toml --read-only status --json

Exit codes: 0 success; 1 failure (a backend down, a step failed, bad configuration);
2 drift found (``schema check``) or a usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

from .config import ConfigError, Settings, load

EXIT_OK, EXIT_FAIL, EXIT_DRIFT = 0, 1, 2

log = logging.getLogger("console")


class SecretFilter(logging.Filter):
    """Scrub every configured secret from every log record, whatever formatted it."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            msg = record.getMessage()
            for s in self.secrets:
                msg = msg.replace(s, "***")
            record.msg, record.args = msg, None
        return True


def setup_logging(settings: Settings, log_file: str | None, verbose: bool) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler: logging.Handler
    if log_file:
        handler = logging.FileHandler(log_file)
    else:
        # Never log to the terminal the TUI draws on; headless commands print their own.
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretFilter(settings.secrets()))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "psycopg.pool"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="console", description="Terminal operations console.")
    p.add_argument("--config", metavar="PATH", help="configuration file (else $CONSOLE_CONFIG, "
                   "./console.toml, then the user config dir)")
    p.add_argument("--read-only", action="store_true", default=None,
                   help="refuse every mutating action (can only tighten the file's setting)")
    p.add_argument("--as", dest="operator", metavar="WHO", help="operator identity recorded in audit records")
    p.add_argument("--refresh", type=float, metavar="SECONDS", help="refresh interval")
    p.add_argument("--log-file", metavar="PATH", help="write a log (secrets scrubbed) to this file")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging (with --log-file)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("tui", help="open the console (the default)")

    st = sub.add_parser("status", help="health of every configured backend")
    st.add_argument("--json", action="store_true")

    demo = sub.add_parser("demo", help="start the embedded demo stack, fill it, open the console")
    demo.add_argument("--data-dir", default=".console-data/demo", metavar="DIR",
                      help="folder holding every server's data (default: %(default)s)")
    demo.add_argument("--no-ui", action="store_true",
                      help="start and fill the stack, print the config path, wait until interrupted")
    demo.add_argument("--request-log-rows", type=int, default=200_000, metavar="N",
                      help="rows generated in lambda's request_logs (default: %(default)s)")
    demo.add_argument("--no-influx", action="store_true", help="do not start influxd even if present")

    schema = sub.add_parser("schema", help="schema migrations (check/apply arrive with the Schema screen)")
    ssub = schema.add_subparsers(dest="schema_command", metavar="ACTION", required=True)
    mig = ssub.add_parser("migrate", help="apply pending sql/ files (idempotent)")
    mig.add_argument("--target", action="append", metavar="NAME", help="target(s); default: all")
    mig.add_argument("--dry-run", action="store_true", help="list pending files, apply nothing")
    mig.add_argument("--json", action="store_true")
    return p


# --------------------------------------------------------------------------- commands


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from .backends.registry import Backends
    from .core.health import checks_for, run_all

    backends = Backends.from_settings(settings)
    try:
        results = run_all(checks_for(backends))
    finally:
        backends.close()
    if not results:
        print("no backend configured", file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        _print_json([{**asdict(h), "error_kind": h.error_kind.value if h.error_kind else None} for h in results])
    else:
        from rich.console import Console
        from rich.table import Table
        t = Table(title=f"console status · env {settings.environment}")
        for c in ("backend", "kind", "status", "latency", "version", "address / error"):
            t.add_column(c)
        for h in results:
            t.add_row(h.name, h.kind, "[green]up[/]" if h.ok else "[red]down[/]",
                      f"{h.latency_ms:.1f} ms" if h.latency_ms is not None else "—", h.version or "—",
                      h.address if h.ok else f"[red]{h.error_kind.value if h.error_kind else 'error'}: {h.error}[/]")
        Console().print(t)
    return EXIT_OK if all(h.ok for h in results) else EXIT_FAIL


def cmd_schema_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from .backends.postgres import PostgresBackend
    from .backends.base import BackendError
    from .core import audit, migrate

    names = args.target or [t.name for t in settings.postgres]
    if not names:
        print("no PostgreSQL target configured", file=sys.stderr)
        return EXIT_FAIL
    actor = audit.actor_name(settings)
    out: list[dict[str, Any]] = []
    rc = EXIT_OK
    for name in names:
        target = settings.target(name)
        backend = PostgresBackend(target)
        try:
            if args.dry_run:
                st = migrate.status(backend, target.system)
                out.append({"target": name, "pending": [f.version for f in st.pending],
                            "changed": [f.version for f in st.changed]})
            else:
                res = migrate.migrate(settings, backend, target.system, actor=actor)
                out.append(asdict(res))
                if res.failed:
                    rc = EXIT_FAIL
        except BackendError as exc:
            out.append({"target": name, "error": exc.message, "kind": exc.kind.value})
            rc = EXIT_FAIL
        finally:
            backend.close()
    if args.json:
        _print_json(out)
    else:
        for r in out:
            if "error" in r:
                print(f"{r['target']}: {r.get('kind', 'error')}: {r['error']}")
            elif args.dry_run:
                print(f"{r['target']}: {len(r['pending'])} pending" +
                      "".join(f"\n  {v}" for v in r["pending"]) +
                      ("".join(f"\n  changed since applied: {v}" for v in r["changed"])))
            else:
                print(f"{r['target']}: applied {len(r['applied'])}, already applied {r['skipped']}"
                      + (f", FAILED at {r['failed']}: {r['error']}" if r["failed"] else "")
                      + "".join(f"\n  changed since applied: {v}" for v in r["changed"]))
    return rc


def run_tui(settings: Settings, *, notices: list[str] | None = None) -> int:
    from .ui.app import ConsoleApp
    from .ui.services import Services

    services = Services.from_settings(settings, notices=notices)
    app = ConsoleApp(services)
    try:
        app.run()
    finally:
        services.close()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo.run import run_demo
        return run_demo(args, open_ui=run_tui)
    try:
        settings = load(args.config, read_only=args.read_only, operator=args.operator,
                        refresh_interval=args.refresh)
    except ConfigError as exc:
        print(f"console: configuration error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    setup_logging(settings, args.log_file, args.verbose)
    try:
        if args.command in (None, "tui"):
            return run_tui(settings)
        if args.command == "status":
            return cmd_status(settings, args)
        if args.command == "schema" and args.schema_command == "migrate":
            return cmd_schema_migrate(settings, args)
    except ConfigError as exc:
        print(f"console: configuration error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    parser.error(f"unknown command {args.command}")
    return EXIT_DRIFT


if __name__ == "__main__":
    sys.exit(main())
