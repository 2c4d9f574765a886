"""`console schema ...`: migrations (and, with the Schema screen, check/apply)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from ..config import Settings
from . import EXIT_FAIL, EXIT_OK, print_json


def register(sub) -> None:
    schema = sub.add_parser("schema", help="schema migrations")
    ssub = schema.add_subparsers(dest="schema_command", metavar="ACTION", required=True)
    mig = ssub.add_parser("migrate", help="apply pending sql/ files (idempotent)")
    mig.add_argument("--target", action="append", metavar="NAME", help="target(s); default: all")
    mig.add_argument("--dry-run", action="store_true", help="list pending files, apply nothing")
    mig.add_argument("--json", action="store_true")
    mig.set_defaults(handler=run_migrate)


def run_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError
    from ..backends.postgres import PostgresBackend
    from ..core import audit, migrate

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
        print_json(out)
        return rc
    for r in out:
        if "error" in r:
            print(f"{r['target']}: {r.get('kind', 'error')}: {r['error']}")
        elif args.dry_run:
            print(f"{r['target']}: {len(r['pending'])} pending"
                  + "".join(f"\n  {v}" for v in r["pending"])
                  + "".join(f"\n  changed since applied: {v}" for v in r["changed"]))
        else:
            print(f"{r['target']}: applied {len(r['applied'])}, already applied {r['skipped']}"
                  + (f", FAILED at {r['failed']}: {r['error']}" if r["failed"] else "")
                  + "".join(f"\n  changed since applied: {v}" for v in r["changed"]))
    return rc
