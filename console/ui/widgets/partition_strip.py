"""The month-by-month coverage strip of one partitioned table (a rich Text): one cell per
UTC month from a year back to past the premake horizon."""

from __future__ import annotations

from rich.text import Text

from ...core.partitions import TableInfo, add_months, month_label
from ...core.partitions.model import month_start, months_between, retention_cutoff

LEGEND = (("█", "green", "covered"), ("█", "red", "missing ahead"), ("█", "yellow", "gap"),
          ("█", "dodger_blue1", "default rows"), ("█", "grey42", "past retention"), ("·", "grey50", "no partition"))


def month_cell(t: TableInfo, m) -> tuple[str, str]:
    cov = t.coverage
    cutoff = retention_cutoff(t.now_month, t.policy.retention)
    if (t.default_rows or {}).get(m):
        return "█", "dodger_blue1"
    if m in cov.covered_months:
        p = t.partition_for_month(m)
        if p is not None and p.name in cov.past_retention:
            return "█", "grey42"
        return "█", "green"
    if m in cov.missing_ahead:
        return "█", "red"
    if any(m in g.months for g in cov.gaps) and (cutoff is None or month_start(add_months(m, 1)) > cutoff):
        return "█", "yellow"
    return "·", "grey50"


def strip(t: TableInfo, *, back: int | None = None, ahead: int | None = None) -> Text:
    if back is None:
        first_month = min((p.month for p in t.partitions if p.month), default=t.now_month)
        back = min(24, max(12, months_between(first_month, t.now_month)))
    ahead = max(t.policy.premake + 2, 4) if ahead is None else ahead
    first, out = add_months(t.now_month, -back), Text()
    years = Text()
    for k in range(back + ahead + 1):
        m = add_months(first, k)
        ch, style = month_cell(t, m)
        if m == t.now_month:
            style += " underline bold"
        out.append(ch * 2, style=style)
        out.append(" ")
        years.append((f"{m:%y}" if m.month == 1 or k == 0 else "  ") + " ", style="dim")
    months = Text(" ".join(f"{m:%m}" for m in (add_months(first, k) for k in range(back + ahead + 1))), style="dim")
    legend = Text("  ").join(Text.assemble((c * 2, s), f" {w}") for c, s, w in LEGEND)
    return Text("\n").join([years, months, out, Text(f"now = {month_label(t.now_month)} (UTC, underlined)  ",
                                                        style="dim") + legend])
