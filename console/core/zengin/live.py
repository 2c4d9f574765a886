"""The truth before approval: the live PostgreSQL rows a set of diffs would touch.

* :func:`live_rows` reads the current banks / branches rows for many keys in two queries;
* :func:`stale_marks` compares them with each diff's recorded ``currentData`` and marks a
  diff STALE where they differ (an update or deletion whose row changed or vanished, an
  addition whose row already exists with other values);
* :func:`orphans` counts, for every bank deletion, the live branches of that bank that no
  deletion in the queue removes — the branches it would orphan (the foreign key refuses
  such a deletion at execution).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from psycopg import sql

from ...backends.postgres import PostgresBackend
from .generator import BANKS, BRANCHES
from .records import BANK_COMPARED, BRANCH_COMPARED, DiffEntry, DiffRecord
from .validate import key_text

Key = tuple[str, "str | None"]


def live_rows(pg: PostgresBackend, keys: Iterable[Key]) -> dict[Key, dict[str, Any] | None]:
    """``{key: row payload or None}`` for bank keys ``(bank, None)`` and branch keys."""
    keys = set(keys)
    banks = sorted({k[0] for k in keys if k[1] is None})
    branches = sorted(k for k in keys if k[1] is not None)
    out: dict[Key, dict[str, Any] | None] = {k: None for k in keys}
    if banks:
        for r in pg.fetch(sql.SQL("SELECT bank_code, bank_name, bank_kana FROM {} WHERE bank_code = ANY(%s)")
                          .format(BANKS), (banks,)):
            code = r["bank_code"].strip()
            out[(code, None)] = {"bankCode": code, "bankName": r["bank_name"], "bankKana": r["bank_kana"]}
    if branches:
        for r in pg.fetch(sql.SQL(
                "SELECT b.bank_code, b.branch_code, b.branch_name, b.branch_kana, k.bank_name, k.bank_kana "
                "FROM {} b JOIN unnest(%s::text[], %s::text[]) AS w(bank, branch) "
                "ON b.bank_code = w.bank AND b.branch_code = w.branch "
                "LEFT JOIN {} k ON k.bank_code = b.bank_code").format(BRANCHES, BANKS),
                ([k[0] for k in branches], [k[1] for k in branches])):
            code, bcode = r["bank_code"].strip(), r["branch_code"].strip()
            out[(code, bcode)] = {"bankCode": code, "bankName": r["bank_name"], "bankKana": r["bank_kana"],
                                  "branchCode": bcode, "branchName": r["branch_name"],
                                  "branchKana": r["branch_kana"]}
    return out


@dataclass
class Mark:
    """A diff's standing against the live database."""

    stale: bool = False
    reasons: list[str] = field(default_factory=list)
    live: dict[Key, dict[str, Any] | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"stale": self.stale, "reasons": self.reasons,
                "live": {key_text(k): v for k, v in self.live.items()}}


def _compared(e: DiffEntry) -> tuple[str, ...]:
    return BRANCH_COMPARED if e.table == "branches" else BANK_COMPARED


def entry_stale(e: DiffEntry, live: Mapping[Key, dict[str, Any] | None]) -> str | None:
    """Why this row change no longer fits the live row, or None."""
    key = e.key
    if key is None:
        return None
    row = live.get(key)
    where = f"{e.table[:-1] if e.table == 'banks' else 'branch'} {key_text(key)}"
    if e.diffType == "addition":
        if row is not None and any(row.get(f) != (e.zenginData or {}).get(f) for f in _compared(e)):
            return f"{where} already exists with other values (live {_vals(row, e)})"
        return None
    if row is None:
        return f"{where} no longer exists"
    if e.currentData:
        diff = [f for f in _compared(e) if row.get(f) != e.currentData.get(f)]
        if diff:
            return (f"{where}: live " + ", ".join(f"{f}={row.get(f)!r}" for f in diff)
                    + " differs from the recorded " + ", ".join(f"{f}={e.currentData.get(f)!r}" for f in diff))
    return None


def _vals(row: Mapping[str, Any], e: DiffEntry) -> str:
    return ", ".join(f"{f}={row.get(f)!r}" for f in _compared(e))


def stale_marks(pg: PostgresBackend, items: Iterable[tuple[DiffRecord, tuple[DiffEntry, ...]]]
                ) -> dict[tuple[str, str], Mark]:
    """``{(id, timestamp): Mark}`` for diffs and their row changes (a bulk diff's records
    included), from two queries however many diffs there are."""
    items = list(items)
    keys = {e.key for _, entries in items for e in entries if e.key is not None}
    live = live_rows(pg, keys)
    out: dict[tuple[str, str], Mark] = {}
    for rec, entries in items:
        m = Mark(live={e.key: live.get(e.key) for e in entries[:20] if e.key is not None})
        for e in entries:
            why = entry_stale(e, live)
            if why:
                m.stale = True
                if len(m.reasons) < 10:
                    m.reasons.append(why)
        out[(rec.id, rec.timestamp)] = m
    return out


def live_branch_counts(pg: PostgresBackend, banks: Iterable[str]) -> dict[str, set[str]]:
    """``{bank: {branch codes}}`` of the live branches of these banks."""
    banks = sorted(set(banks))
    out: dict[str, set[str]] = {b: set() for b in banks}
    if banks:
        for r in pg.fetch(sql.SQL("SELECT bank_code, branch_code FROM {} WHERE bank_code = ANY(%s)")
                          .format(BRANCHES), (banks,)):
            out[r["bank_code"].strip()].add(r["branch_code"].strip())
    return out


def orphans(pg: PostgresBackend, bank_deletions: Iterable[str], deleted_branches: Iterable[Key]) -> dict[str, int]:
    """``{bank: n}``: live branches of each deleted bank that no branch deletion removes."""
    live = live_branch_counts(pg, bank_deletions)
    gone: dict[str, set[str]] = {}
    for k in deleted_branches:
        if k[1] is not None:
            gone.setdefault(k[0], set()).add(k[1])
    return {b: len(codes - gone.get(b, set())) for b, codes in live.items()}


def orphan_problem(bank: str, n: int) -> str:
    return (f"deleting bank {bank} would orphan {n} branch(es): no deletion for them is in the queue "
            "(the foreign key refuses the deletion while they exist)")
