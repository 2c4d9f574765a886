"""Fixed data for the Sessions screen snapshots: a fake of core.sessions.SessionsService.
The real paths it stands in for (SCAN + pipelines, HSCAN, caches, INFO, the pub/sub tail,
audited delete/expire) are tested against the real Redis and PostgreSQL in
tests/integration/test_sessions_*.py and tests/ui/test_sessions_pilot.py."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from console.config import RedisSettings, Settings
from console.core import sessions as core
from console.ui.services import Services

FIXED = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
NOTEBOOKS = ["notebooks/01_python_basics.ipynb", "notebooks/02_numpy_intro.ipynb",
             "notebooks/03_pandas_dataframes.ipynb", "notebooks/04_matplotlib.ipynb",
             "notebooks/05_scikit_learn.ipynb"]


def session_records(n: int = 24) -> list[core.SessionRecord]:
    out = []
    ttls = [240, 890, 1750, 3600, 7100, 14300, 28000, 45]
    for i in range(n):
        u = f"user_{i + 1:03d}"
        nb = NOTEBOOKS[i % len(NOTEBOOKS)]
        last = (FIXED - timedelta(minutes=3 * i + 1)).isoformat()
        out.append(core.SessionRecord(
            f"session:{u}", ttls[i % len(ttls)], 184 + (i * 7) % 40, "json", nb, last, f"ws-{i:012x}",
            f"cell_index={i % 17}, progress={round((i * 37 % 100) / 100, 2)}"))
    out.append(core.SessionRecord("session:user_041", 1800, 96, "text",
                                  summary="not JSON: {'current_notebook': notebooks/01"))
    out.append(core.SessionRecord("session:user_042", 1800, 80, "binary",
                                  summary="binary, 30 bytes: 80 04 95 20 70 69 63 6b 6c 65 64 20 62 79 20 61"))
    out.append(core.SessionRecord("session:user_043", None, 200, "json", NOTEBOOKS[0],
                                  (FIXED - timedelta(days=3)).isoformat()))
    out.append(core.SessionRecord("session:123", 3600, 120, "hash", NOTEBOOKS[1], FIXED.isoformat(),
                                  summary="hash, 2 fields"))
    return out


def info() -> core.ServerInfo:
    return core.ServerInfo(version="7.2.5", uptime_s=3 * 86400 + 4 * 3600, connected_clients=42,
                           blocked_clients=1, ops_per_sec=1234, used_memory=512 * 1024 * 1024,
                           maxmemory=2 * 1024 * 1024 * 1024, keyspace_hits=9000, keyspace_misses=1000,
                           evicted_keys=12, expired_keys=3456, total_commands=10_000_000,
                           keyspace={0: 1042}, notify_keyspace_events="xE")


def connections() -> core.ConnectionsReport:
    conns = [core.ConnectionRecord(f"ws-{i:012x}", f"user_{i + 1:03d}", FIXED.isoformat(), True,
                                   f'{{"user_id": "user_{i + 1:03d}", "last_activity": "{FIXED.isoformat()}"}}')
             for i in range(0, 20)]
    for u in ("user_044", "user_045", "user_046"):
        conns.insert(0, core.ConnectionRecord(f"ws-orphan-{u[-2:]}", u, (FIXED - timedelta(hours=5)).isoformat(),
                                              False, f'{{"user_id": "{u}"}}'))
    conns.append(core.ConnectionRecord("ws-binary", None, None, None, "binary 2 bytes"))
    return core.ConnectionsReport(conns, False, len(conns))


def caches() -> list[core.CacheRecord]:
    out = []
    for i, nb in enumerate(NOTEBOOKS):
        name = nb.split("/")[-1].removesuffix(".ipynb")
        fields = {"total_students": 20 + i, "avg_progress": round(0.5 + i / 20, 2),
                  "avg_cell_executions": 10 * i + 5, "error_rate": 0.02 * i}
        out.append(core.CacheRecord(f"class_summary:{name}", 60 + 45 * i, 180, "json", fields,
                                    ", ".join(f"{k}={v}" for k, v in fields.items())))
    return out


def tail_events() -> list:
    evs: list = [core.TailStatus("connected", FIXED, channels=(*core.CHANNELS, "__keyevent@0__:expired"))]
    seq = 0
    for i in range(14):
        ch = core.CHANNELS[0] if i % 3 else core.CHANNELS[i % 2 + 1]
        seq += 1
        evs.append(core.TailMessage(ch, f'{{"event_type": "cell_execution", "user_id": "user_{i:03d}", '
                                        f'"data": {{"cell_index": {i}}}}}', FIXED + timedelta(seconds=i), seq))
    down = FIXED + timedelta(seconds=20)
    evs.append(core.TailStatus("disconnected", down, error="Connection closed by server."))
    evs.append(core.TailStatus("reconnected", down + timedelta(seconds=4), since=down,
                               channels=(*core.CHANNELS, "__keyevent@0__:expired")))
    seq += 1
    evs.append(core.TailMessage("__keyevent@0__:expired", "session:user_019", down + timedelta(seconds=5), seq))
    seq += 1
    evs.append(core.TailMessage("error_events", '{"event_type": "execution_error", "user_id": "user_007", '
                                '"data": {"error_type": "NameError"}}', down + timedelta(seconds=6), seq))
    return evs


class FakeSessions:
    def __init__(self, *, read_only: bool = False, capped: bool = False, records=None, scan_cap: int = 200_000):
        self.read_only = read_only
        self.capped = capped
        self.records = records if records is not None else session_records()
        self.address = "redis://cache.internal:6379/0"
        self.redis_settings = RedisSettings(url=self.address, scan_cap=scan_cap)
        self.deleted: list[str] = []

    def info(self):
        return info()

    def scan(self, pattern, stop):
        recs = self.records
        half = len(recs) // 2
        yield core.ScanBatch(recs[:half], half, 17, False, estimate=1042, scan_calls=1, elapsed_s=0.1)
        yield core.ScanBatch(recs[half:], len(recs), 0 if not self.capped else 99, not self.capped,
                             capped=self.capped, estimate=1042, scan_calls=2, elapsed_s=0.2)

    def connections(self):
        return connections()

    def caches(self):
        return caches()

    def tail(self, stop, keyevents):
        yield from tail_events()

    def preview(self, key):
        r = next(r for r in self.records if r.key == key)
        return core.KeyPreview(key, True, "hash" if r.kind == "hash" else "string", r.ttl_s, r.size_bytes,
                               f"{r.kind}: notebook={r.notebook}; {r.summary}")

    def delete(self, key, actor):
        self.deleted.append(key)
        return core.ActionResult("sessions.delete", key, True, "deleted", 7)

    def expire(self, key, seconds, actor):
        return core.ActionResult("sessions.expire", key, True, f"TTL set to {seconds} s", 8)

    def actor(self):
        return "dba-jane"


def sessions_services(fake: FakeSessions | None = None, *, read_only: bool = False) -> Services:
    fake = fake or FakeSessions(read_only=read_only)
    settings = Settings(environment="prod", read_only=fake.read_only, refresh_interval_s=5.0)
    return Services(settings=settings, clock=lambda: 1000.0, sources={"sessions": fake})
