"""``console demo``: start the embedded stack, migrate and fill it, open the console on it,
and stop everything on the way out (quit, Ctrl+C or SIGTERM)."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from ..config import Settings, load
from .stack import INFLUX_MISSING, Stack, StackError

MARKER = ".console-demo"


def prepare_dir(data_dir: Path) -> None:
    """A fresh, reproducible demo each run. Only a folder the demo made itself (it carries
    a marker file) is ever emptied; anything else non-empty is refused."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / MARKER).exists():
            raise StackError(f"{data_dir} is not empty and was not made by `console demo`; "
                             "choose another --data-dir")
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).write_text("made by console demo; emptied at the next demo start\n")
    _check_traversable(data_dir)


def _check_traversable(path: Path) -> None:
    """As root, PostgreSQL runs as an unprivileged user that must reach the folder."""
    import os
    if os.geteuid() != 0:
        return
    for parent in [path, *path.parents]:
        if not parent.stat().st_mode & 0o001:
            if parent == path:
                parent.chmod(parent.stat().st_mode | 0o755)
                continue
            raise StackError(f"running as root, PostgreSQL's unprivileged user cannot enter {parent}; "
                             "use a --data-dir under a world-traversable folder (for example /var/tmp/console-demo)")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def build(stack: Stack, *, request_log_rows: int, now: datetime | None = None,
          say: Callable[[str], None] = _say) -> tuple[Path, list[str]]:
    """Migrate every database and fill the whole stack (reproducible for a given ``now``).
    Returns the config path and notices for the user."""
    from ..backends.registry import Backends
    from ..config import parse_text
    from ..core import migrate
    from . import data

    now = now or datetime.now(timezone.utc)
    notices: list[str] = []
    stack.create_databases()
    config_path = stack.write_config()
    settings = parse_text(config_path.read_text(), config_path)
    backends = Backends.from_settings(settings)
    try:
        t0 = time.perf_counter()
        for target in settings.postgres:
            res = migrate.migrate(settings, backends.pg(target.name), target.system, actor="console-demo")
            if res.failed:
                raise StackError(f"migrating {target.name} failed at {res.failed}: {res.error}")
        say(f"  migrated {len(settings.postgres)} databases ({time.perf_counter() - t0:.1f}s)")
        t0 = time.perf_counter()
        zengin_target = settings.zengin.target
        others = {n: b for n, b in backends.postgres.items() if n != zengin_target}
        # zengin, Redis and InfluxDB fill while PostgreSQL's big tables load.
        with ThreadPoolExecutor(max_workers=2) as pool:
            side = pool.submit(_fill_side, backends, now, zengin_target)
            data.fill_postgres(others, now, request_log_rows=request_log_rows)
            diffs = side.result()
        say(f"  filled PostgreSQL, Redis{', InfluxDB' if backends.influx else ''} and the zengin queue "
            f"({len(diffs.all_ids)} diffs) "
            f"in {time.perf_counter() - t0:.1f}s")
        if backends.influx is None:
            notices.append(stack.influx_error or INFLUX_MISSING)
    finally:
        backends.close()
    return config_path, notices


def _fill_side(backends, now: datetime, zengin_target: str):
    from . import data, zengin

    diffs = zengin.fill_zengin(backends.pg(zengin_target), backends.dynamo, backends.s3, now)
    data.fill_redis(backends.redis.client, now)
    if backends.influx is not None:
        data.fill_influx(backends.influx, now)
    return diffs


class Background:
    """The demo's moving parts: a publisher on the three Redis channels and a trickle of
    request_logs rows and InfluxDB points, so Sessions and Metrics are live."""

    def __init__(self, settings: Settings):
        from ..backends.registry import Backends
        from .data import Publisher, TrafficGenerator

        self.backends = Backends.from_settings(settings)
        self.parts = [Publisher(settings.redis.url),
                      TrafficGenerator(lambda_pg=self.backends.postgres.get("lambda"), influx=self.backends.influx)]

    def start(self) -> "Background":
        for p in self.parts:
            p.start()
        return self

    def stop(self) -> None:
        for p in self.parts:
            p.stop()
        self.backends.close()


def run_demo(args: argparse.Namespace, open_ui: Callable[..., int]) -> int:
    data_dir = Path(args.data_dir).expanduser().resolve()
    stack = Stack(data_dir)
    publisher = None

    def on_term(signum, frame):  # SIGTERM, or SIGHUP (the SSH session went away): unwind
        raise SystemExit(128 + signum)  # through the finally below, which stops every server

    old_term = signal.signal(signal.SIGTERM, on_term)
    old_hup = signal.signal(signal.SIGHUP, on_term)
    try:
        prepare_dir(data_dir)
        _say(f"console demo: starting the embedded stack in {data_dir}")
        t0 = time.perf_counter()
        stack.start(with_influx=not args.no_influx)
        _say(f"  servers up ({time.perf_counter() - t0:.1f}s): PostgreSQL, Redis, moto"
             + (", InfluxDB" if stack.influx else " (no InfluxDB: see the notice in the console)"))
        config_path, notices = build(stack, request_log_rows=args.request_log_rows)
        settings: Settings = load(config_path, read_only=args.read_only, operator=args.operator,
                                  refresh_interval=args.refresh, env={})
        publisher = Background(settings).start()
        _say(f"console demo: ready in {time.perf_counter() - t0:.1f}s; config: {config_path}")
        if args.no_ui:
            print(config_path, flush=True)
            _say(f"  use it with: . {data_dir / 'env.sh'} && console status\n  Ctrl+C stops the stack.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass                 # Ctrl+C is how --no-ui is stopped: the stack stops below
            return 0
        return open_ui(settings, notices=notices)
    except StackError as exc:
        _say(f"console demo: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if publisher is not None:
            publisher.stop()
        stack.stop()
        signal.signal(signal.SIGTERM, old_term)
        signal.signal(signal.SIGHUP, old_hup)
        _say("console demo: stack stopped")
