"""What the Metrics screen draws, as pure functions of samples (no I/O, no widgets): the
PostgreSQL row and detail, the analytics tables, the InfluxDB tables. Every string from a
server goes through console.core.text; every number through console.core.format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ...core import format as fmt
from ...core import text
from ...core.metrics import AnalyticsSample, InfluxSample, PgSample, sparkline
from ..widgets.chart import Series

# one point of a target's chart history: (taken at, tps, rows read/s, rows written/s); None: no rate yet
PgPoint = tuple[datetime, "float | None", "float | None", "float | None"]


@dataclass(frozen=True)
class PgView:
    """A PostgreSQL sample and, from a replay, what was recorded before it (None live: the
    screen keeps its own history). A recording keeps ``recorded`` (the sample)."""

    sample: PgSample
    history: list[PgSample] | None = None

    @property
    def recorded(self) -> PgSample:
        return self.sample

    @property
    def taken_at(self) -> datetime:
        return self.sample.taken_at


def pg_point(p: PgSample) -> PgPoint:
    r = p.rates
    return (p.taken_at, r.tps if r else None, r.rows_read_s if r else None, r.rows_written_s if r else None)


CHART_LINES = 8    # a chart of 40 lines is unreadable, and plotext draws each point in Python


def tps_series(history: dict[str, Iterable[PgPoint]], stale: set[str],
               limit: int = CHART_LINES) -> list[Series]:
    """One TPS line per target (the legend names it; a failing target says so); past
    ``limit`` targets, the busiest ``limit`` by their latest TPS (in the targets' order).

    >>> from datetime import datetime, timezone
    >>> at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> [s.label for s in tps_series({"a": [(at, 1.0, 0, 0)], "b": [(at, 9.0, 0, 0)], "c": [(at, None, 0, 0)]},
    ...                              {"c"}, limit=1)]
    ['b']
    """
    points = {n: tuple((pt[0], pt[1]) for pt in h) for n, h in history.items()}
    names = list(points)
    if len(names) > limit:
        def latest(n: str) -> float:
            return next((v for _, v in reversed(points[n]) if v is not None), -1.0)
        busiest = set(sorted(names, key=latest, reverse=True)[:limit])
        names = [n for n in names if n in busiest]
    return [Series(f"{n} (stale)" if n in stale else n, points[n]) for n in names]


def rows_series(history: Iterable[PgPoint]) -> list[Series]:
    """Rows read and written per second of one target."""
    h = list(history)
    return [Series("read", tuple((pt[0], pt[2]) for pt in h)), Series("written", tuple((pt[0], pt[3]) for pt in h))]


def influx_charts(i: InfluxSample) -> list[tuple[str, str, str, list[Series]]]:
    """(chart id, title, unit, series) of the InfluxDB tab; the error rate in percent."""
    def pts(points: Any, scale: float = 1.0) -> tuple[tuple[datetime, float | None], ...]:
        return tuple((p.at, None if p.value is None else p.value * scale) for p in points)

    def last(points: Any, spec: str) -> str:
        v = [p.value for p in points if p.value is not None]
        return f" · last {format(v[-1], spec)}" if v else ""

    return [("exec", f"runs / 10 min ({i.range_key})", "runs",
             [Series("executions" + last(i.executions, ",.0f"), pts(i.executions))]),
            ("mean", f"mean duration / 10 min ({i.range_key})", "ms",
             [Series("mean" + last(i.mean_duration, ",.0f"), pts(i.mean_duration))]),
            ("err", "error rate / hour (24 h)", "%",
             [Series("errors" + last(i.error_rate, ".1%"), pts(i.error_rate, 100.0))]),
            ("progress", f"progress / hour ({i.range_key})", "%",
             [Series("mean progress" + last(i.progress, ".1f"), pts(i.progress))])]


def pg_cells(name: str, p: PgSample | None, stale: bool, history: Iterable[float], n_cols: int) -> list[Any]:
    dim = "dim" if stale else ""
    mark = Text("! " if stale else ("● " if p else "… "), style="bold red" if stale else ("green" if p else "dim"))
    label = mark + text.plain(name, ("bold " + dim).strip())
    if p is None:
        return [label, *[Text("—", style="dim")] * (n_cols - 1)]
    r = p.rates

    def cell(v: str, style: str = "") -> Text:
        return Text(v, style=f"{style} {dim}".strip() or "", justify="right")

    hit = p.cache_hit
    conns = p.connections_total
    return [
        label,
        cell(fmt.number(r.tps if r else None)),
        Text(sparkline(list(history)[-10:]), style="cyan " + dim),
        cell(fmt.number(r.rows_read_s if r else None, ",.0f")),
        cell(fmt.number(r.rows_written_s if r else None, ",.0f")),
        cell(fmt.percent(hit), "red" if hit is not None and hit < 0.9 else ""),
        cell(f"{conns}/{p.max_connections}", "yellow" if conns > 0.8 * p.max_connections else ""),
        cell(fmt.duration(p.longest_xact.seconds) if p.longest_xact else "—",
             "yellow" if p.longest_xact and (p.longest_xact.seconds or 0) > 60 else ""),
        cell(fmt.duration(p.longest_query.seconds) if p.longest_query else "—"),
        cell(str(p.waiting), "bold red" if p.waiting else ""),
        cell(fmt.size(p.size_bytes)),
        Text(fmt.clock(p.taken_at), style="red" if stale else "dim"),
    ]


def _query(q: str | None) -> Text:
    return text.plain((q or "").replace("\n", " ")[:200], "dim")


def pg_activity(name: str, p: PgSample | None, error: str | None) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append_text(text.plain(name, "bold"))
    if p is not None:
        t.append(" · PostgreSQL ", style="dim")
        t.append_text(text.plain(p.version, "dim"))
        t.append(f" · {p.queries} queries in {p.elapsed_ms:,.0f} ms\n", style="dim")
    else:
        t.append("\n")
    if error:
        t.append("stale: ", style="bold red")
        t.append_text(text.plain(error, "red"))
        t.append("\n")
    if p is None:
        t.append("" if error else "first sample running…", style="dim")
        return t
    t.append("connections ", style="bold")
    t.append_text(text.plain("  ".join(f"{state} {here}/{server}" for state, server, here in p.connections)
                             or "none"))
    t.append(f"  (this db / server, max {p.max_connections})\n", style="dim")
    for label, a in (("longest xact ", p.longest_xact), ("longest query", p.longest_query)):
        t.append(f"{label} ", style="bold")
        if a is None:
            t.append("none\n", style="dim")
        else:
            t.append_text(text.plain(f"{fmt.duration(a.seconds)} pid {a.pid} {a.user or ''} {a.state or ''} "
                                     f"{a.wait or ''}"))
            t.append("\n  ")
            t.append_text(_query(a.query))
            t.append("\n")
    if p.checkpoints:
        t.append("checkpoints ", style="bold")
        t.append(f"timed {fmt.count(p.checkpoints.get('timed', 0))} · "
                 f"requested {fmt.count(p.checkpoints.get('requested', 0))}\n")
    chains = p.chains
    t.append("lock waits ", style="bold")
    if not chains:
        t.append("none\n", style="dim")
    else:
        t.append(f"{p.waiting} waiting — who blocks whom:\n", style="bold red")
        for line in chains[:12]:
            a = line.session
            t.append("  " + ("   " * (line.depth - 1) + "└─ " if line.depth else ""))
            t.append(f"pid {a.pid} ", style="bold" if line.depth == 0 else "red")
            what = a.wait if a.blocked_by else a.state
            t.append_text(text.plain(f"{what or ''} {fmt.duration(a.seconds)}  "))
            t.append_text(_query(a.query))
            t.append("\n")
    return t


def pg_tables_key(p: PgSample | None) -> tuple[Any, ...] | None:
    """Everything :func:`pg_tables` shows of ``p`` (equal keys draw equal tables)."""
    if p is None:
        return None
    return tuple((ts.schema, ts.name, ts.dead, ts.dead_ratio, ts.last_autovacuum) for ts in p.tables)


def pg_tables(p: PgSample | None) -> Table | str:
    if p is None:
        return ""
    tt = Table(title="dead tuples (estimates)", title_justify="left", title_style="bold", expand=True,
               box=None, header_style="bold", pad_edge=False)
    tt.add_column("table", no_wrap=True, overflow="ellipsis", ratio=1)
    tt.add_column("dead", justify="right", no_wrap=True, min_width=6)
    tt.add_column("dead%", justify="right", no_wrap=True, min_width=6)
    tt.add_column("autovacuum", justify="right", no_wrap=True, min_width=11)
    for ts in p.tables:
        name = ts.name if ts.schema == "public" else f"{ts.schema}.{ts.name}"
        tt.add_row(text.plain(name), fmt.compact(ts.dead), fmt.percent(ts.dead_ratio),
                   f"{ts.last_autovacuum:%m-%d %H:%M}" if ts.last_autovacuum else "never")
    return tt


def analytics(name: str, a: AnalyticsSample | None, error: str | None, every_s: float) -> tuple[Text, Any, Any]:
    head = Text()
    head.append_text(text.plain(name, "bold"))
    head.append(f"  views every {fmt.age(every_s)}", style="dim")
    if error:
        head.append("  stale: ", style="bold red")
        head.append_text(text.plain(error, "red"))
    head.append("\n")
    if a is None:
        head.append("  first sample running…\n", style="dim")
        return head, "", ""
    for v in a.views.values():
        style = {"ok": "green", "timeout": "bold yellow", "error": "bold red", "absent": "dim"}[v.status]
        head.append(f"  {v.view:<22}", style="bold")
        if v.status == "ok":
            head.append(f"ok {v.elapsed_ms:,.0f} ms", style=style)
            head.append(f" (timeout {v.timeout_ms} ms, {len(v.rows)} rows)\n", style="dim")
        elif v.status == "absent":
            head.append("absent\n", style=style)
        else:
            head.append(f"{v.status.upper()}: ", style=style)
            head.append_text(text.plain(v.error, style))
            head.append("\n")
    dim = " dim" if error else ""
    trends = {t.language_title: t for t in a.trends}
    fp = a.views.get("function_performance")
    t = Table(title=f"function_performance (7 days) · trend: requests/day from {a.trend_source or '—'}",
              title_justify="left", expand=True, header_style="bold" + dim, style=dim.strip() or "")
    for col, just in (("language_title", "left"), ("requests", "right"), ("avg ms", "right"),
                      ("p95 ms", "right"), ("errors", "right"), ("cache %", "right"), ("trend (days)", "left")):
        t.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    rows = list(fp.rows) if fp and fp.ok else []
    for r in rows:
        tr = trends.get(r["language_title"])
        cache = float(r["cache_hit_ratio"]) if r["cache_hit_ratio"] is not None else None
        t.add_row(text.plain(r["language_title"]), fmt.count(r["total_requests"]),
                  fmt.number(r["avg_duration_ms"], ",.0f"), fmt.number(r["p95_duration_ms"], ",.0f"),
                  fmt.count(r["error_count"]), fmt.number(cache, ".1f"),
                  Text(sparkline(tr.requests) if tr else "", style="cyan" + dim))
    if not rows:   # the view failed or is empty: the trends alone
        for tr in a.trends:
            t.add_row(text.plain(tr.language_title), fmt.count(tr.total), "—", "—", fmt.count(sum(tr.errors)), "—",
                      Text(sparkline(tr.requests), style="cyan" + dim))
    es = a.views.get("error_summary")
    e = Table(title="error_summary (7 days)", title_justify="left", expand=True, header_style="bold" + dim,
              style=dim.strip() or "")
    for col, just in (("error_code", "left"), ("language_title", "left"), ("count", "right"),
                      ("last", "right"), ("status", "right")):
        e.add_column(col, justify=just, no_wrap=True)  # type: ignore[arg-type]
    for r in (es.rows if es and es.ok else ())[:10]:
        e.add_row(text.plain(r["error_code"]), text.plain(r["language_title"]), fmt.count(r["error_count"]),
                  f"{r['last_occurrence']:%m-%d %H:%M}" if r["last_occurrence"] else "—",
                  text.plain(r["most_common_status"]))
    return head, t, e


def influx_head(i: InfluxSample | None, range_key: str, every_s: float, error: str | None) -> Text:
    head = Text()
    head.append("InfluxDB", style="bold")
    if i is not None:
        head.append(" ")
        head.append_text(text.plain(i.version, "bold"))
    head.append(f"  range {range_key} (t)", style="bold cyan")
    head.append(f"  every {fmt.age(every_s)}", style="dim")
    if i is not None:
        head.append(f"  ·  {fmt.count(i.total_executions)} executions in {i.range_key}")
    if error:
        head.append("\nstale: ", style="bold red")
        head.append_text(text.plain(error, "red"))
    return head


def influx_tables(i: InfluxSample) -> Table:
    grid = Table.grid(expand=True, padding=(0, 2))
    parts = []
    for title, stats in (("per user", i.by_user), ("per notebook", i.by_notebook)):
        t = Table(title=f"{title} ({i.range_key})", title_justify="left", expand=True, box=None, header_style="bold")
        t.add_column(title.split()[-1], no_wrap=True, overflow="ellipsis", ratio=3)
        t.add_column("runs", justify="right", no_wrap=True, min_width=5)
        t.add_column("avg ms", justify="right", no_wrap=True, min_width=6)
        for st in stats:
            t.add_row(text.plain(st.tag.removeprefix("notebooks/")), fmt.count(st.executions),
                      fmt.number(st.mean_ms, ",.0f"))
        parts.append(t)
    p = Table(title="performance_metrics", title_justify="left", expand=True, box=None, header_style="bold")
    for col in ("cell type", "avg ms", "max ms", "err %"):
        p.add_column(col, justify="left" if col == "cell type" else "right")
    for cell_type, avg, mx, er in i.by_cell_type:
        p.add_row(text.plain(cell_type), fmt.number(avg, ",.0f"), fmt.number(mx, ",.0f"), fmt.percent(er))
    parts.append(p)
    for _ in parts:
        grid.add_column(ratio=1)
    grid.add_row(*parts)
    return grid


def group(items: list[Any]) -> Group | str:
    return Group(*items) if items else ""
