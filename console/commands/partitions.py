"""`console partitions list|ensure`: the Partitions screen, headless (cron, CI).

Exit codes: 0 ok (nothing to do, or done); 1 a target could not be read or a step failed;
2 usage; 3 a dry run with something to do; 4 refused (read-only, drops without --yes, the
audit intent could not be written); 6 done but its audit record could not be settled."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..config import Settings
from ..core.text import visible
from . import EXIT_AUDIT_UNSETTLED, EXIT_FAIL, EXIT_FINDINGS, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, print_json


def register(sub) -> None:
    p = sub.add_parser("partitions", help="partitioned tables: coverage, gaps, retention, default rows")
    psub = p.add_subparsers(dest="partitions_command", metavar="ACTION", required=True)
    ls = psub.add_parser("list", help="every partitioned table of every target")
    ls.add_argument("--target", action="append", metavar="NAME", help="target(s); default: all")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)
    en = psub.add_parser("ensure", help="create missing months, move default rows, apply retention")
    en.add_argument("--target", action="append", metavar="NAME", help="target(s); default: all")
    en.add_argument("--table", action="append", metavar="T", help="table name or schema.table; default: all")
    en.add_argument("--premake", type=int, metavar="N", help="months to create ahead (default 3)")
    en.add_argument("--retention", type=int, metavar="M", help="drop partitions older than M months")
    en.add_argument("--lock-timeout", type=_positive_ms, metavar="MS",
                    help="lock_timeout per DDL step, at least 1 (default: the target's)")
    en.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    en.add_argument("--yes", action="store_true",
                    help="apply a plan that drops partitions past retention (creating months needs no --yes)")
    en.add_argument("--json", action="store_true")
    en.set_defaults(handler=run_ensure)


def _positive_ms(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of milliseconds") from None
    if v < 1:
        raise argparse.ArgumentTypeError("must be at least 1 ms (0 would mean no timeout at all)")
    return v


def _service(settings: Settings, targets: list[str] | None):
    from ..backends.registry import Backends
    from ..core import ports

    names = targets or [t.name for t in settings.postgres]
    for n in names:
        settings.target(n)                           # a clear error for an unknown target name
    # The same factory as the Partitions screen (core.ports.build), over the named targets.
    svc = ports.build("partitions", settings, Backends.from_settings(settings, only={"postgres"}, targets=names))
    svc.owns_backends = True
    return svc


def _jv(v):
    """A slot or bound as JSON: ISO instant or int."""
    return v if v is None or isinstance(v, int) else v.isoformat()


def table_dict(t) -> dict[str, Any]:
    c = t.coverage
    return {
        "target": t.target, "table": t.qualified, "key": t.key_def, "strategy": t.strategy,
        "interval": t.interval_text, "interval_source": t.interval_source,
        "timezone": t.interval.tz_name if t.interval and t.interval.is_time else None,
        "maintained": t.supported, "not_maintained": t.not_maintained, "managed_by": t.managed_by,
        "sub_partitioned": t.sub_partitioned,
        "partitions": len(t.partitions), "naming": t.naming, "naming_source": t.naming_source,
        "first": _jv(c.first), "last": _jv(c.last), "range": t.range_text, "horizon": c.horizon,
        "horizon_months": c.horizon, "current_covered": c.current_covered,
        "missing_ahead": [t.slot_label(m) for m in c.missing_ahead],
        "gaps": [[_jv(g.lower), _jv(g.upper)] for g in c.gaps], "overlaps": [list(o) for o in c.overlaps],
        "default_partition": t.default.qualified if t.default else None,
        "default_rows": None if t.default_rows is None else {
            t.slot_label(m): n for m, n in sorted(t.default_rows.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0))},
        "default_count_error": t.default_count_error,
        "referencing": [{"table": fk.qualified, "constraint": fk.name, "on_delete": fk.action,
                         "rows_referencing_default": None if fk.moving_refs is None else sum(n for _, n in fk.moving_refs),
                         "set_aside_blocked": fk.aside_blocker} for fk in t.fks],
        "past_retention": list(c.past_retention), "pending_detach": [p.name for p in t.pending_detach],
        "policy": {"premake": t.policy.premake, "retention": t.policy.retention,
                   "retention_keep_table": t.policy.retention_keep_table,
                   "retention_schema": t.policy.retention_schema,
                   "infinite_time_partitions": t.policy.infinite_time_partitions,
                   "premake_from": _jv(t.premake_from), "retention_cutoff": _jv(t.retention_cutoff)},
        "partman": None if t.partman is None else {
            "interval": t.partman.interval, "premake": t.partman.premake, "retention": t.partman.retention,
            "retention_keep_table": t.partman.retention_keep_table, "retention_schema": t.partman.retention_schema,
            "infinite_time_partitions": t.partman.infinite_time_partitions,
            "taken_over": t.policy.take_over_partman},
        "size_bytes": t.total_size, "est_rows": t.est_rows, "attention": t.attention(),
        "children": [{"name": p.name, "lower": _jv(p.lower), "upper": _jv(p.upper), "bound": p.bound,
                      "bounds": t.bounds_text(p), "est_rows": p.est_rows, "size_bytes": p.size_bytes,
                      "sub_partitioned": p.sub_partitioned, "indexes": [i.name for i in p.indexes],
                      "past_retention": p.name in c.past_retention} for p in t.partitions],
    }


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    from ..core.partitions import human_bytes
    from ..core.text import visible

    if not settings.postgres:
        print("no PostgreSQL target configured", file=sys.stderr)
        return EXIT_FAIL
    svc = _service(settings, args.target)
    try:
        d = svc.discover()
    finally:
        svc.close()
    if args.json:
        print_json({"tables": [table_dict(t) for t in d.tables], "errors": d.errors})
        return EXIT_FAIL if d.errors else EXIT_OK
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = Table(title=f"partitioned tables · env {visible(settings.environment)}")
    for c in ("target", "table", "key", "interval", "parts", "range", "ahead", "gaps", "default rows", "past ret.",
              "size", "attention"):
        out.add_column(c, overflow="fold")
    for t in d.tables:
        c = t.coverage
        dr = "?" if t.default_rows is None else f"{t.default_row_total:,}"
        out.add_row(*(Text(visible(v)) for v in (
            t.target, t.qualified, t.key_def, t.interval_text + (" · pg_partman" if t.managed_by else ""),
            str(len(t.partitions)), t.range_text, str(c.horizon), str(sum(len(g.slots) for g in c.gaps)), dr,
            str(len(c.past_retention)), human_bytes(t.total_size), ", ".join(t.attention()) or "ok")))
    # piped (cron, CI, less): never cut to 80 columns
    tty = sys.stdout.isatty()
    Console(width=None if tty else 100_000, soft_wrap=not tty).print(out)
    for name, err in d.errors.items():
        print(f"{visible(name)}: {visible(err)}", file=sys.stderr)
    return EXIT_FAIL if d.errors else EXIT_OK


def _match(t, tables: list[str] | None) -> bool:
    return not tables or t.name in tables or t.qualified in tables


def run_ensure(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..backends.base import BackendError, ReadOnlyError
    from ..core import audit
    from ..core.partitions import with_policy
    from ..core.text import visible

    if not settings.postgres:
        print("no PostgreSQL target configured", file=sys.stderr)
        return EXIT_FAIL
    if args.premake is not None and args.premake < 0 or args.retention is not None and args.retention < 0:
        print("--premake and --retention must be >= 0", file=sys.stderr)
        return EXIT_USAGE
    svc = _service(settings, args.target)
    if args.lock_timeout is not None:
        svc.options = replace(svc.options, lock_timeout_ms=args.lock_timeout)
    try:
        d = svc.discover()
        tables = with_policy([t for t in d.tables if _match(t, args.table)],
                             premake=args.premake, retention=args.retention)
        plan = svc.plan(tables)
        result: dict[str, Any] = {"plan": [{"title": s.title, "target": s.target, "sql": s.sql, "lock": s.lock,
                                            "hazard": s.hazard.value, "transactional": s.transactional}
                                           for s in plan.steps],
                                  "summary": plan.summary, "errors": d.errors}
        rc = EXIT_FAIL if d.errors else EXIT_OK
        if args.dry_run or not plan:
            result["dry_run"] = bool(args.dry_run)
            if args.json:
                print_json(result)
            else:
                print(visible(plan.text(), newlines=True))
            _errors(d.errors)
            return EXIT_FINDINGS if rc == EXIT_OK and plan and args.dry_run else rc
        destructive = [st for st in plan.steps if st.destructive]
        if destructive and not args.yes:
            # Creating partitions is safe to run unattended; dropping them is not.
            msg = (f"the plan drops {len(destructive)} partition(s) past retention; nothing was run. "
                   "Read the plan (--dry-run) and rerun with --yes to apply it.")
            if args.json:
                print_json({**result, "error": msg, "kind": "refused"})
            else:
                print(visible(plan.text(), newlines=True))
                print(msg, file=sys.stderr)
            return EXIT_REFUSED
        if not args.json:
            print(visible(plan.text(), newlines=True))
        try:
            report = svc.run(plan, actor=audit.actor_name(settings),
                             progress=None if args.json else _printer())
        except (ReadOnlyError, BackendError) as exc:      # read-only, or the intent could not be written
            if args.json:
                print_json({**result, "error": exc.message, "kind": exc.kind.value})
            else:
                print(visible(exc.message), file=sys.stderr)
            return EXIT_REFUSED if exc.kind.value == "refused" else EXIT_FAIL
    finally:
        svc.close()
    result.update(report.as_dict())
    if args.json:
        print_json(result)
    else:
        done = sum(1 for r in report.results if r.ok)
        print(f"{done}/{len(report.results)} step(s) done" + ("" if report.ok else
              f"; failed: {', '.join(f'{visible(k)} ({visible(v)})' for k, v in report.failed_groups.items())}"))
    _errors(d.errors)
    for target, why in report.audit_errors.items():
        print(f"{visible(target)}: {audit.UNSETTLED_MESSAGE}: {visible(why)}", file=sys.stderr)
    if report.audit_errors:
        return EXIT_AUDIT_UNSETTLED
    return EXIT_OK if report.ok and not d.errors else EXIT_FAIL


def _errors(errors: dict[str, str]) -> None:
    for name, err in errors.items():
        print(f"{visible(name)}: {visible(err)}", file=sys.stderr)


def _printer():
    def progress(i, total, step, res) -> None:
        if res is None:
            return
        mark = "ok  " if res.ok else ("skip" if res.skipped else "FAIL")
        tries = f" [{res.attempts} attempts]" if res.attempts > 1 else ""
        # table and partition names and server errors are data: made visible
        print(f"[{i + 1}/{total}] {mark} {visible(step.target)}: {visible(step.title)} — {visible(res.message)}{tries}",
              flush=True)
    return progress
