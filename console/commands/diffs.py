"""`console diffs ...`: the zengin diff review queue headless (seed 003).

    console diffs list [--status S] [--json]
    console diffs show ID [--json]                         ID or ID@TIMESTAMP
    console diffs approve ID... [--as WHO] [--json]
    console diffs reject ID... --reason TEXT [--as WHO] [--json]
    console diffs execute ID...|--all-approved [--dry-run] [--as WHO] [--json]
    console diffs reconcile [--older-than SECONDS] [--dry-run] [--json]
    console diffs generate --source zengin-code|FILE.json [--dry-run] [--json]

Exit codes: 0 every requested diff was done (or, for --dry-run, would succeed); 1 any
was refused or failed, a dry run found it stale/invalid, a backend failed, or read-only;
2 usage. ``execute --all-approved`` does not count a diff another console claimed first
(it is reported as skipped)."""

from __future__ import annotations

from rich.markup import escape

import argparse
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from ..config import Settings
from ..core.audit import UNSETTLED_MESSAGE
from ..core.text import visible
from . import EXIT_AUDIT_UNSETTLED, EXIT_FAIL, EXIT_OK, EXIT_UNKNOWN, print_json, say


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
    common(ls)
    ls.set_defaults(handler=run_list)

    sh = ss.add_parser("show", help="one diff: item, validation, rows, change_history")
    sh.add_argument("id", metavar="ID")
    sh.add_argument("--records", type=int, default=50, metavar="N", help="bulk records shown (default 50)")
    common(sh)
    sh.set_defaults(handler=run_show)

    ap = ss.add_parser("approve", help="pending -> approved (validated; conditional write; audited)")
    ap.add_argument("ids", nargs="+", metavar="ID")
    common(ap, who=True)
    ap.set_defaults(handler=run_approve)

    rj = ss.add_parser("reject", help="pending -> rejected with a reason (audited)")
    rj.add_argument("ids", nargs="+", metavar="ID")
    rj.add_argument("--reason", required=True, metavar="TEXT")
    common(rj, who=True)
    rj.set_defaults(handler=run_reject)

    ex = ss.add_parser("execute", help="apply approved diffs, each in one PostgreSQL transaction (audited)")
    ex.add_argument("ids", nargs="*", metavar="ID")
    ex.add_argument("--all-approved", action="store_true", help="every approved diff, oldest first")
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
    from ..backends.dynamo import DynamoBackend
    from ..backends.postgres import PostgresBackend
    from ..backends.s3 import S3Backend
    from ..core.zengin.service import DiffsService

    if settings.zengin is None:
        raise BackendError("console", ErrorKind.REFUSED, "no [zengin] configured")
    pg = PostgresBackend(settings.target(settings.zengin.target), max_size=2)
    return DiffsService(settings, pg, DynamoBackend(settings.zengin), S3Backend(settings.zengin))


def _close(svc) -> None:
    for b in (svc.pg, svc.dynamo, svc.s3):
        try:
            if b is not None:
                b.close()
        except Exception:  # noqa: BLE001
            pass


def _err(exc, as_json: bool) -> int:
    msg = getattr(exc, "message", str(exc))
    kind = getattr(getattr(exc, "kind", None), "value", "error")
    if as_json:
        print_json({"error": msg, "kind": kind})
    else:
        say(f"console: {kind}: {msg}", file=sys.stderr)
    return EXIT_FAIL


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


def _print_outcomes(outs, as_json: bool, extra: dict | None = None) -> int:
    if as_json:
        print_json({"results": [o.as_dict() for o in outs], **(extra or {})})
    else:
        for o in outs:
            mark = {"ok": "ok", "refused": "REFUSED", "failed": "FAILED", "skipped": "skipped",
                    "unknown": "UNKNOWN"}.get(o.outcome, o.outcome)
            aid = f" (audit #{o.audit_id})" if o.audit_id else ""
            say(f"{mark:8} {o.message}{aid}")
            if getattr(o, "audit_error", None):
                say(f"WARNING: {o.ref}: {UNSETTLED_MESSAGE}: {o.audit_error}", file=sys.stderr)
    bad = any(o.outcome in ("refused", "failed") or o.detail.get("needs_reconcile") for o in outs)
    if bad:
        return EXIT_FAIL
    if any(o.outcome == "unknown" for o in outs):
        return EXIT_UNKNOWN
    if any(getattr(o, "audit_error", None) for o in outs):
        return EXIT_AUDIT_UNSETTLED
    return EXIT_OK


# --------------------------------------------------------------------------- handlers


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    from ..core.zengin.validate import record_problems
    from ..core.zengin.workflow import TABS

    def body(svc) -> int:
        now = svc.now()
        q = svc.queue()
        tabs = TABS if args.status == "all" else (args.status,)
        rows = [row_dict(r, now, record_problems(r)) for t in tabs for r in q.tabs.get(t, [])]
        if args.json:
            print_json({"counts": q.counts(), "capped": {k: v for k, v in q.capped.items() if v}, "diffs": rows})
            return EXIT_OK
        from rich.console import Console
        from rich.table import Table
        counts = "  ".join(f"{t} {n}" for t, n in q.counts().items())
        t = Table(title=escape(visible(f"zengin diffs ({svc.dynamo.table}) — {counts}")))
        for c in ("id", "time", "status", "type", "codes", "names", "ok", "ttl"):
            t.add_column(c, overflow="fold")
        for r in rows:
            t.add_row(escape(visible(r["id"])), escape(visible(r["timestamp"])[:19]),
                      *(escape(visible(r[k])) for k in ("status", "diffType", "codes", "names")),
                      "✓" if r["valid"] else f"✗ {len(r['problems'])}", r["ttl_left"])
        Console().print(t)
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
        out = row_dict(rec, now, list(d.validation.problems))
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
        if d.validation.ok:
            say("  valid")
        else:
            say("  INVALID:")
            for p in d.validation.problems:
                say(f"    - {p}")
        if rec.is_bulk:
            say(f"  {rec.dataLocation}  summary: {dict(rec.dataSummary or {})}")
        for e in d.entries[:args.records]:
            say(f"  {str(e.diffType):9} {str(e.table):8} {key_text(e.key)}")
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


def run_approve(settings: Settings, args: argparse.Namespace) -> int:
    def body(svc) -> int:
        actor = _actor(svc, args)
        return _print_outcomes([svc.approve(r, actor) for r in _refs(args.ids)], args.json)
    return _run(settings, args, body)


def run_reject(settings: Settings, args: argparse.Namespace) -> int:
    def body(svc) -> int:
        actor = _actor(svc, args)
        return _print_outcomes([svc.reject(r, actor, args.reason) for r in _refs(args.ids)], args.json)
    return _run(settings, args, body)


def run_execute(settings: Settings, args: argparse.Namespace) -> int:
    from ..core.zengin.workflow import Ref

    if bool(args.ids) == bool(args.all_approved):
        print("console: give diff ids or --all-approved (not both)", file=sys.stderr)
        return 2

    def body(svc) -> int:
        if args.all_approved:
            q = svc.queue()
            refs = [Ref.of(r) for r in sorted(q.tabs["approved"], key=lambda r: r.timestamp)]
        else:
            refs = _refs(args.ids)
        if args.dry_run:
            actor = ""
            try:
                actor = _actor(svc, args)
            except Exception:  # noqa: BLE001 - a dry run does not need an identity
                pass
            runs = [svc.dry_run(r, actor) for r in refs]
            if args.json:
                print_json({"dry_run": [d.as_dict() for d in runs]})
            else:
                for d in runs:
                    if d.plan:
                        print(visible(d.plan.text(), newlines=True))
                    if d.applied:
                        for s in d.applied.statements:
                            say(f"-- {s.name}: {s.changed} of {s.input_rows} row(s)" +
                                  (f", {s.stale} stale: {', '.join(s.stale_keys[:10])}" if s.stale else ""))
                    say(f"-- {d.ref}: {'would succeed' if d.ok else 'WOULD FAIL: ' + str(d.error)}")
                    print()
            return EXIT_OK if all(d.ok for d in runs) else EXIT_FAIL
        actor = _actor(svc, args)
        outs = [svc.execute(r, actor, lost_claim_is="skipped" if args.all_approved else "refused") for r in refs]
        if not outs and not args.json:
            print("no approved diffs")
        return _print_outcomes(outs, args.json)
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
