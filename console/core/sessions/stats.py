"""Server INFO (summary, deltas between refreshes) and the pure table helpers: TTL
histogram, sort, filter, paging."""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

from .values import SessionRecord

# --------------------------------------------------------------------------- INFO


@dataclass(frozen=True)
class ServerInfo:
    version: str = "?"
    uptime_s: int = 0
    connected_clients: int = 0
    blocked_clients: int = 0
    ops_per_sec: int = 0
    used_memory: int = 0
    maxmemory: int = 0
    keyspace_hits: int = 0
    keyspace_misses: int = 0
    evicted_keys: int = 0
    expired_keys: int = 0
    total_commands: int = 0
    keyspace: dict[int, int] = field(default_factory=dict)     # db -> keys
    notify_keyspace_events: str | None = None
    taken_at: float = 0.0                                      # monotonic seconds

    @property
    def hit_ratio(self) -> float | None:
        total = self.keyspace_hits + self.keyspace_misses
        return self.keyspace_hits / total if total else None

    @property
    def memory_ratio(self) -> float | None:
        return self.used_memory / self.maxmemory if self.maxmemory else None


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0


def parse_info(info: dict[str, Any], *, taken_at: float = 0.0, notify: str | None = None) -> ServerInfo:
    """redis-py's parsed ``INFO`` dict -> ServerInfo."""
    keyspace: dict[int, int] = {}
    for k, v in info.items():
        if isinstance(k, str) and k.startswith("db") and k[2:].isdigit() and isinstance(v, dict):
            keyspace[int(k[2:])] = _int(v.get("keys"))
    return ServerInfo(
        version=str(info.get("redis_version", "?")), uptime_s=_int(info.get("uptime_in_seconds")),
        connected_clients=_int(info.get("connected_clients")), blocked_clients=_int(info.get("blocked_clients")),
        ops_per_sec=_int(info.get("instantaneous_ops_per_sec")), used_memory=_int(info.get("used_memory")),
        maxmemory=_int(info.get("maxmemory")), keyspace_hits=_int(info.get("keyspace_hits")),
        keyspace_misses=_int(info.get("keyspace_misses")), evicted_keys=_int(info.get("evicted_keys")),
        expired_keys=_int(info.get("expired_keys")), total_commands=_int(info.get("total_commands_processed")),
        keyspace=keyspace, notify_keyspace_events=notify, taken_at=taken_at)


DELTA_FIELDS = ("evicted_keys", "expired_keys", "keyspace_hits", "keyspace_misses", "total_commands",
                "connected_clients", "used_memory")


def info_delta(prev: ServerInfo | None, cur: ServerInfo) -> dict[str, int]:
    """Changes since the previous refresh (empty on the first one, or after a restart,
    when counters went backwards)."""
    if prev is None or cur.uptime_s < prev.uptime_s:
        return {}
    return {f: getattr(cur, f) - getattr(prev, f) for f in DELTA_FIELDS}


def server_info(backend, db: int | None = None) -> ServerInfo:
    def go(c):
        info = c.info("all")
        notify = None
        try:
            notify = str(c.config_get("notify-keyspace-events").get("notify-keyspace-events", ""))
        except Exception:  # noqa: BLE001 - CONFIG is often renamed/disabled in production
            notify = None
        return info, notify
    info, notify = backend.call(go)
    return parse_info(info, taken_at=time.monotonic(), notify=notify)


def db_of(url: str) -> int:
    try:
        path = urlsplit(url).path.strip("/")
        return int(path) if path else 0
    except ValueError:
        return 0


def keyevents_enabled(notify: str | None) -> bool:
    """Does ``notify-keyspace-events`` publish expired-key events on __keyevent@…__?"""
    if not notify:
        return False
    return "E" in notify and ("x" in notify or "A" in notify)


# --------------------------------------------------------------------------- table helpers (pure)

TTL_BUCKETS: tuple[tuple[str, int], ...] = (
    ("<1m", 60), ("1-5m", 300), ("5-15m", 900), ("15-60m", 3600), ("1-4h", 4 * 3600),
    ("4-24h", 86400), (">1d", 1 << 62))


def ttl_histogram(records: Sequence[SessionRecord]) -> list[tuple[str, int]]:
    """Remaining TTLs in buckets, plus 'no TTL' (keys that never expire)."""
    bounds = [b for _, b in TTL_BUCKETS]
    counts = [0] * len(TTL_BUCKETS)
    none = 0
    for r in records:
        if r.ttl_s is None:
            none += 1
        elif r.ttl_s >= 0:
            counts[bisect.bisect_right(bounds, r.ttl_s)] += 1
    return [(label, n) for (label, _), n in zip(TTL_BUCKETS, counts)] + [("no TTL", none)]


_NO_TTL = 1 << 62        # keys without a TTL sort after every TTL

SORT_KEYS: dict[str, Callable[[SessionRecord], Any]] = {     # flat keys: 200,000 rows sort in C
    "key": attrgetter("key"),
    "ttl": lambda r: _NO_TTL if r.ttl_s is None else r.ttl_s,
    "size": lambda r: r.size_bytes or 0,
    "notebook": lambda r: r.notebook or "",
    "activity": lambda r: r.last_activity or "",
    "kind": attrgetter("kind"),
}


def sort_records(records: list[SessionRecord], by: str, reverse: bool = False) -> list[SessionRecord]:
    return sorted(records, key=SORT_KEYS[by], reverse=reverse)


def filter_records(records: Sequence[SessionRecord], text: str) -> list[SessionRecord]:
    """Case-insensitive substring match on key, notebook, kind, summary. ``kind:text`` /
    ``ttl:none`` narrow by the value kind / keys without a TTL."""
    text = text.strip().lower()
    if not text:
        return list(records)
    out = list(records)
    for term in text.split():
        if term.startswith("kind:"):
            want = term[5:]
            out = [r for r in out if r.kind == want]
        elif term == "ttl:none":
            out = [r for r in out if r.ttl_s is None]
        else:
            out = [r for r in out if term in r.key.lower() or term in (r.notebook or "").lower()
                   or term in r.summary.lower()]
    return out


def page(records: Sequence[Any], index: int, size: int) -> tuple[list[Any], int, int]:
    """(rows of page ``index``, clamped index, page count)."""
    pages = max(1, -(-len(records) // size))
    index = max(0, min(index, pages - 1))
    return list(records[index * size:(index + 1) * size]), index, pages

