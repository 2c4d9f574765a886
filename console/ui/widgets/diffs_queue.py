"""Pure helpers of the Diffs queue (no I/O, no Textual): the filter an approver types, the
rows' codes and names, the batch preview text, and the live PostgreSQL row next to the
recorded ``currentData`` with a STALE badge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from rich.text import Text

from ...core import text
from ...core.zengin.batch import BatchPlan
from ...core.zengin.live import Mark
from ...core.zengin.queue import Filter
from ...core.zengin.records import DiffEntry, DiffRecord
from ...core.zengin.validate import key_text

TYPES = ("addition", "update", "deletion", "bulk_update", "bulk_addition", "bulk_deletion")
SORTS = ("newest", "oldest", "code", "type")
FILTER_HELP = ("filter: code prefix or name text; type:addition|update|deletion|bulk; table:banks|branches; "
               "valid / invalid — Enter applies, Esc clears")


@dataclass(frozen=True)
class QueueFilter:
    """What ``/`` typed, as the core's :class:`Filter` plus the text shown back."""

    text: str
    filter: Filter

    @property
    def active(self) -> bool:
        return bool(self.text)


def parse_filter(raw: str) -> QueueFilter:
    """``0001 type:update invalid`` -> Filter(code="0001", types={"update"}, valid=False).
    A word of digits (and ``-``) is a code prefix; ``type:`` / ``table:`` / ``valid`` /
    ``invalid`` are what they say; every other word is part of the name searched."""
    code = table = None
    types: set[str] = set()
    valid: bool | None = None
    names: list[str] = []
    for word in raw.split():
        low = word.casefold()
        if low.startswith("type:"):
            want = low[5:]
            types |= {t for t in TYPES if t == want or (want == "bulk" and t.startswith("bulk"))
                      or t.startswith(want)} if want else set()
        elif low.startswith("table:"):
            table = "banks" if low[6:].startswith("bank") else "branches"
        elif low in ("valid", "valid:yes", "valid:true"):
            valid = True
        elif low in ("invalid", "valid:no", "valid:false"):
            valid = False
        elif word.replace("-", "").isdigit():
            code = word
        else:
            names.append(word)
    f = Filter(code=code, name=" ".join(names) or None, types=frozenset(types) or None, table=table, valid=valid)
    return QueueFilter(raw.strip(), f)


def codes(rec: DiffRecord) -> str:
    if rec.is_bulk:
        s = rec.dataSummary if isinstance(rec.dataSummary, dict) else {}
        return f"{s.get('totalRecords', '?')} records"
    e = rec.entry
    return key_text(e.key) if e is not None and e.key is not None else "?"


def names(rec: DiffRecord) -> str:
    if rec.is_bulk:
        s = rec.dataSummary if isinstance(rec.dataSummary, dict) else {}
        return f"+{s.get('additions', 0)} ~{s.get('updates', 0)} -{s.get('deletions', 0)}"
    return entry_name(rec.zenginData or rec.currentData)


def entry_name(side: Any) -> str:
    if not isinstance(side, Mapping):
        return ""
    if "branchCode" in side:
        return f"{side.get('bankName') or ''} {side.get('branchName') or ''}".strip()
    return str(side.get("bankName") or "")


def record_matches(e: DiffEntry, raw: str) -> bool:
    """A bulk diff's record against ``/`` text: ``type:`` words and code prefixes; other
    words search the name."""
    qf = parse_filter(raw).filter
    if qf.types and e.diffType not in qf.types:
        return False
    if qf.table and e.table != qf.table:
        return False
    if qf.code and not key_text(e.key).startswith(qf.code):
        return False
    if qf.name and qf.name.casefold() not in entry_name(e.zenginData or e.currentData).casefold():
        return False
    return True


# --------------------------------------------------------------------------- batch preview


KIND_TEXT = {"invalid": "invalid", "stale": "STALE (live row differs)", "self": "self-approved (four-eyes)",
             "orphan": "would orphan branches", "waits": "waits on a dependency", "refused": "refused"}


def plan_preview(plan: BatchPlan, *, limit: int = 60) -> str:
    """Totals per type and table, then every diff that will not go and why."""
    lines = [f"{plan.action}: {len(plan.items)} diff(s) will go, in dependency order"]
    totals = plan.totals()
    for table in sorted(totals):
        t = totals[table]
        lines.append(f"  {table}: " + ", ".join(f"{n} {k}(s)" for k, n in t.items() if n))
    bulk = sum(1 for i in plan.items if i.rec.is_bulk)
    if bulk:
        lines.append(f"  of which {bulk} bulk diff(s)")
    if plan.excluded:
        by = plan.excluded_by_kind()
        lines.append("")
        lines.append(f"will NOT go ({len(plan.excluded)}, excluded): "
                     + ", ".join(f"{n} {KIND_TEXT.get(k, k)}" for k, n in sorted(by.items())))
        for it in plan.excluded[:limit]:
            lines.append(f"  ✗ [{it.kind}] {it.reason or it.rec.id}")
        if len(plan.excluded) > limit:
            lines.append(f"  … {len(plan.excluded) - limit} more")
    return "\n".join(lines)


# --------------------------------------------------------------------------- live truth


def stale_badge(mark: Mark | None, *, bulk: bool = False) -> Text:
    """The line above the detail: STALE (and why) when the live rows differ from what the
    diff recorded, else that they match, or that they could not be read."""
    head = Text()
    if mark is None:
        head.append("live PostgreSQL row: not read", style="dim")
        return head
    if mark.stale:
        head.append(" STALE ", style="bold white on red")
        head.append(" the live row differs from what the diff recorded; approving needs a second confirmation",
                    style="bold red")
        for r in mark.reasons[:5]:
            head.append("\n  • ")
            head.append_text(text.plain(text.cut(r, 200), "red"))
    elif mark.reasons:
        for r in mark.reasons[:2]:
            head.append_text(text.plain(text.cut(r, 200), "yellow"))
    else:
        head.append("✓ live PostgreSQL " + ("rows match" if bulk else "row matches") + " the recorded currentData",
                    style="green")
    return head
