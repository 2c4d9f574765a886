"""A mutating action as data: a plan of steps a person can read before anything runs.

Core functions *build* plans (pure, testable without a server); the UI previews a plan,
asks, then runs it step by step with progress; the CLI prints it for ``--dry-run`` and runs
it with ``--yes``. Each step says what it does, the exact SQL (or API call), the lock or
condition it needs, and its hazard, so the preview is the truth of what will run."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Hazard(str, enum.Enum):
    NONE = "none"
    LOCK = "takes a lock"                  # e.g. ACCESS EXCLUSIVE / SHARE UPDATE EXCLUSIVE
    INDEX_BUILD = "builds an index"
    DATA_MOVE = "moves rows"
    DESTRUCTIVE = "destructive"            # drops data or objects: never selected by default


@dataclass(frozen=True)
class Step:
    title: str                              # one line a DBA reads first
    sql: str = ""                           # the exact statement(s), or "" for an API call
    call: str = ""                          # the API call when not SQL, e.g. "DynamoDB UpdateItem"
    lock: str = ""                          # e.g. "ACCESS EXCLUSIVE on public.request_logs"
    hazard: Hazard = Hazard.NONE
    transactional: bool = True              # False: must run outside a transaction (CONCURRENTLY)
    target: str = ""                        # backend name it runs against
    group: str = ""                         # steps of one group stop together on failure
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def destructive(self) -> bool:
        return self.hazard is Hazard.DESTRUCTIVE


@dataclass(frozen=True)
class Plan:
    action: str                             # core.audit action name
    summary: str
    steps: tuple[Step, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.steps)

    def text(self) -> str:
        """The plan as plain text (``--dry-run`` output and the preview's copyable form)."""
        out = [f"-- {self.summary}"]
        for i, s in enumerate(self.steps, 1):
            head = f"-- [{i}/{len(self.steps)}] {s.title}"
            notes = [n for n in (s.lock and f"lock: {s.lock}",
                                 s.hazard is not Hazard.NONE and f"hazard: {s.hazard.value}",
                                 not s.transactional and "runs outside a transaction") if n]
            if notes:
                head += f"  ({'; '.join(notes)})"
            out.append(head)
            out.append(s.sql.rstrip().rstrip(";") + ";" if s.sql else f"-- {s.call}")
        return "\n".join(out)


@dataclass
class StepResult:
    step: Step
    ok: bool
    message: str = ""
    rows: int | None = None
    attempts: int = 1
    elapsed_ms: float = 0.0
    skipped: bool = False
