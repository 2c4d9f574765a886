"""`console record` and `console replay`: Metrics and Activity samples to a local file and back.

    console record --out FILE [--duration D] [--interval S] [--max-bytes N] [--target T]
    console replay FILE [--json] [--at ISO | --step N] [--all]

``record`` samples every PostgreSQL target each interval (pg_stat counters, Activity,
replication/progress), pg_stat_statements and the analytics views / InfluxDB on their
slower cadence, and stores every sample (failures included) in a bounded SQLite file.
``replay`` opens the Metrics and Activity screens on the file with a time cursor (on a
terminal, without --json/--at/--step/--all); otherwise it prints what the file holds."""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime, timezone
from typing import Any

from ..config import Settings
from . import EXIT_FAIL, EXIT_OK, print_json, say

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


def parse_duration(text: str) -> float:
    """
    >>> parse_duration('90'), parse_duration('5m'), parse_duration('1.5h')
    (90.0, 300.0, 5400.0)
    """
    m = _DURATION.match(text or "")
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90, 90s, 5m, 1h)")
    return float(m[1]) * {"s": 1, "m": 60, "h": 3600}[m[2] or "s"]


def register(sub) -> None:
    r = sub.add_parser("record", help="record Metrics and Activity samples to a local file (bounded, portable)")
    r.add_argument("--out", required=True, metavar="FILE", help="the recording (SQLite); continued if it exists")
    r.add_argument("--duration", type=parse_duration, default=None, metavar="D",
                   help="how long (90, 90s, 5m, 1h); default: until interrupted")
    r.add_argument("--interval", type=float, default=None, metavar="S", help="seconds per tick (default: refresh_interval)")
    r.add_argument("--max-bytes", type=int, default=None, metavar="N", help="size cap; oldest ticks are pruned")
    r.add_argument("--target", action="append", metavar="NAME", help="PostgreSQL target(s); default: all")
    r.set_defaults(handler=run_record)
    p = sub.add_parser("replay", help="open the Metrics and Activity screens on a recording (time cursor: , . { } ;);"
                                      " --json / --at / --step / --all or no terminal: print it")
    p.add_argument("file", metavar="FILE")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--at", metavar="ISO", help="the tick at or before this UTC time")
    g.add_argument("--step", type=int, metavar="N", help="the N-th tick (0 first, -1 last)")
    p.add_argument("--all", action="store_true", help="every tick, oldest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_replay)


def record(settings: Settings, out: str, *, duration_s: float | None, interval_s: float,
           targets: list[str], max_bytes: int | None = None, log=None) -> tuple[int, int]:
    """The headless recording loop. Returns (ticks, samples written)."""
    from ..backends.base import BackendError
    from ..backends.registry import Backends
    from ..core.activity import ActivitySource
    from ..core.activity.maintenance import MaintenanceSampler
    from ..core.activity.statements import sample_statements
    from ..core.metrics import Cadence, MetricsSource
    from ..core.recording import DEFAULT_MAX_BYTES, Recorder

    backends = Backends.from_settings(settings)
    pg = {n: backends.pg(n) for n in targets}
    metrics = MetricsSource(pg, backends.influx)
    activity = ActivitySource(pg)
    maint = {n: MaintenanceSampler(b) for n, b in pg.items()}
    cadence = Cadence(interval_s)
    slow_s = max(interval_s, 10.0)
    last: dict[str, float] = {}
    ticks = written = 0

    def due(key: str, every: float, now: float) -> bool:
        if now - last.get(key, -1e18) >= every - 1e-6:
            last[key] = now
            return True
        return False

    def take(fn) -> Any:
        try:
            return fn()
        except BackendError as exc:
            return exc

    started = time.monotonic()
    try:
        with Recorder(out, max_bytes=max_bytes or DEFAULT_MAX_BYTES, interval_s=interval_s) as rec:
            while True:
                now = time.monotonic()
                with rec.tick() as t:
                    for n in pg:
                        written += 1 + 1 + 1
                        t.add("metrics.pg", n, take(lambda n=n: metrics.sample_pg(n)))
                        t.add("activity", n, take(lambda n=n: activity.sample(n)))
                        t.add("maintenance", n, take(maint[n].sample))
                        if due(f"statements:{n}", slow_s, now):
                            t.add("statements", n, take(lambda n=n: sample_statements(pg[n])))
                            written += 1
                        if n in metrics.analytics_targets and due(f"analytics:{n}", cadence.analytics_s, now):
                            t.add("metrics.analytics", n, take(lambda n=n: metrics.sample_analytics(n)))
                            written += 1
                    if metrics.has_influx and due("influx", cadence.influx_s, now):
                        t.add("metrics.influx", "", take(metrics.sample_influx))
                        written += 1
                ticks += 1
                if log:
                    log(f"tick {ticks}: {rec.samples} samples, {rec.bytes:,} bytes")
                elapsed = time.monotonic() - started
                if duration_s is not None and elapsed + interval_s > duration_s + 1e-6:
                    break
                time.sleep(max(0.0, interval_s - (time.monotonic() - now)))   # the recording cadence
    finally:
        backends.close()
    return ticks, written


def run_record(settings: Settings, args: argparse.Namespace) -> int:
    from ..core.recording import RecordingError

    targets = args.target or [t.name for t in settings.postgres]
    for n in targets:
        settings.target(n)
    if not targets:
        print("console: no PostgreSQL target configured", file=sys.stderr)
        return EXIT_FAIL
    interval = args.interval or settings.refresh_interval_s
    try:
        ticks, n = record(settings, args.out, duration_s=args.duration, interval_s=interval, targets=targets,
                          max_bytes=args.max_bytes)
    except KeyboardInterrupt:
        say(f"console: recording to {args.out} stopped")
        return EXIT_OK
    except RecordingError as exc:
        say(f"console: {exc}", file=sys.stderr)
        return EXIT_FAIL
    say(f"recorded {ticks} ticks ({n} samples) to {args.out}")
    return EXIT_OK


def frame_dict(frame) -> dict[str, Any]:
    from ..core.metrics import plain_data
    out: dict[str, Any] = {"at": frame.at.isoformat(), "index": frame.index, "count": frame.count, "samples": {}}
    for (kind, target), sample in sorted(frame.samples.items()):
        out["samples"].setdefault(kind, {})[target] = plain_data(sample)
    return out


def run_replay(settings: Settings, args: argparse.Namespace) -> int:
    from ..core.recording import Recording, RecordingError

    if not (args.json or args.at or args.step is not None or args.all) and sys.stdout.isatty():
        try:
            with Recording(args.file) as rec:
                if not len(rec):
                    raise RecordingError(f"{args.file}: the recording is empty")
        except RecordingError as exc:
            say(f"console: {exc}", file=sys.stderr)
            return EXIT_FAIL
        # The screens are the UI's: cli.py hands in the opener (commands never import console.ui).
        return args.open_replay(settings, args.file)

    try:
        with Recording(args.file) as rec:
            if not len(rec):
                say(f"console: {args.file}: the recording is empty", file=sys.stderr)
                return EXIT_FAIL
            if args.all:
                frames = list(rec.frames())
            elif args.at:
                at = datetime.fromisoformat(args.at)
                frames = [rec.seek(at if at.tzinfo else at.replace(tzinfo=timezone.utc))]
            elif args.step is not None:
                frames = [rec.last() if args.step < 0 else rec.step(args.step)]
            else:
                frames = [rec.first()]
            head = {"start": rec.start.isoformat(), "end": rec.end.isoformat(), "ticks": len(rec),
                    "schema_version": rec.meta.get("schema_version"), "kinds": [list(k) for k in rec.kinds()]}
    except (RecordingError, ValueError) as exc:
        say(f"console: {exc}", file=sys.stderr)
        return EXIT_FAIL
    if args.json:
        print_json({**head, "frames": [frame_dict(f) for f in frames]})
        return EXIT_OK
    say(f"{args.file}: {head['ticks']} ticks from {head['start']} to {head['end']}")
    for f in frames:
        say(f"tick {f.index + 1}/{f.count} at {f.at.isoformat()}:")
        for (kind, target), s in sorted(f.samples.items()):
            if hasattr(s, "kind") and hasattr(s, "message"):
                what = f"error: {s.message}"
            elif kind == "activity":
                what = f"{len(s.rows)} backends, {s.waiting} waiting"
            else:
                what = type(s).__name__
            say(f"  {kind} {target}: {what}")
    return EXIT_OK
