"""`console schema ...`: migrations, and the Schema screen headless.

    schema migrate   apply pending sql/ files
    schema check     expected (from sql/) vs live for each target: exit 0 clean, 3 drift, 1 error
    schema apply     fix the drift: prints the plan, asks (or --yes), runs it with an audit record
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from ..config import Settings
from ..core.text import visible as v
from . import (EXIT_AUDIT_UNSETTLED, EXIT_FINDINGS, EXIT_FAIL, EXIT_OK, EXIT_REFUSED, EXIT_UNKNOWN, print_json,
               worst)


def _out(text: str, file=None, flush: bool = False) -> None:
    """A block of CLI text whose data parts are already made visible (``v``); the line
    breaks the console itself puts in are kept, any other control is made visible."""
    print(v(text, newlines=True), file=file or sys.stdout, flush=flush)


def register(sub) -> None:
    schema = sub.add_parser("schema", help="schema migrations, drift check and fixes")
    ssub = schema.add_subparsers(dest="schema_command", metavar="ACTION", required=True)
    mig = ssub.add_parser("migrate", help="apply pending sql/ files (idempotent)")
    mig.add_argument("--target", action="append", metavar="NAME", help="target(s); default: all")
    mig.add_argument("--dry-run", action="store_true", help="list pending files, apply nothing")
    mig.add_argument("--json", action="store_true")
    mig.set_defaults(handler=run_migrate)

    chk = ssub.add_parser("check", help="compare each target with what sql/ defines (exit 0 clean, 3 drift, 1 error)")
    chk.add_argument("--target", action="append", metavar="NAME", help="target(s); default: all")
    chk.add_argument("--dev-url", metavar="URL",
                     help="PostgreSQL server for the scratch database (default: the target's own server)")
    chk.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                     help="not drift: objects matching this pattern (e.g. 'public.tmp_*', "
                          "'index:public.idx_scratch_*'); added to [schema] exclude")
    chk.add_argument("--json", action="store_true")
    chk.set_defaults(handler=run_check)

    app = ssub.add_parser("apply", help="fix the drift of one target (plan, confirmation, audit record)")
    app.add_argument("--target", metavar="NAME", help="target; required when more than one is configured")
    app.add_argument("--dev-url", metavar="URL", help="as for check")
    app.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    app.add_argument("--yes", action="store_true", help="run without asking")
    app.add_argument("--allow-destructive", action="store_true",
                     help="include drops of unexpected objects (never included otherwise)")
    app.add_argument("--json", action="store_true")
    app.set_defaults(handler=run_apply)


def run_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError, ErrorKind
    from ..backends.postgres import PostgresBackend
    from ..core import audit, migrate

    names = args.target or [t.name for t in settings.postgres]
    if not names:
        print("no PostgreSQL target configured", file=sys.stderr)
        return EXIT_FAIL
    try:
        actor = audit.actor_name(settings)
    except BackendError as exc:
        _out(f"console: {exc.kind.value}: {v(exc.message)}", file=sys.stderr)
        return EXIT_REFUSED
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
                    rc = worst(rc, EXIT_FAIL)
                elif res.audit_error:
                    rc = worst(rc, EXIT_AUDIT_UNSETTLED)
        except BackendError as exc:
            out.append({"target": name, "error": exc.message, "kind": exc.kind.value})
            rc = worst(rc, EXIT_REFUSED if exc.kind is ErrorKind.REFUSED else EXIT_FAIL)
        finally:
            backend.close()
    if args.json:
        print_json(out)
        return rc
    for r in out:
        if "error" in r:
            _out(f"{v(r['target'])}: {r.get('kind', 'error')}: {v(r['error'])}")
        elif args.dry_run:
            _out(f"{v(r['target'])}: {len(r['pending'])} pending"
                 + "".join(f"\n  {v(x)}" for x in r["pending"])
                 + "".join(f"\n  changed since applied: {v(x)}" for x in r["changed"]))
        else:
            _out(f"{v(r['target'])}: applied {len(r['applied'])}, already applied {r['skipped']}"
                 + (f", FAILED at {v(r['failed'])}: {v(r['error'])}" if r["failed"] else "")
                 + "".join(f"\n  changed since applied: {v(x)}" for x in r["changed"]))
            if r.get("audit_error"):
                _out(f"WARNING: {v(r['target'])}: {audit.UNSETTLED_MESSAGE}: {v(r['audit_error'])}", file=sys.stderr)
    return rc


def _dev_backend(args: argparse.Namespace, system: str):
    from ..backends.postgres import PostgresBackend
    from ..config import PostgresTarget
    if not getattr(args, "dev_url", None):
        return None
    return PostgresBackend(PostgresTarget(name="dev", system=system, dsn=args.dev_url))


def _check(settings: Settings, name: str, args: argparse.Namespace):
    from ..backends.postgres import PostgresBackend
    from ..core.schema import check_target

    target = settings.target(name)
    backend = PostgresBackend(target)
    dev = _dev_backend(args, target.system)
    try:
        exclude = (*settings.schema_exclude, *getattr(args, "exclude", []))
        return backend, check_target(backend, target.system, dev=dev, exclude=exclude)
    finally:
        if dev is not None:
            dev.close()


def _print_report(r) -> None:
    if r.error:
        _out(f"{v(r.target)} ({v(r.system)}): ERROR {v(r.error_kind)}: {v(r.error)}")
        return
    c = r.counts
    head = "clean" if r.clean else f"{c['missing']} missing, {c['drifted']} drifted, {c['unexpected']} unexpected"
    if r.excluded:
        head += f" ({len(r.excluded)} excluded)"
    _out(f"{v(r.target)} ({v(r.system)}): {head}")
    m = r.migrations
    if m is not None and (m.pending or m.changed):
        _out(f"  migrations: {len(m.pending)} pending, {len(m.changed)} changed since applied"
             + "".join(f"\n    pending {v(f.version)}" for f in m.pending)
             + "".join(f"\n    changed {v(f.version)}" for f in m.changed))
    for f in r.findings:
        _out(f"  {f.status:<10} {f.kind:<17} {v(f.object)}  -- {v(f.detail)}"
             + (f"  [{v(f.source)}]" if f.source else ""))
        if f.status == "drifted":
            _out(f"      expected: {_one_line(f.expected)}\n      actual:   {_one_line(f.actual)}")
        for s in f.steps:
            _out(f"      fix ({s.hazard.value}{'; outside a transaction' if not s.transactional else ''}): "
                 f"{_one_line(s.sql)}")
        if not f.steps:
            _out("      fix: none automatic (see detail)")
    for f in r.excluded:
        _out(f"  excluded   {f.kind:<17} {v(f.object)}  ({f.status})")


def _one_line(text: str, width: int = 160) -> str:
    """One line of catalog text (a definition, a statement), made visible and cut."""
    from ..core.text import cut
    return cut(" ".join(str(text or "").split(" ")).replace("\n", " "), width)


def run_check(settings: Settings, args: argparse.Namespace) -> int:
    from ..config import ConfigError

    names = args.target or [t.name for t in settings.postgres]
    if not names:
        print("no PostgreSQL target configured", file=sys.stderr)
        return EXIT_FAIL
    reports = []
    for name in names:
        try:
            backend, r = _check(settings, name, args)
        except ConfigError as exc:
            _out(v(str(exc)), file=sys.stderr)
            return EXIT_FAIL
        backend.close()
        reports.append(r)
    if args.json:
        print_json([r.as_dict() for r in reports])
    else:
        for r in reports:
            _print_report(r)
    if any(r.error for r in reports):
        return EXIT_FAIL
    return EXIT_OK if all(r.clean for r in reports) else EXIT_FINDINGS


def run_apply(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError, ErrorKind
    from ..core import audit
    from ..core.schema import fixes, run_plan

    if args.target:
        name = args.target
    elif len(settings.postgres) == 1:
        name = settings.postgres[0].name
    else:
        print("give --target NAME (more than one PostgreSQL target is configured)", file=sys.stderr)
        return EXIT_FAIL
    backend, report = _check(settings, name, args)
    try:
        if report.error:
            _out(f"{v(name)}: {v(report.error_kind)}: {v(report.error)}", file=sys.stderr)
            return EXIT_FAIL
        plan = fixes.build_plan(name, report.findings, allow_destructive=args.allow_destructive)
        held = [f for f in report.findings if f.destructive and not args.allow_destructive]
        manual = [f for f in report.findings if not f.steps]
        # With --json, stdout carries only the JSON document; the readable lines go to stderr.
        human = sys.stderr if args.json else sys.stdout
        if not plan:
            msg = f"{v(name)}: nothing to apply"
            if held:
                msg += f" ({len(held)} destructive fix(es) held back: --allow-destructive)"
            if manual:
                msg += f" ({len(manual)} finding(s) need a manual fix)"
            _out(msg, file=human)
            if args.json:
                print_json({"target": name, "plan": [], "message": msg})
            return EXIT_OK if report.clean else EXIT_FINDINGS
        _out(plan.text(), file=human)
        for f in held:
            _out(f"-- held back (destructive, needs --allow-destructive): {f.status} {f.kind} {v(f.object)}",
                 file=human)
        for f in manual:
            _out(f"-- needs a manual fix: {f.kind} {v(f.object)}: {v(f.detail)}", file=human)
        if args.dry_run:
            if args.json:
                print_json({"target": name, "dry_run": True,
                            "plan": [{"title": st.title, "sql": st.sql, "lock": st.lock, "hazard": st.hazard.value,
                                      "transactional": st.transactional} for st in plan.steps]})
            return EXIT_FINDINGS
        if not args.yes and not settings.read_only:      # read-only: refused (and audited) below
            if not sys.stdin.isatty():
                print("refusing to run without a terminal to confirm on: pass --yes", file=sys.stderr)
                return EXIT_FAIL
            answer = input(f"Run these {len(plan.steps)} statements on {v(name)}? Type yes: ")
            if answer.strip().lower() != "yes":
                print("cancelled", file=human)
                return EXIT_FAIL

        def progress(i, n, step, result):
            if result is not None:
                state = "ok" if result.ok else ("skipped" if result.skipped else "FAILED")
                _out(f"[{i + 1}/{n}] {state} {v(step.title)} ({result.elapsed_ms:.0f} ms)"
                     + (f": {v(result.message)}" if not result.ok else ""), file=human, flush=True)

        try:
            results = run_plan(settings, backend, plan, actor=audit.actor_name(settings), progress=progress)
        except BackendError as exc:
            _out(f"{v(name)}: {exc.kind.value}: {v(exc.message)}", file=sys.stderr)
            return EXIT_REFUSED if exc.kind is ErrorKind.REFUSED else EXIT_FAIL
        if args.json:
            print_json([{"title": r.step.title, "ok": r.ok, "skipped": r.skipped, "message": r.message}
                        for r in results])
        unknown = any("whether this step committed is unknown" in r.message for r in results)
        if getattr(results, "audit_error", None):
            _out(f"WARNING: {audit.UNSETTLED_MESSAGE}: {v(results.audit_error)}", file=sys.stderr)
        if unknown:
            _out(f"{v(name)}: the outcome is unknown (the connection was lost): run `console schema check` "
                 "before applying again", file=sys.stderr)
            return EXIT_UNKNOWN
        if not all(r.ok for r in results):
            return EXIT_FAIL
        return EXIT_AUDIT_UNSETTLED if getattr(results, "audit_error", None) else EXIT_OK
    finally:
        backend.close()
