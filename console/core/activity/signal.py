"""Cancel and terminate PostgreSQL sessions: ``pg_cancel_backend`` (ends the running query,
keeps the session) and ``pg_terminate_backend`` (ends the session).

:func:`plan_signal` builds the preview from an :class:`ActivitySample`: for each pid what
will run, the session's current query and its age, and whom it blocks; it refuses the
console's own sessions, server processes (``backend_type <> 'client backend'``) and
sessions of another database than the target's. :func:`run_signal` follows the
write-ahead audit (``audit.begin`` before each signal: refused in read-only mode, refused
when the intent cannot be written; ``audit.settle`` after), one record per session.

The statement that runs re-checks everything on the server in the same statement: the pid
must still be the same backend (``backend_start`` as previewed, so a reused pid is never
hit), a client backend of the target's database, not the console. It is exactly the SQL
the preview shows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

from ...backends.base import BackendError, ErrorKind
from ...backends.postgres import APPLICATION_NAME, PostgresBackend
from ...config import Settings
from .. import audit
from ..plan import Hazard, Plan, Step
from ..text import cut
from .model import ActivitySample, blocking_chain

CANCEL = audit.action("activity.cancel", "cancel the running query of a PostgreSQL session (pg_cancel_backend)")
TERMINATE = audit.action("activity.terminate", "terminate a PostgreSQL session (pg_terminate_backend)")
KINDS = {"cancel": (CANCEL, "pg_cancel_backend"), "terminate": (TERMINATE, "pg_terminate_backend")}
CONFIRM_S = 5.0


class SignalRefused(BackendError):
    def __init__(self, target: str, reasons: Sequence[tuple[int, str]]):
        self.reasons = tuple(reasons)
        text = "; ".join(f"pid {p}: {r}" for p, r in self.reasons) or "no session selected"
        super().__init__(target, ErrorKind.REFUSED, f"refused: {text}")


@dataclass(frozen=True)
class SignalSession:
    pid: int
    backend_start: datetime
    usename: str | None
    datname: str | None
    application_name: str | None
    client_addr: str | None
    state: str | None
    wait: str | None
    query: str | None
    duration_s: float | None
    xact_age_s: float | None
    blocks: tuple[int, ...]          # pids waiting on it, transitively
    sql: str


def signal_sql(kind: str, pid: int, backend_start: datetime) -> str:
    """The one statement that signals ``pid``, with the server-side re-checks. ``pid`` is an
    int and ``backend_start`` a datetime: nothing from a string reaches the text.

    >>> from datetime import timezone
    >>> print(signal_sql('cancel', 42, datetime(2024, 1, 2, 3, 4, 5, 6, timezone.utc)))
    SELECT pg_cancel_backend(pid) AS signalled, clock_timestamp() AS at
      FROM pg_stat_activity
     WHERE pid = 42 AND backend_start = '2024-01-02T03:04:05.000006+00:00'::timestamptz
       AND backend_type = 'client backend' AND datname = current_database()
       AND application_name IS DISTINCT FROM 'console' AND pid <> pg_backend_pid()
    """
    fn = KINDS[kind][1]
    if not isinstance(pid, int) or not isinstance(backend_start, datetime) or backend_start.tzinfo is None:
        raise ValueError("pid must be an int and backend_start an aware datetime")
    return (f"SELECT {fn}(pid) AS signalled, clock_timestamp() AS at\n"
            f"  FROM pg_stat_activity\n"
            f" WHERE pid = {int(pid)} AND backend_start = '{backend_start.isoformat()}'::timestamptz\n"
            f"   AND backend_type = 'client backend' AND datname = current_database()\n"
            f"   AND application_name IS DISTINCT FROM '{APPLICATION_NAME}' AND pid <> pg_backend_pid()")


@dataclass(frozen=True)
class SignalPlan(Plan):
    kind: str = "cancel"
    target: str = ""
    sessions: tuple[SignalSession, ...] = ()
    refused: tuple[tuple[int, str], ...] = field(default=(), compare=False)

    def text(self) -> str:
        out = [super().text()]
        for s in self.sessions:
            out.append(f"-- pid {s.pid}: {cut(s.usename, 40)}@{cut(s.datname, 40)} "
                       f"app {cut(s.application_name, 40) or '-'} from {cut(s.client_addr, 40) or 'local'}; "
                       f"{s.state or '?'}" + (f" for {s.duration_s:.1f}s" if s.duration_s is not None else "")
                       + (f"; waiting on {cut(s.wait, 40)}" if s.wait else ""))
            out.append(f"--   query: {cut(s.query, 200)}")
            if s.blocks:
                out.append(f"--   blocks {len(s.blocks)} session(s): {', '.join(map(str, s.blocks[:20]))}"
                           + (" …" if len(s.blocks) > 20 else ""))
        for pid, why in self.refused:
            out.append(f"-- refused pid {pid}: {why}")
        return "\n".join(out)


def refusal(sample: ActivitySample, pid: int) -> str | None:
    """Why ``pid`` may not be signalled from this target, or None."""
    row = sample.row(pid)
    if row is None:
        return "no such session on this server (it may have ended)"
    if row.console or pid == sample.self_pid:
        return "one of the console's own sessions"
    if not row.client:
        return f"a server process ({row.backend_type or 'unknown type'}), not a client session"
    if row.datname != sample.datname:
        return (f"connected to database {cut(row.datname, 60)!r}, not to this target's database "
                f"{cut(sample.datname, 60)!r} (act from a target on that database)")
    if row.backend_start is None:
        return "its backend_start is not visible to the console's role"
    return None


def plan_signal(sample: ActivitySample, pids: int | Sequence[int], kind: str) -> SignalPlan:
    """The preview of cancelling / terminating ``pids`` on ``sample.target``. Refused pids
    are listed in ``refused`` (with the reason) and get no step."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    act, fn = KINDS[kind]
    wanted = [pids] if isinstance(pids, int) else list(dict.fromkeys(pids))
    sessions, steps, refused = [], [], []
    for pid in wanted:
        why = refusal(sample, pid)
        if why:
            refused.append((pid, why))
            continue
        row = sample.row(pid)
        assert row is not None and row.backend_start is not None
        blocks = blocking_chain(sample.rows, pid).blocked_pids
        sql = signal_sql(kind, pid, row.backend_start)
        s = SignalSession(pid, row.backend_start, row.usename, row.datname, row.application_name, row.client_addr,
                          row.state, row.wait, row.query, row.duration_s, row.xact_age_s, blocks, sql)
        sessions.append(s)
        what = "cancel the running query of" if kind == "cancel" else "terminate"
        steps.append(Step(
            title=f"{what} pid {pid}" + (f" (blocks {len(blocks)})" if blocks else ""),
            sql=sql, hazard=Hazard.NONE if kind == "cancel" else Hazard.DESTRUCTIVE,
            target=sample.target, meta={"pid": pid}))
    noun = "session" if len(sessions) == 1 else "sessions"
    summary = (f"{kind} {len(sessions)} {noun} on {sample.target} ({fn})"
               + (f"; {len(refused)} refused" if refused else ""))
    return SignalPlan(act.name, summary, tuple(steps), kind=kind, target=sample.target,
                      sessions=tuple(sessions), refused=tuple(refused))


@dataclass
class SignalResult:
    pid: int
    kind: str
    ok: bool
    outcome: str                     # ok | failed | unknown (audit outcome)
    message: str
    confirmed: bool = False          # read back: the query (cancel) / the session (terminate) ended
    audit_id: int | None = None
    audit_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _ended(backend: PostgresBackend, kind: str, s: SignalSession, signal_at: datetime) -> bool:
    rows = backend.fetch("SELECT state, query_start FROM pg_stat_activity WHERE pid = %s AND backend_start = %s",
                         (s.pid, s.backend_start))
    if not rows:
        return True
    if kind == "terminate":
        return False
    r = rows[0]
    return r["state"] != "active" or (r["query_start"] is not None and r["query_start"] >= signal_at)


def confirm(backend: PostgresBackend, kind: str, s: SignalSession, signal_at: datetime,
            deadline_s: float = CONFIRM_S) -> bool:
    """Poll (never a fixed sleep) until the query / session ended or the deadline passed."""
    end = time.monotonic() + deadline_s
    pause = 0.02
    while True:
        if _ended(backend, kind, s, signal_at):
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.25)


def run_signal(settings: Settings, backend: PostgresBackend, plan: SignalPlan, *, actor: Any = None,
               audit_pg: PostgresBackend | None = None, confirm_s: float = CONFIRM_S) -> list[SignalResult]:
    """Signal every session of ``plan``: per session, the audit intent (on ``audit_pg``,
    default the target's own database) first, then the one statement, then the read-back
    and the settle. Raises ReadOnlyError / AuditUnavailable / IdentityRefused before the
    first signal when the action may not happen; an empty plan raises SignalRefused."""
    if not plan.sessions:
        raise SignalRefused(plan.target or backend.name, plan.refused)
    act = KINDS[plan.kind][0]
    results: list[SignalResult] = []
    for i, s in enumerate(plan.sessions):
        detail = {"pid": s.pid, "backend_start": s.backend_start.isoformat(), "usename": s.usename,
                  "datname": s.datname, "application_name": s.application_name, "state": s.state,
                  "duration_s": s.duration_s, "blocks": list(s.blocks), "query": cut(s.query, 500)}
        try:
            intent = audit.begin(settings, act, target=f"postgres:{backend.name}:pid:{s.pid}", principal=actor,
                                 plan=plan, detail=detail, audit_pg=audit_pg or backend)
        except audit.AuditUnavailable as exc:
            if i == 0:
                raise
            results.extend(SignalResult(r.pid, plan.kind, False, audit.REFUSED, exc.message)
                           for r in plan.sessions[i:])
            break
        try:
            with backend.connection() as conn:
                row = conn.execute(s.sql).fetchone()
        except BackendError as exc:
            outcome = audit.outcome_of(exc)
            audit.settle(intent, outcome, {"error": exc.message})
            results.append(SignalResult(s.pid, plan.kind, False, outcome, exc.message, False, intent.id,
                                        intent.settle_error))
            continue
        if row is None:
            msg = "the session ended or is no longer the one previewed (pid reused, database or role changed)"
            audit.settle(intent, audit.FAILED, {"error": msg})
            results.append(SignalResult(s.pid, plan.kind, False, audit.FAILED, msg, False, intent.id,
                                        intent.settle_error))
            continue
        if not row[0]:
            msg = "the server did not signal it (no permission: needs the same role, pg_signal_backend or superuser)"
            audit.settle(intent, audit.FAILED, {"error": msg})
            results.append(SignalResult(s.pid, plan.kind, False, audit.FAILED, msg, False, intent.id,
                                        intent.settle_error))
            continue
        ended = confirm(backend, plan.kind, s, row[1], confirm_s)
        what = "query cancelled" if plan.kind == "cancel" else "session terminated"
        msg = what if ended else f"signal sent; not ended after {confirm_s:g}s (read back)"
        audit.settle(intent, audit.OK, {"confirmed": ended, "message": msg})
        results.append(SignalResult(s.pid, plan.kind, True, audit.OK, msg, ended, intent.id, intent.settle_error))
    return results
