"""Seed 004, Redis: sessions, connections, caches, and a publisher on the channels."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone


from ...core.sessions import CONNECTIONS_KEY
from .helpers import (weighted, dumps)
from .learning import (LEARNERS, NOTEBOOKS)


# --------------------------------------------------------------------------- Redis (seed 004)

SESSION_TTLS = (5 * 60, 15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600)


@dataclass
class RedisReport:
    sessions: list[str] = field(default_factory=list)
    unparsable: list[str] = field(default_factory=list)
    without_ttl: list[str] = field(default_factory=list)
    wrong_type: list[str] = field(default_factory=list)
    connections: int = 0
    orphan_connections: list[str] = field(default_factory=list)   # user has no session
    class_summaries: list[str] = field(default_factory=list)


def fill_redis(client, now: datetime, seed: int = 1) -> RedisReport:
    """Seed 004's Redis keys.

    - ``session:<user_id>``: JSON string with a TTL (SETEX), e.g.
      ``{"user_id", "current_notebook", "last_activity", "connection_id", "cell_index",
      "progress"}``; two hold unparsable text; one has no TTL; ``session:123`` is a hash,
      as seed 004's pipeline example writes it (HSET), where every other session is a string.
    - ``websocket_connections``: hash ``connection_id -> {"user_id", "last_activity"}``
      (seed 004 writes user_id and last_activity under the same field, the second HSET
      overwriting the first, so both go in one JSON value; two entries keep the seed's plain
      user id). Some connections belong to users without a session; some sessions have no
      connection.
    - ``class_summary:<notebook>``: ``{"total_students", "avg_progress", ...}`` for 60-300 s.
    """
    rng = random.Random(f"{seed}:redis")
    report = RedisReport()
    pipe = client.pipeline(transaction=False)
    active = [u for u in LEARNERS if rng.random() < 0.7]
    conn_of: dict[str, str] = {}
    for u in active:
        nb, title, cells = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))]
        last = now - timedelta(seconds=rng.randrange(1, 3600))
        cid = f"ws-{rng.getrandbits(48):012x}"
        conn_of[u] = cid
        value = {"user_id": u, "current_notebook": nb, "last_activity": last.isoformat(),
                 "connection_id": cid, "cell_index": rng.randrange(cells), "progress": round(rng.random(), 2)}
        pipe.set(f"session:{u}", dumps(value), ex=rng.choice(SESSION_TTLS) + rng.randrange(60))
        report.sessions.append(f"session:{u}")
    for key, raw in (("session:user_041", "{'current_notebook': notebooks/01"),
                     ("session:user_042", b"\x80\x04\x95 pickled by an old worker")):
        pipe.set(key, raw, ex=1800)
        report.unparsable.append(key)
    pipe.set("session:user_043", dumps({"user_id": "user_043", "current_notebook": NOTEBOOKS[0][0],
                                        "last_activity": (now - timedelta(days=3)).isoformat()}))
    report.without_ttl.append("session:user_043")
    pipe.hset("session:123", mapping={"last_activity": now.isoformat(), "current_notebook": NOTEBOOKS[1][0]})
    pipe.expire("session:123", 3600)
    report.wrong_type.append("session:123")

    # Connections: most sessions have one; a few sessions lost theirs; a few connections
    # outlived their session.
    for u, cid in conn_of.items():
        if rng.random() < 0.85:
            # The first two as seed 004 writes them: the plain user id.
            plain = report.connections < 2
            pipe.hset(CONNECTIONS_KEY, cid,
                      u if plain else dumps({"user_id": u, "last_activity": now.isoformat()}))
            report.connections += 1
    for u in ("user_044", "user_045", "user_046"):
        cid = f"ws-{rng.getrandbits(48):012x}"
        pipe.hset(CONNECTIONS_KEY, cid,
                  dumps({"user_id": u, "last_activity": (now - timedelta(hours=5)).isoformat()}))
        report.connections += 1
        report.orphan_connections.append(cid)
    for path, _title, _cells in NOTEBOOKS[:6]:
        key = f"class_summary:{path.split('/')[-1].removesuffix('.ipynb')}"
        pipe.set(key, dumps({
            "total_students": rng.randrange(15, 41), "avg_progress": round(rng.random(), 2),
            "avg_cell_executions": rng.randrange(5, 80), "error_rate": round(rng.random() * 0.2, 3),
            "computed_at": now.isoformat()}), ex=rng.randrange(60, 301))
        report.class_summaries.append(key)
    pipe.execute()
    return report


PY_ERRORS = [("NameError", "name 'df' is not defined"),
             ("TypeError", "unsupported operand type(s) for +: 'int' and 'str'"),
             ("ValueError", "could not convert string to float: 'abc'"), ("KeyError", "'price'"),
             ("ModuleNotFoundError", "No module named 'sklearn'"), ("IndexError", "list index out of range")]


def event_message(rng: random.Random, channel: str, moment: datetime) -> str:
    """One seed-004 event: ``{"event_type", "user_id", "data", "timestamp"}``."""
    user = LEARNERS[rng.randrange(len(LEARNERS))]
    nb, _title, cells = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))]
    if channel == "progress_events":
        data = {"notebook_path": nb, "cell_index": rng.randrange(cells),
                "execution_duration_ms": int(rng.lognormvariate(5, 1)), "has_error": False,
                "completed_cells": rng.randrange(cells), "total_cells": cells}
        kind = "cell_execution"
    elif channel == "error_events":
        err, msg = PY_ERRORS[rng.randrange(len(PY_ERRORS))]
        data = {"notebook_path": nb, "cell_index": rng.randrange(cells), "error_type": err, "error_message": msg}
        kind = "execution_error"
    else:
        kind = rng.choice(["session_start", "session_end", "heartbeat", "heartbeat"])
        data = {"notebook_path": nb, "connection_id": f"ws-{rng.getrandbits(48):012x}"}
    return dumps({"event_type": kind, "user_id": user, "data": data, "timestamp": moment.isoformat()})


class _Daemon:
    """A stoppable daemon thread that runs ``tick`` on an interval and swallows every
    error (a demo helper must never print over the TUI nor die with its server)."""

    interval_s = 1.0

    def __init__(self, name: str):
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._name = name
        self.errors = 0

    def start(self) -> "_Daemon":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        backoff = self.interval_s
        while not self._stop.is_set():
            try:
                self.tick()
                backoff = self.interval_s
            except Exception:  # noqa: BLE001 - the server may be restarting: wait, retry
                self.errors += 1
                backoff = min(backoff * 2, 5.0)
            self._stop.wait(backoff)

    def tick(self) -> None:
        raise NotImplementedError


class Publisher(_Daemon):
    """Publishes seed-004 events on ``progress_events`` (~3/s), ``session_events``
    (~0.5/s) and ``error_events`` (~0.3/s). Reconnects quietly after a Redis restart."""

    interval_s = 0.2

    def __init__(self, url: str, *, seed: int = 1, rate_per_s: float = 3.8):
        super().__init__("demo-publisher")
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                           client_name="demo-publisher")
        self.rng = random.Random(f"{seed}:publisher")
        self.rate = rate_per_s
        self.published = 0
        self._mix = weighted(self.rng, [("progress_events", 3.0), ("session_events", 0.5), ("error_events", 0.3)])

    def tick(self) -> None:
        n = sum(1 for _ in range(10) if self.rng.random() < self.rate * self.interval_s / 10)
        for _ in range(n):
            channel = self._mix[self.rng.randrange(len(self._mix))]
            self.client.publish(channel, event_message(self.rng, channel, datetime.now(timezone.utc)))
            self.published += 1

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        self.client.close()
