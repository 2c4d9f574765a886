"""The pub/sub live tail: its own connection without redis-py's silent retries, so a
dropped subscription is seen, reconnected with back-off and reported as a gap."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterator, Sequence

from ...backends.base import BackendError
from ...config import RedisSettings
from .stats import db_of
from .values import CHANNELS, _decode
from ..text import error_text

log = logging.getLogger("console.sessions")

# --------------------------------------------------------------------------- live tail


@dataclass(frozen=True)
class TailMessage:
    channel: str
    data: str
    at: datetime
    seq: int


@dataclass(frozen=True)
class TailStatus:
    """``connected`` (first subscription), ``disconnected`` (error), ``reconnected``
    (after a gap: messages published between ``since`` and ``at`` were missed)."""
    state: str
    at: datetime
    error: str | None = None
    since: datetime | None = None
    channels: tuple[str, ...] = ()

    @property
    def gap_s(self) -> float | None:
        return (self.at - self.since).total_seconds() if self.since else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def pubsub_client(settings: RedisSettings):
    """A dedicated client for SUBSCRIBE without redis-py's transparent retries (they would
    reconnect and resubscribe silently, hiding the gap)."""
    import redis as redislib
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redislib.Redis.from_url(settings.url, socket_timeout=settings.socket_timeout_s,
                                   socket_connect_timeout=settings.socket_timeout_s,
                                   retry=Retry(NoBackoff(), 0), health_check_interval=10,
                                   client_name="console-tail")


def tail(settings: RedisSettings, channels: Sequence[str] = CHANNELS, *, stop: threading.Event,
         keyevents: bool = False, poll_s: float = 0.25, backoff_s: tuple[float, float] = (0.25, 10.0),
         name: str = "redis") -> Iterator[TailMessage | TailStatus]:
    """Subscribe to ``channels`` (and ``__keyevent@<db>__:expired`` when ``keyevents``)
    and yield messages in arrival order, plus status events. A dropped subscription is
    retried with exponential back-off (from ``backoff_s[0]`` up to ``backoff_s[1]``);
    after it comes back a ``reconnected`` status says since when messages were missed.
    Returns when ``stop`` is set."""
    from ...backends.redis import classify

    subs = list(channels)
    if keyevents:
        subs.append(f"__keyevent@{db_of(settings.url)}__:expired")
    seq = 0
    down_since: datetime | None = None
    delay = backoff_s[0]
    first = True
    while not stop.is_set():
        client = pubsub_client(settings)
        ps = client.pubsub(ignore_subscribe_messages=True)
        try:
            ps.subscribe(*subs)
            # Wait for the subscribe confirmations so "connected" means subscribed.
            deadline = time.monotonic() + settings.socket_timeout_s
            while len(subs) and time.monotonic() < deadline:
                ps.get_message(timeout=0.05)
                if ps.subscribed and not ps.pending_unsubscribe_channels:
                    break
            now = _now()
            if first:
                yield TailStatus("connected", now, channels=tuple(subs))
            else:
                yield TailStatus("reconnected", now, since=down_since, channels=tuple(subs))
            first = False
            down_since = None
            delay = backoff_s[0]
            while not stop.is_set():
                m = ps.get_message(timeout=poll_s)
                if m is None or m.get("type") not in ("message", "pmessage"):
                    continue
                ch = m["channel"].decode("utf-8", "replace") if isinstance(m["channel"], bytes) else str(m["channel"])
                d = m["data"]
                text, ok = _decode(d) if isinstance(d, (bytes, str)) else (str(d), True)
                seq += 1
                yield TailMessage(ch, text if ok else f"<binary {len(d)} bytes>", _now(), seq)
        except Exception as exc:  # noqa: BLE001 - any failure: report, back off, resubscribe
            err = classify(name, exc) if not isinstance(exc, BackendError) else exc
            if down_since is None:
                down_since = _now()
                yield TailStatus("disconnected", down_since, error=err.message)
            if stop.wait(delay):
                break
            delay = min(delay * 2, backoff_s[1])
        finally:
            try:
                ps.close()
                client.close()
            except Exception as exc:  # noqa: BLE001 - closing is best effort; the tail has ended
                log.debug("closing the live tail's connection failed: %s", error_text(exc))


class ChannelRates:
    """Messages per second per channel over a sliding window (for sparklines)."""

    def __init__(self, window_s: int = 60):
        self.window_s = window_s
        self._events: dict[str, deque[float]] = {}

    def add(self, channel: str, t: float) -> None:
        self._events.setdefault(channel, deque()).append(t)

    def series(self, channel: str, now: float) -> list[int]:
        """Counts per second, oldest first, ``window_s`` values."""
        q = self._events.get(channel, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        out = [0] * self.window_s
        for t in q:
            i = self.window_s - 1 - int(now - t)
            if 0 <= i < self.window_s:
                out[i] += 1
        return out

    def rate(self, channel: str, now: float, over_s: int = 10) -> float:
        s = self.series(channel, now)
        return sum(s[-over_s:]) / float(over_s)

    def clear(self) -> None:
        self._events.clear()

