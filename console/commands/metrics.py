"""`console metrics snapshot`: one sample of every metrics source, headless."""

from __future__ import annotations

import argparse
import sys

from ..config import Settings
from ..core.text import markup as escape     # data made visible, then escaped: never markup, never a command
from . import EXIT_FAIL, EXIT_OK, print_json


def register(sub) -> None:
    m = sub.add_parser("metrics", help="live metrics (pg_stat, analytics views, InfluxDB)")
    msub = m.add_subparsers(dest="metrics_command", metavar="ACTION", required=True)
    snap = msub.add_parser("snapshot", help="one sample of everything (PostgreSQL sampled twice, 1 s apart)")
    snap.add_argument("--target", action="append", metavar="NAME", help="PostgreSQL target(s); default: all")
    snap.add_argument("--range", default="1h", choices=("1h", "6h", "24h"), help="InfluxDB time range")
    snap.add_argument("--json", action="store_true")
    snap.set_defaults(handler=run_snapshot)


def run_snapshot(settings: Settings, args: argparse.Namespace) -> int:
    from ..backends.registry import Backends
    from ..core.metrics import MetricsSource, snapshot_dict, take_snapshot

    names = args.target or [t.name for t in settings.postgres]
    for n in names:
        settings.target(n)   # a clear error for an unknown name
    if not names and settings.influx is None:
        print("no PostgreSQL target or InfluxDB configured", file=sys.stderr)
        return EXIT_FAIL
    backends = Backends.from_settings(settings)
    try:
        snap = take_snapshot(MetricsSource.from_backends(backends), names, range_key=args.range)
    finally:
        backends.close()
    if args.json:
        print_json(snapshot_dict(snap))
    else:
        _print(snap)
    return EXIT_FAIL if snap.failures else EXIT_OK


def _print(snap) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..backends.base import BackendError
    from ..core.metrics import human_bytes, human_seconds, sparkline
    from ..core.text import cut

    con = Console()
    t = Table(title="PostgreSQL")
    for c in ("target", "TPS", "rows read/s", "rows written/s", "cache hit", "connections", "longest xact",
              "longest query", "waiting", "size"):
        t.add_column(c, justify="right" if c not in ("target",) else "left")
    for name, s in snap.postgres.items():
        if isinstance(s, BackendError):
            t.add_row(escape(name), "[red]down[/]", *[""] * 8)
            continue
        r = s.rates
        t.add_row(escape(name), f"{r.tps:,.1f}" if r else "—", f"{r.rows_read_s:,.0f}" if r else "—",
                  f"{r.rows_written_s:,.0f}" if r else "—",
                  f"{s.cache_hit:.2%}" if s.cache_hit is not None else "—",
                  f"{s.connections_total}/{s.max_connections}",
                  human_seconds(s.longest_xact.seconds) if s.longest_xact else "—",
                  human_seconds(s.longest_query.seconds) if s.longest_query else "—",
                  str(s.waiting), human_bytes(s.size_bytes))
    con.print(t)
    for name, s in snap.postgres.items():
        if isinstance(s, BackendError):
            con.print(f"[b]{escape(name)}[/b]: [red]{s.kind.value}: {escape(s.message)}[/]", soft_wrap=True)
    for name, s in snap.postgres.items():
        if isinstance(s, BackendError) or not s.chains:
            continue
        con.print(f"[b]{escape(name)}[/b] blocking chains:")
        for line in s.chains:
            a = line.session
            con.print(f"  {'  ' * line.depth}{'└ ' if line.depth else ''}pid {a.pid} {escape(a.state or '')} "
                      f"{escape(a.wait or '')} {human_seconds(a.seconds)} {escape(cut(a.query or '', 80))}")
    for name, a in snap.analytics.items():
        if isinstance(a, BackendError):
            con.print(f"[b]{escape(name)}[/b] analytics: [red]{a.kind.value}: {escape(a.message)}[/]")
            continue
        views = ", ".join(f"{v.view} {v.status}" + (f" ({v.error})" if v.error else f" {v.elapsed_ms:.0f} ms")
                          for v in a.views.values())     # escaped below
        con.print(f"[b]{escape(name)}[/b] analytics: {escape(views)}")
        if a.trends:
            tt = Table(title=escape(f"requests per day, last {len(a.trends[0].days)} days ({a.trend_source})"))
            tt.add_column("language_title")
            tt.add_column("trend")
            tt.add_column("total", justify="right")
            for tr in a.trends:
                tt.add_row(escape(tr.language_title), sparkline(tr.requests), f"{tr.total:,}")
            con.print(tt)
    i = snap.influx
    if isinstance(i, BackendError):
        con.print(f"[b]InfluxDB[/b]: [red]{i.kind.value}: {escape(i.message)}[/]")
    elif i is not None:
        con.print(f"[b]InfluxDB {escape(i.version)}[/b] last {escape(i.range_key)}: {i.total_executions:,} cell executions")
        con.print(f"  executions / 10 min  {sparkline([p.value for p in i.executions])}", markup=False)
        con.print(f"  mean ms / 10 min     {sparkline([p.value for p in i.mean_duration])}", markup=False)
        con.print(f"  error rate / h (24h) {sparkline([p.value for p in i.error_rate])}", markup=False)
