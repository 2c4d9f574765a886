"""Metrics: live pg_stat figures per PostgreSQL target, the seed-000 analytics views (on a
slower cadence, each with its own timeout) and InfluxDB series as charts.

Every source (each PostgreSQL target, each analytics target, InfluxDB) is sampled in its
own thread worker; when a sample comes back the screen renders it and schedules that
source's next run with a one-shot timer, so runs never overlap and one dead server never
delays the others. A source that fails keeps its last values, dimmed, with the error and
the time of its last good sample. Sampling stops while the screen is hidden or paused."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Label, Select, Sparkline, Static, TabbedContent, TabPane

from ...backends.base import BackendError
from ...core.metrics import (RANGES, AnalyticsSample, Cadence, InfluxSample, MetricsSource, PgSample,
                             human_bytes, human_seconds, sparkline, step_interval)

PG_COLUMNS = (("Target", 11), ("TPS", 7), ("TPS trend", 10), ("Read/s", 7), ("Write/s", 7), ("Hit", 6),
              ("Conns", 7), ("Xact", 6), ("Query", 6), ("Wait", 4), ("Size", 9), ("Sampled", 8))
HISTORY = 30
RANGE_KEYS = tuple(RANGES)


def metrics_source(services) -> MetricsSource:
    if services.backends is None:
        return MetricsSource({}, None)
    return MetricsSource.from_backends(services.backends)


@dataclass
class _Src:
    key: str              # "pg:<target>", "an:<target>", "influx"
    kind: str             # pg | an | influx
    name: str
    last: Any = None
    error: str | None = None
    running: bool = False
    timer: Timer | None = None
    history: deque = field(default_factory=lambda: deque(maxlen=HISTORY))

    @property
    def stale(self) -> bool:
        return self.error is not None


def _taken(sample: Any) -> str:
    return f"{sample.taken_at:%H:%M:%S}" if sample is not None else "—"


def _pct(v: float | None) -> str:
    return f"{v:.1%}" if v is not None else "—"


def _compact(n: int) -> str:
    """
    >>> _compact(18240), _compact(220), _compact(3_400_000)
    ('18.2k', '220', '3.4M')
    """
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.1f}k"
    return f"{n:,}"


def _num(v: float | None, fmt: str = ",.1f") -> str:
    return format(v, fmt) if v is not None else "—"


class MetricsScreen(Screen):
    DEFAULT_CSS = """
    #metrics-status { height: 1; padding: 0 1; }
    #metrics-tabs { height: 1fr; }
    #metrics-tabs TabPane { padding: 0; }
    #pg-pane { padding: 0 1; height: 1fr; }
    #pg-targets { height: auto; max-height: 12; }
    #pg-detail { height: auto; margin-top: 1; }
    #pg-activity { text-wrap: nowrap; text-overflow: ellipsis; }
    #pg-activity { width: 3fr; padding: 0 1; border: round $panel-lighten-2; height: auto; min-height: 6; }
    #pg-tables { width: 2fr; padding: 0 1; border: round $panel-lighten-2; height: auto; min-height: 6; }
    #an-pane, #influx-pane { padding: 0 1; }
    #an-status { margin-bottom: 1; }
    #influx-filters { height: 3; }
    #influx-filters Select { width: 1fr; }
    .chart-row { height: 5; }
    .chart { width: 1fr; padding: 0 1; }
    .chart Sparkline { height: 3; }
    .chart Label { width: 100%; text-wrap: nowrap; text-overflow: ellipsis; }
    .stale { opacity: 55%; }
    """

    BINDINGS = [
        Binding("space", "toggle_pause", "Pause", id="metrics.pause",
                tooltip="Pause or resume every refresh (the last values stay on screen)"),
        Binding("plus,equals_sign", "interval(1)", "Slower", id="metrics.slower", key_display="+",
                tooltip="Lengthen the refresh interval (1, 2, 5, 10, 15, 30, 60 s)"),
        Binding("minus", "interval(-1)", "Faster", id="metrics.faster", key_display="-",
                tooltip="Shorten the refresh interval"),
        Binding("r", "refresh_now", "Refresh", id="metrics.refresh", tooltip="Sample every source now"),
        Binding("t", "next_range", "Range", id="metrics.range",
                tooltip="InfluxDB time range: 1 h, 6 h, 24 h"),
        Binding("p", "tab('tab-pg')", "PostgreSQL", id="metrics.tab_pg", tooltip="PostgreSQL activity tab"),
        Binding("a", "tab('tab-analytics')", "Analytics", id="metrics.tab_analytics",
                tooltip="Analytics views tab (function_performance, error_summary, daily trends)"),
        Binding("i", "tab('tab-influx')", "InfluxDB", id="metrics.tab_influx", tooltip="InfluxDB charts tab"),
    ]

    class Sampled(Message):
        def __init__(self, key: str, sample: Any = None, error: str | None = None) -> None:
            self.key = key
            self.sample = sample
            self.error = error
            super().__init__()

    class TagValues(Message):
        def __init__(self, users: list[str], notebooks: list[str]) -> None:
            self.users = users
            self.notebooks = notebooks
            super().__init__()

    def __init__(self) -> None:
        super().__init__(id="metrics")
        self._srcs: dict[str, _Src] = {}
        self.paused = False
        self.interval = 5.0
        self.range_key = "1h"
        self.user: str | None = None
        self.notebook: str | None = None

    @property
    def services(self):
        return self.app.services

    @property
    def source(self) -> MetricsSource:
        return self.services.source("metrics", metrics_source)

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="metrics-status")
        with TabbedContent(id="metrics-tabs"):
            with TabPane("PostgreSQL", id="tab-pg"):
                with Vertical(id="pg-pane"):
                    yield DataTable(id="pg-targets", cursor_type="row", zebra_stripes=True)
                    with Horizontal(id="pg-detail"):
                        yield Static("", id="pg-activity")
                        yield Static("", id="pg-tables")
            with TabPane("Analytics", id="tab-analytics"):
                with VerticalScroll(id="an-pane"):
                    yield Static("", id="an-status")
                    yield Static("", id="an-functions")
                    yield Static("", id="an-errors")
            with TabPane("InfluxDB", id="tab-influx"):
                with VerticalScroll(id="influx-pane"):
                    yield Static("", id="influx-status")
                    with Horizontal(id="influx-filters"):
                        yield Select([], prompt="every user", id="influx-user", allow_blank=True)
                        yield Select([], prompt="every notebook", id="influx-notebook", allow_blank=True)
                    with Horizontal(classes="chart-row"):
                        with Vertical(classes="chart"):
                            yield Label("", id="chart-exec-label")
                            yield Sparkline([], id="chart-exec")
                        with Vertical(classes="chart"):
                            yield Label("", id="chart-mean-label")
                            yield Sparkline([], id="chart-mean")
                    with Horizontal(classes="chart-row"):
                        with Vertical(classes="chart"):
                            yield Label("", id="chart-err-label")
                            yield Sparkline([], id="chart-err")
                        with Vertical(classes="chart"):
                            yield Label("", id="chart-progress-label")
                            yield Sparkline([], id="chart-progress")
                    yield Static("", id="influx-tables")
        yield Footer()

    def on_mount(self) -> None:
        self.interval = step_interval(self.services.settings.refresh_interval_s - 1e-9, +1) \
            if self.services.settings.refresh_interval_s not in (1, 2, 5, 10, 15, 30, 60) \
            else float(self.services.settings.refresh_interval_s)
        table = self.query_one("#pg-targets", DataTable)
        for col, width in PG_COLUMNS:
            table.add_column(col, key=col, width=width)
        src = self.source
        for name in src.targets:
            s = self._srcs[f"pg:{name}"] = _Src(f"pg:{name}", "pg", name)
            table.add_row(*self._pg_cells(s), key=s.key)
        for name in src.analytics_targets:
            self._srcs[f"an:{name}"] = _Src(f"an:{name}", "an", name)
        if src.has_influx:
            self._srcs["influx"] = _Src("influx", "influx", "influxdb")
            self._load_tags(src)
        for style_id in ("chart-exec", "chart-mean", "chart-err", "chart-progress"):
            self.query_one(f"#{style_id}", Sparkline).summary_function = max
        table.focus()
        self._render_all()
        for key in self._srcs:
            self._run(key)

    # ---------------------------------------------------------------- sampling

    def _cadence(self, kind: str) -> float:
        c = Cadence(self.interval)
        return {"pg": c.postgres_s, "an": c.analytics_s, "influx": c.influx_s}[kind]

    def _run(self, key: str) -> None:
        s = self._srcs[key]
        if s.running:
            return
        if s.timer is not None:
            s.timer.stop()
            s.timer = None
        s.running = True
        self._collect(key, s.kind, s.name, self.range_key, self.user, self.notebook)

    @work(thread=True, exit_on_error=False, group="metrics")
    def _collect(self, key: str, kind: str, name: str, range_key: str, user: str | None,
                 notebook: str | None) -> None:
        src = self.source
        try:
            if kind == "pg":
                sample = src.sample_pg(name)
            elif kind == "an":
                sample = src.sample_analytics(name)
            else:
                sample = src.sample_influx(range_key, user=user, notebook=notebook)
        except BackendError as exc:
            self.post_message(self.Sampled(key, error=f"{exc.kind.value}: {exc.message}"))
            return
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the refresh loop
            self.post_message(self.Sampled(key, error=f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(self.Sampled(key, sample))

    @work(thread=True, exit_on_error=False, group="metrics-tags")
    def _load_tags(self, src: MetricsSource) -> None:
        try:
            users, notebooks = src.tag_values("user_id"), src.tag_values("notebook_path")
        except BackendError:
            return
        self.post_message(self.TagValues(users, notebooks))

    @on(TagValues)
    def _on_tags(self, m: TagValues) -> None:
        self.query_one("#influx-user", Select).set_options([(u, u) for u in m.users])
        self.query_one("#influx-notebook", Select).set_options([(n, n) for n in m.notebooks])

    @on(Sampled)
    def _on_sampled(self, m: Sampled) -> None:
        s = self._srcs.get(m.key)
        if s is None:
            return
        s.running = False
        if m.error is not None:
            s.error = m.error
        else:
            s.error = None
            s.last = m.sample
            if isinstance(m.sample, PgSample) and m.sample.rates is not None:
                s.history.append(m.sample.rates.tps)
        self._schedule(s)
        self._render_src(s)
        self._render_status()

    def _schedule(self, s: _Src) -> None:
        if self.paused or not self.is_current:
            return
        s.timer = self.set_timer(self._cadence(s.kind), lambda key=s.key: self._run(key))

    def _stop_timers(self) -> None:
        for s in self._srcs.values():
            if s.timer is not None:
                s.timer.stop()
                s.timer = None

    def _restart(self) -> None:
        """Every idle source without a pending timer runs now (resume, unpause)."""
        if self.paused:
            return
        for key, s in self._srcs.items():
            if not s.running and s.timer is None:
                self._run(key)

    def on_screen_suspend(self) -> None:
        self._stop_timers()

    def on_screen_resume(self) -> None:
        self._restart()

    # ---------------------------------------------------------------- actions

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self._stop_timers()
        else:
            self._restart()
        self._render_status()

    def action_interval(self, direction: int) -> None:
        self.interval = step_interval(self.interval, direction)
        if not self.paused:
            for s in self._srcs.values():     # re-arm pending timers with the new cadence
                if s.timer is not None:
                    s.timer.stop()
                    s.timer = None
                    self._schedule(s)
        self._render_status()

    def action_refresh_now(self) -> None:
        for key in self._srcs:
            self._run(key)

    def action_next_range(self) -> None:
        self.range_key = RANGE_KEYS[(RANGE_KEYS.index(self.range_key) + 1) % len(RANGE_KEYS)]
        self._refresh_influx()

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    @on(Select.Changed, "#influx-user")
    def _user_changed(self, event: Select.Changed) -> None:
        self.user = None if event.value is Select.BLANK else str(event.value)
        self._refresh_influx()

    @on(Select.Changed, "#influx-notebook")
    def _notebook_changed(self, event: Select.Changed) -> None:
        self.notebook = None if event.value is Select.BLANK else str(event.value)
        self._refresh_influx()

    def _refresh_influx(self) -> None:
        self._render_influx(self._srcs.get("influx"))
        if "influx" in self._srcs and not self.paused:
            self._run("influx")

    # ---------------------------------------------------------------- rendering

    def _render_all(self) -> None:
        for s in self._srcs.values():
            self._render_src(s)
        if "influx" not in self._srcs:
            self._render_influx(None)
        if not any(s.kind == "an" for s in self._srcs.values()):
            self.query_one("#an-status", Static).update(
                Text("No lambda (seed 000) target is configured: no analytics views to show.", style="dim"))
        self._render_status()

    def _render_src(self, s: _Src) -> None:
        if s.kind == "pg":
            table = self.query_one("#pg-targets", DataTable)
            for (col, _), value in zip(PG_COLUMNS, self._pg_cells(s)):
                table.update_cell(s.key, col, value)
            self._render_pg_detail()
        elif s.kind == "an":
            self._render_analytics()
        else:
            self._render_influx(s)

    def _render_status(self) -> None:
        t = Text()
        if self.paused:
            t.append(" PAUSED ", style="bold black on yellow")
        else:
            t.append(" LIVE ", style="bold black on green")
        c = Cadence(self.interval)
        t.append(f"  every {self.interval:g}s", style="bold")
        t.append(f" (InfluxDB {c.influx_s:g}s, views {c.analytics_s:g}s)  ", style="dim")
        for s in self._srcs.values():
            if s.kind == "pg":
                continue
            label = "views" if s.kind == "an" else "InfluxDB"
            t.append(f"{label} ", style="bold")
            if s.stale:
                t.append(f"stale since {_taken(s.last)} ", style="bold red")
            else:
                t.append(f"{_taken(s.last)} ", style="dim" if s.last is None else "")
        pg = [s for s in self._srcs.values() if s.kind == "pg"]
        bad = sum(1 for s in pg if s.stale)
        if bad:
            t.append(f"  {bad} target{'s' if bad > 1 else ''} stale", style="bold red")
        if not pg and not self._srcs:
            t.append("nothing configured to watch", style="dim")
        self.query_one("#metrics-status", Static).update(t)

    # -- PostgreSQL

    def _pg_cells(self, s: _Src) -> tuple:
        p: PgSample | None = s.last
        dim = "dim" if s.stale else ""
        mark = Text("! " if s.stale else ("● " if p else "… "),
                    style="bold red" if s.stale else ("green" if p else "dim"))
        name = mark + Text(s.name, style="bold " + dim)
        if p is None:
            return (name, *[Text("—", style="dim")] * (len(PG_COLUMNS) - 1))
        r = p.rates

        def cell(v: str, style: str = "") -> Text:
                        return Text(v, style=f"{style} {dim}".strip() or None, justify="right")

        hit = p.cache_hit
        conns = p.connections_total
        return (
            name,
            cell(_num(r.tps if r else None)),
            Text(sparkline(list(s.history)[-10:]), style="cyan " + dim),
            cell(_num(r.rows_read_s if r else None, ",.0f")),
            cell(_num(r.rows_written_s if r else None, ",.0f")),
            cell(_pct(hit), "red" if hit is not None and hit < 0.9 else ""),
            cell(f"{conns}/{p.max_connections}", "yellow" if conns > 0.8 * p.max_connections else ""),
            cell(human_seconds(p.longest_xact.seconds) if p.longest_xact else "—",
                 "yellow" if p.longest_xact and (p.longest_xact.seconds or 0) > 60 else ""),
            cell(human_seconds(p.longest_query.seconds) if p.longest_query else "—"),
            cell(str(p.waiting), "bold red" if p.waiting else ""),
            Text(human_bytes(p.size_bytes), style=dim or None, justify="right"),
            Text(_taken(p), style="red" if s.stale else "dim"),
        )

    @on(DataTable.RowHighlighted, "#pg-targets")
    def _on_highlight(self, event: DataTable.RowHighlighted) -> None:
        self._render_pg_detail()

    def _render_pg_detail(self) -> None:
        table = self.query_one("#pg-targets", DataTable)
        activity = self.query_one("#pg-activity", Static)
        tables = self.query_one("#pg-tables", Static)
        if table.row_count == 0:
            activity.update(Text("No PostgreSQL target is configured.", style="dim"))
            tables.update("")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        s = self._srcs.get(key)
        if s is None:
            return
        p: PgSample | None = s.last
        activity.set_class(s.stale, "stale")
        tables.set_class(s.stale, "stale")
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f"{s.name} ", style="bold")
        if p is not None:
            t.append(f"· PostgreSQL {p.version} · sampled {_taken(p)} UTC · {p.queries} queries in {p.elapsed_ms:,.0f} ms\n",
                     style="dim")
        else:
            t.append("\n")
        if s.stale:
            t.append(f"STALE — {s.error}\n", style="bold red")
            if p is not None:
                t.append(f"showing the last good sample ({_taken(p)} UTC)\n", style="red")
        if p is None:
            t.append("first sample running…" if not s.stale else "", style="dim")
            activity.update(t)
            tables.update("")
            return
        t.append("connections ", style="bold")
        t.append("  ".join(f"{state} {here}/{server}" for state, server, here in p.connections) or "none")
        t.append(f"  (this db / server, max {p.max_connections})\n", style="dim")
        for label, a in (("longest xact ", p.longest_xact), ("longest query", p.longest_query)):
            t.append(f"{label} ", style="bold")
            if a is None:
                t.append("none\n", style="dim")
            else:
                t.append(f"{human_seconds(a.seconds)} pid {a.pid} {a.user or ''} {a.state or ''} "
                         f"{a.wait or ''}\n")
                t.append(f"  {(a.query or '').replace(chr(10), ' ')[:200]}\n", style="dim")
        if p.checkpoints:
            t.append("checkpoints ", style="bold")
            t.append(f"timed {p.checkpoints.get('timed', 0):,} · requested {p.checkpoints.get('requested', 0):,}\n")
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
                t.append(f"{what or ''} {human_seconds(a.seconds)}  ")
                t.append(f"{(a.query or '').replace(chr(10), ' ')[:200]}\n", style="dim")
        activity.update(t)

        tt = Table(title="dead tuples (estimates)", title_justify="left", title_style="bold", expand=True,
                   box=None, header_style="bold", pad_edge=False)
        tt.add_column("table", no_wrap=True, overflow="ellipsis", ratio=1)
        tt.add_column("dead", justify="right", no_wrap=True, min_width=6)
        tt.add_column("dead%", justify="right", no_wrap=True, min_width=6)
        tt.add_column("autovacuum", justify="right", no_wrap=True, min_width=11)
        for ts in p.tables:
            tt.add_row(ts.name if ts.schema == "public" else f"{ts.schema}.{ts.name}", _compact(ts.dead), _pct(ts.dead_ratio),
                       f"{ts.last_autovacuum:%m-%d %H:%M}" if ts.last_autovacuum else "never")
        tables.update(tt)

    # -- analytics

    def _render_analytics(self) -> None:
        status = self.query_one("#an-status", Static)
        funcs = self.query_one("#an-functions", Static)
        errors = self.query_one("#an-errors", Static)
        srcs = [s for s in self._srcs.values() if s.kind == "an"]
        head = Text()
        fn_tables: list = []
        err_tables: list = []
        for s in srcs:
            a: AnalyticsSample | None = s.last
            head.append(f"{s.name}", style="bold")
            head.append(f"  views every {Cadence(self.interval).analytics_s:g}s · sampled {_taken(a)} UTC",
                        style="dim")
            if s.stale:
                head.append(f"  STALE — {s.error}", style="bold red")
            head.append("\n")
            if a is None:
                head.append("  first sample running…\n", style="dim")
                continue
            for v in a.views.values():
                style = {"ok": "green", "timeout": "bold yellow", "error": "bold red", "absent": "dim"}[v.status]
                head.append(f"  {v.view:<22}", style="bold")
                if v.status == "ok":
                    head.append(f"ok {v.elapsed_ms:,.0f} ms", style=style)
                    head.append(f" (timeout {v.timeout_ms} ms, {len(v.rows)} rows)\n", style="dim")
                elif v.status == "absent":
                    head.append("absent\n", style=style)
                else:
                    head.append(f"{v.status.upper()}: {v.error}\n", style=style)
            dim = " dim" if s.stale else ""
            trends = {t.language_title: t for t in a.trends}
            fp = a.views.get("function_performance")
            t = Table(title=f"function_performance (7 days) · trend: requests/day from {a.trend_source or '—'}",
                      title_justify="left", expand=True, header_style="bold" + dim, style=dim.strip() or None)
            for col, just in (("language_title", "left"), ("requests", "right"), ("avg ms", "right"),
                              ("p95 ms", "right"), ("errors", "right"), ("cache %", "right"),
                              ("trend (days)", "left")):
                t.add_column(col, justify=just, no_wrap=True)
            rows = list(fp.rows) if fp and fp.ok else []
            for r in rows:
                tr = trends.get(r["language_title"])
                t.add_row(r["language_title"], f"{r['total_requests']:,}", _num(r["avg_duration_ms"], ",.0f"),
                          _num(r["p95_duration_ms"], ",.0f"), f"{r['error_count']:,}",
                          _num(float(r["cache_hit_ratio"]) if r["cache_hit_ratio"] is not None else None, ".1f"),
                          Text(sparkline(tr.requests) if tr else "", style="cyan" + dim))
            if not rows:   # the view failed or is empty: the trends alone
                for tr in a.trends:
                    t.add_row(tr.language_title, f"{tr.total:,}", "—", "—", f"{sum(tr.errors):,}", "—",
                              Text(sparkline(tr.requests), style="cyan" + dim))
            fn_tables.append(t)
            es = a.views.get("error_summary")
            e = Table(title="error_summary (7 days)", title_justify="left", expand=True,
                      header_style="bold" + dim, style=dim.strip() or None)
            for col, just in (("error_code", "left"), ("language_title", "left"), ("count", "right"),
                              ("last", "right"), ("status", "right")):
                e.add_column(col, justify=just, no_wrap=True)
            for r in (es.rows if es and es.ok else ())[:10]:
                e.add_row(r["error_code"], r["language_title"], f"{r['error_count']:,}",
                          f"{r['last_occurrence']:%m-%d %H:%M}" if r["last_occurrence"] else "—",
                          str(r["most_common_status"]))
            err_tables.append(e)
        if srcs:
            status.update(head)
        funcs.update(Group(*fn_tables) if fn_tables else "")
        errors.update(Group(*err_tables) if err_tables else "")

    # -- InfluxDB

    def _render_influx(self, s: _Src | None) -> None:
        head = Text()
        if s is None:
            head.append("No [influxdb] configured: no InfluxDB series to show.", style="dim")
            self.query_one("#influx-status", Static).update(head)
            return
        i: InfluxSample | None = s.last
        self.query_one("#influx-pane").set_class(s.stale, "stale")
        head.append("InfluxDB", style="bold")
        if i is not None:
            head.append(f" {i.version}", style="bold")
        head.append(f"  range {self.range_key} (t)", style="bold cyan")
        head.append(f"  every {Cadence(self.interval).influx_s:g}s · sampled {_taken(i)} UTC", style="dim")
        if i is not None:
            head.append(f"  ·  {i.total_executions:,} executions in {i.range_key}")
        if s.stale:
            head.append(f"\nSTALE — {s.error}", style="bold red")
        self.query_one("#influx-status", Static).update(head)
        if i is None:
            return

        def vals(points, default=0.0):
            return [p.value if p.value is not None else default for p in points]

        def rng(points, fmt):
            v = [p.value for p in points if p.value is not None]
            if not v:
                return "no data"
            return f"min {format(min(v), fmt)} · max {format(max(v), fmt)} · last {format(v[-1], fmt)}"

        when = f"{i.executions[0].at:%H:%M}–{i.executions[-1].at:%H:%M}" if i.executions else ""
        self.query_one("#chart-exec-label", Label).update(
            f"[b]executions / 10 min[/b] {when}  [dim]{rng(i.executions, ',.0f')}[/dim]")
        self.query_one("#chart-exec", Sparkline).data = vals(i.executions)
        self.query_one("#chart-mean-label", Label).update(
            f"[b]mean duration ms / 10 min[/b]  [dim]{rng(i.mean_duration, ',.0f')}[/dim]")
        self.query_one("#chart-mean", Sparkline).data = vals(i.mean_duration)
        self.query_one("#chart-err-label", Label).update(
            f"[b]error rate / hour, 24 h[/b]  [dim]{rng(i.error_rate, '.1%')}[/dim]")
        self.query_one("#chart-err", Sparkline).data = vals(i.error_rate)
        self.query_one("#chart-progress-label", Label).update(
            f"[b]learning progress % / hour[/b]  [dim]{rng(i.progress, '.1f')}[/dim]")
        self.query_one("#chart-progress", Sparkline).data = vals(i.progress)

        grid = Table.grid(expand=True, padding=(0, 2))
        parts = []
        for title, stats in (("per user", i.by_user), ("per notebook", i.by_notebook)):
            t = Table(title=f"{title} ({i.range_key})", title_justify="left", expand=True, box=None,
                      header_style="bold")
            t.add_column(title.split()[-1], no_wrap=True, overflow="ellipsis", ratio=3)
            t.add_column("runs", justify="right", no_wrap=True, min_width=5)
            t.add_column("avg ms", justify="right", no_wrap=True, min_width=6)
            for st in stats:
                t.add_row(st.tag.removeprefix("notebooks/"), f"{st.executions:,}", _num(st.mean_ms, ",.0f"))
            parts.append(t)
        p = Table(title="performance_metrics", title_justify="left", expand=True, box=None, header_style="bold")
        for col in ("cell type", "avg ms", "max ms", "err %"):
            p.add_column(col, justify="left" if col == "cell type" else "right")
        for cell_type, avg, mx, er in i.by_cell_type:
            p.add_row(cell_type, _num(avg, ",.0f"), _num(mx, ",.0f"), _pct(er))
        parts.append(p)
        for _ in parts:
            grid.add_column(ratio=1)
        grid.add_row(*parts)
        self.query_one("#influx-tables", Static).update(grid)


SCREEN = MetricsScreen
