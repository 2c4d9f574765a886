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
from . import executor, identity, reconcile as rec_mod, workflow
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

    def close(self) -> None:
        pass   # the backends belong to Services / the CLI
