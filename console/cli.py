"""The ``console`` command: the TUI by default, headless subcommands for cron and CI, and
``demo``. Global options come before the subcommand::

    console --config prod.toml --read-only status --json

Exit codes: 0 success; 1 failure (a backend down, a step failed, bad configuration);
2 drift found (``schema check``) or a usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from .backends.base import BackendError
from .commands import EXIT_FAIL, EXIT_OK, EXIT_USAGE
from .config import ConfigError, Settings, load
from .core.text import visible

log = logging.getLogger("console")


def setup_logging(settings: Settings, log_file: str | None, verbose: bool) -> None:
    """``--log-file``: JSON lines (one object per line, ISO 8601 UTC, secrets replaced by ***);
    ``-v`` adds every backend call (system, target, operation, duration, outcome)."""
    from .log import JsonFormatter

    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler: logging.Handler
    if log_file:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        # Never log to the terminal the TUI draws on; headless commands print their own.
        handler = logging.NullHandler()
    handler.setFormatter(JsonFormatter(settings.secrets()))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "psycopg.pool", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# --------------------------------------------------------------------------- parser


EPILOG = """\
exit codes:
  0  success, or clean (no drift, nothing to do)
  1  error: a backend unreachable, a step failed, bad configuration
  2  usage error
  3  findings: drift found (`schema check`), a dry run with something to do
  4  refused: read-only, not confirmed (--yes), four-eyes rule, audit record unavailable
  5  the outcome of a change is unknown (a timeout): check before retrying
  6  done, but its audit record could not be settled

environment:
  CONSOLE_CONFIG       configuration file (else ./console.toml, the user config dir,
                       then $XDG_CONFIG_DIRS/console/console.toml)
  CONSOLE_CONTEXT      which [contexts.NAME] to use
  CONSOLE_READ_ONLY    true switches read-only on (it never switches it off)
  CONSOLE_PG_<TARGET>_DSN, CONSOLE_REDIS_URL, CONSOLE_INFLUX_URL, CONSOLE_INFLUX_PASSWORD,
  CONSOLE_INFLUX_TOKEN, CONSOLE_ZENGIN_ENV, CONSOLE_ZENGIN_ENDPOINT_URL
  PG* / service files / .pgpass (libpq), AWS_PROFILE and the AWS credential chain

examples:
  console                                   open the console
  console --context prod --write            production context with write access
  console status --json                     every backend, for a script
  console schema check --target lambda      exit 0 clean, 2 drift
  console partitions ensure --dry-run       what maintenance would do
  console diffs list --status pending
  console zengin init --yes                 create the DynamoDB table and S3 bucket
  console completion bash > ~/.local/share/bash-completion/completions/console
"""


def version() -> str:
    """The installed distribution's version (a wheel or an editable install)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version
    try:
        return dist_version("console")
    except PackageNotFoundError:
        return "unknown (not installed)"


class _VersionAction(argparse.Action):
    """``--version``: the distribution's metadata is read only when asked (importlib.metadata
    costs the TUI's launch tens of milliseconds)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show the version and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"console {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from . import commands

    p = argparse.ArgumentParser(prog="console", description="Terminal operations console.",
                                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=_VersionAction)
    p.add_argument("--config", metavar="PATH", help="configuration file (else $CONSOLE_CONFIG, "
                   "./console.toml, then the user config dir)")
    p.add_argument("--context", metavar="NAME",
                   help="which [contexts.NAME] of the configuration to use (else $CONSOLE_CONTEXT, "
                        "the file's 'context', or its only one)")
    p.add_argument("--read-only", action="store_true", default=None,
                   help="refuse every mutating action (can only tighten the file's setting)")
    p.add_argument("--write", action="store_true",
                   help="ask for write access in a production context (which starts read-only); "
                        "never lifts an explicit read_only")
    p.add_argument("--as", dest="operator", metavar="WHO", help="operator identity recorded in audit records")
    p.add_argument("--refresh", type=float, metavar="SECONDS", help="refresh interval")
    p.add_argument("--log-file", metavar="PATH", help="write a log (secrets scrubbed) to this file")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging (with --log-file)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("tui", help="open the console (the default)")

    comp = sub.add_parser("completion", help="print a shell completion script (bash, zsh or tcsh)",
                          epilog="install for bash:  console completion bash > "
                                 "~/.local/share/bash-completion/completions/console",
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    comp.add_argument("shell", choices=("bash", "zsh", "tcsh"))

    demo = sub.add_parser("demo", help="start the embedded demo stack, fill it, open the console")
    demo.add_argument("--data-dir", default=".console-data/demo", metavar="DIR",
                      help="folder holding every server's data (default: %(default)s)")
    demo.add_argument("--no-ui", action="store_true",
                      help="start and fill the stack, print the config path, wait until interrupted")
    demo.add_argument("--request-log-rows", type=int, default=200_000, metavar="N",
                      help="rows generated in lambda's request_logs (default: %(default)s)")
    demo.add_argument("--no-influx", action="store_true", help="do not start influxd even if present")

    for module in commands.load_all():
        before = set(sub.choices)
        module.register(sub)
        for name in set(sub.choices) - before:     # each command's help: its usage lines, exit
            _with_epilog(sub.choices[name], module.__doc__ or "")   # codes, where to read more
    return p


SUB_EPILOG = """\
exit codes: 0 ok / clean · 1 error · 2 usage · 3 findings (drift, a dry run with steps) ·
4 refused (read-only, not confirmed, four-eyes) · 5 outcome unknown · 6 audit record unsettled
environment: CONSOLE_CONFIG, CONSOLE_CONTEXT, CONSOLE_READ_ONLY and the rest: `console --help`
"""


def _with_epilog(parser: argparse.ArgumentParser, doc: str) -> None:
    import textwrap
    examples = textwrap.dedent(doc.split("\n", 1)[1] if "\n" in doc else "").strip("\n").rstrip()
    parser.epilog = (f"{doc.splitlines()[0] if doc else ''}\n\n{examples}\n\n" if doc else "") + SUB_EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def run_tui(settings: Settings, *, notices: list[str] | None = None) -> int:
    from .ui.app import ConsoleApp
    from .ui.services import Services

    services = Services.from_settings(settings, notices=notices, defer=True)   # built after the first frame
    app = ConsoleApp(services)
    try:
        app.run()
    finally:
        services.close()
    return EXIT_OK


def open_replay(settings: Settings, path: str) -> int:
    """`console replay FILE` on a terminal: the Metrics and Activity screens on the recording."""
    from .ui.recorder import replay_app

    replay_app(settings, path).run()
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.open_replay = open_replay
    if args.command == "completion":
        import shtab
        print(shtab.complete(parser, shell=args.shell))
        return EXIT_OK
    if args.command == "demo":
        from .demo.run import run_demo
        rc = run_demo(args, open_ui=run_tui)
        # Every server is stopped and said so: leave now. Waiting for the interpreter's exit
        # would join whatever worker threads the UI or the fill left (a SCAN, a publisher),
        # which kept the process alive at full CPU for a minute after SIGTERM.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    try:
        settings = load(args.config, read_only=args.read_only, operator=args.operator,
                        refresh_interval=args.refresh, context=args.context, write=args.write)
    except ConfigError as exc:
        print(f"console: configuration error: {visible(exc, newlines=True)}", file=sys.stderr)
        return EXIT_FAIL
    setup_logging(settings, args.log_file, args.verbose)
    try:
        if args.command in (None, "tui"):
            return run_tui(settings)

        handler = getattr(args, "handler", None)
        if handler is not None:
            return handler(settings, args)
    except ConfigError as exc:
        print(f"console: configuration error: {visible(exc, newlines=True)}", file=sys.stderr)
        return EXIT_FAIL
    except BackendError as exc:
        # Commands report their own failures; one that escapes is still one line, never
        # a traceback (tracebacks can carry DSNs).
        log.error("%s failed", args.command, extra={"system": exc.backend, "outcome": exc.kind.value,
                                                   "error": exc.message})
        print(f"console: {visible(exc.backend)}: {exc.kind.value}: {visible(exc.message)}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `console diffs show X | head`: the reader went away; no traceback for that
        # (Python's documented recipe: point stdout at devnull so the exit flush is quiet).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAIL
    except Exception as exc:
        # psycopg is imported by the commands that use it (the TUI's first frame does not
        # wait for it): an exception can only be one of its errors if it was imported.
        psycopg = sys.modules.get("psycopg")
        if psycopg is None or not isinstance(exc, psycopg.Error):
            raise
        from .backends.postgres import classify
        err = classify("postgres", exc)
        print(f"console: {err.backend}: {err.kind.value}: {visible(err.message)}", file=sys.stderr)
        return EXIT_FAIL
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
