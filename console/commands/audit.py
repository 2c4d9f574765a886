"""`console audit ...`: the console's own audit trail (``console.audit_log`` on the audit
target), headless.

    console audit list [--limit N] [--pending] [--json]          recent records, newest first
    console audit reconcile [--older-than S] [--dry-run] [--yes] [--json]
        settle intents left ``pending`` by a process that died between its intent and its
        settle, as ``unknown`` (the console cannot know whether the change landed: check
        the target). Previewed; recorded as an action itself (``audit.reconcile``).

Every field of a record is data (targets hold keys and names): printed through core.text.
Exit codes: 0 ok / nothing to settle; 1 error; 3 a dry run found pending intents; 4 refused
(read-only, not confirmed, audit unavailable); 6 settled, but the reconcile's own record
could not be settled.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..config import Settings
from ..core.text import cut
from . import EXIT_AUDIT_UNSETTLED, EXIT_FAIL, EXIT_FINDINGS, EXIT_OK, EXIT_REFUSED, print_json, say

LIST = ("SELECT id, at, settled_at, outcome, action, target, actor, principal_source, principal_verified, "
        "os_user, ssh_origin, read_only, plan_digest, detail FROM console.audit_log "
        "{where} ORDER BY id DESC LIMIT %s")


def register(sub) -> None:
    p = sub.add_parser("audit", help="the console's audit trail: list records, settle intents left pending")
    a = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    ls = a.add_parser("list", help="recent audit records, newest first")
    ls.add_argument("--limit", type=int, default=50, metavar="N", help="at most N records (default: %(default)s)")
    ls.add_argument("--pending", action="store_true", help="only intents not settled yet")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)

    rc = a.add_parser("reconcile", help="settle intents left pending (as unknown) by a process that died")
    rc.add_argument("--older-than", type=float, default=60.0, metavar="S",
                    help="only intents pending for more than S seconds (default: %(default)s)")
    rc.add_argument("--dry-run", action="store_true", help="list what would be settled, change nothing")
    rc.add_argument("--yes", action="store_true", help="do not ask")
    rc.add_argument("--json", action="store_true")
    rc.set_defaults(handler=run_reconcile)


def _backend(settings: Settings):
    from ..backends.postgres import PostgresBackend

    name = settings.audit_target_name
    if not name:
        return None
    return PostgresBackend(settings.target(name))


def _no_target() -> int:
    say("console: no audit target (configure audit_target or a [postgres.*] target)", file=sys.stderr)
    return EXIT_FAIL


def _fail(exc, as_json: bool) -> int:
    from ..backends.base import ErrorKind

    if as_json:
        print_json({"error": exc.message, "kind": exc.kind.value})
    else:
        say(f"console: {exc.kind.value}: {exc.message}", file=sys.stderr)
    return EXIT_REFUSED if exc.kind is ErrorKind.REFUSED else EXIT_FAIL


def _row(r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r)
    for k in ("at", "settled_at"):
        out[k] = out[k].isoformat() if out.get(k) is not None else None
    return out


def _who(r: dict[str, Any]) -> str:
    tag = "verified" if r.get("principal_verified") else "declared, not verified"
    src = r.get("principal_source") or "?"
    return f"{r.get('actor')} ({tag}: {src})" if r.get("principal_verified") else f"{r.get('actor')} ({tag})"


def _line(r: dict[str, Any]) -> str:
    at = r["at"].strftime("%Y-%m-%d %H:%M:%S") if r.get("at") is not None else "?"
    detail = json.dumps(r.get("detail") or {}, ensure_ascii=False, default=str, sort_keys=True)
    ro = " read-only" if r.get("read_only") else ""
    # each part is data: cut() makes it visible and bounds it
    return "  ".join((f"#{r['id']}", at, f"{r['outcome']:<8}", cut(r["action"], 32),
                      cut(r["target"], 60), cut(_who(r), 80) + ro, cut(detail, 120)))


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError

    backend = _backend(settings)
    if backend is None:
        return _no_target()
    try:
        where = "WHERE outcome = 'pending'" if args.pending else ""
        rows = backend.fetch(LIST.format(where=where), (max(1, int(args.limit)),))
    except BackendError as exc:
        return _fail(exc, args.json)
    finally:
        backend.close()
    if args.json:
        print_json([_row(r) for r in rows])
        return EXIT_OK
    if not rows:
        say("no audit records" + (" pending" if args.pending else ""))
    for r in rows:
        say(_line(r))
    return EXIT_OK


def run_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError
    from ..core import audit

    backend = _backend(settings)
    if backend is None:
        return _no_target()
    human = sys.stderr if args.json else sys.stdout
    try:
        try:
            rows = audit.pending(backend, args.older_than)
        except BackendError as exc:
            return _fail(exc, args.json)
        ids = [r["id"] for r in rows]
        if not rows:
            say(f"nothing to settle: no intent pending for more than {args.older_than:g} s", file=human)
            if args.json:
                print_json({"pending": [], "settled": []})
            return EXIT_OK
        say(f"{len(rows)} intent(s) pending for more than {args.older_than:g} s; each will be settled as "
            "'unknown' (check its target to learn what happened):", file=human)
        for r in rows:
            say("  " + "  ".join((f"#{r['id']}", r["at"].strftime("%Y-%m-%d %H:%M:%S"), cut(r["action"], 32),
                                  cut(r["target"], 60), cut(r["actor"], 60))), file=human)
        if args.dry_run:
            if args.json:
                print_json({"pending": [_row(r) for r in rows], "settled": [], "dry_run": True})
            return EXIT_FINDINGS
        if not args.yes and not settings.read_only:
            if not sys.stdin.isatty():
                say("console: not confirmed: re-run with --yes (or on a terminal)", file=sys.stderr)
                return EXIT_REFUSED
            if input(f"Settle these {len(rows)} intent(s) as unknown? Type yes: ").strip().lower() != "yes":
                say("console: not confirmed", file=sys.stderr)
                return EXIT_REFUSED
        try:
            principal = audit.actor_name(settings)
            settled = audit.settle_stale(settings, backend, older_than_s=args.older_than, principal=principal)
        except BackendError as exc:
            rc = _fail(exc, args.json)
            if rc == EXIT_FAIL and _all_settled(backend, ids):
                # the intents were settled; the reconcile's own record could not be
                say(f"WARNING: the intents were settled, {audit.UNSETTLED_MESSAGE}", file=sys.stderr)
                return EXIT_AUDIT_UNSETTLED
            return rc
        if args.json:
            print_json({"pending": [], "settled": [r["id"] for r in settled]})
        else:
            say(f"settled {len(settled)} intent(s) as unknown: " + ", ".join(f"#{r['id']}" for r in settled))
        return EXIT_OK
    finally:
        backend.close()


def _all_settled(backend, ids: list[int]) -> bool:
    try:
        rows = backend.fetch("SELECT count(*) AS n FROM console.audit_log WHERE id = ANY(%s) AND outcome = 'pending'",
                             (ids,))
        return bool(ids) and int(rows[0]["n"]) == 0
    except Exception:  # noqa: BLE001 - cannot tell: report the error as it was
        return False
