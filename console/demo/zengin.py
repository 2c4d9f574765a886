"""The zengin part of the demo: the DynamoDB table and S3 bucket as seed 003 describes them,
the PostgreSQL master loaded from the real ``zengin-code`` data, and a queue of diffs
computed by the real generator against a deterministic changed copy of that data, plus a
few planted diffs the review screen must handle (approved, stale, invalid, rejected,
expired, and a bank deletion that would orphan its branches). The generated deletions
(branches, then their banks) execute in dependency order as one batch."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Mapping

from psycopg import sql

from ..backends.dynamo import DynamoBackend
from ..backends.postgres import PostgresBackend
from ..backends.s3 import S3Backend
from ..core.zengin import bootstrap
from ..core.zengin import generator as gen
from ..core.zengin.records import DiffEntry, DiffRecord, iso_utc, ttl_for

APPROVER = "approver@example.com"


# --------------------------------------------------------------------------- AWS side


def create_table_and_bucket(dynamo: DynamoBackend, s3: S3Backend) -> None:
    """Seed 003's table and bucket, through the same code as ``console zengin init``.
    Idempotent."""
    bootstrap.ensure(dynamo, s3)


# --------------------------------------------------------------------------- PostgreSQL master


def seed_master(pg: PostgresBackend, source: gen.Source, now: datetime) -> dict[str, int]:
    """Replace ``banks`` / ``branches`` with ``source`` in one transaction (COPY)."""
    banks = [(code, b["name"], b.get("kana"), now, now) for code, b in sorted(source.items())]
    branches = [(code, bcode, br["name"], br.get("kana"), now, now)
                for code, b in sorted(source.items()) for bcode, br in sorted((b.get("branches") or {}).items())]
    with pg.connect(statement_timeout_ms=0) as conn:
        with conn.transaction():
            conn.execute(sql.SQL("TRUNCATE {}, {}").format(gen.BRANCHES, gen.BANKS))
            with conn.cursor() as cur:
                with cur.copy(sql.SQL("COPY {} (bank_code, bank_name, bank_kana, created_at, updated_at) "
                                      "FROM STDIN").format(gen.BANKS)) as cp:
                    for bank in banks:
                        cp.write_row(bank)
                with cur.copy(sql.SQL("COPY {} (bank_code, branch_code, branch_name, branch_kana, created_at, "
                                      "updated_at) FROM STDIN").format(gen.BRANCHES)) as cp:
                    for row in branches:
                        cp.write_row(row)
        conn.execute(sql.SQL("ANALYZE {}, {}").format(gen.BANKS, gen.BRANCHES))
    return {"banks": len(banks), "branches": len(branches)}


# --------------------------------------------------------------------------- the changed copy

NEW_BANK_NAMES = [("ひかりみらい", "ヒカリミライ"), ("さくら中央", "サクラチユウオウ")]
NEW_BRANCH_NAMES = [("駅前", "エキマエ"), ("市役所前", "シヤクシヨマエ"), ("北口", "キタグチ"),
                    ("みなと町", "ミナトマチ"), ("新都心", "シントシン"), ("大学前", "ダイガクマエ")]
ADDED_BANKS = [("デモネット", "デモネツト"), ("みらいデジタル", "ミライデジタル")]
ADDED_BANK_BRANCHES = [("001", "本店", "ホンテン"), ("101", "第一営業部", "ダイイチエイギヨウブ")]
NEW_BULK_BRANCHES = [("デジタル第一支店", "デジタルダイイチシテン"), ("デジタル第二支店", "デジタルダイニシテン"),
                     ("デジタル第三支店", "デジタルダイサンシテン")]
BULK_MIN_BRANCHES = 1100       # ~500 bytes per branch update: comfortably over 400 KB
BRANCH_SUFFIXES = ("支店", "営業部", "出張所", "支所")


@dataclass(frozen=True)
class ChangedSource:
    """The changed copy, and the banks whose mass branch changes form the bulk diff."""

    source: dict[str, Any]
    bulk_banks: tuple[str, ...]


def _free_code(rng: random.Random, used: set[str], width: int, lo: int, hi: int) -> str:
    while True:
        code = f"{rng.randrange(lo, hi):0{width}d}"
        if code not in used:
            used.add(code)
            return code


def changed_copy(source: gen.Source, seed: int = 1) -> ChangedSource:
    """A deterministic changed copy of ``source``: banks renamed (name and kana), branches
    renamed, one branch's kana corrected, banks and branches added and deleted, and in a
    few big banks every branch renamed to the ``…支店`` / ``…シテン`` form (the bulk)."""
    rng = random.Random(f"{seed}:zengin")
    out: dict[str, Any] = copy.deepcopy(dict(source))
    codes = sorted(out)

    # The bulk: the largest banks (a random pick among the top ten) until enough branches.
    big = sorted(codes, key=lambda c: (-len(out[c].get("branches") or {}), c))[:10]
    rng.shuffle(big)
    bulk: list[str] = []
    total = 0
    for code in big:
        if total >= BULK_MIN_BRANCHES:
            break
        bulk.append(code)
        branches = out[code]["branches"]
        for bcode in sorted(branches):
            br = branches[bcode]
            if not br["name"].endswith(BRANCH_SUFFIXES):
                br["name"] += "支店"
                br["kana"] = (br.get("kana") or "") + "シテン"
                total += 1
    first = out[bulk[0]]["branches"]
    original = set(first)
    for bcode in sorted(original)[-2:]:     # two branches closed ...
        del first[bcode]
    for name, kana in NEW_BULK_BRANCHES:   # ... three opened (never under a closed code)
        bcode = _free_code(rng, original, 3, 500, 999)
        first[bcode] = {"code": bcode, "name": name, "kana": kana, "hira": "", "roma": ""}

    others = [c for c in codes if c not in bulk and (out[c].get("branches") or {})]
    rng.shuffle(others)
    with_branches = [c for c in others if len(out[c]["branches"]) >= 3]
    singles = [c for c in others if len(out[c]["branches"]) == 1]

    for code, (name, kana) in zip(with_branches[:2], NEW_BANK_NAMES):           # bank renames
        out[code]["name"], out[code]["kana"] = name, kana
    for code, (name, kana) in zip(with_branches[2:6], NEW_BRANCH_NAMES):        # branch renames
        bcode = sorted(out[code]["branches"])[rng.randrange(len(out[code]["branches"]))]
        out[code]["branches"][bcode].update(name=name, kana=kana)
    fixed = out[with_branches[6]]["branches"]                                    # a kana fix
    fixed_branch = fixed[min(fixed)]
    fixed_branch["kana"] = (fixed_branch.get("kana") or "") + "チユウオウ"
    used_banks = set(out)
    for name, kana in ADDED_BANKS:                                                # new banks
        code = _free_code(rng, used_banks, 4, 600, 1000)
        out[code] = {"code": code, "name": name, "kana": kana, "hira": "", "roma": "",
                     "branches": {b: {"code": b, "name": n, "kana": k, "hira": "", "roma": ""}
                                  for b, n, k in ADDED_BANK_BRANCHES}}
    for code, (name, kana) in zip(with_branches[7:10], NEW_BRANCH_NAMES[3:]):  # new branches
        bcode = _free_code(rng, set(out[code]["branches"]), 3, 700, 999)
        out[code]["branches"][bcode] = {"code": bcode, "name": name, "kana": kana, "hira": "", "roma": ""}
    for code in singles[:2]:                                                      # closed banks
        del out[code]
    for code in with_branches[10:13]:                                             # closed branches
        del out[code]["branches"][sorted(out[code]["branches"])[-1]]
    return ChangedSource(out, tuple(bulk))


# --------------------------------------------------------------------------- the queue


@dataclass
class DemoDiffs:
    pending: list[str] = field(default_factory=list)
    bulk: str | None = None
    approved: str | None = None
    stale: str | None = None
    invalid: str | None = None
    rejected: str | None = None
    expired: str | None = None
    orphan: str | None = None          # a bank deletion with no deletion queued for its branches
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def all_ids(self) -> list[str]:
        planted = [self.bulk, self.approved, self.stale, self.invalid, self.rejected, self.expired, self.orphan]
        return self.pending + [i for i in planted if i]


def _plant(dynamo: DynamoBackend, when: datetime, entry: DiffEntry, kind: str, **fields_: Any) -> str:
    def make(rid: str):
        rec = DiffRecord(id=rid, timestamp=iso_utc(when), status="pending", diffType=entry.diffType,
                         zenginData=entry.zenginData, currentData=entry.currentData, changes=entry.changes,
                         metadata={"source": "demo", "demo": kind}, ttl=ttl_for(when))
        return replace(rec, **fields_), None, None
    record, _ = gen.write_record(dynamo, gen.IdAllocator(dynamo, when), make)
    return record.id


def _update(old: Mapping[str, Any], **new: Any) -> DiffEntry:
    zengin = {**old, **new}
    return DiffEntry("update", zengin, dict(old), {k: {"old": old.get(k), "new": v} for k, v in new.items()})


def queue_demo_diffs(pg: PostgresBackend, dynamo: DynamoBackend, s3: S3Backend, changed: ChangedSource,
                     now: datetime, *, source_version: str = "", threshold_bytes: int = 400 * 1024) -> DemoDiffs:
    """Compare ``changed`` with the master in ``pg`` and queue the result: the bulk
    banks' branch changes as one bulk_update diff (S3), every other change as its own
    pending diff (one of them already approved), then the planted stale, invalid,
    rejected and expired diffs."""
    master = gen.read_master(pg)
    entries = gen.compare(gen.master_from_source(changed.source), master)
    in_bulk: list[DiffEntry] = []
    single: list[DiffEntry] = []
    for e in entries:
        (in_bulk if e.table == "branches" and e.key and e.key[0] in changed.bulk_banks else single).append(e)
    approved_entry = next(e for e in single if e.diffType == "update" and e.table == "branches")
    single.remove(approved_entry)
    meta = {"source": "zengin-code", "sourceVersion": source_version, "processingNode": "demo"}
    out = DemoDiffs()

    bulk_plan = gen.plan_diffs(in_bulk, now=now, threshold_bytes=threshold_bytes, metadata=meta)
    single_plan = gen.plan_diffs(single, now=now + timedelta(seconds=1), threshold_bytes=threshold_bytes,
                                 metadata=meta)
    if not bulk_plan.bulk or single_plan.bulk:
        raise RuntimeError(f"demo diffs: expected one bulk ({bulk_plan.size_bytes} bytes) and single diffs "
                           f"({single_plan.size_bytes} bytes) around the {threshold_bytes}-byte threshold")
    res = gen.write_plan(dynamo, s3, bulk_plan)
    out.bulk = res.ids[0]
    out.pending = gen.write_plan(dynamo, s3, single_plan).ids
    out.summary = {"bulk": bulk_plan.summary, "single": single_plan.summary}

    approved_at = now + timedelta(seconds=2)
    out.approved = _plant(dynamo, approved_at, approved_entry, "approved", status="approved",
                          approvedBy=APPROVER, approvedAt=iso_utc(approved_at), updatedAt=iso_utc(approved_at),
                          metadata=meta)

    # Stale: computed yesterday against a branch name PostgreSQL no longer has.
    changed_keys = {e.key for e in entries}
    key = next(k for k in sorted(master.branches) if k not in changed_keys and k[0] not in changed.bulk_banks)
    row = master.branches[key]
    yesterday = {**row, "branchName": row["branchName"] + "出張所",
                 "branchKana": (row["branchKana"] or "") + "シユツチヨウジヨ"}
    out.stale = _plant(dynamo, now - timedelta(hours=26), _update(yesterday, branchName=row["branchName"] + "中央",
                                                                   branchKana=(row["branchKana"] or "") + "チユウオウ"),
                       "stale")

    # Invalid: a five-digit bank code and hiragana kana.
    bad = {"bankCode": "12345", "bankName": "デモ信用金庫", "bankKana": "でもしんようきんこ"}
    invalid = DiffEntry("addition", bad, None, {k: {"old": None, "new": bad[k]} for k in ("bankName", "bankKana")})
    out.invalid = _plant(dynamo, now + timedelta(seconds=3), invalid, "invalid")

    # Rejected: a bank rename nobody wanted.
    touched_banks = {e.key[0] for e in entries if e.key}
    bank = master.banks[min(k for k in master.banks if k not in touched_banks)]
    rejected_at = now - timedelta(hours=3)
    out.rejected = _plant(dynamo, rejected_at - timedelta(hours=1),
                          _update(bank, bankName=bank["bankName"] + "ホールディングス"), "rejected",
                          status="rejected", rejectedBy=APPROVER, updatedAt=iso_utc(rejected_at),
                          rejectionReason="銀行名の変更は全銀協の公示を確認してから")

    # Orphan: a bank closed in the source feed before its branches were; the console flags
    # it (list, detail, approval) with the number of branches it would orphan.
    untouched = sorted(k for k in master.banks if k not in touched_banks and k != bank["bankCode"]
                       and sum(1 for b in master.branches if b[0] == k) >= 2)
    closing = master.banks[untouched[len(untouched) // 2]]
    out.orphan = _plant(dynamo, now + timedelta(seconds=4),
                        DiffEntry("deletion", dict(closing), dict(closing),
                                  {k: {"old": closing[k], "new": None} for k in ("bankName", "bankKana")}),
                        "orphan", metadata=meta)

    # Expired: pending for more than 90 days; DynamoDB has not deleted it yet.
    old_row = master.branches[max(k for k in master.branches if k not in changed_keys)]
    out.expired = _plant(dynamo, now - timedelta(days=91),
                         _update(old_row, branchName="旧" + old_row["branchName"]), "expired")
    return out


def fill_zengin(pg: PostgresBackend, dynamo: DynamoBackend, s3: S3Backend, now: datetime, *,
                seed: int = 1, threshold_bytes: int = 400 * 1024) -> DemoDiffs:
    """The whole zengin demo: table and bucket, the master from ``zengin-code``, and the
    diff queue against its changed copy."""
    create_table_and_bucket(dynamo, s3)
    source, version = gen.load_zengin_code()
    seed_master(pg, source, now)
    return queue_demo_diffs(pg, dynamo, s3, changed_copy(source, seed), now, source_version=version,
                            threshold_bytes=threshold_bytes)
