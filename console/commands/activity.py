"""`console activity ...`: the Activity screen headless.

    console activity [--target T] [--filter EXPR] [--min-duration S] [--hide-idle] [--sort COL] [--json]
    console activity cancel|terminate PID [PID...] --target T [--yes] [--json]   audited, refused read-only
    console activity statements [--target T] [--interval S] [--json]             pg_stat_statements
    console activity replication [--target T] [--json]                           slots, standbys, WAL/s, progress

Exit codes: 0 ok; 1 failure (unreachable, a signal failed); 4 refused (read-only, not
confirmed: no --yes and no terminal to ask on, every session refused); 5 the outcome is
unknown; 6 done but its audit record could not be settled."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..config import Settings
from ..core.text import cut, visible
from . import EXIT_AUDIT_UNSETTLED, EXIT_FAIL, EXIT_OK, EXIT_REFUSED, EXIT_UNKNOWN, print_json, say

QUERY_WIDTH = 60


def register(sub) -> None:
    a = sub.add_parser("activity", help="PostgreSQL backends (pg_stat_activity), cancel/terminate, statements")
    _list_options(a)
    a.set_defaults(handler=run_list)
    asub = a.add_subparsers(dest="activity_command", metavar="ACTION")
    for kind in ("cancel", "terminate"):
        what = ("cancel the running query of a session, keep the session" if kind == "cancel"
                else "terminate a session")
        p = asub.add_parser(kind, help=f"{what} (pg_{kind}_backend; audited, refused read-only)")
        p.add_argument("pids", nargs="+", type=int, metavar="PID")
        p.add_argument("--target", required=True, help="the PostgreSQL target the session is connected to")
        p.add_argument("--yes", action="store_true", help="do not ask")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=run_signal, kind=kind)
    st = asub.add_parser("statements", help="top statements (pg_stat_statements): since reset and over an interval")
    st.add_argument("--target", action="append", default=argparse.SUPPRESS, metavar="NAME")
    st.add_argument("--interval", type=float, default=1.0, metavar="S", help="seconds between the two samples")
    st.add_argument("--limit", type=int, default=20)
    st.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    st.set_defaults(handler=run_statements)
    rp = asub.add_parser("replication", help="replication slots and retained WAL, standby lag, WAL/s, "
                                             "running VACUUM/ANALYZE/CREATE INDEX with progress")
    rp.add_argument("--target", action="append", default=argparse.SUPPRESS, metavar="NAME")
    rp.add_argument("--interval", type=float, default=1.0, metavar="S", help="seconds between the two WAL samples")
    rp.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    rp.set_defaults(handler=run_replication)


def _list_options(p) -> None:
    p.add_argument("--target", action="append", metavar="NAME", help="PostgreSQL target(s); default: all")
    p.add_argument("--filter", default="", metavar="EXPR",
                   help="regex over any field; 'user:RE', 'db:RE', 'app:RE', 'state:RE', 'query:RE'... terms (all must match)")
    p.add_argument("--min-duration", type=float, metavar="S", help="only sessions active (or in a transaction) this long")
    p.add_argument("--hide-idle", action="store_true")
    p.add_argument("--all", action="store_true", help="include server processes (autovacuum, walwriter...)")
    p.add_argument("--sort", default="duration_s", help="column to sort by (default: %(default)s)")
    p.add_argument("--json", action="store_true")


def _names(settings: Settings, args) -> list[str]:
    names = getattr(args, "target", None) or [t.name for t in settings.postgres]
    for n in names:
        settings.target(n)   # a clear error for an unknown name
    return names


def _backends(settings: Settings, names: list[str]):
    from ..backends.postgres import PostgresBackend
    return {n: PostgresBackend(settings.target(n)) for n in names}


def _close(backends) -> None:
    for b in backends.values():
        b.close()


def _err(name: str, exc) -> dict[str, Any]:
    return {"error": exc.message, "error_kind": exc.kind.value}


def _fmt_s(v: float | None) -> str:
    from ..core.metrics import human_seconds
    return human_seconds(v) if v is not None else ""


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError
    from ..core.activity import ActivityFilter, ActivitySource, apply_filter, blocking_chain, sort_rows
    from ..core.metrics import plain_data

    names = _names(settings, args)
    if not names:
        print("console: no PostgreSQL target configured", file=sys.stderr)
        return EXIT_FAIL
    flt = ActivityFilter(args.filter, args.min_duration, args.hide_idle, clients_only=not args.all)
    try:
        flt.compiled()
        sort_rows([], args.sort)
    except ValueError as exc:
        say(f"console: {exc}", file=sys.stderr)
        return EXIT_FAIL
    backends = _backends(settings, names)
    out: dict[str, Any] = {}
    failed = False
    try:
        src = ActivitySource(backends)
        for n in names:
            try:
                s = src.sample(n)
            except BackendError as exc:
                out[n] = exc
                failed = True
                continue
            out[n] = (s, sort_rows(apply_filter(s.rows, flt), args.sort))
    finally:
        _close(backends)
    if args.json:
        data = {}
        for n, v in out.items():
            if isinstance(v, BackendError):
                data[n] = _err(n, v)
                continue
            s, rows = v
            data[n] = {"taken_at": s.taken_at.isoformat(), "datname": s.datname, "version_num": s.version_num,
                       "total": len(s.rows), "shown": len(rows), "truncated": s.truncated,
                       "sessions": [{**plain_data(r), "wait": r.wait, "duration_s": r.duration_s,
                                     "blocks": list(blocking_chain(s.rows, r.pid).blocked_pids)} for r in rows]}
        print_json(data)
        return EXIT_FAIL if failed else EXIT_OK
    for n, v in out.items():
        if isinstance(v, BackendError):
            say(f"{n}: {v.kind.value}: {v.message}")
            continue
        s, rows = v
        say(f"{n} ({s.datname}): {len(rows)} of {len(s.rows)} backends" + (" (truncated)" if s.truncated else ""))
        say(f"  {'pid':>7} {'database':<14} {'user':<12} {'application':<16} {'state':<20} {'wait':<22} "
            f"{'xact':>7} {'query':>7} {'blocked by':<12} query")
        for r in rows:
            mark = "*" if r.console else " "
            print(f" {mark}{r.pid:>7} {cut(r.datname, 14):<14} {cut(r.usename, 12):<12} "
                  f"{cut(r.application_name, 16):<16} {cut(r.state or r.backend_type, 20):<20} {cut(r.wait, 22):<22} "
                  f"{_fmt_s(r.xact_age_s):>7} {_fmt_s(r.query_age_s):>7} "
                  f"{cut(','.join(map(str, r.blocked_by)), 12):<12} {cut(r.query, QUERY_WIDTH)}")
        waiting = [r for r in s.rows if r.blocked_by]
        if waiting:
            say(f"  {len(waiting)} waiting on a lock; chains:")
            from ..core.activity import roots
            for root in roots(s.rows):
                for depth, link in blocking_chain(s.rows, root).lines():
                    row = link.row or s.row(link.pid)
                    say(f"    {'  ' * depth}pid {link.pid} {row.state if row else '?'} "
                        f"{cut(row.query if row else '', QUERY_WIDTH)}")
    if any(not isinstance(v, BackendError) and any(r.console for r in v[1]) for v in out.values()):
        say("  * the console's own sessions (never cancelled or terminated by it)")
    return EXIT_FAIL if failed else EXIT_OK


def run_signal(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError
    from ..core import audit, identity
    from ..core.activity import ActivitySource, plan_signal
    from ..core.activity import run_signal as core_run

    backends = _backends(settings, [args.target])
    backend = backends[args.target]
    try:
        try:
            plan = plan_signal(ActivitySource(backends).sample(args.target), args.pids, args.kind)
        except BackendError as exc:
            return _fail(args.json, exc)
        try:
            actor = audit.actor_name(settings)
        except BackendError as exc:           # a declared name without [identity] allow_declared
            return _fail(args.json, exc)
        if not args.json:
            print(visible(plan.text(), newlines=True))
            say(identity.confirmation_note(actor), file=sys.stderr)
        if not plan.sessions:
            if args.json:
                print_json({"plan": plan.text(), "refused": [{"pid": p, "reason": r} for p, r in plan.refused]})
            say("console: nothing to do: every session was refused", file=sys.stderr)
            return EXIT_REFUSED
        if not args.yes and not settings.read_only:
            if not sys.stdin.isatty():
                if args.json:
                    print_json({"plan": plan.text(), "confirmed": False})
                print("console: not confirmed: re-run with --yes (or on a terminal)", file=sys.stderr)
                return EXIT_REFUSED
            pids = " ".join(str(s.pid) for s in plan.sessions)
            prompt = (f"type the pid(s) ({pids}) to terminate: " if args.kind == "terminate"
                      else f"cancel the running query of {pids}? type yes: ")
            answer = input(prompt).strip()
            if answer != (pids if args.kind == "terminate" else "yes"):
                print("console: not confirmed", file=sys.stderr)
                return EXIT_REFUSED
        try:
            results = core_run(settings, backend, plan, actor=actor)
        except BackendError as exc:
            return _fail(args.json, exc)
    finally:
        _close(backends)
    if args.json:
        print_json({"plan": plan.text(), "results": [r.as_dict() for r in results],
                    "refused": [{"pid": p, "reason": r} for p, r in plan.refused]})
    else:
        for r in results:
            say(f"pid {r.pid}: {r.outcome}: {r.message} (audit #{r.audit_id})")
            if r.audit_error:
                say(f"WARNING: {audit.UNSETTLED_MESSAGE}: {r.audit_error}", file=sys.stderr)
    if any(r.audit_error and r.ok for r in results):
        return EXIT_AUDIT_UNSETTLED
    if any(r.outcome == "unknown" for r in results):
        return EXIT_UNKNOWN
    return EXIT_OK if all(r.ok for r in results) and not plan.refused else EXIT_FAIL


def _fail(as_json: bool, exc) -> int:
    if as_json:
        print_json({"error": exc.message, "kind": exc.kind.value})
    else:
        say(f"console: {exc.kind.value}: {exc.message}", file=sys.stderr)
    return EXIT_REFUSED if exc.kind.value == "refused" else EXIT_FAIL


def run_statements(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError
    from ..core.activity.statements import deltas, sample_statements, top
    from ..core.metrics import plain_data

    names = _names(settings, args)
    backends = _backends(settings, names)
    data: dict[str, Any] = {}
    failed = False
    try:
        for n in names:
            try:
                first = sample_statements(backends[n], limit=500)
                second = None
                if first.available:
                    time.sleep(max(args.interval, 0.0))      # the measurement window itself
                    second = sample_statements(backends[n], limit=500)
                data[n] = (first, second)
            except BackendError as exc:
                data[n] = exc
                failed = True
    finally:
        _close(backends)
    if getattr(args, "json", False):
        out = {}
        for n, v in data.items():
            if isinstance(v, BackendError):
                out[n] = _err(n, v)
                continue
            first, second = v
            cur = second or first
            d = deltas(first, second) if second else None
            out[n] = {"available": cur.available, "how_to": cur.how_to, "error": cur.error,
                      "installed": cur.installed, "loaded": cur.loaded, "stats_reset": cur.stats_reset,
                      "since_reset": plain_data(top(cur.statements, n=args.limit)),
                      "interval": None if d is None else [{**plain_data(x.statement), "delta_calls": x.calls,
                                                           "delta_total_ms": x.total_ms, "delta_rows": x.rows,
                                                           "delta_mean_ms": x.mean_ms, "seconds": x.seconds,
                                                           "delta_shared_blks_hit": x.shared_blks_hit,
                                                           "delta_shared_blks_read": x.shared_blks_read}
                                                          for x in d[:args.limit]]}
        print_json(out)
        return EXIT_FAIL if failed else EXIT_OK
    for n, v in data.items():
        if isinstance(v, BackendError):
            say(f"{n}: {v.kind.value}: {v.message}")
            continue
        first, second = v
        cur = second or first
        if not cur.available:
            say(f"{n}: pg_stat_statements is not available" + (f" ({cur.error})" if cur.error else ""))
            print(visible(cur.how_to, newlines=True))
            continue
        say(f"{n}: top statements since reset" + (f" ({cur.stats_reset:%Y-%m-%d %H:%M:%S} UTC)" if cur.stats_reset else ""))
        say(f"  {'calls':>10} {'total ms':>12} {'mean ms':>10} {'rows':>10} {'hit':>10} {'read':>10}  query")
        for s in top(cur.statements, n=args.limit):
            print(f"  {s.calls:>10,} {s.total_ms:>12,.1f} {s.mean_ms:>10,.2f} {s.rows:>10,} {s.shared_blks_hit:>10,} "
                  f"{s.shared_blks_read:>10,}  {cut(s.query, QUERY_WIDTH)}")
        d = deltas(first, second)
        say(f"{n}: over the last {args.interval:g}s" + ("" if d else ": nothing ran"))
        for x in (d or ())[:args.limit]:
            print(f"  {x.calls:>10,} {x.total_ms:>12,.1f} {(x.mean_ms or 0):>10,.2f} {x.rows:>10,} "
                  f"{x.shared_blks_hit:>10,} {x.shared_blks_read:>10,}  {cut(x.statement.query, QUERY_WIDTH)}")
    return EXIT_FAIL if failed else EXIT_OK


def run_replication(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError
    from ..core.activity.maintenance import MaintenanceSampler
    from ..core.metrics import human_bytes, plain_data

    names = _names(settings, args)
    backends = _backends(settings, names)
    data: dict[str, Any] = {}
    failed = False
    try:
        for n in names:
            sampler = MaintenanceSampler(backends[n])
            try:
                sampler.sample()
                time.sleep(max(args.interval, 0.0))          # the WAL-rate measurement window
                data[n] = sampler.sample()
            except BackendError as exc:
                data[n] = exc
                failed = True
    finally:
        _close(backends)
    if getattr(args, "json", False):
        print_json({n: _err(n, v) if isinstance(v, BackendError) else {**plain_data(v), "retained_bytes": v.retained_bytes}
                    for n, v in data.items()})
        return EXIT_FAIL if failed else EXIT_OK
    for n, m in data.items():
        if isinstance(m, BackendError):
            say(f"{n}: {m.kind.value}: {m.message}")
            continue
        rate = f"{human_bytes(m.wal_bytes_s)}/s" if m.wal_bytes_s is not None else "—"
        say(f"{n}: {'standby' if m.in_recovery else 'primary'}, wal_level {m.wal_level}, WAL {rate}"
            + (f", replay delay {_fmt_s(m.replay_delay_s)}" if m.in_recovery else ""))
        for s in m.slots:
            say(f"  slot {cut(s.slot_name, 40)} ({s.slot_type}{', active' if s.active else ', inactive'}"
                f"{', ' + s.wal_status if s.wal_status else ''}): retains "
                f"{human_bytes(s.retained_bytes) if s.retained_bytes is not None else '—'}")
        for r in m.standbys:
            say(f"  standby {cut(r.application_name, 30)} {r.client_addr or ''} {r.state} {r.sync_state}: "
                f"replay lag {human_bytes(r.replay_lag_bytes or 0)}, {_fmt_s(r.replay_lag_s) or '—'}")
        for p in m.progress:
            pct = f"{p.percent:.1f}%" if p.percent is not None else "—"
            say(f"  {p.command} pid {p.pid} {cut(p.relation, 40)} {p.phase}: {pct} ({_fmt_s(p.age_s)})")
        if not (m.slots or m.standbys or m.progress):
            say("  no slots, no standbys, no maintenance running")
    return EXIT_FAIL if failed else EXIT_OK
