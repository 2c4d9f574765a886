"""Fixed data for the Diffs screen snapshots: a fake of core.zengin.service.DiffsService.
The real paths it stands in for (StatusIndex queue, consistent re-read, S3 bulk documents,
validation, approve / reject / dry run / execute / reconcile) are tested against real
PostgreSQL and moto in tests/integration/test_diffs_*.py."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from console.config import IdentitySettings, PostgresTarget, Settings, ZenginSettings
from console.core.zengin import executor
from console.core.zengin.batch import BatchPlan, BatchResult, Item, phase_of
from console.core.zengin.live import Mark
from console.core.zengin.reconcile import ReconcileReport, Settled
from console.core.zengin.records import DiffEntry, DiffRecord, iso_utc, summarize
from console.core.zengin.service import Detail
from console.core.zengin.validate import Validation, validate
from console.core.zengin.workflow import TABS, Outcome, Queue, Ref
from console.ui.services import Services

FIXED = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
TTL = int((FIXED + timedelta(days=80)).timestamp())


def _br(bank, bname, bkana, code, name, kana):
    return {"bankCode": bank, "bankName": bname, "bankKana": bkana, "branchCode": code, "branchName": name,
            "branchKana": kana}


def _upd(old, **new) -> DiffEntry:
    return DiffEntry("update", {**old, **new}, dict(old), {k: {"old": old.get(k), "new": v} for k, v in new.items()})


def _rec(n: int, entry: DiffEntry, status="pending", minutes=0, **kw) -> DiffRecord:
    return DiffRecord(id=f"diff-20261122-{n:06d}", timestamp=iso_utc(FIXED - timedelta(minutes=minutes)),
                      status=status, diffType=entry.diffType, zenginData=entry.zenginData,
                      currentData=entry.currentData, changes=entry.changes, ttl=kw.pop("ttl", TTL), **kw)


def bulk_entries(n: int = 450) -> list[DiffEntry]:
    out = []
    for i in range(n):
        old = _br("0005", "三菱ＵＦＪ", "ミツビシユ－エフジエイ", f"{i + 1:03d}"[-3:], f"第{i + 1}", f"ダイ{i + 1}")
        out.append(_upd(old, branchName=f"第{i + 1}支店", branchKana=f"ダイ{i + 1}シテン"))
    out.append(DiffEntry("addition", _br("0005", "三菱ＵＦＪ", "ミツビシユ－エフジエイ", "901", "デジタル支店",
                                         "デジタルシテン"), None, {"branchName": {"old": None, "new": "デジタル支店"}}))
    return out


def records() -> dict[str, DiffRecord]:
    tokyo = _br("0001", "みずほ", "ミズホ", "001", "東京営業部", "トウキヨウ")
    bulk = bulk_entries()
    s = summarize(bulk)
    r = {
        "update": _rec(3, _upd(tokyo, branchName="東京中央営業部", branchKana="トウキヨウチユウオウ"), minutes=1),
        "bank": _rec(2, _upd({"bankCode": "0009", "bankName": "三井住友", "bankKana": "ミツイスミトモ"},
                              bankName="三井住友銀行"), minutes=2),
        "add": _rec(4, DiffEntry("addition", _br("0001", "みずほ", "ミズホ", "700", "駅前", "エキマエ"), None,
                                  {"branchName": {"old": None, "new": "駅前"},
                                   "branchKana": {"old": None, "new": "エキマエ"}}),
                    minutes=0),
        "invalid": _rec(5, DiffEntry("addition", {"bankCode": "12345", "bankName": "デモ信用金庫",
                                                  "bankKana": "でもしんようきんこ"}, None,
                                     {"bankName": {"old": None, "new": "デモ信用金庫"},
                                      "bankKana": {"old": None, "new": "でもしんようきんこ"}}), minutes=3),
        "bulk": DiffRecord(id="diff-20261122-000001", timestamp=iso_utc(FIXED - timedelta(minutes=10)),
                           status="pending", diffType="bulk_update", ttl=TTL,
                           dataLocation="s3://demo-zengin-diff-data/diffs/diff-20261122-000001.json",
                           dataSize=231_337, dataSummary=s),
        "approved": _rec(6, _upd(_br("0005", "三菱ＵＦＪ", "ミツビシユ－エフジエイ", "010", "丸の内", "マルノウチ"),
                                 branchName="丸の内中央"), status="approved", minutes=20,
                         approvedBy="approver@example.com", approvedAt=iso_utc(FIXED - timedelta(minutes=15))),
        "completed": _rec(7, _upd(tokyo, branchKana="トウキヨウ２"), status="completed", minutes=60,
                          approvedBy="approver@example.com", executedBy="executor@example.com",
                          executedAt=iso_utc(FIXED - timedelta(minutes=50)),
                          executionResult={"success": True, "rowsAffected": 1, "executionTime": 42}),
        "failed": _rec(8, _upd(tokyo, branchName="東京"), status="failed", minutes=70,
                       approvedBy="approver@example.com", executedBy="executor@example.com",
                       executionResult={"success": False, "rowsAffected": 0, "executionTime": 12,
                                        "error": "stale: 1 row(s) no longer equal currentData: branches:0001-001"}),
        "rejected": _rec(9, _upd(tokyo, branchName="本店"), status="rejected", minutes=80,
                         rejectedBy="approver@example.com", rejectionReason="銀行名の変更は全銀協の公示を確認してから"),
        "expired": _rec(10, _upd(tokyo, branchName="旧東京"), minutes=60 * 24 * 91,
                        ttl=int((FIXED - timedelta(days=1)).timestamp())),
    }
    return r


class FakeDiffs:
    def __init__(self, *, read_only: bool = False):
        self.read_only = read_only
        self.forbid_self_execution = True
        self.recs = records()
        self.bulk = bulk_entries()
        self.calls: list[tuple] = []

    def now(self) -> datetime:
        return FIXED

    def actor(self, explicit=None) -> str:
        return "executor@example.com"

    def queue(self) -> Queue:
        tabs = {t: [] for t in TABS}
        for r in self.recs.values():
            tabs[r.display_status(FIXED)].append(r)
        for v in tabs.values():
            v.sort(key=lambda r: r.timestamp, reverse=True)
        return Queue(tabs, {t: False for t in TABS}, FIXED)

    def _find(self, ref: Ref) -> DiffRecord:
        return next(r for r in self.recs.values() if r.id == ref.id)

    def detail(self, ref: Ref) -> Detail:
        rec = self._find(ref)
        if rec.is_bulk:
            return Detail(rec, Validation(()), tuple(self.bulk))
        v = validate(rec)
        hist = None
        if rec.status == "completed":
            hist = {"id": 17, "table_name": "branches", "record_id": "0001-001", "rows_affected": 1,
                    "executed_by": "executor@example.com", "executed_at": "2026-11-22 08:40:00+00"}
        return Detail(rec, v, (rec.entry,) if rec.entry else (), hist)

    def dry_run(self, ref: Ref, actor: str = "") -> executor.DryRun:
        rec = self._find(ref)
        applied = executor.Applied(1, None, [executor.StatementResult("branch_update", "branches", "update", 1, 1)],
                                   1, [], 0, 3.0)
        plan = executor.build_plan(rec, (rec.entry,), actor, Settings(zengin=ZenginSettings()), applied, None)
        return executor.DryRun(ref, rec, plan, applied)

    def approve(self, ref: Ref, actor: str) -> Outcome:
        self.calls.append(("approve", ref.id, actor))
        return Outcome(ref, "diffs.approve", "ok", f"{ref.id}: approved by {actor}", 1)

    def reject(self, ref: Ref, actor: str, reason: str) -> Outcome:
        self.calls.append(("reject", ref.id, actor, reason))
        return Outcome(ref, "diffs.reject", "ok", f"{ref.id}: rejected by {actor}", 2)

    def execute(self, ref: Ref, actor: str, progress: Any = None, lost_claim_is: str = "refused") -> Outcome:
        self.calls.append(("execute", ref.id, actor))
        return Outcome(ref, "diffs.execute", "ok", f"{ref.id}: completed, 1 row(s)", 3)

    # ---- the whole queue and batches

    def counts(self) -> dict[str, int]:
        return {t: len(v) for t, v in self.queue().tabs.items()}

    def tab(self, tab: str, limit: int | None = None) -> tuple[list[DiffRecord], bool]:
        recs = self.queue().tabs.get(tab, [])
        if limit is not None and len(recs) > limit:
            return recs[:limit], True
        return list(recs), False

    # The planted stale diff: the live branch 0001-001 is 東京営業部出張所, the diff recorded 東京営業部.
    LIVE_TOKYO = _br("0001", "みずほ", "ミズホ", "001", "東京営業部出張所", "トウキヨウ")

    def live_marks(self, recs: list[DiffRecord]) -> dict[tuple[str, str], Mark]:
        out = {}
        for r in recs:
            e = r.entry
            if r.is_bulk or e is None:
                out[(r.id, r.timestamp)] = Mark()
            elif e.key == ("0001", "001"):
                out[(r.id, r.timestamp)] = Mark(True, ["branch 0001-001: live branchName='東京営業部出張所' differs "
                                                       "from the recorded branchName='東京営業部'"],
                                                {e.key: dict(self.LIVE_TOKYO)})
            else:
                out[(r.id, r.timestamp)] = Mark(False, [], {e.key: None if e.diffType == "addition"
                                                            else dict(e.currentData or {})})
        return out

    def orphans(self, recs: list[DiffRecord], queued_deletions: set | None = None) -> dict[tuple[str, str], str]:
        return {}

    def plan(self, action: str, refs: list[Ref] | None, actor: str, allow_stale: bool = False) -> BatchPlan:
        want = "pending" if action == "approve" else "approved"
        recs = [r for r in self.recs.values() if refs is None or any(x.id == r.id for x in refs)]
        marks = self.live_marks(recs)
        go, out = [], []
        for r in recs:
            entries = tuple(self.bulk) if r.is_bulk else ((r.entry,) if r.entry else ())
            it = Item(r, entries, phase_of(r, entries))
            if r.display_status(FIXED) != want:
                it.kind, it.reason = "refused", f"{r.id}: is {r.display_status(FIXED)}, only a {want} diff can be {action}d"
            elif validate(r).problems:
                it.kind, it.reason = "invalid", f"{r.id}: " + "; ".join(validate(r).problems)
            elif action == "approve" and marks[(r.id, r.timestamp)].stale and not allow_stale:
                it.kind, it.reason = "stale", f"{r.id}: " + "; ".join(marks[(r.id, r.timestamp)].reasons)
            elif action == "execute" and r.approvedBy == actor:
                it.kind, it.reason = "self", f"{r.id}: approved by {actor}; an approver may not execute"
            (go if it.kind == "go" else out).append(it)
        go.sort(key=lambda i: (i.phase, i.rec.timestamp))
        return BatchPlan(action, go, out)

    def approve_many(self, refs: list[Ref] | None, actor: str, *, allow_stale: bool = False,
                     progress: Any = None) -> BatchResult:
        self.calls.append(("approve_many", [r.id for r in refs or []], actor, allow_stale))
        p = self.plan("approve", refs, actor, allow_stale)
        outs = [Outcome(i.ref, "diffs.approve", "ok", f"{i.rec.id}: approved by {actor}", 1) for i in p.items]
        if progress:
            progress("approved", len(p.items), len(p.items))
        return BatchResult(p, outs + [Outcome(i.ref, "diffs.approve", "refused", i.reason) for i in p.excluded],
                           elapsed_ms=12)

    def reject_many(self, refs: list[Ref], actor: str, reason: str, *, progress: Any = None) -> BatchResult:
        self.calls.append(("reject_many", [r.id for r in refs], actor, reason))
        outs = [Outcome(r, "diffs.reject", "ok", f"{r.id}: rejected by {actor}", 2) for r in refs]
        if progress:
            progress("rejected", len(refs), len(refs))
        return BatchResult(BatchPlan("reject", [], []), outs, elapsed_ms=8)

    def execute_many(self, refs: list[Ref] | None, actor: str, *, progress: Any = None,
                     lost_claim_is: str = "skipped") -> BatchResult:
        self.calls.append(("execute_many", [r.id for r in refs or []], actor))
        p = self.plan("execute", refs, actor)
        outs = [Outcome(i.ref, "diffs.execute", "ok", f"{i.rec.id}: completed", 3) for i in p.items]
        if progress:
            progress("executed", len(p.items), len(p.items))
        return BatchResult(p, outs, elapsed_ms=30, batch_id="batch:fake")

    def reconcile_preview(self, threshold: Any = None) -> ReconcileReport:
        return ReconcileReport([Settled("diff-20261122-000011", "2026-11-22T08:00:00.000Z", "executing", "completed",
                                        "change_history row 41 exists: the change was applied")])

    def reconcile(self, actor: str, threshold: Any = None, dry_run: bool = False) -> ReconcileReport:
        self.calls.append(("reconcile", actor))
        return self.reconcile_preview()

    def close(self):
        pass


def diffs_services(fake: FakeDiffs | None = None, *, read_only: bool = False) -> Services:
    fake = fake or FakeDiffs(read_only=read_only)
    settings = Settings(environment="demo", read_only=read_only,
                        postgres=(PostgresTarget(name="zengin", system="zengin", dsn="postgresql://x@h/zengin"),),
                        zengin=ZenginSettings(env="demo"), operator="executor@example.com",
                        identity=IdentitySettings(allow_declared=True))
    return Services(settings=settings, clock=lambda: 1000.0, sources={"diffs": fake})
