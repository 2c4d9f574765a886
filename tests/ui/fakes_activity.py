"""Fixed Activity samples for the snapshot tests: a port whose ``sample`` returns frozen
ActivitySample values (a blocking chain, idle sessions, a server process, the console's
own session), statements (present on one target, absent with the how-to on the other)
and replication samples with a WAL-rate history. The real source is tested against the
real PostgreSQL in tests/ui/test_activity_pilot.py and tests/integration."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from console.config import Settings
from console.core.activity import ActivitySample, Backend, SignalPlan, SignalResult
from console.core.activity.maintenance import MaintenanceSample, Progress, Slot
from console.core.activity.statements import Statement, StatementsSample, how_to_enable
from console.ui.services import Services

FIXED = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
START = FIXED - timedelta(hours=2)


def b(pid: int, user: str, app: str, state: str | None, query: str, *, db: str = "lambda", age: float = 0.4,
      xact: float | None = None, wait: tuple[str, str] | None = None, by: tuple[int, ...] = (),
      client: str | None = "10.0.4.21", kind: str = "client backend", console: bool = False) -> Backend:
    return Backend(pid, db if kind == "client backend" else None, user if kind == "client backend" else None,
                   app, client if kind == "client backend" else None, 51234 if client else None, kind, state,
                   wait[0] if wait else None, wait[1] if wait else None, START,
                   xact if xact is not None else (age if state and state != "idle" else None),
                   age if state else None, age, query, by, None, None, console)


def lambda_rows(extra: tuple[Backend, ...] = ()) -> tuple[Backend, ...]:
    return (
        b(4101, "app", "api", "idle in transaction", "UPDATE meta.sessions SET status = 'closed' WHERE request_id = $1",
          age=212.0, xact=212.0, wait=("Client", "ClientRead")),
        b(4120, "batch", "nightly-batch", "active",
          "UPDATE meta.sessions SET execution_count = execution_count + 1 WHERE request_id = $1",
          age=48.5, xact=50.1, wait=("Lock", "transactionid"), by=(4101,)),
        b(4133, "dba", "psql", "active", "ALTER TABLE meta.sessions ADD COLUMN note text", age=12.0,
          wait=("Lock", "relation"), by=(4120,), client="10.0.9.3"),
        b(4140, "app", "api", "active",
          "SELECT r.*, f.language_title FROM request_logs r JOIN functions f ON f.id = r.function_id "
          "WHERE r.created_at > now() - interval '1 day' ORDER BY r.created_at DESC LIMIT 500", age=3.2),
        b(4151, "app", "api", "idle", "COMMIT", age=30.0),
        b(4152, "app", "api", "idle", "SELECT 1", age=8.0),
        b(4160, "console", "console", "active", "SELECT … FROM pg_stat_activity", age=0.0, console=True,
          client=None),
        b(88, "", "", None, "", kind="autovacuum launcher", client=None),
        *extra,
    )


def zengin_rows() -> tuple[Backend, ...]:
    return (
        b(5201, "zengin", "zengin-sync", "active", "COPY banks FROM STDIN", db="zengin", age=75.0, xact=75.0),
        b(5202, "zengin", "zengin-api", "idle", "SELECT * FROM banks WHERE code = $1", db="zengin", age=2.0),
    )


def statements_sample(target: str, at: datetime, calls: int) -> StatementsSample:
    if target == "zengin":
        return StatementsSample(target, at, 180000, False, None, how_to=how_to_enable(False, False, "zengin"))
    rows = (Statement(10, 1, True, "app", calls, calls * 4.2, 4.2, calls * 10, calls * 30, calls // 5,
                      "SELECT * FROM request_logs WHERE function_id = $1 AND created_at > $2"),
            Statement(10, 2, True, "batch", calls // 10, calls * 9.0, 90.0, calls // 10, calls * 8, calls,
                      "UPDATE meta.sessions SET execution_count = execution_count + $1 WHERE request_id = $2"),
            Statement(11, 3, True, "dba", 3, 1500.0, 500.0, 0, 10, 4000, "VACUUM (ANALYZE) request_logs"))
    return StatementsSample(target, at, 180000, True, "1.11", rows, START)


def maintenance_sample(target: str, at: datetime, lsn: float, rate: float | None) -> MaintenanceSample:
    slots = (Slot("standby_1", "physical", None, True, 7001, False, "0/5000000", None, 48 * 1024 ** 2, "reserved",
                  None), Slot("old_cdc", "logical", "lambda", False, None, False, "0/1000000", "0/1000000",
                              3.2 * 1024 ** 3, "extended", None)) if target == "lambda" else ()
    progress = (Progress("VACUUM", 4170, "lambda", "scanning heap", "public.request_logs_y2026m11", 4100.0, 10000.0,
                         "blocks", 41.0, 95.0, "postgres", "autovacuum: VACUUM public.request_logs_y2026m11"),
                ) if target == "lambda" else ()
    return MaintenanceSample(target, at, 180000, False, "replica", lsn, None, slots, (), progress, rate, 3.0)


class FakeActivity:
    """Answers like console.ui.data.activity.LiveActivity: fixed samples; each call of
    ``maintenance`` moves the WAL position so the rate chart has a history."""

    can_signal = True

    def __init__(self, *, read_only: bool = False, extra: tuple[Backend, ...] = ()) -> None:
        self._read_only = read_only
        self.extra = extra
        self.calls: dict[str, int] = {}
        self.signalled: list[SignalPlan] = []

    @property
    def targets(self) -> list[str]:
        return ["lambda", "zengin"]

    @property
    def read_only(self) -> bool:
        return self._read_only

    def _n(self, key: str) -> int:
        self.calls[key] = self.calls.get(key, 0) + 1
        return self.calls[key]

    def sample(self, target: str) -> ActivitySample:
        self._n(f"act:{target}")
        rows = lambda_rows(self.extra) if target == "lambda" else zengin_rows()
        return ActivitySample(target, FIXED, 180000, target, 4160 if target == "lambda" else 5299, rows,
                              elapsed_ms=2.1)

    def statements(self, target: str) -> StatementsSample:
        n = self._n(f"stm:{target}")
        return statements_sample(target, FIXED + timedelta(seconds=10 * n), 1000 + 40 * n)

    def maintenance(self, target: str) -> MaintenanceSample:
        self._n(f"mnt:{target}")
        return maintenance_sample(target, FIXED, 1e9, None)

    def wal_history(self, target: str) -> list[tuple[datetime, float | None]]:
        return [(m.taken_at, m.wal_bytes_s) for m in wal_history(target)]

    def signal(self, plan: SignalPlan) -> list[SignalResult]:
        self.signalled.append(plan)
        return [SignalResult(s.pid, plan.kind, True, "ok", "query cancelled", True, 1) for s in plan.sessions]


def wal_history(target: str) -> list[MaintenanceSample]:
    """A fixed hour of WAL samples (one a minute), for the chart."""
    out = []
    for i in range(60):
        rate = (2.0 + (i % 12) / 3 + (6.0 if 30 <= i < 36 else 0.0)) * 1024 ** 2 / (1 if target == "lambda" else 4)
        out.append(maintenance_sample(target, FIXED - timedelta(minutes=59 - i), 1e9 + i * 1e8, rate))
    return out


def activity_services(port: FakeActivity | None = None, *, read_only: bool = False) -> Services:
    settings = Settings(environment="prod", refresh_interval_s=5.0, read_only=read_only)
    return Services(settings=settings, clock=lambda: 1000.0,
                    sources={"activity": port or FakeActivity(read_only=read_only)})
