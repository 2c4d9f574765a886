"""The pub/sub tail against the real Redis: order per channel, keyspace expiry events, and
reconnection (with the gap reported) after the server restarts on the same port."""

from __future__ import annotations

import queue
import threading
import time

from console.config import RedisSettings
from console.core import sessions as core


class TailThread:
    def __init__(self, settings, channels=core.CHANNELS, **kw):
        self.stop = threading.Event()
        self.q: queue.Queue = queue.Queue()
        self.t = threading.Thread(target=self._run, args=(settings, channels, kw), daemon=True)
        self.t.start()

    def _run(self, settings, channels, kw):
        for ev in core.tail(settings, channels, stop=self.stop, **kw):
            self.q.put(ev)

    def next(self, timeout=10.0):
        return self.q.get(timeout=timeout)

    def until(self, pred, timeout=20.0):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                ev = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(ev)
            if pred(ev):
                return ev, seen
        raise AssertionError(f"not seen within {timeout}s; got {seen!r}")

    def close(self):
        self.stop.set()
        self.t.join(10)
        assert not self.t.is_alive()


def test_messages_on_each_channel_arrive_in_order(stack):
    settings = RedisSettings(url=stack.redis.url)
    t = TailThread(settings)
    try:
        ev = t.next()
        assert isinstance(ev, core.TailStatus) and ev.state == "connected"
        import redis
        pub = redis.Redis.from_url(stack.redis.url)
        sent = []
        for i in range(30):
            ch = core.CHANNELS[i % 3]
            pub.publish(ch, f'{{"n": {i}}}')
            sent.append((ch, f'{{"n": {i}}}'))
        got = []
        while len(got) < 30:
            ev = t.next()
            if isinstance(ev, core.TailMessage):
                got.append(ev)
        assert [(m.channel, m.data) for m in got] == sent
        assert [m.seq for m in got] == sorted(m.seq for m in got)
        pub.close()
    finally:
        t.close()


def test_keyspace_expiry_events(stack):
    url = stack.redis.url.rsplit("/", 1)[0] + "/7"
    settings = RedisSettings(url=url)
    t = TailThread(settings, channels=(), keyevents=True)
    try:
        assert t.next().state == "connected"
        import redis
        c = redis.Redis.from_url(url)
        c.set("session:short", "x", px=50)
        time.sleep(0.15)
        c.exists("session:short")        # an access expires it at once if the cycle has not
        ev, _ = t.until(lambda e: isinstance(e, core.TailMessage))
        assert ev.channel == "__keyevent@7__:expired" and ev.data == "session:short"
        c.close()
    finally:
        t.close()


def test_subscriber_reconnects_after_restart_and_reports_the_gap(stack):
    settings = RedisSettings(url=stack.redis.url, socket_timeout_s=1.0)
    t = TailThread(settings, backoff_s=(0.1, 0.5))
    try:
        assert t.next().state == "connected"
        stack.redis.stop()
        try:
            down, _ = t.until(lambda e: isinstance(e, core.TailStatus) and e.state == "disconnected")
            assert down.error
            time.sleep(0.5)
        finally:
            stack.redis.start()      # the shared server must come back whatever happened above
        back, seen = t.until(lambda e: isinstance(e, core.TailStatus) and e.state == "reconnected")
        assert back.since == down.at and back.gap_s >= 0.5
        assert sum(1 for e in seen if isinstance(e, core.TailStatus) and e.state == "disconnected") == 0
        import redis
        pub = redis.Redis.from_url(stack.redis.url)
        pub.publish("error_events", "after")
        ev, _ = t.until(lambda e: isinstance(e, core.TailMessage))
        assert (ev.channel, ev.data) == ("error_events", "after")
        pub.close()
    finally:
        t.close()


def test_channel_rates():
    r = core.ChannelRates(window_s=10)
    for t in (100.1, 100.2, 105.5, 109.9):
        r.add("progress_events", t)
    s = r.series("progress_events", 110.0)
    assert len(s) == 10 and sum(s) == 4 and s[-1] == 1 and s[0] == 2
    assert r.series("progress_events", 200.0) == [0] * 10
