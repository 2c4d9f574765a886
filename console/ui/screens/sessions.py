"""Sessions (Redis, seed 004): INFO summary, ``session:*`` keys, ``websocket_connections``,
``class_summary:*`` caches and a live tail of the pub/sub channels.

Safe on a production Redis: the key scan is ``SCAN`` in a thread worker, batch by batch
(``redis.scan_count``, ``redis.scan_pause_ms``, stopping at ``redis.scan_cap``), each batch's
TTL / MEMORY USAGE / value read in one pipeline (core.sessions). Rows arrive as messages
and are kept in a plain list on the UI thread; the table shows one page (PAGE_SIZE rows)
of the sorted, filtered list, so 200,000 keys stay responsive.

Live parts follow the Overview pattern: INFO is read in a worker, rendered, then a one-shot
timer schedules the next read; the tail is a subscriber in its own worker. Both stop while
the screen is hidden."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (DataTable, Footer, Header, Input, Sparkline, Static, TabbedContent,
                             TabPane)

from ...backends.base import BackendError
from ..errors import error_text
from ...core import sessions as core
from ..widgets.confirm import ConfirmModal
from ..widgets.sessions_ttl import TtlPrompt

PAGE_SIZE = 200
TAIL_KEEP = 1000
TAIL_SHOWN = 200
SORTS = ("key", "ttl", "size", "notebook", "activity", "kind")
TAIL_FILTERS = ("all", *core.CHANNELS, "expired")
TABS = ("tab-sessions", "tab-connections", "tab-caches", "tab-tail")

SESSION_COLUMNS = (("Key", 22), ("TTL", 8), ("Size", 7), ("Kind", 6), ("Notebook", 24),
                   ("Last activity", 14), ("Value", 30))
CONN_COLUMNS = (("Connection", 18), ("User", 12), ("Session", 7), ("Last activity", 14), ("Value", 40))
CACHE_COLUMNS = (("Key", 34), ("TTL", 8), ("Size", 7), ("Kind", 6), ("Value", 40))


def short_ts(value: str | None) -> str:
    """An ISO timestamp as 'MM-DD HH:MM:SS' (as stored, no zone conversion); anything
    else as given, cut."""
    if not value:
        return ""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return value[:14]
    return f"{dt:%m-%d %H:%M:%S}"


def short_notebook(path: str | None) -> str:
    return (path or "").rsplit("/", 1)[-1]


def make_service(services) -> core.SessionsService | None:
    """The real data source: the configured Redis, audit records on the audit target."""
    b = services.backends
    if b is None or b.redis is None:
        return None
    settings = services.settings
    audit_pg = None
    name = settings.audit_target_name
    if name and name in b.postgres:
        audit_pg = b.postgres[name]
    return core.SessionsService(settings, b.redis, audit_pg)


def human_bytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "K", "M", "G"):
        if n < 1024 or unit == "G":
            return f"{n:,.0f}{unit}" if unit == "B" else f"{n:,.1f}{unit}"
        n /= 1024
    return str(n)


def human_uptime(s: int) -> str:
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    return f"{d}d{h:02d}h" if d else (f"{h}h{m:02d}m" if h else f"{m}m")


def ttl_cell(ttl: int | None) -> Text:
    if ttl is None:
        return Text("none", style="yellow")
    if ttl < 0:
        return Text("gone", style="dim")
    style = "red" if ttl < 60 else ("yellow" if ttl < 300 else "")
    return Text(core.fmt_ttl(ttl), style=style, justify="right")


KIND_STYLE = {"json": "green", "hash": "cyan", "text": "yellow", "binary": "magenta", "gone": "dim"}


class SessionsScreen(Screen):
    BINDINGS = [
        Binding("r", "refresh_now", "Rescan", id="sessions.refresh",
                tooltip="Read INFO again and rescan sessions, connections and caches"),
        Binding("slash", "filter", "Filter", id="sessions.filter",
                tooltip="Filter sessions by key, notebook or value (kind:text, ttl:none narrow further)"),
        Binding("s", "sort", "Sort", id="sessions.sort", tooltip="Sort sessions by the next column"),
        Binding("o", "order", "Order", id="sessions.order", tooltip="Reverse the sort order"),
        Binding("right_square_bracket", "page(1)", "Next page", id="sessions.next_page",
                tooltip="Next page of sessions", key_display="]"),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="sessions.prev_page",
                tooltip="Previous page of sessions", key_display="["),
        Binding("w", "next_tab", "View", id="sessions.view",
                tooltip="Next view: sessions, connections, caches, live tail"),
        Binding("e", "expire", "Expire", id="sessions.expire",
                tooltip="Set a new TTL on the highlighted session (preview, confirm, audited)"),
        Binding("d", "delete", "Delete", id="sessions.delete",
                tooltip="Delete the highlighted session (preview, typed confirmation, audited)"),
        Binding("p", "pause", "Pause tail", id="sessions.pause", tooltip="Pause / resume the live tail display"),
        Binding("c", "channel", "Channel", id="sessions.channel",
                tooltip="Show one channel of the live tail (cycles through all)"),
        Binding("x", "clear", "Clear tail", id="sessions.clear", tooltip="Clear the live tail"),
    ]

    # ------------------------------------------------------------------ messages

    class InfoLoaded(Message):
        def __init__(self, info: core.ServerInfo | None, error: str | None) -> None:
            self.info, self.error = info, error
            super().__init__()

    class ScanBatch(Message):
        def __init__(self, gen: int, batch: core.ScanBatch) -> None:
            self.gen, self.batch = gen, batch
            super().__init__()

    class ScanFailed(Message):
        def __init__(self, gen: int, error: str) -> None:
            self.gen, self.error = gen, error
            super().__init__()

    class AuxLoaded(Message):
        def __init__(self, conns: core.ConnectionsReport | None, caches: list | None, error: str | None) -> None:
            self.conns, self.caches, self.error = conns, caches, error
            super().__init__()

    class TailEvent(Message):
        def __init__(self, gen: int, event: Any) -> None:
            self.gen, self.event = gen, event
            super().__init__()

    class Previewed(Message):
        def __init__(self, kind: str, key: str, seconds: int | None, preview: core.KeyPreview | None,
                     error: str | None) -> None:
            self.kind, self.key, self.seconds, self.preview, self.error = kind, key, seconds, preview, error
            super().__init__()

    class ActionDone(Message):
        def __init__(self, kind: str, key: str, seconds: int | None, result: core.ActionResult | None,
                     error: str | None) -> None:
            self.kind, self.key, self.seconds, self.result, self.error = kind, key, seconds, result, error
            super().__init__()

    # ------------------------------------------------------------------ state

    def __init__(self) -> None:
        super().__init__(id="sessions")
        self._svc: core.SessionsService | None = None
        self._info: core.ServerInfo | None = None
        self._prev_info: core.ServerInfo | None = None
        self._delta: dict[str, int] = {}
        self._info_error: str | None = None
        self._info_running = False
        self._info_timer: Timer | None = None
        # sessions
        self._records: list[core.SessionRecord] = []
        self._records_gen = 0      # the scan the shown records came from
        self._view: list[core.SessionRecord] = []
        self._view_dirty = True
        self._page = 0
        self._sort = "key"
        self._reverse = False
        self._filter = ""
        self._scan_gen = 0
        self._scan_interrupted = False
        self._scan_stop: threading.Event | None = None
        self._scan_last: core.ScanBatch | None = None
        self._scan_error: str | None = None
        self._render_timer: Timer | None = None
        self._shown_keys: list[str] = []
        # connections / caches
        self._conns: core.ConnectionsReport | None = None
        self._caches: list[core.CacheRecord] | None = None
        self._aux_error: str | None = None
        # tail
        self._tail_gen = 0
        self._tail_stop: threading.Event | None = None
        self._tail: deque[core.TailMessage] = deque(maxlen=TAIL_KEEP)
        self._tail_status: core.TailStatus | None = None
        self._tail_notes: deque[str] = deque(maxlen=3)
        self._rates = core.ChannelRates(60)
        self._paused = False
        self._paused_new = 0
        self._channel = 0
        self._tail_timer: Timer | None = None
        self._tail_dirty = False
        self._keyevents = False

    @property
    def services(self):
        return self.app.services

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="sessions-body"):
            yield Static("", id="sessions-summary")
            with TabbedContent(id="sessions-tabs"):
                with TabPane("Sessions", id="tab-sessions"):
                    yield Static("", id="sessions-scan")
                    yield Input(placeholder="filter: text, kind:text, ttl:none — Enter applies, Esc closes",
                                id="sessions-filter")
                    yield DataTable(id="sessions-table", cursor_type="row", zebra_stripes=True)
                    with Horizontal(id="sessions-lower"):
                        yield Static("", id="sessions-detail")
                        yield Static("", id="sessions-hist")
                with TabPane("Connections", id="tab-connections"):
                    yield Static("", id="connections-summary")
                    yield DataTable(id="connections-table", cursor_type="row", zebra_stripes=True)
                with TabPane("Caches", id="tab-caches"):
                    yield Static("", id="caches-summary")
                    yield DataTable(id="caches-table", cursor_type="row", zebra_stripes=True)
                with TabPane("Live tail", id="tab-tail"):
                    yield Static("", id="tail-status")
                    with Horizontal(id="tail-rates"):
                        for ch in core.CHANNELS:
                            with Vertical(classes="tail-rate"):
                                yield Static(ch, id=f"rate-label-{ch}", classes="tail-rate-label")
                                yield Sparkline([0] * 60, id=f"rate-{ch}", summary_function=max)
                    yield Static("", id="tail-log")
        yield Footer()

    DEFAULT_CSS = """
    #sessions-body { padding: 0 1; }
    #sessions-summary { height: 2; margin-top: 1; }
    #sessions-tabs { height: 1fr; }
    #sessions-tabs TabPane { height: 1fr; padding: 0; }
    #sessions-scan { height: 1; }
    #sessions-filter { display: none; height: 3; }
    #sessions-filter.open { display: block; }
    #sessions-table { height: 1fr; }
    #sessions-lower { height: 11; }
    #sessions-detail { width: 1fr; height: 100%; border: round $panel-lighten-2; padding: 0 1; }
    #sessions-hist { width: 44; height: 100%; border: round $panel-lighten-2; padding: 0 1; }
    #connections-summary, #caches-summary, #tail-status { height: auto; min-height: 1; margin-bottom: 1; }
    #connections-table, #caches-table { height: 1fr; }
    #tail-rates { height: 4; }
    .tail-rate { width: 1fr; padding: 0 1; }
    .tail-rate-label { height: 1; }
    .tail-rate Sparkline { height: 2; }
    #tail-log { height: 1fr; border: round $panel-lighten-2; padding: 0 1; }
    .stale { opacity: 60%; }
    """

    def on_mount(self) -> None:
        self._svc = self.services.source("sessions", make_service)
        t = self.query_one("#sessions-table", DataTable)
        for col, width in SESSION_COLUMNS:
            t.add_column(col, key=col, width=width)
        ct = self.query_one("#connections-table", DataTable)
        for col, width in CONN_COLUMNS:
            ct.add_column(col, key=col, width=width)
        ca = self.query_one("#caches-table", DataTable)
        for col, width in CACHE_COLUMNS:
            ca.add_column(col, key=col, width=width)
        if self._svc is None:
            self.query_one("#sessions-summary", Static).update(
                Text("Redis is not configured: add a [redis] table to console.toml (README: Configuration).",
                     style="yellow"))
            return
        self._render_summary()
        self._render_scan_status()
        self._start_all()

    def _start_all(self) -> None:
        self._load_info()
        self._start_scan()
        self._load_aux()

    def on_screen_suspend(self) -> None:
        if self._info_timer is not None:
            self._info_timer.stop()
            self._info_timer = None
        self._stop_tail()
        # A scan still running keeps reading Redis while nobody looks: stop it; the screen
        # rescans when shown again.
        last = self._scan_last
        if self._scan_stop is not None and not self._scan_stop.is_set() and not (
                last is not None and (last.done or last.capped)):
            self._scan_stop.set()
            self._scan_interrupted = True

    def on_screen_resume(self) -> None:
        if self._svc is None:
            return
        if not self._info_running and self._info_timer is None:
            self._load_info()
        if self._tail_stop is None and self._info is not None:
            self._start_tail()
        if self._scan_interrupted:
            self._scan_interrupted = False
            self._start_scan()

    def on_unmount(self) -> None:
        for ev in (self._scan_stop, self._tail_stop):
            if ev is not None:
                ev.set()

    # ------------------------------------------------------------------ INFO

    def _load_info(self) -> None:
        if self._info_running or self._svc is None:
            return
        if self._info_timer is not None:
            self._info_timer.stop()
            self._info_timer = None
        self._info_running = True
        self._info_worker(self._svc)

    @work(thread=True, exit_on_error=False, group="sessions-info")
    def _info_worker(self, svc) -> None:
        try:
            self.post_message(self.InfoLoaded(svc.info(), None))
        except Exception as exc:  # noqa: BLE001 - shown; a worker never dies silently
            self.post_message(self.InfoLoaded(None, error_text(exc)))

    @on(InfoLoaded)
    def _on_info(self, m: InfoLoaded) -> None:
        self._info_running = False
        first = self._info is None
        if m.info is not None:
            self._prev_info, self._info = self._info, m.info
            self._delta = core.info_delta(self._prev_info, m.info)
            self._info_error = None
        else:
            self._info_error = m.error
        self._render_summary()
        if first and self._tail_stop is None and self.is_current:
            self._keyevents = bool(m.info and core.keyevents_enabled(m.info.notify_keyspace_events))
            self._start_tail()
        if self.is_current:
            self._info_timer = self.set_timer(self.services.settings.refresh_interval_s, self._load_info)

    def _render_summary(self) -> None:
        w = self.query_one("#sessions-summary", Static)
        i = self._info
        t = Text()
        if i is None:
            if self._info_error:
                t.append(f"Redis {self._svc.address if self._svc else ''}: {self._info_error}", style="bold red")
            else:
                t.append("reading INFO…", style="dim")
            w.update(t)
            return
        d = self._delta

        def delta(name: str) -> str:
            v = d.get(name)
            return f" (+{v:,})" if v else ""
        t.append(f"Redis {i.version}", style="bold")
        t.append(f"  up {human_uptime(i.uptime_s)}  ")
        t.append(f"clients {i.connected_clients:,}")
        t.append(f" ({i.blocked_clients} blocked)  ", style="red" if i.blocked_clients else "dim")
        t.append(f"{i.ops_per_sec:,} ops/s  ")
        mem = human_bytes(i.used_memory)
        if i.maxmemory:
            ratio = i.memory_ratio or 0
            t.append(f"mem {mem} / {human_bytes(i.maxmemory)} ({ratio:.0%})",
                     style="red" if ratio > 0.9 else ("yellow" if ratio > 0.75 else ""))
        else:
            t.append(f"mem {mem} (no maxmemory)")
        t.append("\n")
        hr = i.hit_ratio
        t.append(f"hit ratio {hr:.1%}" if hr is not None else "hit ratio —")
        t.append(f"  evicted {i.evicted_keys:,}{delta('evicted_keys')}",
                 style="red" if d.get("evicted_keys") else "")
        t.append(f"  expired {i.expired_keys:,}{delta('expired_keys')}")
        t.append("  keys " + ", ".join(f"db{k}={v:,}" for k, v in sorted(i.keyspace.items())) if i.keyspace else "  keys 0")
        if self._info_error:
            t.append(f"  STALE: {self._info_error}", style="bold red")
        w.update(t)
        w.set_class(self._info_error is not None, "stale")

    # ------------------------------------------------------------------ scan

    def _start_scan(self) -> None:
        if self._svc is None:
            return
        if self._scan_stop is not None:
            self._scan_stop.set()
        self._scan_gen += 1
        self._scan_stop = threading.Event()
        # The rows of the last scan stay until the new scan's first batch arrives, so a
        # rescan that fails (Redis down) keeps them on screen, marked stale.
        self._scan_last = None
        self._scan_error = None
        self._page = 0
        self._render_scan_status()
        self._scan_worker(self._svc, self._scan_gen, self._scan_stop)

    @work(thread=True, exit_on_error=False, group="sessions-scan")
    def _scan_worker(self, svc, gen: int, stop: threading.Event) -> None:
        try:
            for batch in svc.scan(core.SESSION_PATTERN, stop):
                if stop.is_set():
                    return
                self.post_message(self.ScanBatch(gen, batch))
        except Exception as exc:  # noqa: BLE001 - shown; a worker never dies silently
            self.post_message(self.ScanFailed(gen, error_text(exc)))

    @on(ScanBatch)
    def _on_batch(self, m: ScanBatch) -> None:
        if m.gen != self._scan_gen:
            return
        if self._records_gen != m.gen:
            self._records, self._records_gen, self._view_dirty = [], m.gen, True
        self._records.extend(m.batch.records)
        self._scan_last = m.batch
        self._view_dirty = True
        self._render_scan_status()
        finished = m.batch.done or m.batch.capped
        shown = self.query_one("#sessions-table", DataTable).row_count
        if finished or shown < PAGE_SIZE:
            self._render_table()          # the first page fills at once
        elif self._render_timer is None:
            self._render_timer = self.set_timer(1.0, self._render_table)
        if finished:
            self._render_conns()

    @on(ScanFailed)
    def _on_scan_failed(self, m: ScanFailed) -> None:
        if m.gen != self._scan_gen:
            return
        self._scan_error = m.error
        self._render_scan_status()
        self._render_table()

    def _render_scan_status(self) -> None:
        w = self.query_one("#sessions-scan", Static)
        t = Text()
        last = self._scan_last
        n = len(self._records)
        if self._svc is None:
            return
        rs = self._svc.redis_settings
        if last is None and not self._scan_error:
            t.append("scanning session:* …", style="dim")
        elif last is not None and last.capped:
            t.append(f"first {n:,} of about {last.estimate or n:,} keys", style="bold yellow")
            t.append(f" (scan_cap {rs.scan_cap:,})", style="dim")
        elif last is not None and last.done:
            t.append(f"{n:,} session keys", style="bold")
            t.append(f" · scan complete ({last.scan_calls:,} SCAN calls, {last.elapsed_s:.1f}s)", style="dim")
        elif last is not None:
            est = last.estimate or 0
            pct = f" ({min(n / est, 1):.0%} of ≤{est:,} keys in db)" if est else ""
            t.append(f"scanning… {n:,} keys{pct}", style="yellow")
        if self._scan_error:
            t.append(f"  scan failed: {self._scan_error}", style="bold red")
        view = self._current_view()
        _, page, pages = core.page(view, self._page, PAGE_SIZE)
        arrow = "↓" if self._reverse else "↑"
        t.append(f"  ·  page {page + 1}/{pages} · sort {self._sort} {arrow}", style="dim")
        if self._filter:
            t.append(f" · filter '{self._filter}' → {len(view):,}", style="cyan")
        w.update(t)

    def _current_view(self) -> list[core.SessionRecord]:
        if self._view_dirty:
            recs = core.filter_records(self._records, self._filter) if self._filter else self._records
            self._view = core.sort_records(recs, self._sort, self._reverse)
            self._view_dirty = False
        return self._view

    def _render_table(self) -> None:
        if self._render_timer is not None:
            self._render_timer.stop()
            self._render_timer = None
        table = self.query_one("#sessions-table", DataTable)
        view = self._current_view()
        rows, self._page, _ = core.page(view, self._page, PAGE_SIZE)
        keys = [r.key for r in rows]
        if keys != self._shown_keys:
            cursor = table.cursor_row
            table.clear()
            table.add_rows([self._cells(r) for r in rows])
            self._shown_keys = keys
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1), animate=False)
        self._render_scan_status()
        self._render_hist()
        self._render_detail()

    @staticmethod
    def _cells(r: core.SessionRecord) -> tuple:
        return (r.key, ttl_cell(r.ttl_s), Text(human_bytes(r.size_bytes), justify="right"),
                Text(r.kind, style=KIND_STYLE.get(r.kind, "red")), short_notebook(r.notebook),
                short_ts(r.last_activity),
                Text(r.summary, style="dim" if r.kind == "json" else KIND_STYLE.get(r.kind, "")))

    def _highlighted(self) -> core.SessionRecord | None:
        table = self.query_one("#sessions-table", DataTable)
        if table.row_count == 0:
            return None
        view = self._current_view()
        i = self._page * PAGE_SIZE + table.cursor_row
        return view[i] if 0 <= i < len(view) else None

    def on_resize(self) -> None:
        """The Value column of each table takes the width the others leave."""
        for table_id, cols in (("#sessions-table", SESSION_COLUMNS), ("#connections-table", CONN_COLUMNS),
                               ("#caches-table", CACHE_COLUMNS)):
            table = self.query_one(table_id, DataTable)
            fixed = sum(w for _, w in cols[:-1]) + 2 * len(cols) + 6
            last = table.columns.get(cols[-1][0])
            if last is not None:
                last.width = max(16, self.size.width - fixed)
                last.auto_width = False
                table.refresh()

    @on(DataTable.RowHighlighted, "#sessions-table")
    def _on_row(self, _e) -> None:
        self._render_detail()

    def _render_detail(self) -> None:
        r = self._highlighted()
        w = self.query_one("#sessions-detail", Static)
        if r is None:
            w.update(Text("no session keys" if self._scan_last and self._scan_last.done else "", style="dim"))
            return
        t = Text()
        t.append(r.key, style="bold")
        t.append(f"  [{r.kind}]  TTL {core.fmt_ttl(r.ttl_s)}  {human_bytes(r.size_bytes)}\n")
        t.append(f"notebook       {r.notebook or '—'}\n")
        t.append(f"last activity  {r.last_activity or '—'}\n")
        conn = "—"
        if self._conns is not None:
            users = self._conns.users
            conn = (r.connection_id or "yes") if r.user in users else "none (no entry in websocket_connections)"
        elif r.connection_id:
            conn = r.connection_id
        t.append(f"connection     {conn}\n", style="yellow" if conn.startswith("none") else "")
        t.append("value          ", style="")
        t.append(r.summary or "—", style=KIND_STYLE.get(r.kind, ""))
        if r.truncated:
            t.append("\n(value larger than 64 KiB: only its start was read)", style="yellow")
        w.update(t)

    def _render_hist(self) -> None:
        hist = core.ttl_histogram(self._records)
        top = max((n for _, n in hist), default=0) or 1
        t = Text("remaining TTL\n", style="bold")
        for label, n in hist:
            bar = "█" * int(round(22 * n / top)) if n else ""
            t.append(f"{label:>6} ")
            t.append(f"{bar:<22}", style="yellow" if label == "no TTL" else "green")
            t.append(f" {n:,}")
            if label != "no TTL":
                t.append("\n")
        self.query_one("#sessions-hist", Static).update(t)

    # ------------------------------------------------------------------ connections + caches

    def _load_aux(self) -> None:
        if self._svc is not None:
            self._aux_worker(self._svc)

    @work(thread=True, exit_on_error=False, group="sessions-aux", exclusive=True)
    def _aux_worker(self, svc) -> None:
        try:
            conns = svc.connections()
            caches = svc.caches()
            self.post_message(self.AuxLoaded(conns, caches, None))
        except Exception as exc:  # noqa: BLE001 - shown; a worker never dies silently
            self.post_message(self.AuxLoaded(None, None, error_text(exc)))

    @on(AuxLoaded)
    def _on_aux(self, m: AuxLoaded) -> None:
        if m.error is None:
            self._conns, self._caches, self._aux_error = m.conns, m.caches, None
        else:
            self._aux_error = m.error
        self._render_conns()
        self._render_caches()
        self._render_detail()

    def _render_conns(self) -> None:
        w = self.query_one("#connections-summary", Static)
        table = self.query_one("#connections-table", DataTable)
        rep = self._conns
        t = Text()
        if rep is None:
            t.append(f"reading {core.CONNECTIONS_KEY}…" if not self._aux_error else f"failed: {self._aux_error}",
                     style="red" if self._aux_error else "dim")
            w.update(t)
            return
        t.append(f"{core.CONNECTIONS_KEY}: {len(rep.connections):,} connections", style="bold")
        if rep.capped:
            t.append(f" (first {len(rep.connections):,} of {rep.hash_len:,})", style="yellow")
        orphans = rep.orphans
        t.append(f"   {len(orphans)} without a session", style="bold red" if orphans else "dim")
        last = self._scan_last
        if last is not None and last.done:
            lonely = core.sessions_without_connection(self._records, rep)
            t.append(f"   {len(lonely)} sessions without a connection", style="yellow" if lonely else "dim")
            if lonely:
                t.append(": " + ", ".join(r.user for r in lonely[:8]) + (" …" if len(lonely) > 8 else ""),
                         style="yellow")
        elif last is not None and last.capped:
            t.append("   sessions without a connection: unknown (session scan capped)", style="dim")
        else:
            t.append("   sessions without a connection: after the session scan", style="dim")
        if self._aux_error:
            t.append(f"\nSTALE: {self._aux_error}", style="bold red")
        w.update(t)
        table.clear()
        for c in rep.connections[:5000]:
            sess = (Text("none", style="bold red") if c.has_session is False else
                    Text("ok", style="green") if c.has_session else Text("?", style="dim"))
            table.add_row(c.connection_id, c.user_id or Text("?", style="dim"), sess, short_ts(c.last_activity),
                          Text(c.raw, style="dim"))

    def _render_caches(self) -> None:
        w = self.query_one("#caches-summary", Static)
        table = self.query_one("#caches-table", DataTable)
        if self._caches is None:
            w.update(Text("reading class_summary:* …" if not self._aux_error else f"failed: {self._aux_error}",
                          style="red" if self._aux_error else "dim"))
            return
        w.update(Text(f"class_summary:* — {len(self._caches):,} cache keys", style="bold"))
        table.clear()
        for r in self._caches:
            table.add_row(r.key, ttl_cell(r.ttl_s), Text(human_bytes(r.size_bytes), justify="right"),
                          Text(r.kind, style=KIND_STYLE.get(r.kind, "red")), r.summary)

    # ------------------------------------------------------------------ tail

    def _start_tail(self) -> None:
        if self._svc is None:
            return
        self._stop_tail()
        self._tail_gen += 1
        self._tail_stop = threading.Event()
        self._tail_worker(self._svc, self._tail_gen, self._tail_stop, self._keyevents)
        if self._tail_timer is None:
            self._tail_timer = self.set_interval(1.0, self._tick_tail)

    def _stop_tail(self) -> None:
        if self._tail_stop is not None:
            self._tail_stop.set()
            self._tail_stop = None
            self._tail_notes.appendleft("tail stopped while the screen was hidden")
        if self._tail_timer is not None:
            self._tail_timer.stop()
            self._tail_timer = None

    @work(thread=True, exit_on_error=False, group="sessions-tail")
    def _tail_worker(self, svc, gen: int, stop: threading.Event, keyevents: bool) -> None:
        for ev in svc.tail(stop, keyevents):
            if stop.is_set():
                return
            self.post_message(self.TailEvent(gen, ev))

    @on(TailEvent)
    def _on_tail(self, m: TailEvent) -> None:
        if m.gen != self._tail_gen:
            return
        ev = m.event
        if isinstance(ev, core.TailStatus):
            self._tail_status = ev
            if ev.state == "reconnected" and ev.since is not None:
                self._tail_notes.appendleft(
                    f"{ev.at:%H:%M:%S} reconnected after {ev.gap_s:.1f}s: messages published "
                    f"between {ev.since:%H:%M:%S} and {ev.at:%H:%M:%S} were missed")
            elif ev.state == "disconnected":
                self._tail_notes.appendleft(f"{ev.at:%H:%M:%S} subscription lost: {ev.error}")
            self._tail_dirty = True
            self._render_tail()
            return
        self._tail.appendleft(ev)
        self._rates.add(self._chan_key(ev.channel), self.services.clock())
        if self._paused:
            self._paused_new += 1
        self._tail_dirty = True
        if len(self._tail) <= 50:
            self._render_tail()

    @staticmethod
    def _chan_key(channel: str) -> str:
        return "expired" if channel.startswith("__keyevent@") else channel

    def _tick_tail(self) -> None:
        self._render_rates()
        if self._tail_dirty:
            self._render_tail()

    def _render_rates(self) -> None:
        now = self.services.clock()
        for ch in core.CHANNELS:
            series = self._rates.series(ch, now)
            self.query_one(f"#rate-{ch}", Sparkline).data = [float(x) for x in series]
            self.query_one(f"#rate-label-{ch}", Static).update(
                Text.assemble((ch, "bold"), f"  {self._rates.rate(ch, now):.1f}/s"))

    def _render_tail(self) -> None:
        st = self.query_one("#tail-status", Static)
        t = Text()
        s = self._tail_status
        if s is None:
            t.append("subscribing…", style="dim")
        elif s.state in ("connected", "reconnected"):
            t.append("● subscribed ", style="bold green")
            t.append(", ".join(s.channels), style="dim")
        else:
            t.append("✖ disconnected, reconnecting with back-off: ", style="bold red")
            t.append(s.error or "", style="red")
        flt = TAIL_FILTERS[self._channel]
        t.append(f"\nshowing {flt}", style="cyan" if flt != "all" else "dim")
        if not self._keyevents:
            t.append(" · expiry events off (notify-keyspace-events lacks Ex)", style="dim")
        if self._paused:
            t.append(f" · PAUSED ({self._paused_new} new)", style="bold yellow")
        for note in self._tail_notes:
            t.append(f"\n{note}", style="yellow")
        st.update(t)
        if self._paused:
            return
        self._tail_dirty = False
        log = Text(no_wrap=True, overflow="ellipsis")
        shown = 0
        for msg in self._tail:
            key = self._chan_key(msg.channel)
            if flt != "all" and key != flt:
                continue
            style = {"error_events": "red", "session_events": "cyan", "expired": "magenta"}.get(key, "")
            log.append(f"{msg.at:%H:%M:%S} ", style="dim")
            log.append(f"{key:<15} ", style=style or "green")
            log.append(msg.data[:300] + "\n", style=style)
            shown += 1
            if shown >= TAIL_SHOWN:
                break
        if not shown:
            log.append("no messages yet", style="dim")
        self.query_one("#tail-log", Static).update(log)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("expire", "delete"):
            if self._svc is None or self._svc.read_only:
                return None          # shown disabled (read-only / no Redis)
        return True

    def action_next_tab(self) -> None:
        tabs = self.query_one("#sessions-tabs", TabbedContent)
        i = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(i + 1) % len(TABS)]

    def action_refresh_now(self) -> None:
        if self._svc is None:
            return
        self._load_info()
        self._start_scan()
        self._load_aux()

    def action_filter(self) -> None:
        self.query_one("#sessions-tabs", TabbedContent).active = "tab-sessions"
        inp = self.query_one("#sessions-filter", Input)
        inp.add_class("open")
        inp.value = self._filter
        inp.focus()

    @on(Input.Submitted, "#sessions-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self._filter = event.value.strip()
        self._page = 0
        self._view_dirty = True
        self._shown_keys = []
        self._render_table()
        if not self._filter:
            event.input.remove_class("open")
        self.query_one("#sessions-table", DataTable).focus()

    def on_key(self, event) -> None:
        inp = self.query_one("#sessions-filter", Input)
        if event.key == "escape" and inp.has_focus:
            inp.value = ""
            self._filter = ""
            inp.remove_class("open")
            self._view_dirty = True
            self._render_table()
            self.query_one("#sessions-table", DataTable).focus()
            event.stop()

    def action_sort(self) -> None:
        self._sort = SORTS[(SORTS.index(self._sort) + 1) % len(SORTS)]
        self._view_dirty = True
        self._page = 0
        self._render_table()

    def action_order(self) -> None:
        self._reverse = not self._reverse
        self._view_dirty = True
        self._page = 0
        self._render_table()

    def action_page(self, step: int) -> None:
        self._page += step
        self._render_table()

    def action_pause(self) -> None:
        self._paused = not self._paused
        self._paused_new = 0
        self._tail_dirty = True
        self._render_tail()

    def action_channel(self) -> None:
        self._channel = (self._channel + 1) % len(TAIL_FILTERS)
        self._tail_dirty = True
        self._render_tail()

    def action_clear(self) -> None:
        self._tail.clear()
        self._rates.clear()
        self._tail_notes.clear()
        self._tail_dirty = True
        self._render_tail()
        self._render_rates()

    def action_expire(self) -> None:
        r = self._highlighted()
        if r is None or self._svc is None:
            return

        def got(seconds: int | None) -> None:
            if seconds:
                self._preview_worker(self._svc, "expire", r.key, seconds)
        self.app.push_screen(TtlPrompt(r.key, core.fmt_ttl(r.ttl_s)), got)

    def action_delete(self) -> None:
        r = self._highlighted()
        if r is None or self._svc is None:
            return
        self._preview_worker(self._svc, "delete", r.key, None)

    @work(thread=True, exit_on_error=False, group="sessions-action")
    def _preview_worker(self, svc, kind: str, key: str, seconds: int | None) -> None:
        try:
            self.post_message(self.Previewed(kind, key, seconds, svc.preview(key), None))
        except Exception as exc:  # noqa: BLE001 - shown; a worker never dies silently
            self.post_message(self.Previewed(kind, key, seconds, None, error_text(exc)))

    @on(Previewed)
    def _on_previewed(self, m: Previewed) -> None:
        if m.error or m.preview is None:
            self.notify(m.error or "no preview", title=f"{m.kind} {m.key}", severity="error")
            return
        if not m.preview.exists:
            self.notify(f"{m.key} no longer exists", severity="warning")
            return
        try:
            plan = (core.plan_delete(m.key, m.preview) if m.kind == "delete"
                    else core.plan_expire(m.key, m.seconds or 0, m.preview))
        except BackendError as exc:
            self.notify(exc.message, severity="error")
            return
        refused = ("Refused: the console is in read-only mode." if self._svc and self._svc.read_only else None)
        preview = f"{m.preview.text()}\n\n{plan.text()}\n\nOne audit record is written to the audit target."

        def answered(yes: bool | None) -> None:
            if yes and self._svc is not None:
                self._action_worker(self._svc, m.kind, m.key, m.seconds)
        self.app.push_screen(ConfirmModal(
            f"{'Delete' if m.kind == 'delete' else 'Expire'} Redis session {m.key}?", preview,
            confirm_label="Delete" if m.kind == "delete" else "Set TTL",
            type_to_confirm=m.key if m.kind == "delete" else None, refused=refused), answered)

    @work(thread=True, exit_on_error=False, group="sessions-action")
    def _action_worker(self, svc, kind: str, key: str, seconds: int | None) -> None:
        try:
            actor = svc.actor()
            res = svc.delete(key, actor) if kind == "delete" else svc.expire(key, seconds, actor)
            self.post_message(self.ActionDone(kind, key, seconds, res, None))
        except Exception as exc:  # noqa: BLE001 - shown; a worker never dies silently
            self.post_message(self.ActionDone(kind, key, seconds, None, error_text(exc)))

    @on(ActionDone)
    def _on_done(self, m: ActionDone) -> None:
        if m.error or m.result is None:
            self.notify(m.error or "failed", title=f"{m.kind} {m.key}", severity="error", timeout=10)
            return
        res = m.result
        self.notify(f"{res.key}: {res.message} (audit #{res.audit_id})",
                    severity="information" if res.ok else "warning")
        for r in self._records:
            if r.key == m.key:
                if m.kind == "delete" or not res.ok:
                    r.ttl_s, r.kind, r.summary = -2, "gone", "(deleted)" if res.ok else "(key disappeared)"
                else:
                    r.ttl_s = m.seconds
                break
        self._view_dirty = True
        self._shown_keys = []
        self._render_table()


SCREEN = SessionsScreen
