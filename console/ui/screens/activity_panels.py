"""What the Activity screen draws, as pure functions of samples (no I/O, no widgets): the
session row, the detail of one session with its blocking chain, the top-statements table
and the replication / progress panel. Every string from a server goes through
console.core.text; every number through console.core.format."""

from __future__ import annotations

from typing import Any, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ...core import format as fmt
from ...core import text
from ...core.activity import ActivitySample, Backend, blocking_chain
from ...core.activity.maintenance import MaintenanceSample
from ...core.activity.statements import StatementDelta, StatementsSample
from ..widgets.lists import Col

COLUMNS = (Col("PID", 7), Col("Target", 8, drop=2), Col("Database", 9, drop=7), Col("User", 9, drop=6),
           Col("Application", 11, drop=8), Col("Client", 13, drop=9), Col("State", 9), Col("Wait", 13, drop=4),
           Col("Xact", 6, drop=3), Col("Query age", 9), Col("Blocked by", 10, drop=5), Col("Query", 18, flex=True))
# Sort key of each column (core.activity.SORT_KEYS), in the order ``s`` cycles through them.
SORTS = (("duration_s", "busy for"), ("query_age_s", "query age"), ("xact_age_s", "xact age"), ("pid", "pid"),
         ("datname", "database"), ("usename", "user"), ("application_name", "application"),
         ("client_addr", "client"), ("state", "state"), ("wait", "wait"), ("blocked_by", "blocked by"),
         ("query", "query"), ("target", "target"))
MIN_DURATIONS: tuple[float | None, ...] = (None, 1.0, 5.0, 30.0, 60.0, 300.0)


def _age(v: float | None, warn: float = 60.0) -> Text:
    return Text(fmt.duration(v) if v is not None else "—", justify="right",
                style="bold yellow" if v is not None and v >= warn else ("dim" if v is None else ""))


def _state_style(r: Backend) -> str:
    if r.blocked_by:
        return "bold red"
    if r.state == "active":
        return "green"
    if r.state and r.state.startswith("idle in transaction"):
        return "yellow"
    return "dim"


def _age_key(v: float | None, warn: float) -> tuple[str, bool] | None:
    return None if v is None else (fmt.duration(v), v >= warn)


def cells_key(target: str, r: Backend, blocking: set[int], stale: bool, query_width: int) -> tuple[Any, ...]:
    """Everything :func:`row_cells` shows of a session: equal keys draw equal cells (an idle
    session's row is the same tick after tick, though its sample is a new object)."""
    return (target, stale, query_width, r.pid in blocking, r.pid, r.console, r.blocked_by, r.client_addr,
            r.backend_type, r.query, r.datname, r.usename, r.application_name, r.state, r.wait_event_type,
            r.wait_event, _age_key(r.xact_age_s, 300.0), _age_key(r.query_age_s if r.state == "active" else None, 60.0))


class RowCells:
    """:func:`row_cells` remembered by row: a row whose :func:`cells_key` did not change
    returns the same cell objects (so the table compares by identity and draws nothing)."""

    def __init__(self) -> None:
        self._memo: dict[str, tuple[tuple[Any, ...], list[Any]]] = {}

    def __call__(self, row: str, target: str, r: Backend, blocking: set[int], stale: bool,
                 query_width: int) -> list[Any]:
        key = cells_key(target, r, blocking, stale, query_width)
        hit = self._memo.get(row)
        if hit is None or hit[0] != key:
            hit = self._memo[row] = (key, row_cells(target, r, blocking, stale, query_width))
        return list(hit[1])

    def keep(self, rows: set[str]) -> None:
        for gone in self._memo.keys() - rows:
            del self._memo[gone]


def row_cells(target: str, r: Backend, blocking: set[int], stale: bool, query_width: int = 40) -> list[Any]:
    dim = " dim" if stale else ""
    mark = "▲" if r.pid in blocking else ("▼" if r.blocked_by else " ")
    pid = Text.assemble((mark, "bold red" if mark != " " else ""), (f"{r.pid}", "bold" + dim))
    if r.console:
        pid.append("·", style="dim")
    client = r.client_addr or ("local" if r.client else "")
    query = (r.query or "").replace("\n", " ")
    return [
        pid, text.plain(target, dim.strip()), text.plain(r.datname or "", dim.strip()),
        text.plain(r.usename or "", dim.strip()),
        text.plain(r.application_name or ("" if r.client else r.backend_type), dim.strip()),
        text.plain(client, dim.strip()),
        text.plain(r.state or r.backend_type, _state_style(r) + dim),
        text.plain(r.wait or "", ("red" if r.blocked_by else "yellow") + dim if r.wait else ""),
        _age(r.xact_age_s, 300.0), _age(r.query_age_s if r.state == "active" else None),
        Text(",".join(map(str, r.blocked_by)), style="bold red"),
        text.plain(query, width=max(4, query_width)),
    ]


# The detail pane shows this much of a query: PostgreSQL keeps up to track_activity_query_size
# bytes of it (1 kB by default, up to 1 MB), and the pane wraps it on the UI thread each time
# it changes. The rest is named, and `console activity --json` prints all of it.
DETAIL_QUERY_CHARS = 16_384


def detail(sample: ActivitySample | None, r: Backend | None, error: str | None, width: int = 120) -> Text:
    """The highlighted session: every field, the whole query (escaped, controls visible),
    then its blocking chain (who it waits on, who waits on it)."""
    t = Text()
    if r is None or sample is None:
        t.append("No session highlighted." if error is None else "", style="dim")
        if error:
            t.append("stale: ", style="bold red")
            t.append_text(text.plain(error, "red"))
        return t
    t.append(f"pid {r.pid}", style="bold")
    t.append(" on ")
    t.append_text(text.plain(sample.target, "bold"))
    if r.console:
        t.append("  (the console's own session: no action may target it)", style="dim")
    t.append("\n")
    # What it is doing now (changes every tick: a line of its own, so that a refresh redraws
    # a short line), then who it is (changes only with the session).
    _fields(t, (("state", r.state), ("wait", r.wait),
                ("xact", fmt.duration(r.xact_age_s) if r.xact_age_s is not None else None),
                ("query", fmt.duration(r.query_age_s) if r.query_age_s is not None else None)))
    _fields(t, (("user", r.usename), ("db", r.datname), ("app", r.application_name),
                ("client", f"{r.client_addr}:{r.client_port}" if r.client_addr else "local"),
                ("type", r.backend_type),
                ("started", fmt.timestamp(r.backend_start) if r.backend_start else None)))
    chain = blocking_chain(sample.rows, r.pid)
    if chain.blockers or chain.waiters:
        t.append("blocking chain" + (" (a deadlock cycle)" if chain.cycle else "") + ":\n",
                 style="bold red")
        for indent, link in chain.lines():
            row = link.row if link.pid != r.pid else r
            t.append("  " + "   " * indent + ("└─ " if indent else ""))
            t.append(f"pid {link.pid}", style="bold reverse" if link.pid == r.pid else "bold")
            if row is None:
                t.append(" (not in this sample)\n", style="dim")
                continue
            what = row.wait if row.blocked_by else row.state
            head = text.plain(f" {what or ''} {fmt.duration(row.duration_s) if row.duration_s else ''} ",
                              "red" if row.blocked_by else "")
            t.append_text(head)
            used = 2 + 3 * indent + (3 if indent else 0) + len(f"pid {link.pid}") + head.cell_len
            t.append_text(text.plain((row.query or "").replace("\n", " "), "dim", width=max(8, width - used)))
            t.append("\n")
    t.append("query:\n", style="dim")
    q = r.query or ""
    t.append_text(text.plain(q[:DETAIL_QUERY_CHARS], newlines=True))
    if len(q) > DETAIL_QUERY_CHARS:
        t.append(f"\n… {len(q) - DETAIL_QUERY_CHARS:,} more characters not shown "
                 "(`console activity --json` prints the whole query)", style="dim")
    return t


def _fields(t: Text, fields: Sequence[tuple[str, str | None]]) -> None:
    """``name value  name value`` for the fields that have a value, then a line break;
    nothing at all when none has (a background process with no wait: no blank line)."""
    shown = [f for f in fields if f[1]]
    for i, (k, v) in enumerate(shown):
        t.append(("  " if i else "") + k + " ", style="dim")
        t.append_text(text.plain(v))
    if shown:
        t.append("\n")


def status(samples: dict[str, ActivitySample | None], shown: int, total: int, flt_text: str, sort: str,
           descending: bool, hide_idle: bool, min_s: float | None, problem: str | None) -> Text:
    t = Text(no_wrap=True, overflow="ellipsis")
    waiting = sum(s.waiting for s in samples.values() if s is not None)
    t.append(f"{shown}/{total} sessions", style="bold")
    if waiting:
        t.append(f"  {waiting} waiting on a lock", style="bold red")
    t.append(f"  sorted by {sort} {'↓' if descending else '↑'}", style="dim")
    if hide_idle:
        t.append("  idle hidden", style="cyan")
    if min_s:
        t.append(f"  busy ≥ {fmt.duration(min_s)}", style="cyan")
    if flt_text:
        t.append("  filter ", style="cyan")
        t.append_text(text.plain(flt_text, "cyan"))
    if problem:
        t.append("  ")
        t.append_text(text.plain(problem, "bold red"))
    return t


def statements(target: str, s: StatementsSample | None, d: Sequence[StatementDelta] | None,
               error: str | None, width: int) -> Any:
    head = Text()
    head.append_text(text.plain(target, "bold"))
    if error:
        head.append("  stale: ", style="bold red")
        head.append_text(text.plain(error, "red"))
    if s is None:
        head.append("  first sample running…" if not error else "", style="dim")
        return head
    if not s.available:
        head.append("  pg_stat_statements is not available\n", style="bold yellow")
        if s.error:
            head.append_text(text.plain(s.error, "red"))
            head.append("\n")
        head.append_text(text.plain(s.how_to or "", newlines=True))
        return head
    head.append(f"  pg_stat_statements {s.installed}", style="dim")
    head.append("  since reset " + (fmt.timestamp(s.stats_reset) if s.stats_reset else "—"), style="dim")
    by_key = {x.statement.key: x for x in (d or ())}
    qw = max(20, width - 70)
    tb = Table(expand=True, box=None, header_style="bold", pad_edge=False)
    for col, just in (("calls", "right"), ("calls/s", "right"), ("total", "right"), ("mean", "right"),
                      ("Δ ms/s", "right"), ("rows", "right"), ("hit%", "right"), ("query", "left")):
        tb.add_column(col, justify=just, no_wrap=True,   # type: ignore[arg-type]
                      overflow="ellipsis", max_width=qw if col == "query" else None)
    rows = sorted(s.statements, key=lambda x: (-(by_key[x.key].total_ms if x.key in by_key else -1), -x.total_ms))
    for st in rows[:40]:
        dl = by_key.get(st.key)
        blks = st.shared_blks_hit + st.shared_blks_read
        tb.add_row(fmt.count(st.calls), fmt.number(dl.calls_s if dl else None, ",.1f"),
                   fmt.duration(st.total_ms / 1000), f"{st.mean_ms:,.1f} ms",
                   fmt.number(dl.total_ms / dl.seconds if dl and dl.seconds else None, ",.1f"),
                   fmt.count(st.rows), fmt.percent(st.shared_blks_hit / blks if blks else None),
                   text.plain((st.query or "").replace("\n", " "), width=300))
    note = Text("Δ columns: over the last interval (blank until two samples)", style="dim")
    return Group(head, tb, note)


def maintenance(target: str, m: MaintenanceSample | None, error: str | None) -> Any:
    head = Text()
    head.append_text(text.plain(target, "bold"))
    if error:
        head.append("  stale: ", style="bold red")
        head.append_text(text.plain(error, "red"))
    if m is None:
        head.append("  first sample running…" if not error else "", style="dim")
        return head
    head.append(f"  {'standby' if m.in_recovery else 'primary'} · wal_level {m.wal_level}", style="dim")
    head.append(f" · WAL {fmt.size(m.wal_bytes_s)}/s" if m.wal_bytes_s is not None else " · WAL rate: next sample")
    if m.replay_delay_s is not None:
        head.append(f" · replay delay {fmt.duration(m.replay_delay_s)}")
    parts: list[Any] = [head]
    slots = Table(title="replication slots", title_justify="left", title_style="bold", expand=True, box=None,
                  header_style="bold", pad_edge=False)
    for col in ("slot", "type", "active", "retained WAL", "status"):
        slots.add_column(col, no_wrap=True, overflow="ellipsis")
    for s in m.slots:
        slots.add_row(text.plain(s.slot_name), s.slot_type, "yes" if s.active else "no", fmt.size(s.retained_bytes),
                      text.plain(s.wal_status or "—", "bold red" if s.wal_status in ("lost", "unreserved") else ""))
    parts.append(slots if m.slots else Text("no replication slots", style="dim"))
    if m.standbys:
        sb = Table(title="standbys", title_justify="left", title_style="bold", expand=True, box=None,
                   header_style="bold", pad_edge=False)
        for col in ("pid", "application", "client", "state", "sync", "replay lag"):
            sb.add_column(col, no_wrap=True, overflow="ellipsis")
        for sb_row in m.standbys:
            sb.add_row(str(sb_row.pid), text.plain(sb_row.application_name or ""), text.plain(sb_row.client_addr or ""),
                       text.plain(sb_row.state or ""), text.plain(sb_row.sync_state or ""),
                       f"{fmt.size(sb_row.replay_lag_bytes)} / {fmt.duration(sb_row.replay_lag_s)}")
        parts.append(sb)
    pr = Table(title="running maintenance (pg_stat_progress_*)", title_justify="left", title_style="bold",
               expand=True, box=None, header_style="bold", pad_edge=False)
    for col in ("pid", "command", "relation", "phase", "progress", "for"):
        pr.add_column(col, no_wrap=True, overflow="ellipsis")
    for p in m.progress:
        pr.add_row(str(p.pid), text.plain(p.command), text.plain(p.relation or ""), text.plain(p.phase or ""),
                   fmt.percent(p.percent / 100 if p.percent is not None else None), fmt.duration(p.age_s))
    parts.append(pr if m.progress else Text("no VACUUM / ANALYZE / CREATE INDEX running", style="dim"))
    return Group(*parts)
