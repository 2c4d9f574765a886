"""`console diffs ...`: the zengin diff review queue headless (seed 003).

    console diffs list [--status S] [--limit N | --all] [--json]
    console diffs show ID [--json]                         ID or ID@TIMESTAMP
    console diffs approve ID...|--all-pending [--allow-stale] [--dry-run] [--as WHO] [--json]
    console diffs reject ID... --reason TEXT [--as WHO] [--json]
    console diffs execute ID...|--all-approved [--dry-run] [--as WHO] [--json]
    console diffs reconcile [--older-than SECONDS] [--dry-run] [--json]
    console diffs generate --source zengin-code|FILE.json [--dry-run] [--json]

Approve, reject and execute work in batches (core.zengin.batch): every diff of the set in
dependency order (bank additions/updates, branch additions/updates, branch deletions, bank
deletions), one PostgreSQL transaction per chunk with a savepoint per diff, conditional
DynamoDB writes a few at a time. A diff that waits on another is left approved and
reported as ``waiting``.

Exit codes: 0 every requested diff was done (or, for --dry-run, would succeed); 1 any
diff was refused, failed or left waiting, a dry run found it stale/invalid, or a backend
failed; 2 usage; 4 the command was refused as a whole (read-only, a declared name not
allowed, the audit intent could not be written); 5 an outcome is unknown; 6 done but an
audit record could not be settled. ``execute --all-approved`` does not count a diff another console
claimed first (it is reported as skipped)."""

from __future__ import annotations

from rich.markup import escape


import argparse
import logging
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from ..config import Settings
from ..core.audit import UNSETTLED_MESSAGE
from ..core.text import error_text, visible
from . import EXIT_AUDIT_UNSETTLED, EXIT_FAIL, EXIT_OK, EXIT_REFUSED, print_json, say

log = logging.getLogger("console.cli")


def register(sub) -> None:
    p = sub.add_parser("diffs", help="zengin diff review queue: list, approve, reject, execute (seed 003)")
    ss = p.add_subparsers(dest="diffs_command", metavar="ACTION", required=True)

    def common(q, *, who: bool = False):
        q.add_argument("--json", action="store_true", help="machine-readable output")
        if who:
            q.add_argument("--as", dest="diffs_as", metavar="WHO",
                           help="acting identity (else the global --as, operator, or the AWS caller)")

    ls = ss.add_parser("list", help="diffs per status, newest first (StatusIndex)")
    ls.add_argument("--status", choices=("pending", "approved", "executing", "completed", "failed", "rejected",
                                         "expired", "all"), default="all")
    ls.add_argument("--limit", type=int, default=200, metavar="N",
                    help="diffs shown per status, newest first (default 200; the counts are always whole)")
    ls.add_argument("--all", action="store_true", help="every diff of the shown statuses, however many")
    common(ls)
    ls.set_defaults(handler=run_list)

    sh = ss.add_parser("show", help="one diff: item, validation, rows, change_history")
    sh.add_argument("id", metavar="ID")
    sh.add_argument("--records", type=int, default=50, metavar="N", help="bulk records shown (default 50)")
    common(sh)
    sh.set_defaults(handler=run_show)

    ap = ss.add_parser("approve", help="pending -> approved (validated against the live rows; conditional "
                                       "writes; audited)")
    ap.add_argument("ids", nargs="*", metavar="ID")
    ap.add_argument("--all-pending", action="store_true", help="every pending diff (invalid, stale and "
                                                               "orphan-making ones are left out, with the reason)")
    ap.add_argument("--allow-stale", action="store_true",
                    help="also approve diffs whose live row no longer equals their currentData (second "
                         "confirmation; recorded on the item as staleAcknowledgedBy); refused as a whole (exit 4) "
                         "when [zengin] stale_approvals = \"refuse\"")
    ap.add_argument("--dry-run", action="store_true",
                    help="run the diffs' transaction in order and roll it back; approve nothing")
    common(ap, who=True)
    ap.set_defaults(handler=run_approve)

    rj = ss.add_parser("reject", help="pending -> rejected with a reason (audited)")
    rj.add_argument("ids", nargs="+", metavar="ID")
    rj.add_argument("--reason", required=True, metavar="TEXT")
    common(rj, who=True)
    rj.set_defaults(handler=run_reject)

    ex = ss.add_parser("execute", help="apply approved diffs, each in one PostgreSQL transaction (audited)")
    ex.add_argument("ids", nargs="*", metavar="ID")
    ex.add_argument("--all-approved", action="store_true",
                    help="every approved diff (all of them), in dependency order")
    ex.add_argument("--dry-run", action="store_true", help="run the transaction and roll it back; print the plan")
    common(ex, who=True)
    ex.set_defaults(handler=run_execute)

    rc = ss.add_parser("reconcile", help="settle diffs left in executing from change_history (audited)")
    rc.add_argument("--older-than", type=float, default=None, metavar="SECONDS",
                    help="a claim with no committed transaction older than this goes back to approved "
                         "(default 900)")
    rc.add_argument("--dry-run", action="store_true", help="say what would happen to each item; change nothing")
    common(rc, who=True)
    rc.set_defaults(handler=run_reconcile)

    ge = ss.add_parser("generate", help="compare a zengin source with PostgreSQL and queue pending diffs")
    ge.add_argument("--source", required=True, metavar="zengin-code|FILE.json")
    ge.add_argument("--dry-run", action="store_true", help="print what would be queued")
    common(ge, who=True)
    ge.set_defaults(handler=run_generate)


# --------------------------------------------------------------------------- helpers


def _service(settings: Settings):
    from ..backends.base import BackendError, ErrorKind
    from ..backends.registry import Backends
    from ..core import ports

    if settings.zengin is None:
        raise BackendError("console", ErrorKind.REFUSED, "no [zengin] configured")
    settings.target(settings.zengin.target)          # a clear error for an unknown target name
    # The same factory as the Diffs screen (core.ports.build).
    backends = Backends.from_settings(settings, only={"postgres", "zengin"}, targets=[settings.zengin.target])
    return ports.build("diffs", settings, backends)


def _close(svc) -> None:
    for b in (svc.pg, svc.dynamo, svc.s3):
        try:
            if b is not None:
                b.close()
        except Exception as exc:  # noqa: BLE001 - closing is best effort; nothing to undo
            log.debug("closing %s failed: %s", type(b).__name__, error_text(exc))


def _err(exc, as_json: bool) -> int:
    msg = getattr(exc, "message", str(exc))
    kind = getattr(getattr(exc, "kind", None), "value", "error")
    if as_json:
        print_json({"error": msg, "kind": kind})
    else:
        say(f"console: {kind}: {msg}", file=sys.stderr)
    return EXIT_REFUSED if kind == "refused" else EXIT_FAIL


def _run(settings: Settings, args: argparse.Namespace, body) -> int:
    from ..backends.base import BackendError

    try:
        svc = _service(settings)
    except BackendError as exc:
        return _err(exc, args.json)
    try:
        return body(svc)
    except BackendError as exc:
        return _err(exc, args.json)
    finally:
        _close(svc)


def ttl_left(rec, now: datetime) -> str:
    if rec.ttl is None:
        return "—"
    s = int(rec.ttl - now.timestamp())
    if s <= 0:
        return "expired"
    d, rem = divmod(s, 86400)
    return f"{d}d{rem // 3600:02d}h" if d else f"{rem // 3600}h{rem % 3600 // 60:02d}m"


def codes(rec) -> str:
    from ..core.zengin.validate import key_text

    if rec.is_bulk:
        s = rec.dataSummary or {}
        return f"{s.get('totalRecords', '?')} records"
    e = rec.entry
    return key_text(e.key) if e else "?"


def names(rec) -> str:
    if rec.is_bulk:
        s = rec.dataSummary or {}
        return f"+{s.get('additions', 0)} ~{s.get('updates', 0)} -{s.get('deletions', 0)}"
    side = rec.zenginData or rec.currentData or {}
    if not isinstance(side, dict):
        return ""
    name = side.get("branchName") if "branchCode" in side else None
    out = str(side.get("bankName") or "")
    return f"{out} {name}" if name else out


def row_dict(rec, now: datetime, problems: list[str]) -> dict[str, Any]:
    return {"id": rec.id, "timestamp": rec.timestamp, "status": rec.display_status(now), "stored_status": rec.status,
            "diffType": rec.diffType, "codes": codes(rec), "names": names(rec), "valid": not problems,
            "problems": problems, "ttl": rec.ttl, "ttl_left": ttl_left(rec, now),
            "approvedBy": rec.approvedBy, "rejectedBy": rec.rejectedBy, "executedBy": rec.executedBy,
            "executionResult": dict(rec.executionResult) if rec.executionResult else None}


def _actor(svc, args):
    """The acting principal (AWS caller identity; a declared --as only with
    [identity] allow_declared). A declared one is said on stderr, every time."""
    from ..core import identity
    p = svc.actor(getattr(args, "diffs_as", None))
    if isinstance(p, identity.Principal) and not p.verified:
        say(identity.confirmation_note(p), file=sys.stderr)
    return p


def _refs(ids):
    from ..core.zengin.workflow import Ref
    return [Ref.parse(i) for i in ids]


# --------------------------------------------------------------------------- handlers


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    from ..core.zengin.validate import record_problems
    from ..core.zengin.workflow import TABS

    def body(svc) -> int:
        now = svc.now()
        counts = svc.counts()
        tabs = TABS if args.status == "all" else (args.status,)
        limit = None if args.all else max(args.limit, 0)
        recs, more = [], {}
        for t in tabs:
            got, more[t] = svc.tab(t, limit)
            recs += got
        flags = svc.orphans(recs)
        rows = []
        for r in recs:
            problems = record_problems(r)
            if (r.id, r.timestamp) in flags and r.status == "pending":
                problems.append(flags[(r.id, r.timestamp)])
            rows.append(row_dict(r, now, problems))
        if args.json:
            print_json({"counts": counts, "capped": {k: v for k, v in more.items() if v},
                        "more": {k: v for k, v in more.items() if v}, "diffs": rows})
            return EXIT_OK
        from rich.console import Console
        from rich.table import Table
        shown = "  ".join(f"{t} {n}" for t, n in counts.items())
        t = Table(title=escape(visible(f"zengin diffs ({svc.dynamo.table}) — {shown}")))
        for c in ("id", "time", "status", "type", "codes", "names", "ok", "ttl"):
            t.add_column(c, overflow="ellipsis" if c == "names" else "fold", no_wrap=c == "names",
                         max_width=40 if c == "names" else None)
        for r in rows:
            t.add_row(escape(visible(r["id"])), escape(visible(r["timestamp"])[:19]),
                      *(escape(visible(r[k])) for k in ("status", "diffType", "codes", "names")),
                      "✓" if r["valid"] else f"✗ {len(r['problems'])}", r["ttl_left"])
        console = Console()
        console.print(t)
        for tab, m in more.items():
            if m:
                n = sum(1 for r in rows if r["status"] == tab)
                console.print(escape(f"{tab}: showing {n} of {counts.get(tab, '?')} — more exist "
                                     "(--all, or --limit N)"), highlight=False)
        return EXIT_OK
    return _run(settings, args, body)


def run_show(settings: Settings, args: argparse.Namespace) -> int:
    from ..core.zengin.validate import key_text
    from ..core.zengin.workflow import Ref, Refused

    def body(svc) -> int:
        now = svc.now()
        try:
            d = svc.detail(Ref.parse(args.id))
        except Refused as r:
            say(f"console: {r.message}", file=sys.stderr)
            return EXIT_FAIL
        rec = d.record
        problems = list(d.validation.problems)
        live_mark = None
        if rec.status in ("pending", "approved") and svc.pg is not None:
            problems += list(svc.orphans([rec]).values())
            live_mark = svc.live_marks([rec]).get((rec.id, rec.timestamp))
        out = row_dict(rec, now, problems)
        out["live"] = live_mark.as_dict() if live_mark else None
        out.update({"changes": rec.changes, "zenginData": rec.zenginData, "currentData": rec.currentData,
                    "approvedAt": rec.approvedAt, "rejectionReason": rec.rejectionReason,
                    "executedAt": rec.executedAt, "dataLocation": rec.dataLocation, "dataSummary": rec.dataSummary,
                    "records_total": len(d.entries),
                    "records": [dict(e.to_json(), table=e.table) for e in d.entries[:args.records]] if rec.is_bulk else None,
                    "change_history": d.history})
        if args.json:
            print_json(out)
            return EXIT_OK
        say(f"{rec.id} @ {rec.timestamp}  {rec.diffType}  {out['status']}  ttl {out['ttl_left']}")
        for k in ("approvedBy", "approvedAt", "rejectedBy", "rejectionReason", "executedBy", "executedAt"):
            if out.get(k):
                say(f"  {k}: {out[k]}")
        if rec.executionResult:
            say(f"  executionResult: {dict(rec.executionResult)}")
        if not problems:
            say("  valid")
        else:
            say("  INVALID:")
            for p in problems:
                say(f"    - {p}")
        if live_mark is not None:
            if live_mark.stale:
                say("  STALE (live PostgreSQL differs):")
                for r in live_mark.reasons:
                    say(f"    - {r}")
            else:
                say("  live rows equal the recorded currentData")
        if rec.is_bulk:
            say(f"  {rec.dataLocation}  summary: {dict(rec.dataSummary or {})}")
        for e in d.entries[:args.records]:
            side = e.zenginData or e.currentData or {}
            label = str(side.get("branchName") if e.table == "branches" else side.get("bankName") or "")
            say(f"  {str(e.diffType):9} {str(e.table):8} {key_text(e.key)}  {label}")
            for f, ch in (e.changes or {}).items():
                if isinstance(ch, dict):
                    say(f"      {f}: {ch.get('old')!r} -> {ch.get('new')!r}")
        if len(d.entries) > args.records:
            say(f"  … {len(d.entries) - args.records} more records (--records N)")
        if d.history:
            say(f"  change_history #{d.history['id']}: {d.history['rows_affected']} rows by "
                f"{d.history['executed_by']} at {d.history['executed_at']}")
        return EXIT_OK
    return _run(settings, args, body)


def run_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    from ..core.zengin.reconcile import THRESHOLD

    def body(svc) -> int:
        actor = _actor(svc, args)
        threshold = timedelta(seconds=args.older_than) if args.older_than is not None else THRESHOLD
        rep = svc.reconcile(actor, threshold, dry_run=args.dry_run)
        if args.json:
            print_json(rep.as_dict())
        else:
            if not rep.items:
                print("nothing in executing")
            for i in rep.items:
                would = "would go " if args.dry_run else ""
                say(f"{i.id}: {would}{i.before} -> {i.after}: {i.reason}")
            for e in rep.errors:
                say(f"ERROR {e}", file=sys.stderr)
            if rep.audit_error:
                say(f"WARNING: {UNSETTLED_MESSAGE}: {rep.audit_error}", file=sys.stderr)
        if rep.errors:
            return EXIT_FAIL
        return EXIT_AUDIT_UNSETTLED if rep.audit_error else EXIT_OK
    return _run(settings, args, body)


def run_generate(settings: Settings, args: argparse.Namespace) -> int:
    from ..core.zengin import generator as gen

    def body(svc) -> int:
        try:
            if args.source == "zengin-code":
                source, version = gen.load_zengin_code()
                name = "zengin-code"
            else:
                source, version, name = gen.load_source_file(args.source), "", args.source
        except gen.SourceError as exc:
            say(f"console: {exc}", file=sys.stderr)
            return EXIT_FAIL
        actor = "dry-run" if args.dry_run else _actor(svc, args)
        plan, result = gen.generate(settings, svc.pg, svc.dynamo, svc.s3, source, now=datetime.now(timezone.utc),
                                    actor=actor, source_name=name, source_version=version, dry_run=args.dry_run)
        preview = plan.preview(svc.dynamo.table, svc.s3.bucket)
        if args.json:
            print_json({"summary": plan.summary, "bulk": plan.bulk, "items": plan.item_count,
                        "plan": preview.text(), "ids": result.ids if result else None,
                        "dataLocation": result.data_location if result else None})
        else:
            print(visible(preview.text(), newlines=True))
            if result:
                say(f"queued {len(result.ids)} diff(s): {', '.join(result.ids[:10])}"
                    + (" …" if len(result.ids) > 10 else ""))
        if result and result.audit_error:
            say(f"WARNING: {UNSETTLED_MESSAGE}: {result.audit_error}", file=sys.stderr)
            return EXIT_AUDIT_UNSETTLED
        return EXIT_OK
    return _run(settings, args, body)


# The handlers that change diffs live in .diffs_actions; their names stay importable from here.
from .diffs_actions import _print_batch, run_approve, run_execute, run_reject  # noqa: E402,F401
