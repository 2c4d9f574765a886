"""The coverage strip of one partitioned table (a rich Text): one cell per interval slot
(hour, day, week, month, quarter, year, or an integer range) from a while back to past the
premake horizon, labelled in that interval. A table whose interval cannot be told (LIST,
HASH, an irregular set) gets no strip but the reason and its partitions' bounds."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from ...core import text
from ...core.partitions import TableInfo

LEGEND = (("█", "green", "covered"), ("█", "red", "missing ahead"), ("█", "yellow", "gap"),
          ("█", "dodger_blue1", "default rows"), ("█", "grey42", "past retention"), ("·", "grey50", "no partition"))
CELL = 3            # two block characters and a space


def slot_cell(t: TableInfo, s: Any) -> tuple[str, str]:
    cov = t.coverage
    if (t.default_rows or {}).get(s):
        return "█", "dodger_blue1"
    p = t.partition_for_slot(s)
    if p is not None:
        return "█", "grey42" if p.name in cov.past_retention else "green"
    if s in cov.missing_ahead:
        return "█", "red"
    if any(s in g.slots for g in cov.gaps):
        return "█", "yellow"
    return "·", "grey50"


def _now_slot(t: TableInfo) -> Any:
    if t.now_slot is not None:
        return t.now_slot
    iv = t.interval
    lows = [p.lower for p in t.partitions if p.lower is not None]
    return iv.floor(max(lows)) if iv is not None and lows else None


def attention_without_status(t: TableInfo) -> list[str]:
    """What needs a DBA, minus what :func:`status_line` already says."""
    return [a for a in t.attention() if not (t.not_maintained and t.not_maintained in a)]


def status_line(t: TableInfo) -> Text:
    """interval · managed by pg_partman / not maintained: why."""
    out = Text()
    out.append(t.interval_text, style="bold")
    out.append(" ")
    if t.managed_by:
        out.append(f" · managed by {t.managed_by}", style="bold cyan")
    if t.not_maintained and t.managed_by and t.not_maintained.startswith("managed by"):
        out.append(" (left alone here; set take_over_partman to maintain it with its part_config)", style="cyan")
    elif t.not_maintained:
        out.append(" · not maintained: ", style="bold yellow")
        out.append_text(text.plain(t.not_maintained, "yellow"))
    return out


def strip(t: TableInfo, *, back: int | None = None, ahead: int | None = None, width: int = 120) -> Text:
    iv = t.interval
    now = _now_slot(t)
    if iv is None or now is None:
        out = Text("no coverage strip: ", style="dim")
        out.append_text(text.plain(t.not_maintained or t.interval_source or "the interval cannot be told", "yellow"))
        for p in list(t.partitions)[:8]:
            out.append("\n  ")
            out.append_text(text.plain(p.name, "bold"))
            out.append("  ")
            out.append_text(text.plain(t.bounds_text(p)))
        if len(t.partitions) > 8:
            out.append(f"\n  … {len(t.partitions) - 8} more", style="dim")
        return out
    lows = [p.lower for p in t.partitions if p.lower is not None]
    if back is None:
        first = iv.floor(min(lows)) if lows else now
        try:
            span = iv.between(first, now)
        except (TypeError, ValueError, OverflowError):
            span = 12
        back = min(24, max(1, span) if iv.unit == "int" else max(12, span))
    ahead = max(t.policy.premake + 2, 4) if ahead is None else ahead
    total = min(back + ahead + 1, max(8, width // CELL))
    back = min(back, total - ahead - 1) if total > ahead + 1 else back
    slots = [iv.add(now, k - back) for k in range(total)]
    cells, labels = Text(), Text(style="dim")
    free_from = 0
    for k, s in enumerate(slots):
        ch, style = slot_cell(t, s)
        if s == now:
            style += " underline bold"
        cells.append(ch * 2, style=style)
        cells.append(" ")
        col = k * CELL
        if col >= free_from:
            lab = t.slot_label(s).split(" … ")[0]
            pad = col - labels.cell_len
            if pad > 0:
                labels.append(" " * pad)
            labels.append(lab, style="bold" if s == now else "dim")
            free_from = labels.cell_len + 2
    legend = Text("  ").join(Text.assemble((c * 2, st), f" {w}") for c, st, w in LEGEND)
    foot = Text(f"one cell per {iv.unit if iv.unit != 'int' else f'{iv.step:,} ids'} · now = {t.slot_label(now)} "
                "(underlined)  ", style="dim")
    return Text("\n").join([labels, cells, foot + legend])
