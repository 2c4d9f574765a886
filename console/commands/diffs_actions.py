"""`console diffs approve | reject | execute`: the handlers that change diffs, batched
(core.zengin.batch), and how their outcomes are printed and turned into exit codes. Split
out of :mod:`.diffs` (which registers the parsers and re-exports these names); the exit
codes are listed there."""

from __future__ import annotations

import argparse
import sys

from ..config import Settings
from ..core.audit import UNSETTLED_MESSAGE
from ..core.text import visible
from . import EXIT_AUDIT_UNSETTLED, EXIT_FAIL, EXIT_OK, EXIT_UNKNOWN, print_json, say
from .diffs import _actor, _refs, _run


def _ordered(outs, ids) -> list:
    """Outcomes in the order the ids were given (a batch runs in dependency order)."""
    pos = {}
    for n, i in enumerate(ids or []):
        pos.setdefault(i.partition("@")[0], n)
    return sorted(outs, key=lambda o: pos.get(o.ref.id, len(pos)))


def _print_batch(res, as_json: bool, ids) -> int:
    outs = _ordered(res.outcomes, ids)
    if as_json:
        print_json({"results": [o.as_dict() for o in outs], "summary": res.summary(), "counts": res.counts(),
                    "plan": res.plan.as_dict()})
    else:
        for o in outs:
            mark = {"ok": "ok", "refused": "REFUSED", "failed": "FAILED", "skipped": "skipped",
                    "waiting": "WAITING", "executing": "UNKNOWN"}.get(o.outcome, o.outcome)
            aid = f" (audit #{o.audit_id})" if o.audit_id else ""
            say(f"{mark:8} {o.message}{aid}")
            if getattr(o, "audit_error", None):
                say(f"WARNING: {o.ref}: {UNSETTLED_MESSAGE}: {o.audit_error}", file=sys.stderr)
        say(res.summary())
    bad = any(o.outcome in ("refused", "failed", "waiting") or o.detail.get("needs_reconcile") for o in outs)
    if bad:
        return EXIT_FAIL
    if any(o.outcome in ("unknown", "executing") for o in outs):
        return EXIT_UNKNOWN
    if any(getattr(o, "audit_error", None) for o in outs):
        return EXIT_AUDIT_UNSETTLED
    return EXIT_OK


def _dry_run_actor(svc, args):
    """Who a dry run would act as, or "" when that cannot be told: a dry run changes
    nothing and needs no identity (a real run resolves and checks it)."""
    try:
        return _actor(svc, args)
    except Exception:  # noqa: BLE001 - said as "" in the plan; nothing is written
        return ""


def _batch_dry_run(svc, args, action: str) -> int:
    from ..core.zengin.batch_exec import dry_run_many

    actor = _dry_run_actor(svc, args)
    refs = None if getattr(args, "all_pending", False) or getattr(args, "all_approved", False) else _refs(args.ids)
    p, runs = dry_run_many(svc.settings, svc.pg, svc.dynamo, svc.s3, refs, action=action, actor=actor,
                           now=svc.now())
    results = []
    for it, a in runs:
        ok = not isinstance(a, str) and a.ok
        why = a if isinstance(a, str) else (a.error or f"{a.rows} row(s)")
        results.append({"id": it.rec.id, "timestamp": it.rec.timestamp, "ok": ok, "detail": why})
    results += [{"id": i.rec.id, "timestamp": i.rec.timestamp, "ok": False, "detail": i.reason} for i in p.excluded]
    if args.json:
        print_json({"dry_run": results, "plan": p.as_dict()})
    else:
        print(visible(p.text(), newlines=True))
        for r in results:
            say(f"-- {r['id']}: {'would succeed' if r['ok'] else 'WOULD FAIL'}: {r['detail']}")
        say("-- rolled back: nothing was changed")
    return EXIT_OK if all(r["ok"] for r in results) else EXIT_FAIL


def run_approve(settings: Settings, args: argparse.Namespace) -> int:
    if bool(args.ids) == bool(args.all_pending):
        print("console: give diff ids or --all-pending (not both)", file=sys.stderr)
        return 2

    def body(svc) -> int:
        if args.dry_run:
            return _batch_dry_run(svc, args, "approve")
        actor = _actor(svc, args)
        res = svc.approve_many(None if args.all_pending else _refs(args.ids), actor, allow_stale=args.allow_stale)
        return _print_batch(res, args.json, args.ids)
    return _run(settings, args, body)


def run_reject(settings: Settings, args: argparse.Namespace) -> int:
    def body(svc) -> int:
        actor = _actor(svc, args)
        return _print_batch(svc.reject_many(_refs(args.ids), actor, args.reason), args.json, args.ids)
    return _run(settings, args, body)


def run_execute(settings: Settings, args: argparse.Namespace) -> int:

    if bool(args.ids) == bool(args.all_approved):
        print("console: give diff ids or --all-approved (not both)", file=sys.stderr)
        return 2

    def body(svc) -> int:
        refs = None if args.all_approved else _refs(args.ids)
        if args.dry_run and args.all_approved:
            return _batch_dry_run(svc, args, "execute")
        if args.dry_run:
            actor = _dry_run_actor(svc, args)
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
        res = svc.execute_many(None if args.all_approved else refs, actor,
                               lost_claim_is="skipped" if args.all_approved else "refused")
        if not res.outcomes and not args.json:
            print("no approved diffs")
            return EXIT_OK
        return _print_batch(res, args.json, args.ids)
    return _run(settings, args, body)
