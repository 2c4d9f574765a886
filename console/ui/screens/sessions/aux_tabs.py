"""The ``websocket_connections`` and ``class_summary:*`` tabs: reactive state set by the
screen (``report`` / ``caches`` and the session records for the cross-check), rendered by
their watchers.

Columns as the width shrinks: Connection, User, Session and Value stay (Last activity goes
first); Key, TTL, Kind and Value stay on caches (Size goes first)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from ....core import format as fmt
from ....core import sessions as core
from ....core import text
from ...widgets.lists import Col, ListTable
from .cells import kind_cell, size_cell, ttl_cell

CONN_COLUMNS = (Col("Connection", 18), Col("User", 12), Col("Session", 7), Col("Last activity", 14, drop=1),
                Col("Value", 16, flex=True))
CACHE_COLUMNS = (Col("Key", 30), Col("TTL", 7), Col("Size", 9, drop=1), Col("Kind", 6), Col("Value", 16, flex=True))
CONN_SHOWN = 5000


class ConnectionsTab(Vertical):
    DEFAULT_CSS = """
    ConnectionsTab { height: 1fr; }
    #connections-summary { height: auto; max-height: 3; }
    #connections-table { height: 1fr; }
    """

    report: reactive[core.ConnectionsReport | None] = reactive(None, always_update=True, init=False, repaint=False)
    error: reactive[str | None] = reactive(None, init=False, repaint=False)
    records: reactive[list[core.SessionRecord]] = reactive(list, always_update=True, init=False, repaint=False)
    scan: reactive[core.ScanBatch | None] = reactive(None, always_update=True, init=False, repaint=False)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._lonely: tuple[tuple[Any, Any], list[core.SessionRecord]] | None = None
        self._lonely_running: tuple[Any, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="connections-summary")
        yield ListTable(CONN_COLUMNS, id="connections-table")

    def on_mount(self) -> None:
        self._draw()

    def watch_report(self) -> None:
        self._draw()

    def watch_error(self) -> None:
        self._draw()

    def watch_scan(self) -> None:
        if self.scan is not None and (self.scan.done or self.scan.capped):
            self._render_summary()

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        self._render_summary()
        rep = self.report
        if rep is None:
            return
        rows = []
        for c in rep.connections[:CONN_SHOWN]:
            sess = (Text("none", style="bold red") if c.has_session is False else
                    Text("ok", style="green") if c.has_session else Text("?", style="dim"))
            rows.append((c.connection_id, [text.plain(c.connection_id),
                                           text.plain(c.user_id) if c.user_id else Text("?", style="dim"), sess,
                                           text.plain(fmt.short_timestamp(c.last_activity)),
                                           text.plain(c.raw, "dim")]))
        self.query_one("#connections-table", ListTable).set_rows(rows)

    def _lonely_for(self, records: list[core.SessionRecord],
                    rep: core.ConnectionsReport) -> list[core.SessionRecord] | None:
        """The sessions without a connection, computed once per (rows, report) in a worker
        thread (a pass over every row: a second of the UI thread at 200,000 keys); None
        while it runs."""
        def same(k: tuple[Any, Any] | None) -> bool:
            return k is not None and k[0] is records and k[1] is rep
        if self._lonely is not None and same(self._lonely[0]):
            return self._lonely[1]
        if not same(self._lonely_running):
            key = self._lonely_running = (records, rep)

            def work() -> None:
                found = core.sessions_without_connection(records, rep)
                self.app.call_from_thread(self._lonely_done, key, found)
            self.run_worker(work, thread=True, exit_on_error=False, group="sessions-lonely", exclusive=True,
                            description="sessions without a connection")
        return None

    def _lonely_done(self, key: tuple[Any, Any], found: list[core.SessionRecord]) -> None:
        if self._lonely_running is key:
            self._lonely_running = None
        self._lonely = (key, found)
        if self.is_mounted:
            self._render_summary()

    def _render_summary(self) -> None:
        w = self.query_one("#connections-summary", Static)
        rep = self.report
        t = Text()
        if rep is None:
            if self.error:
                t.append("failed: ", style="red")
                t.append_text(text.plain(self.error, "red"))
            else:
                t.append(f"reading {core.CONNECTIONS_KEY}…", style="dim")
            w.update(t)
            return
        t.append(f"{core.CONNECTIONS_KEY}: {fmt.count(len(rep.connections))} connections", style="bold")
        if rep.capped:
            t.append(f" (first {fmt.count(len(rep.connections))} of {fmt.count(rep.hash_len)})", style="yellow")
        orphans = rep.orphans
        t.append(f"   {len(orphans)} without a session", style="bold red" if orphans else "dim")
        last = self.scan
        if last is not None and last.done:
            lonely = self._lonely_for(self.records, rep)
            if lonely is None:
                t.append("   sessions without a connection: counting…", style="dim")
                w.update(t)
                return
            t.append(f"   {len(lonely)} sessions without a connection", style="yellow" if lonely else "dim")
            if lonely:
                t.append(": ", style="yellow")
                t.append_text(text.plain(", ".join(r.user for r in lonely[:8]) + (" …" if len(lonely) > 8 else ""),
                                         "yellow"))
        elif last is not None and last.capped:
            t.append("   sessions without a connection: unknown (session scan capped)", style="dim")
        else:
            t.append("   sessions without a connection: after the session scan", style="dim")
        w.update(t)


class CachesTab(Vertical):
    DEFAULT_CSS = """
    CachesTab { height: 1fr; }
    #caches-summary { height: 1; }
    #caches-table { height: 1fr; }
    """

    caches: reactive[list[core.CacheRecord] | None] = reactive(None, always_update=True, init=False, repaint=False)
    error: reactive[str | None] = reactive(None, init=False, repaint=False)

    def compose(self) -> ComposeResult:
        yield Static("", id="caches-summary")
        yield ListTable(CACHE_COLUMNS, id="caches-table")

    def on_mount(self) -> None:
        self._draw()

    def watch_caches(self) -> None:
        self._draw()

    def watch_error(self) -> None:
        self._draw()

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        w = self.query_one("#caches-summary", Static)
        if self.caches is None:
            if self.error:
                w.update(Text.assemble(("failed: ", "red"), text.plain(self.error, "red")))
            else:
                w.update(Text("reading class_summary:* …", style="dim"))
            return
        w.update(Text(f"class_summary:* — {fmt.count(len(self.caches))} cache keys", style="bold"))
        self.query_one("#caches-table", ListTable).set_rows([
            (r.key, [text.plain(r.key), ttl_cell(r.ttl_s), size_cell(r.size_bytes), kind_cell(r.kind),
                     text.plain(r.summary)]) for r in self.caches])
