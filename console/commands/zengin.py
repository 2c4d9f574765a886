"""`console zengin init`: create the zengin DynamoDB table and S3 bucket as seed 003 describes
them, on a stack that has neither (docker compose's moto, a new AWS account).

    console zengin init [--pitr] [--dry-run] [--yes] [--json]

Without ``--yes`` it only prints what it would do. Exit codes: 0 complete (nothing to do, or
done); 1 a step failed or a backend is unreachable; 3 a dry run with something to do;
4 refused (read-only, not confirmed, audit unavailable); 6 done but its audit record unsettled."""

from __future__ import annotations

import sys

from ..config import Settings
from ..core import text
from . import EXIT_AUDIT_UNSETTLED, EXIT_FAIL, EXIT_FINDINGS, EXIT_OK, EXIT_REFUSED, print_json


def register(sub) -> None:
    p = sub.add_parser("zengin", help="zengin infrastructure: init creates the DynamoDB table and S3 bucket")
    ss = p.add_subparsers(dest="zengin_command", metavar="ACTION", required=True)
    init = ss.add_parser("init", help="create the table (GSI StatusIndex, TTL) and bucket (versioning, "
                                      "AES-256, 90-day lifecycle); previewed, idempotent, audited")
    init.add_argument("--pitr", action="store_true", help="also enable point-in-time recovery on the table")
    init.add_argument("--dry-run", action="store_true", help="print what would be done; change nothing")
    init.add_argument("--yes", action="store_true", help="apply without asking")
    init.add_argument("--json", action="store_true", help="machine-readable output")
    init.set_defaults(handler=run_init)


def run_init(settings: Settings, args) -> int:
    from ..backends.base import BackendError, ErrorKind, ReadOnlyError
    from ..backends.dynamo import DynamoBackend
    from ..backends.postgres import PostgresBackend
    from ..backends.s3 import S3Backend
    from ..core import audit, identity
    from ..core.zengin import bootstrap

    if settings.zengin is None:
        print("console: no [zengin] configured", file=sys.stderr)
        return EXIT_FAIL
    dynamo, s3 = DynamoBackend(settings.zengin), S3Backend(settings.zengin)
    audit_pg = None
    try:
        state = bootstrap.inspect(dynamo, s3)
        plan = bootstrap.build_plan(dynamo, s3, state, pitr=args.pitr)
        steps = [{"title": s.title, "call": s.call} for s in plan.steps]
        if not plan or args.dry_run or not args.yes:
            if args.json:
                print_json({"table": dynamo.table, "bucket": s3.bucket, "complete": not plan,
                            "applied": False, "steps": steps})
            else:
                print(text.visible(plan.summary))
                for i, s in enumerate(plan.steps, 1):
                    print(f"  [{i}] {text.visible(s.title)}  ({s.call})")
                if plan and not args.dry_run:
                    print("not applied: run again with --yes to apply", file=sys.stderr)
            if not plan:
                return EXIT_OK
            return EXIT_FINDINGS if args.dry_run else EXIT_REFUSED
        name = settings.audit_target_name
        audit_pg = PostgresBackend(settings.target(name), max_size=1) if name else None
        principal = identity.for_cli(settings, "aws")
        done = bootstrap.run_plan(settings, dynamo, s3, plan, actor=principal, audit_pg=audit_pg)
        results = done.results
    except ReadOnlyError:
        print("console: zengin init refused: read-only", file=sys.stderr)
        return EXIT_REFUSED
    except identity.IdentityRefused as exc:
        print(f"console: zengin init refused: {text.visible(exc)}", file=sys.stderr)
        return EXIT_REFUSED
    except BackendError as exc:
        print(f"console: {exc.backend}: {exc.kind.value}: {text.visible(exc.message)}", file=sys.stderr)
        return EXIT_REFUSED if exc.kind is ErrorKind.REFUSED else EXIT_FAIL
    finally:
        for b in (dynamo, s3, audit_pg):
            if b is not None:
                b.close()
    ok = all(r.ok for r in results)
    if args.json:
        print_json({"table": dynamo.table, "bucket": s3.bucket, "complete": ok, "applied": True,
                    "steps": [{**st, "ok": r.ok, "message": r.message} for st, r in zip(steps, results)]})
    else:
        for r in results:
            mark = "ok  " if r.ok else "FAIL"
            print(f"{mark} {text.visible(r.step.title)}" + (f": {text.visible(r.message)}" if r.message else ""))
        print("zengin init: complete" if ok else "zengin init: stopped at the first failure")
    if done.intent.unsettled:
        print(f"WARNING: {audit.UNSETTLED_MESSAGE}: {text.visible(done.intent.settle_error)}", file=sys.stderr)
        return EXIT_AUDIT_UNSETTLED
    return EXIT_OK if ok else EXIT_FAIL
