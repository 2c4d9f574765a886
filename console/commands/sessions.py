r"""`console sessions ...`: the Sessions screen headless.

    console sessions list [--pattern P] [--limit N] [--json]     SCAN, never KEYS
    console sessions stats [--json]                               INFO + TTL histogram + orphans
    console sessions delete KEY [--dry-run] [--yes]               audited, refused read-only
    console sessions delete --hex 73657373696f6e3aff [--yes]      any key, byte-exact
    console sessions expire KEY SECONDS [--dry-run] [--yes]       audited, refused read-only

KEY is taken byte-exact: backslash escapes ``\xNN``, ``\\``, ``\n``, ``\r``, ``\t``, ``\0``
(the form ``sessions list`` shows for a key with controls, invisible characters or bytes
that are not UTF-8) or ``--hex``. Every key, value and server message printed is data made
visible (core.text).

Exit codes: 0 ok; 1 failure (Redis unreachable, refused, key gone); 2 a mutation was not
confirmed (no --yes and no terminal to ask on), --dry-run, or a KEY that is not a valid
escaped form; 4 refused (read-only, audit unavailable); 5 unknown outcome; 6 done but
audit unsettled."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..config import Settings
from rich.markup import escape

from ..core.text import visible
from . import (EXIT_AUDIT_UNSETTLED, EXIT_FAIL, EXIT_FINDINGS, EXIT_OK, EXIT_REFUSED, EXIT_UNKNOWN, EXIT_USAGE,
               print_json, say)

KEY_HELP = ("the session key; backslash escapes \\xNN, \\\\, \\n, \\r, \\t, \\0 are decoded "
            "(the form `sessions list` shows)")


def _key_args(p) -> None:
    p.add_argument("key", nargs="?", help=KEY_HELP)
    p.add_argument("--hex", metavar="HEX", help="the key as hex bytes instead of KEY (byte-exact)")


def register(sub) -> None:
    p = sub.add_parser("sessions", help="Redis sessions, connections and caches (seed 004)")
    ss = p.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)

    ls = ss.add_parser("list", help="session keys with TTL, size and parsed value (SCAN, never KEYS)")
    ls.add_argument("--pattern", default="session:*", help="SCAN MATCH pattern (default: %(default)s)")
    ls.add_argument("--limit", type=int, metavar="N", help="read at most N keys (default: redis.scan_cap)")
    ls.add_argument("--sort", choices=("key", "ttl", "size", "notebook", "activity", "kind"), default="key")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)

    st = ss.add_parser("stats", help="server summary, TTL histogram, connections and orphans")
    st.add_argument("--json", action="store_true")
    st.set_defaults(handler=run_stats)

    de = ss.add_parser("delete", help="delete one session key (audited)")
    _key_args(de)
    de.add_argument("--yes", action="store_true", help="do not ask")
    de.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    de.add_argument("--json", action="store_true")
    de.set_defaults(handler=run_delete)

    ex = ss.add_parser("expire", help="set a new TTL on one session key (audited)")
    ex.add_argument("key", nargs="?", help=KEY_HELP)
    ex.add_argument("seconds", nargs="?", help="the new TTL in seconds")
    ex.add_argument("--hex", metavar="HEX", help="the key as hex bytes instead of KEY (byte-exact)")
    ex.add_argument("--yes", action="store_true", help="do not ask")
    ex.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(handler=run_expire)


def _service(settings: Settings, *, with_audit: bool = False):
    from ..backends.registry import Backends
    from ..core import ports

    if settings.redis is None:
        return None
    # The same factory as the Sessions screen (core.ports.build); the audit target only when
    # the command may change something.
    name = settings.audit_target_name if with_audit else None
    if name:
        settings.target(name)                        # a clear error for an unknown target name
    backends = Backends.from_settings(settings, only={"redis", "postgres"} if name else {"redis"},
                                      targets=[name] if name else [])
    return ports.build("sessions", settings, backends)


def _close(svc) -> None:
    svc.redis.close()
    if svc.audit_pg is not None:
        svc.audit_pg.close()


def _err(exc, as_json: bool) -> int:
    if as_json:
        print_json({"error": exc.message, "kind": exc.kind.value})
    else:
        say(f"console: {exc.kind.value}: {exc.message}", file=sys.stderr)
    return EXIT_FAIL


def _no_redis() -> int:
    print("console: no [redis] configured", file=sys.stderr)
    return EXIT_FAIL


def run_list(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError
    from ..core import sessions as core

    svc = _service(settings)
    if svc is None:
        return _no_redis()
    try:
        recs, last = core.list_sessions(svc.redis, svc.redis.settings, args.pattern, cap=args.limit)
    except BackendError as exc:
        return _err(exc, args.json)
    finally:
        _close(svc)
    recs = core.sort_records(recs, args.sort)
    capped = bool(last and last.capped)
    estimate = last.estimate if last else 0
    if args.json:
        print_json({"pattern": args.pattern, "count": len(recs), "capped": capped, "dbsize": estimate,
                    "sessions": [r.as_dict() for r in recs]})
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table
    t = Table(title=escape(visible(f"{args.pattern}: " + (f"first {len(recs):,} of about {estimate:,} keys"
                                                          if capped else f"{len(recs):,} keys"))))
    for c in ("key", "ttl", "size", "kind", "notebook", "last activity", "value"):
        t.add_column(c, overflow="fold")
    for r in recs:
        t.add_row(escape(visible(r.shown_key)), core.fmt_ttl(r.ttl_s),
                  f"{r.size_bytes:,}" if r.size_bytes is not None else "?",
                  *(escape(visible(v)) for v in (r.kind, r.notebook or "", r.last_activity or "", r.summary or "")))
    Console().print(t)
    return EXIT_OK


def run_stats(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.base import BackendError
    from ..core import sessions as core
    K = core.keys

    svc = _service(settings)
    if svc is None:
        return _no_redis()
    try:
        info = svc.info()
        recs, last = core.list_sessions(svc.redis, svc.redis.settings)
        conns = svc.connections()
        caches = svc.caches()
    except BackendError as exc:
        return _err(exc, args.json)
    finally:
        _close(svc)
    no_conn = core.sessions_without_connection(recs, conns)
    out: dict[str, Any] = {
        "server": {"version": info.version, "uptime_s": info.uptime_s, "connected_clients": info.connected_clients,
                   "blocked_clients": info.blocked_clients, "ops_per_sec": info.ops_per_sec,
                   "used_memory": info.used_memory, "maxmemory": info.maxmemory, "hit_ratio": info.hit_ratio,
                   "evicted_keys": info.evicted_keys, "expired_keys": info.expired_keys,
                   "keyspace": {f"db{k}": v for k, v in info.keyspace.items()}},
        "sessions": {"count": len(recs), "capped": bool(last and last.capped),
                     "dbsize": last.estimate if last else 0,
                     "kinds": _counts(r.kind for r in recs),
                     "ttl_histogram": dict(core.ttl_histogram(recs))},
        "connections": {"count": len(conns.connections), "capped": conns.capped,
                        "orphan_connections": sorted(K.json_safe(c.connection_id) for c in conns.orphans),
                        "sessions_without_connection": sorted(K.json_safe(r.key) for r in no_conn)},
        "caches": {"count": len(caches), "keys": [K.json_safe(c.key) for c in caches]},
    }
    if args.json:
        print_json(out)
        return EXIT_OK
    s = out["server"]
    hr = f"{s['hit_ratio']:.1%}" if s["hit_ratio"] is not None else "—"
    say(f"Redis {s['version']} · up {s['uptime_s']}s · {s['connected_clients']} clients "
          f"({s['blocked_clients']} blocked) · {s['ops_per_sec']} ops/s · hit ratio {hr} · "
          f"evicted {s['evicted_keys']} · expired {s['expired_keys']}")
    ses = out["sessions"]
    say(f"sessions: {ses['count']}" + (f" (first {ses['count']} of about {ses['dbsize']})" if ses["capped"] else "")
          + " · " + ", ".join(f"{k} {v}" for k, v in ses["kinds"].items()))
    say("TTL: " + "  ".join(f"{k} {v}" for k, v in ses["ttl_histogram"].items()))
    c = out["connections"]
    say(f"connections: {c['count']} · orphan connections (no session): {len(c['orphan_connections'])}"
          f" · sessions without a connection: {len(c['sessions_without_connection'])}")
    say(f"caches: {out['caches']['count']}")
    return EXIT_OK


def _counts(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def _typed_key(args: argparse.Namespace) -> tuple[bytes | None, str | None]:
    """(the key's bytes, None) or (None, why it is not a valid key)."""
    from ..core.sessions import keys as K

    if args.hex is not None and args.key is not None and getattr(args, "seconds", None) is None \
            and hasattr(args, "seconds"):
        args.seconds, args.key = args.key, None           # `expire --hex HEX SECONDS`
    if (args.hex is None) == (args.key is None):
        return None, "give the key either as KEY or as --hex HEX"
    try:
        return (K.from_hex(args.hex) if args.hex is not None else K.parse(args.key)), None
    except K.KeySyntaxError as exc:
        return None, str(exc)


def _mutate(settings: Settings, args: argparse.Namespace, kind: str) -> int:
    from ..backends.base import BackendError, ReadOnlyError
    from ..core import audit
    from ..core import sessions as core
    from ..core.identity import IdentityRefused
    K = core.keys

    key, why = _typed_key(args)
    if key is None:
        say(f"console: sessions {kind}: {why}", file=sys.stderr)
        return EXIT_USAGE
    seconds = 0
    if kind == "expire":
        try:
            seconds = int(args.seconds)
        except (TypeError, ValueError):
            say("console: sessions expire: SECONDS must be a whole number", file=sys.stderr)
            return EXIT_USAGE
    shown = K.escaped(key)
    svc = _service(settings, with_audit=True)
    if svc is None:
        return _no_redis()
    try:
        try:
            pv = svc.preview(key)
            plan = core.plan_delete(key, pv) if kind == "delete" else core.plan_expire(key, seconds, pv)
        except BackendError as exc:
            return _err(exc, args.json)
        if not args.json:
            say(pv.text().replace("\n", "  "))
            say(plan.text().replace("\n", "  "))
        if args.dry_run:
            if args.json:
                print_json({"plan": plan.text(), **K.as_json(key), "exists": pv.exists, "ttl_s": pv.ttl_s})
            return EXIT_FINDINGS
        if not pv.exists:
            say(f"console: {shown} does not exist", file=sys.stderr)
            return EXIT_FAIL
        if not args.yes and not settings.read_only:
            if not sys.stdin.isatty():
                print("console: not confirmed: re-run with --yes (or on a terminal)", file=sys.stderr)
                return EXIT_REFUSED
            answer = input(f"type the key ({visible(shown)}) to confirm: ")
            try:
                confirmed = K.parse(answer.strip()) == key
            except K.KeySyntaxError:
                confirmed = False
            if not confirmed:
                print("console: not confirmed", file=sys.stderr)
                return EXIT_REFUSED
        try:
            actor = audit.actor_name(settings)
            res = svc.delete(key, actor) if kind == "delete" else svc.expire(key, seconds, actor)
        except (ReadOnlyError, IdentityRefused, audit.AuditUnavailable) as exc:
            _err(exc, args.json)
            return EXIT_REFUSED
        except BackendError as exc:
            return _err(exc, args.json)
        if args.json:
            print_json({"action": res.action, **K.as_json(res.key), "ok": res.ok, "message": res.message,
                        "outcome": res.outcome, "audit_id": res.audit_id, "audit_error": res.audit_error})
        else:
            say(f"{K.escaped(res.key)}: {res.message} (audit #{res.audit_id})")
            if res.audit_error:
                say(f"WARNING: {audit.UNSETTLED_MESSAGE}: {res.audit_error}", file=sys.stderr)
        if res.audit_error and res.ok:
            return EXIT_AUDIT_UNSETTLED
        if res.outcome == "unknown":
            return EXIT_UNKNOWN
        return EXIT_OK if res.ok else EXIT_FAIL
    finally:
        _close(svc)


def run_delete(settings: Settings, args: argparse.Namespace) -> int:
    return _mutate(settings, args, "delete")


def run_expire(settings: Settings, args: argparse.Namespace) -> int:
    return _mutate(settings, args, "expire")
