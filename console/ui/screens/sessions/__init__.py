"""Sessions (Redis, seed 004): INFO summary, ``session:*`` keys, ``websocket_connections``,
``class_summary:*`` caches and a live tail of the pub/sub channels, one tab widget each
(keys_tab, aux_tabs, tail_tab) owning its state.

Safe on a production Redis: the key scan is ``SCAN`` in a thread worker, batch by batch
(``redis.scan_count``, ``redis.scan_pause_ms``, stopping at ``redis.scan_cap``), each batch's
TTL / MEMORY USAGE / value read in one pipeline (core.sessions); the table shows one page
(PAGE_SIZE rows) of the sorted, filtered list, so 200,000 keys stay responsive.

INFO, connections+caches and the scan are live sources (console.ui.live): INFO every
refresh interval, the others every SCAN_EVERY_S; the indicators say when each was last
read. The scan streams its batches as it goes; a scan interrupted because the screen was
hidden runs again when it is shown. The tail is a subscriber in its own worker, stopped
while the screen is hidden."""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import ScreenResume
from textual.message import Message
from textual.widgets import Header, Static, TabbedContent, TabPane

from ....core import format as fmt
from ....core import sessions as core
from ....core import text
from ....core.ports import SessionsPort
from ... import keymap
from ...live import LiveIndicator, LiveScreen, Source, State
from ...widgets.confirm import ConfirmModal
from ...widgets.footer import ConsoleFooter
from ...widgets.sessions_ttl import TtlPrompt
from .aux_tabs import CachesTab, ConnectionsTab
from .keys_tab import PAGE_SIZE, KeysTab
from .tail_tab import TAIL_FILTERS, TailTab

SCAN_EVERY_S = 60.0
REDRAW_EVERY_S = 1.0     # during a scan, the rows shown are brought up to date this often
TABS = ("tab-sessions", "tab-connections", "tab-caches", "tab-tail")
LISTS = {"tab-sessions": "sessions-table", "tab-connections": "connections-table", "tab-caches": "caches-table"}

__all__ = ["SCREEN", "SessionsScreen", "PAGE_SIZE"]


class Interrupted(Exception):
    def __init__(self) -> None:
        super().__init__("scan stopped while the screen was hidden; it runs again when shown")


class SessionsScreen(LiveScreen):
    LIST_ID = "sessions-table"
    BINDINGS = keymap.bindings("refresh", "filter", "clear_filter", "tab_next", "tab_prev", "page_next",
                               "page_prev", "pause", "sessions.sort", "sessions.order", "sessions.channel",
                               "sessions.clear", "sessions.expire", "sessions.delete",
                               describe={"refresh": "Rescan"},
                               tooltip={"refresh": "Read INFO again and rescan sessions, connections and caches",
                                        "tab_next": "Next view: sessions, connections, caches, live tail",
                                        "pause": "Pause / resume every refresh and the live tail display"},
                               hide=("sessions.order", "sessions.clear"))

    DEFAULT_CSS = """
    #sessions-body { padding: 0 1; }
    #sessions-age { height: 1; }
    #sessions-summary { height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    #sessions-tabs { height: 1fr; }
    #sessions-tabs TabPane { height: 1fr; padding: 0; }
    """

    class Batch(Message):
        def __init__(self, gen: int, batch: core.ScanBatch) -> None:
            self.gen, self.batch = gen, batch
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

    def __init__(self) -> None:
        super().__init__(id="sessions")
        self.svc: SessionsPort | None = None
        self.prev_info: core.ServerInfo | None = None
        self.records: list[core.SessionRecord] = []
        self.records_gen = 0
        self.scan_gen = 0
        self.scan_stop: threading.Event | None = None
        self.tail_gen = 0
        self.tail_stop: threading.Event | None = None
        self.keyevents = False
        self._shown_at = 0.0

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        self.svc = self.services.source("sessions")
        cap = self.svc.redis_settings.scan_cap if self.svc is not None else 0
        yield Header()
        with Vertical(id="sessions-body"):
            yield LiveIndicator("info", label="INFO", id="sessions-age")
            yield Static("", id="sessions-summary")
            with TabbedContent(id="sessions-tabs"):
                with TabPane("Sessions", id="tab-sessions"):
                    yield LiveIndicator("scan", label="scan", id="sessions-scan-age")
                    yield KeysTab(cap, id="keys-tab")
                with TabPane("Connections", id="tab-connections"):
                    yield LiveIndicator("aux", label="read", id="connections-age")
                    yield ConnectionsTab(id="connections-tab")
                with TabPane("Caches", id="tab-caches"):
                    yield LiveIndicator("aux", label="read", id="caches-age")
                    yield CachesTab(id="caches-tab")
                with TabPane("Live tail", id="tab-tail"):
                    yield TailTab(self.clock, id="tail-tab")
        yield ConsoleFooter()

    @property
    def keys(self) -> KeysTab:
        return self.query_one(KeysTab)

    @property
    def tail(self) -> TailTab:
        return self.query_one(TailTab)

    def on_mount(self) -> None:
        self.query_one(TabbedContent).query_one("Tabs").can_focus = False
        if self.svc is None:
            self.query_one("#sessions-summary", Static).update(
                Text("Redis is not configured: add a [redis] table to console.toml (README: Configuration).",
                     style="yellow"))
            return
        svc = self.svc
        every = self.services.settings.refresh_interval_s
        scan_every = max(SCAN_EVERY_S, every * 6)
        self.add_source(Source("info", fetch=svc.info, every=every, render=self._on_info,
                               panel="#sessions-summary"))
        self.add_source(Source("scan", fetch=self._scan, args=self._next_scan, every=scan_every,
                               render=self._on_scanned, panel="#sessions-table"))
        self.add_source(Source("aux", fetch=lambda: (svc.connections(), svc.caches()), every=scan_every,
                               render=self._on_aux))
        self.focus_list()

    def on_screen_suspend(self) -> None:
        self._stop_tail()
        if self.scan_stop is not None and self.state("scan").running:
            self.scan_stop.set()

    def on_screen_resume(self, event: ScreenResume) -> None:
        if self.svc is not None and self.tail_stop is None and self.state("info").loaded:
            self._start_tail()

    def on_unmount(self) -> None:
        for ev in (self.scan_stop, self.tail_stop):
            if ev is not None:
                ev.set()

    # ------------------------------------------------------------------ INFO

    def _on_info(self, st: State[core.ServerInfo]) -> None:
        if st.error is None and st.value is not None:
            first = self.prev_info is None
            delta = core.info_delta(self.prev_info, st.value)
            self.prev_info = st.value
            self._render_summary(st.value, delta)
            if first:
                self.keyevents = core.keyevents_enabled(st.value.notify_keyspace_events)
                self.tail.keyevents = self.keyevents
                if self.is_current and self.tail_stop is None:
                    self._start_tail()
        elif st.value is None:
            self.query_one("#sessions-summary", Static).update(Text.assemble(
                text.plain(f"Redis {self.svc.address if self.svc else ''}: ", "bold red"),
                text.plain(st.error, "red")))

    def _render_summary(self, i: core.ServerInfo, d: dict[str, int]) -> None:
        def delta(name: str) -> str:
            v = d.get(name)
            return f" (+{fmt.count(v)})" if v else ""
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append_text(text.plain(f"Redis {i.version}", "bold"))
        t.append(f"  up {fmt.ttl(i.uptime_s)}  clients {fmt.count(i.connected_clients)}")
        t.append(f" ({i.blocked_clients} blocked)  ", style="red" if i.blocked_clients else "dim")
        t.append(f"{fmt.count(i.ops_per_sec)} ops/s  ")
        mem = fmt.size(i.used_memory)
        if i.maxmemory:
            ratio = i.memory_ratio or 0
            t.append(f"mem {mem} / {fmt.size(i.maxmemory)} ({ratio:.0%})",
                     style="red" if ratio > 0.9 else ("yellow" if ratio > 0.75 else ""))
        else:
            t.append(f"mem {mem} (no maxmemory)")
        t.append("\n")
        t.append(f"hit ratio {fmt.percent(i.hit_ratio)}")
        t.append(f"  evicted {fmt.count(i.evicted_keys)}{delta('evicted_keys')}",
                 style="red" if d.get("evicted_keys") else "")
        t.append(f"  expired {fmt.count(i.expired_keys)}{delta('expired_keys')}")
        t.append("  keys " + (", ".join(f"db{k}={fmt.count(v)}" for k, v in sorted(i.keyspace.items()))
                              if i.keyspace else "0"))
        self.query_one("#sessions-summary", Static).update(t)

    # ------------------------------------------------------------------ scan

    def _next_scan(self) -> tuple[Any, ...]:
        """On the UI thread, before each scan: a new generation and stop flag."""
        if self.scan_stop is not None:
            self.scan_stop.set()
        self.scan_gen += 1
        self.scan_stop = threading.Event()
        self.keys.scan = None
        return (self.svc, self.scan_gen, self.scan_stop)

    def _scan(self, svc: SessionsPort, gen: int, stop: threading.Event) -> core.ScanBatch | None:
        """In the worker: stream the batches as messages; the last one is the result."""
        last = None
        for batch in svc.scan(core.SESSION_PATTERN, stop):
            if stop.is_set():
                raise Interrupted()
            self.post_message(self.Batch(gen, batch))
            last = batch
        if stop.is_set() and not (last and (last.done or last.capped)):
            raise Interrupted()
        return last

    @on(Batch)
    def _on_batch(self, m: Batch) -> None:
        if m.gen != self.scan_gen:
            return
        if self.records_gen != m.gen:
            # The rows of the last scan stay until the new scan's first batch arrives, so a
            # rescan that fails keeps them on screen, marked stale.
            self.records, self.records_gen = [], m.gen
        self.records.extend(m.batch.records)
        # (The rows arrive frozen out of the cycle collector: scan_sessions makes each page
        # under collector.kept. Unfrozen, 200,000 records made each full collection a
        # 0.2-1.8 s stop of the whole process, UI included, a dozen times per scan.)
        keys = self.keys
        keys.scan = m.batch
        keys.scan_error = None
        finished = m.batch.done or m.batch.capped
        now = time.monotonic()
        if finished or len(self.records) <= PAGE_SIZE or now - self._shown_at >= REDRAW_EVERY_S:
            # While the scan runs the list is handed over at most every REDRAW_EVERY_S: each
            # handover re-sorts every row in the keys tab's worker.
            self._shown_at = now
            keys.records = list(self.records)
        if finished:
            conns = self.query_one(ConnectionsTab)
            conns.records = list(self.records)
            conns.scan = m.batch
        # The lists handed over are copies of every row reference (a million at 1,000,000
        # keys), and the collector's passes read all of a young list: frozen with the rows
        # they hold (reference counting frees them when they are replaced).
        gc.freeze()

    def _on_scanned(self, st: State[Any]) -> None:
        keys = self.keys
        keys.scan_error = st.error
        if st.error is None:
            keys.records = list(self.records)
            gc.freeze()                  # the copy, as in _on_batch

    # ------------------------------------------------------------------ connections + caches

    def _on_aux(self, st: State[Any]) -> None:
        conns, caches = self.query_one(ConnectionsTab), self.query_one(CachesTab)
        conns.error = caches.error = st.error
        if st.error is None and st.value is not None:
            conns.report, caches.caches = st.value
            self.keys.connections = st.value[0]

    # ------------------------------------------------------------------ tail

    def _start_tail(self) -> None:
        if self.svc is None:
            return
        self._stop_tail(note=False)
        self.tail_gen += 1
        self.tail_stop = threading.Event()
        self._tail_worker(self.svc, self.tail_gen, self.tail_stop, self.keyevents)

    def _stop_tail(self, note: bool = True) -> None:
        if self.tail_stop is not None:
            self.tail_stop.set()
            self.tail_stop = None
            if note:
                self.tail.note("tail stopped while the screen was hidden")

    @work(thread=True, exit_on_error=False, group="sessions-tail")
    def _tail_worker(self, svc: SessionsPort, gen: int, stop: threading.Event, keyevents: bool) -> None:
        for ev in svc.tail(stop, keyevents):
            if stop.is_set():
                return
            self.post_message(self.TailEvent(gen, ev))

    @on(TailEvent)
    def _on_tail(self, m: TailEvent) -> None:
        if m.gen != self.tail_gen:
            return
        ev = m.event
        st = self.state("tail")
        if isinstance(ev, core.TailStatus):
            if ev.state == "disconnected":
                st.error = f"subscription lost: {text.visible(ev.error)}"
            else:
                st.error, st.ok_at = None, self.clock()
        else:
            st.ok_at = self.clock()
        self.tail.add(ev)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("expire", "delete") and (self.svc is None or self.svc.read_only):
            return None          # shown disabled (read-only / no Redis)
        return True

    def _tabs(self) -> TabbedContent:
        return self.query_one("#sessions-tabs", TabbedContent)

    def action_tab(self, step: int) -> None:
        tabs = self._tabs()
        i = TABS.index(tabs.active) if tabs.active in TABS else 0
        tabs.active = TABS[(i + step) % len(TABS)]
        self.list_id = LISTS.get(tabs.active)
        self.focus_list()

    def action_refresh_now(self) -> None:
        self.refresh_all()

    def action_toggle_pause(self) -> None:
        super().action_toggle_pause()
        self.tail.paused = self.paused

    def action_filter(self) -> None:
        self._tabs().active = "tab-sessions"
        self.list_id = LISTS["tab-sessions"]
        self.keys.open_filter()

    def action_clear_filter(self) -> None:
        self.keys.clear_filter()

    def action_sort(self) -> None:
        self.keys.next_sort()

    def action_order(self) -> None:
        self.keys.flip_order()

    def action_page(self, step: int) -> None:
        self.keys.page = max(0, self.keys.page + step)

    def action_channel(self) -> None:
        self.tail.channel = (self.tail.channel + 1) % len(TAIL_FILTERS)

    def action_clear_tail(self) -> None:
        self.tail.clear()

    def action_expire(self) -> None:
        r = self.keys.highlighted()
        if r is None or self.svc is None:
            return
        svc = self.svc

        def got(seconds: int | None) -> None:
            if seconds:
                self._preview_worker(svc, "expire", r.key, seconds)
        self.app.push_screen(TtlPrompt(r.key, fmt.ttl(r.ttl_s)), got)

    def action_delete(self) -> None:
        r = self.keys.highlighted()
        if r is None or self.svc is None:
            return
        self._preview_worker(self.svc, "delete", r.key, None)

    @work(thread=True, exit_on_error=False, group="sessions-action")
    def _preview_worker(self, svc: SessionsPort, kind: str, key: str, seconds: int | None) -> None:
        try:
            self.post_message(self.Previewed(kind, key, seconds, svc.preview(key), None))
        except Exception as exc:  # shown; a worker never dies silently
            self.post_message(self.Previewed(kind, key, seconds, None, text.error_text(exc)))

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
        except Exception as exc:
            self.notify(text.error_text(exc), severity="error")
            return
        refused = "Refused: the console is in read-only mode." if self.svc and self.svc.read_only else None
        preview = f"{m.preview.text()}\n\n{plan.text()}\n\nOne audit record is written to the audit target."

        def answered(yes: bool | None) -> None:
            if yes and self.svc is not None:
                self._action_worker(self.svc, m.kind, m.key, m.seconds)
        self.app.push_screen(ConfirmModal(
            f"{'Delete' if m.kind == 'delete' else 'Expire'} Redis session {m.key}?", preview,
            confirm_label="Delete" if m.kind == "delete" else "Set TTL",
            # typed as the key's escaped form: printable, and what `sessions delete KEY` accepts
            type_to_confirm=core.keys.escaped(m.key) if m.kind == "delete" else None, refused=refused), answered)

    @work(thread=True, exit_on_error=False, group="sessions-action")
    def _action_worker(self, svc: SessionsPort, kind: str, key: str, seconds: int | None) -> None:
        try:
            actor = svc.actor()
            res = svc.delete(key, actor) if kind == "delete" else svc.expire(key, seconds or 0, actor)
            self.post_message(self.ActionDone(kind, key, seconds, res, None))
        except Exception as exc:  # shown; a worker never dies silently
            self.post_message(self.ActionDone(kind, key, seconds, None, text.error_text(exc)))

    @on(ActionDone)
    def _on_done(self, m: ActionDone) -> None:
        if m.error or m.result is None:
            self.notify(m.error or "failed", title=f"{m.kind} {m.key}", severity="error", timeout=10)
            return
        res = m.result
        self.notify(f"{res.key}: {res.message} (audit #{res.audit_id})",
                    severity="information" if res.ok else "warning")
        for r in self.records:
            if r.key == m.key:
                if m.kind == "delete" or not res.ok:
                    r.ttl_s, r.kind, r.summary = -2, "gone", "(deleted)" if res.ok else "(key disappeared)"
                else:
                    r.ttl_s = m.seconds
                break
        self.keys.records = list(self.records)


SCREEN = SessionsScreen
