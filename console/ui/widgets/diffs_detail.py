"""Rendering of one diff for the detail pane (pure Rich, no I/O): current and incoming
side by side with the changed characters highlighted (difflib per changed field), the
validation result, a bulk diff's summary, execution result and change_history row."""

from __future__ import annotations

import difflib
from datetime import datetime
from typing import Any, Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text

from ...core import format as fmt
from ...core import text

from ...core.zengin.records import DiffEntry, DiffRecord
from ...core.zengin.validate import key_text

FIELDS = ("bankCode", "bankName", "bankKana", "branchCode", "branchName", "branchKana")
STATUS_STYLE = {"pending": "yellow", "approved": "cyan", "executing": "magenta", "completed": "green",
                "failed": "red", "rejected": "dim", "expired": "dim"}


def ttl_left(ttl: int | None, now: datetime) -> str:
    """What is left of a diff's DynamoDB TTL (console.core.format.ttl_until)."""
    return fmt.ttl_until(ttl, now)


def char_diff(old: Any, new: Any) -> tuple[Text, Text]:
    """``(old, new)`` with deleted characters red on the old side and inserted ones green
    on the new side."""
    o = text.visible(old)
    n = text.visible(new)
    ot, nt = Text(), Text()
    if old is None:
        ot.append("—", style="dim")
    if new is None:
        nt.append("—", style="dim")
    sm = difflib.SequenceMatcher(a=o, b=n, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            ot.append(o[i1:i2])
            nt.append(n[j1:j2])
        else:
            if i2 > i1:
                ot.append(o[i1:i2], style="bold white on red")
            if j2 > j1:
                nt.append(n[j1:j2], style="bold black on green")
    return ot, nt


_NOT_READ = object()


def side_by_side(entry: DiffEntry, live: Any = _NOT_READ) -> Table:
    """Recorded ``currentData``, the LIVE PostgreSQL row (when read: a mapping, or None for
    no row), and the incoming values. A live value that differs from the recorded one is
    bold red: the diff is STALE there."""
    t = Table(expand=True, show_edge=False, pad_edge=False, box=None, header_style="bold")
    t.add_column("field", width=11, no_wrap=True)
    t.add_column("recorded (currentData)", ratio=1)
    with_live = live is not _NOT_READ
    if with_live:
        t.add_column("live (PostgreSQL now)", ratio=1)
    t.add_column("incoming (zengin)", ratio=1)
    cur = entry.currentData if isinstance(entry.currentData, Mapping) else {}
    inc = entry.zenginData if isinstance(entry.zenginData, Mapping) else {}
    row = live if isinstance(live, Mapping) else None
    changes = entry.changes if isinstance(entry.changes, Mapping) else {}
    is_branch = "branchCode" in cur or "branchCode" in inc
    for f in FIELDS:
        if f.startswith("branch") and not is_branch:
            continue
        o = cur.get(f) if entry.currentData is not None else None
        n = inc.get(f) if entry.zenginData is not None else None
        changed = f in changes or (entry.currentData is not None and entry.zenginData is not None and o != n)
        if entry.diffType in ("addition", "deletion") or changed:
            ot, nt = char_diff(o, n)
            label = Text(f, style="bold yellow" if changed else "")
        else:
            ot, nt = Text(text.visible(o) if o is not None else "—"), Text(text.visible(n) if n is not None else "—")
            label = Text(f, style="dim")
        if not with_live:
            t.add_row(label, ot, nt)
            continue
        if row is None:
            lt = Text("— (no row)", style="bold red" if entry.currentData is not None else "dim")
        else:
            v = row.get(f)
            differs = entry.currentData is not None and v != o
            lt = text.plain(v if v is not None else "—", "bold white on red" if differs else "")
        t.add_row(label, ot, lt, nt)
    return t


def header(rec: DiffRecord, status: str, now: datetime) -> Text:
    t = Text()
    t.append(text.visible(rec.id), style="bold")
    t.append(f"  {text.visible(rec.timestamp)}  ")
    t.append(text.visible(rec.diffType or "?"), style="bold")
    t.append("\n")
    t.append(status, style=f"bold {STATUS_STYLE.get(status, '')}")
    t.append(f"  ttl {ttl_left(rec.ttl, now)}")
    who = []
    if rec.approvedBy:
        who.append(f"approved by {rec.approvedBy} {rec.approvedAt or ''}")
    if rec.rejectedBy:
        who.append(f"rejected by {rec.rejectedBy}: {rec.rejectionReason or ''}")
    if rec.executedBy:
        who.append(f"executed by {rec.executedBy} {rec.executedAt or ''}")
    for w in who:
        t.append("\n" + text.visible(w.strip()), style="dim")
    return t


def validation_text(problems: tuple[str, ...] | list[str], limit: int = 12) -> Text:
    if not problems:
        return Text("✓ valid", style="green")
    t = Text(f"✗ INVALID — cannot be approved or executed ({len(problems)} problem(s)):", style="bold red")
    for p in list(problems)[:limit]:
        t.append(f"\n  • {text.cut(p, 200)}", style="red")
    if len(problems) > limit:
        t.append(f"\n  … {len(problems) - limit} more", style="red")
    return t


def bulk_summary(rec: DiffRecord, n_records: int) -> Text:
    s = rec.dataSummary if isinstance(rec.dataSummary, Mapping) else {}
    t = Text()
    t.append("bulk: ", style="bold")
    t.append(f"{s.get('totalRecords', '?')} records — +{s.get('additions', '?')} additions, "
             f"~{s.get('updates', '?')} updates, -{s.get('deletions', '?')} deletions")
    raw = s.get("byTable")
    by: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    for table, c in by.items():
        if isinstance(c, Mapping) and any(c.values()):
            t.append(f"\n  {table}: " + ", ".join(f"{k} {v}" for k, v in c.items() if v), style="dim")
    t.append(f"\n  {rec.dataLocation or '?'} ({rec.dataSize or '?'} bytes); {n_records} records read", style="dim")
    return t


def result_text(rec: DiffRecord, history: Mapping[str, Any] | None) -> Text | None:
    if not rec.executionResult and not history:
        return None
    t = Text()
    r = rec.executionResult or {}
    if r:
        ok = r.get("success")
        t.append("execution: ", style="bold")
        t.append("success" if ok else "FAILED", style="green" if ok else "bold red")
        t.append(f" — {r.get('rowsAffected', '?')} row(s), {r.get('executionTime', '?')} ms")
        if r.get("reconstructed"):
            t.append(" (reconstructed by reconcile)", style="dim")
        if r.get("error"):
            t.append(f"\n  {text.cut(r['error'], 400)}", style="red")
    if history:
        t.append("\n" + text.visible(f"change_history #{history.get('id')}: {history.get('table_name')} "
                                     f"{history.get('record_id') or ''}, {history.get('rows_affected')} row(s), "
                                     f"by {history.get('executed_by')} at {history.get('executed_at')}"),
                 style="cyan")
    return t


def record_cells(i: int, e: DiffEntry) -> tuple:
    changes = e.changes if isinstance(e.changes, Mapping) else {}
    parts = []
    for f, ch in changes.items():
        if isinstance(ch, Mapping):
            parts.append(f"{f}: {ch.get('old') or '—'} → {ch.get('new') or '—'}")
    op_style = {"addition": "green", "deletion": "red", "update": "yellow"}.get(e.diffType, "red")
    side = e.zenginData if isinstance(e.zenginData, Mapping) else e.currentData
    name = ""
    if isinstance(side, Mapping):
        name = str(side.get("branchName") or side.get("bankName") or "") if e.table == "branches" \
            else str(side.get("bankName") or "")
    return (str(i + 1), text.plain(e.diffType or "?", op_style), text.plain(e.table), text.plain(key_text(e.key)),
            text.plain(name, width=30),
            text.plain("✗ " + e.problems[0], "red", width=40) if e.problems
            else text.plain("; ".join(parts), width=120))


def detail_renderable(rec: DiffRecord, status: str, problems, entries: tuple[DiffEntry, ...],
                      history: Mapping[str, Any] | None, now: datetime, live: Any = _NOT_READ) -> Group:
    """``live``: the live PostgreSQL row of a single diff (a mapping, None for no row), or
    left out when it was not read (executed / rejected diffs, bulk diffs)."""
    parts: list[Any] = [header(rec, status, now), Text(""), validation_text(problems)]
    if rec.is_bulk:
        parts += [Text(""), bulk_summary(rec, len(entries))]
    elif entries:
        parts += [Text(""), side_by_side(entries[0], live)]
    res = result_text(rec, history)
    if res is not None:
        parts += [Text(""), res]
    return Group(*parts)
