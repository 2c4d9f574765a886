"""One object the screen and the CLI use for the diff queue: the zengin PostgreSQL target,
DynamoDB and S3, and every core function bound to them. Snapshot tests replace it with a
fake of the same methods (tests/ui/fakes_diffs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from ...backends.dynamo import DynamoBackend
from ...backends.postgres import PostgresBackend
from ...backends.s3 import S3Backend
from ...config import Settings
from . import batch, batch_exec, executor, identity, live, queue as queue_mod, reconcile as rec_mod, workflow
from .records import DiffEntry, DiffRecord
from .validate import Validation
from .workflow import Outcome, Queue, Ref


@dataclass
class Detail:
    """A diff as the detail pane shows it: the item re-read by its full key, its
    validation, its row changes (a bulk diff's records from S3) and, once executed, its
    change_history row."""

    record: DiffRecord
    validation: Validation
    entries: tuple[DiffEntry, ...]
    history: dict[str, Any] | None = None


class DiffsService:
    def __init__(self, settings: Settings, pg: PostgresBackend | None, dynamo: DynamoBackend | None,
                 s3: S3Backend | None, *, clock: Callable[[], datetime] | None = None):
        self.settings = settings
        self.pg = pg
        self.dynamo = dynamo
        self.s3 = s3
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    @classmethod
    def from_settings(cls, settings: Settings, backends=None) -> "DiffsService":
        from ...backends.registry import Backends

        b = backends or Backends.from_settings(settings)
        pg = None
        if settings.zengin and settings.zengin.target in b.postgres:
            pg = b.postgres[settings.zengin.target]
        return cls(settings, pg, b.dynamo, b.s3)

    @property
    def configured(self) -> bool:
        return self.dynamo is not None and self.pg is not None

    @property
    def read_only(self) -> bool:
        return self.settings.read_only

    @property
    def forbid_self_execution(self) -> bool:
        return self.settings.zengin.forbid_self_execution if self.settings.zengin else True

    def now(self) -> datetime:
        return self.clock()

    def actor(self, explicit: str | None = None) -> str:
        return identity.resolve(self.settings, explicit)

    # ---- reading

    def queue(self) -> Queue:
        return workflow.load_queue(self.dynamo, self.now())

    def validate(self, rec: DiffRecord) -> Validation:
        return workflow.check(rec, self.s3)

    def detail(self, ref: Ref) -> Detail:
        rec = workflow.find(self.dynamo, ref)
        v = self.validate(rec)
        entries = v.entries if rec.is_bulk else ((rec.entry,) if rec.entry is not None else ())
        hist = None
        if rec.status in ("completed", "executing", "failed") and self.pg is not None:
            hist = executor.history_row(self.pg, rec)
        return Detail(rec, v, entries, hist)

    # ---- actions

    def approve(self, ref: Ref, actor: str) -> Outcome:
        return workflow.approve(self.settings, self.dynamo, self.s3, self.pg, ref, actor, now=self.now())

    def reject(self, ref: Ref, actor: str, reason: str) -> Outcome:
        return workflow.reject(self.settings, self.dynamo, self.s3, self.pg, ref, actor, reason, now=self.now())

    def dry_run(self, ref: Ref, actor: str = "") -> executor.DryRun:
        return executor.dry_run(self.settings, self.pg, self.dynamo, self.s3, ref, actor=actor, now=self.now())

    def execute(self, ref: Ref, actor: str, progress=None, lost_claim_is: str = "refused") -> Outcome:
        return executor.execute(self.settings, self.pg, self.dynamo, self.s3, ref, actor, now=self.now(),
                                progress=progress, lost_claim_is=lost_claim_is)

    def reconcile(self, actor: str, threshold: timedelta = rec_mod.THRESHOLD,
                  dry_run: bool = False) -> rec_mod.ReconcileReport:
        return rec_mod.reconcile(self.settings, self.pg, self.dynamo, actor=actor, now=self.now(),
                                 threshold=threshold, dry_run=dry_run)

    # ---- the whole queue and batches (core for the CLI and, later, the screen)

    def counts(self) -> dict[str, int]:
        """Items per tab from COUNT queries (no cap)."""
        return queue_mod.counts(self.dynamo, self.now())

    def tab(self, tab: str, limit: int | None = None) -> tuple[list[DiffRecord], bool]:
        """One tab newest first, up to ``limit`` (None: all), and whether more exist."""
        return queue_mod.tab_items(self.dynamo, tab, self.now(), limit=limit)

    def live_marks(self, recs: list[DiffRecord]) -> dict[tuple[str, str], live.Mark]:
        """STALE marks: each diff's recorded currentData against the live rows."""
        items = []
        for r in recs:
            v = self.validate(r)
            items.append((r, v.entries if r.is_bulk else ((r.entry,) if r.entry is not None else ())))
        return live.stale_marks(self.pg, items)

    def orphans(self, recs: list[DiffRecord], queued_deletions: set | None = None) -> dict[tuple[str, str], str]:
        """``{(id, timestamp): problem}`` for bank deletions that would orphan branches."""
        dels = [r for r in recs if r.diffType == "deletion" and r.entry is not None and r.entry.table == "banks"]
        if not dels or self.pg is None:
            return {}
        queued = queued_deletions if queued_deletions is not None else batch.queued_deletion_keys(self.dynamo)
        counts = live.orphans(self.pg, {r.entry.key[0] for r in dels}, queued)
        return {(r.id, r.timestamp): live.orphan_problem(r.entry.key[0], counts[r.entry.key[0]])
                for r in dels if counts.get(r.entry.key[0])}

    def plan(self, action: str, refs: list[Ref] | None, actor: str, allow_stale: bool = False) -> batch.BatchPlan:
        """What a batch would do (nothing written)."""
        recs, missing = batch.load(self.dynamo, refs, "pending" if action == "approve" else "approved")
        p = batch.plan(self.settings, self.pg, self.dynamo, self.s3, action, recs, actor=actor, now=self.now(),
                       allow_stale=allow_stale, queued_deletions=lambda: batch.queued_deletion_keys(self.dynamo))
        p.excluded = missing + p.excluded
        return p

    def reject_many(self, refs: list[Ref], actor: str, reason: str, *, progress=None) -> batch.BatchResult:
        return batch.reject_many(self.settings, self.pg, self.dynamo, refs, actor, reason, now=self.now(),
                                 progress=progress)

    def approve_many(self, refs: list[Ref] | None, actor: str, *, allow_stale: bool = False,
                     progress=None) -> batch.BatchResult:
        return batch.approve_many(self.settings, self.pg, self.dynamo, self.s3, refs, actor, now=self.now(),
                                  allow_stale=allow_stale, progress=progress)

    def execute_many(self, refs: list[Ref] | None, actor: str, *, progress=None,
                     lost_claim_is: str = "skipped") -> batch.BatchResult:
        return batch_exec.execute_many(self.settings, self.pg, self.dynamo, self.s3, refs, actor, now=self.now(),
                                       progress=progress, lost_claim_is=lost_claim_is)

    def reconcile_preview(self, threshold: timedelta = rec_mod.THRESHOLD) -> rec_mod.ReconcileReport:
        """What reconcile would do to each item in executing; nothing written."""
        return rec_mod.reconcile(self.settings, self.pg, self.dynamo, actor="preview", now=self.now(),
                                 threshold=threshold, dry_run=True)

    def close(self) -> None:
        pass   # the backends belong to Services / the CLI
