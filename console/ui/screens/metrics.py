"""Metrics: live pg_stat figures per PostgreSQL target, the seed-000 analytics views (on a
slower cadence, each with its own timeout) and InfluxDB series as charts.

Every PostgreSQL target, every analytics target and InfluxDB is one live source
(console.ui.live): sampled in its own thread worker, never overlapping, so one dead server
never delays the others; a source that fails keeps its last values, dimmed, with the
error, and its indicator says how old they are.

Time series are charts (console.ui.widgets.chart: time axis, value axis with its unit, a
legend): TPS of every target and rows read/written per second of the highlighted one on
the PostgreSQL tab, the four InfluxDB series on theirs. The TPS trend column of the table
stays a sparkline (a trend in a cell). A replay hands in what was recorded before its
cursor (``pg_history``), so its charts show the recorded series up to the cursor. ``p`` pauses everything, ``+``/``-``
change the cadence, ``]``/``[`` switch sub-tabs.

Columns of the PostgreSQL table as the width shrinks: Target, TPS, Hit, Conns and Wait
stay; Size, then Query, Read/s, Write/s, the trend, Xact and Sampled go first."""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Header, Select, Static, TabbedContent, TabPane

from ...core import format as fmt
from ...core.metrics import RANGES, Cadence, InfluxSample, PgSample, step_interval
from ...core.ports import MetricsPort
from .. import keymap
from ..live import LiveIndicator, LiveScreen, Source, State
from ..widgets.chart import TimeChart
from ..widgets.footer import ConsoleFooter
from ..widgets.lists import Col, ListFilter, ListTable
from ..widgets.show import show, show_made
from . import metrics_panels as panels

PG_COLUMNS = (Col("Target", 11), Col("TPS", 7), Col("TPS trend", 10, drop=3), Col("Read/s", 7, drop=5),
              Col("Write/s", 7, drop=4), Col("Hit", 6), Col("Conns", 7), Col("Xact", 6, drop=2),
              Col("Query", 6, drop=6), Col("Wait", 4), Col("Size", 10, drop=7), Col("Sampled", 8, drop=1))
HISTORY = 120            # points per target kept for the charts (10 min at 5 s); the table's trend shows the last 10
RANGE_KEYS = tuple(RANGES)
TABS = ("tab-pg", "tab-analytics", "tab-influx")
STEPS = (1, 2, 5, 10, 15, 30, 60)


class MetricsScreen(ListFilter, LiveScreen):
    LIST_ID = "pg-targets"
    DEFAULT_CSS = """
    #metrics-status { height: 1; padding: 0 1; }
    #metrics-tabs { height: 1fr; }
    #metrics-tabs TabPane { padding: 0; }
    #pg-pane { padding: 0 1; height: 1fr; }
    #pg-targets { height: auto; max-height: 8; }
    #pg-charts { height: 1fr; min-height: 7; }
    #pg-charts TimeChart { width: 1fr; }
    #pg-detail { height: 1fr; min-height: 8; }
    #pg-activity { text-wrap: nowrap; text-overflow: ellipsis; }
    #pg-activity { width: 3fr; padding: 0 1; border: round $panel-lighten-2; height: 100%; }
    #pg-tables { width: 2fr; padding: 0 1; border: round $panel-lighten-2; height: 100%; }
    #an-pane, #influx-pane { padding: 0 1; }
    #influx-filters { height: 3; }
    #influx-filters Select { width: 1fr; }
    .chart-row { height: 10; }
    .chart-row TimeChart { width: 1fr; }
    """

    FILTER_LIST = "#pg-targets"
    BINDINGS = keymap.bindings("refresh", "filter", "pause", "tab_next", "tab_prev", "metrics.slower", "metrics.faster",
                               "metrics.range", tooltip={"tab_next": "Next tab: PostgreSQL, Analytics, InfluxDB"})

    class TagValues(Message):
        def __init__(self, users: list[str], notebooks: list[str]) -> None:
            self.users = users
            self.notebooks = notebooks
            super().__init__()

    def __init__(self) -> None:
        super().__init__(id="metrics")
        self.interval = 5.0
        self.range_key = "1h"
        self.user: str | None = None
        self.notebook: str | None = None
        self.history: dict[str, deque[panels.PgPoint]] = {}

    @property
    def source(self) -> MetricsPort:
        return self.services.source("metrics")

    # ---------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield Header()
        yield LiveIndicator(id="metrics-status", extra=self._cadence_text)
        with TabbedContent(id="metrics-tabs"):
            with TabPane("PostgreSQL", id="tab-pg"):
                with Vertical(id="pg-pane"):
                    yield ListTable(PG_COLUMNS, id="pg-targets")
                    with Horizontal(id="pg-charts"):
                        yield TimeChart(title="TPS", unit="tx/s", id="chart-tps")
                        yield TimeChart(title="rows/s", unit="rows/s", id="chart-rows")
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
                    for row in (("exec", "mean"), ("err", "progress")):
                        with Horizontal(classes="chart-row"):
                            for chart in row:
                                yield TimeChart(id=f"chart-{chart}")
                    yield Static("", id="influx-tables")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        r = self.services.settings.refresh_interval_s
        self.interval = float(r) if r in STEPS else step_interval(r - 1e-9, +1)
        self.query_one(TabbedContent).query_one("Tabs").can_focus = False
        src = self.source
        self.query_one("#metrics-status", LiveIndicator).source_names = [f"pg:{n}" for n in src.targets]
        table = self.query_one("#pg-targets", ListTable)
        table.set_rows([(f"pg:{n}", panels.pg_cells(n, None, False, (), len(PG_COLUMNS))) for n in src.targets])
        table.focus()
        for name in src.targets:
            self.history[name] = deque(maxlen=HISTORY)
            self.add_source(Source(f"pg:{name}", fetch=self._fetch_pg, params=(src, name),
                                   every=lambda: Cadence(self.interval).postgres_s, render=self._render_pg,
                                   paint=self._paint_pg,
                                   record=("metrics.pg", name)))
        for name in src.analytics_targets:
            self.add_source(Source(f"an:{name}", fetch=src.sample_analytics, params=(name,),
                                   every=lambda: Cadence(self.interval).analytics_s, paint=self._render_analytics,
                                   panel="#an-pane", record=("metrics.analytics", name)))
        if src.has_influx:
            self.add_source(Source("influx", fetch=self._sample_influx,
                                   args=lambda: (self.range_key, self.user, self.notebook),
                                   every=lambda: Cadence(self.interval).influx_s, render=self._render_influx,
                                   panel="#influx-pane", record=("metrics.influx", "")))
            self._load_tags(src)
        else:
            self.query_one("#influx-status", Static).update(
                Text("No [influxdb] configured: no InfluxDB series to show.", style="dim"))
        if not src.analytics_targets:
            self.query_one("#an-status", Static).update(
                Text("No lambda (seed 000) target is configured: no analytics views to show.", style="dim"))
        if not src.targets:
            self.query_one("#pg-activity", Static).update(Text("No PostgreSQL target is configured.", style="dim"))

    @staticmethod
    def _fetch_pg(port: MetricsPort, target: str) -> panels.PgView:
        """In the worker: the sample and (a replay) what was recorded before it."""
        return panels.PgView(port.sample_pg(target), port.pg_history(target, HISTORY))

    def _sample_influx(self, range_key: str, user: str | None, notebook: str | None) -> InfluxSample:
        return self.source.sample_influx(range_key, user=user, notebook=notebook)

    @work(thread=True, exit_on_error=False, group="metrics-tags")
    def _load_tags(self, src: MetricsPort) -> None:
        try:
            users, notebooks = src.tag_values("user_id"), src.tag_values("notebook_path")
        except Exception:  # the filters stay "every user"; the source's own state shows the error
            return
        self.post_message(self.TagValues(users, notebooks))

    @on(TagValues)
    def _on_tags(self, m: TagValues) -> None:
        from ...core import text
        self.query_one("#influx-user", Select).set_options([(text.plain(u), u) for u in m.users])
        self.query_one("#influx-notebook", Select).set_options([(text.plain(n), n) for n in m.notebooks])

    # ---------------------------------------------------------------- actions

    def action_interval(self, direction: int) -> None:
        self.interval = step_interval(self.interval, direction)
        self.rearm()
        self.query_one("#metrics-status", LiveIndicator).refresh_text()

    def action_next_range(self) -> None:
        self.range_key = RANGE_KEYS[(RANGE_KEYS.index(self.range_key) + 1) % len(RANGE_KEYS)]
        self._refresh_influx()

    def action_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        i = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(i + step) % len(TABS)]
        # Only the PostgreSQL tab has a list; focusing it from another tab would switch back.
        self.list_id = "pg-targets" if tabs.active == "tab-pg" else None
        self.focus_list()

    @on(Select.Changed, "#influx-user")
    def _user_changed(self, event: Select.Changed) -> None:
        self.user = None if event.value is Select.BLANK else str(event.value)
        self._refresh_influx()

    @on(Select.Changed, "#influx-notebook")
    def _notebook_changed(self, event: Select.Changed) -> None:
        self.notebook = None if event.value is Select.BLANK else str(event.value)
        self._refresh_influx()

    def _refresh_influx(self) -> None:
        if "influx" in self.sources:
            self._render_influx(self.states["influx"])
            if not self.paused:
                self.run_source("influx")

    # ---------------------------------------------------------------- rendering

    def _cadence_text(self) -> Text:
        c = Cadence(self.interval)
        t = Text()
        t.append(f"(InfluxDB {fmt.age(c.influx_s)}, views {fmt.age(c.analytics_s)})", style="dim")
        bad = [n for n, s in self.states.items() if s.stale]
        if bad:
            t.append(f"  {len(bad)} stale: {', '.join(bad)}", style="bold red")
        return t

    def _pg(self, name: str) -> PgSample | None:
        v = self.states[f"pg:{name}"].value
        return v.sample if v is not None else None

    def _render_pg(self, st: State[panels.PgView]) -> None:
        name = st.name.removeprefix("pg:")
        hist = self.history[name]
        if st.error is None and st.value is not None:
            if st.value.history is not None:         # a replay: the recorded series up to its cursor
                hist.clear()
                hist.extend(panels.pg_point(p) for p in st.value.history)
            pt = panels.pg_point(st.value.sample)
            if not hist or pt[0] > hist[-1][0]:
                hist.append(pt)
        if self.query_one("#pg-targets", ListTable).cursor_key == st.name:
            self._render_pg_detail()

    def _paint_pg(self) -> None:
        """The table and the TPS chart of every target: once for the targets answering together."""
        table = self.query_one("#pg-targets", ListTable)
        shown = [n for n in self.source.targets if f"pg:{n}" in self.states]
        table.set_rows([(f"pg:{n}", panels.pg_cells(n, self._pg(n), self.states[f"pg:{n}"].stale,
                                                    [p[1] for p in self.history[n] if p[1] is not None],
                                                    len(PG_COLUMNS)))
                        for n in shown])
        stale = {n for n in shown if self.states[f"pg:{n}"].stale}
        lines = panels.tps_series({n: self.history[n] for n in shown}, stale)
        title = "TPS" if len(lines) == len(shown) else f"TPS · busiest {len(lines)} of {len(shown)}"
        self.query_one("#chart-tps", TimeChart).set_series(lines, title=title)

    @on(DataTable.RowHighlighted, "#pg-targets")
    def _on_highlight(self, _event: DataTable.RowHighlighted) -> None:
        self._render_pg_detail()

    def _render_pg_detail(self) -> None:
        key = self.query_one("#pg-targets", ListTable).cursor_key
        st = self.states.get(key or "")
        if st is None:
            return
        activity, tables = self.query_one("#pg-activity", Static), self.query_one("#pg-tables", Static)
        activity.set_class(st.stale, "stale")
        tables.set_class(st.stale, "stale")
        name = st.name.removeprefix("pg:")
        p = st.value.sample if st.value is not None else None
        show(activity, panels.pg_activity(name, p, st.error))     # nothing when unchanged
        show_made(tables, panels.pg_tables_key(p), lambda: panels.pg_tables(p))   # its size is the pane's (height 100%)
        rows = self.query_one("#chart-rows", TimeChart)
        rows.set_class(st.stale, "stale")
        rows.set_series(panels.rows_series(self.history.get(name, ())),
                        title=f"rows/s {name}" + (" (stale)" if st.stale else ""))

    def _render_analytics(self, _st: State[Any] | None = None) -> None:
        heads, fns, errs = Text(), [], []
        for name, st in self.states.items():
            if not name.startswith("an:"):
                continue
            head, f, e = panels.analytics(name.removeprefix("an:"), st.value, st.error,
                                          Cadence(self.interval).analytics_s)
            heads.append_text(head)
            fns.append(f)
            errs.append(e)
        self.query_one("#an-status", Static).update(heads)
        self.query_one("#an-functions", Static).update(panels.group([f for f in fns if f]))
        self.query_one("#an-errors", Static).update(panels.group([e for e in errs if e]))

    def _render_influx(self, st: State[InfluxSample]) -> None:
        i = st.value
        self.query_one("#influx-status", Static).update(
            panels.influx_head(i, self.range_key, Cadence(self.interval).influx_s, st.error))
        if i is None:
            return
        for cid, title, unit, series in panels.influx_charts(i):
            self.query_one(f"#chart-{cid}", TimeChart).set_series(
                series, title=title + (" (stale)" if st.stale else ""), unit=unit)
        self.query_one("#influx-tables", Static).update(panels.influx_tables(i))


SCREEN = MetricsScreen
