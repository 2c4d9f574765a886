"""The Activity screen against pg_activity, on the same database and load.

Load: lambda's request_logs with 1,000,000 rows (BENCH_ACTIVITY_ROWS), 50 idle sessions and
5 active ones (``pg_sleep``), all on the bench database. Each tool runs alone for the same
window at a 2 s interval (one after the other, so that neither steals the other's CPU on
a small machine; the console and pg_activity in turn, ``BENCH_ACTIVITY_RUNS`` times each,
3 by default, medians reported):

- the console: the real app (``ConsoleApp`` on the Activity screen, ``refresh_interval =
  2``, read-only, configured from a file like a user's) in a pseudo-terminal of 160x45, so
  sampling, filtering, sorting, the table and the detail pane, Textual's rendering and the
  terminal writes are all counted;
- the console on the Metrics screen (its PostgreSQL tab), the same way, once: the issue's
  monitoring-cost goal names Metrics as well as Activity;
- the Activity source alone (a child process: ``ActivitySource.sample`` every 2 s, filter,
  sort, format every row with ``core.text``): what the screen costs below its widgets, so
  the rendering share can be read off;
- pg_activity (the pip package, a bench dependency in the ``bench`` extra, found next to the
  interpreter or on PATH; its default options) in the same 160x45 pseudo-terminal,
  ``--refresh 2``;
- a plain Textual app (header, a stock 55x12 DataTable, footer) whose 5 active rows' ages
  change every 2 s, and the same app idle, in the same pseudo-terminal: what the framework
  costs for this redraw done the stock way, and for nothing at all.

Figures (ratios, each against pg_activity measured in the same run):

1. CPU of each process over the window (the run time the scheduler keeps for each thread,
   ``/proc/<pid>/task/*/schedstat``, in nanoseconds; utime+stime where the kernel does not
   keep it), from ``WARMUP_S`` after the first full screen, so interpreter start-up counts
   for neither;
2. database time per refresh: pg_stat_statements ``total_exec_time`` summed over every
   database during the window (the probe's own statements excluded), divided by the
   refreshes (window / interval).

``python -m bench activity`` runs it; ``--quick`` (``python -m bench --quick activity`` or
``python -m bench.bench_activity --quick``) shortens the window to 10 s, one run each; so does
``BENCH_ACTIVITY_SECONDS=10``. ``BENCH_ACTIVITY_PROFILE=FILE`` writes a cProfile of the
console app's UI thread in its steady state (from 5 s after mount) there (its CPU figure is then inflated by the profiler)."""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench import Result

ROWS = int(os.environ.get("BENCH_ACTIVITY_ROWS", "1000000"))
WINDOW_S = float(os.environ.get("BENCH_ACTIVITY_SECONDS", "60"))
RUNS = int(os.environ.get("BENCH_ACTIVITY_RUNS", "3"))     # console and pg_activity, in turn
INTERVAL_S = 2.0
IDLE, ACTIVE = 50, 5
DB = "lambda"
WARMUP_S = 10.0    # after the first screen: startup work out of the window (the console builds
                   # its other screens ahead in its first ~7 s; bench_switch measures that)


def _log(msg: str) -> None:
    print(f"  [activity] {msg}", file=sys.stderr, flush=True)


def _ticks_threads(pid: int) -> dict[int, float]:
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def _threads_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each live thread: the scheduler's own run time in nanoseconds
    (``/proc/<pid>/task/<tid>/schedstat``) where the kernel keeps it, else utime+stime.
    Those are charged in whole clock ticks (10 ms) to whichever thread a tick lands on: a
    screen that works 5-10 ms every 2 s read 0.12-0.16 s over the same 30 s in runs of one
    build (±15 %), where the run times read 0.155-0.163 s."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[int(task.name)] = int((task / "schedstat").read_text().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            return _ticks_threads(pid)
    return out


def _cpu_s(pid: int) -> float:
    """The process's CPU seconds: its threads' (``_threads_cpu``). Threads that end inside
    the window would be missed; both tools keep theirs (the console's are its fixed pool,
    its terminal writer and reader), and the tick count is logged next to it as a check."""
    return sum(_threads_cpu(pid).values())


def _ticks_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def console_loop(dsn: str, seconds: float, interval: float) -> None:
    """The child process: sample, filter, sort and format like a table refresh."""
    from console.backends.postgres import PostgresBackend
    from console.config import PostgresTarget
    from console.core.activity import ActivityFilter, ActivitySource, apply_filter, blocking_chain, sort_rows
    from console.core.text import cut

    backend = PostgresBackend(PostgresTarget(name=DB, system="lambda", dsn=dsn))
    src = ActivitySource({DB: backend})
    src.sample(DB)
    print("ready", flush=True)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            t0 = time.monotonic()
            s = src.sample(DB)
            rows = sort_rows(apply_filter(s.rows, ActivityFilter(clients_only=True)), "duration_s")
            cells = [(r.pid, cut(r.datname, 14), cut(r.usename, 12), cut(r.application_name, 16), cut(r.state, 20),
                      cut(r.wait, 22), r.xact_age_s, r.query_age_s, cut(r.query, 80),
                      blocking_chain(s.rows, r.pid).blocked_pids) for r in rows]
            assert cells or not rows
            time.sleep(max(0.0, interval - (time.monotonic() - t0)))    # the refresh interval
    finally:
        backend.close()


def console_app(config: str, mode: str = "activity") -> None:
    """The child process: the real console app on the Activity screen (or ``mode``'s),
    drawing to its terminal (the pseudo-terminal of the bench); ``q`` quits it as it quits
    pg_activity."""
    from console.config import load
    from console.ui.app import ConsoleApp
    from console.ui.services import Services

    settings = load(config)
    services = Services.from_settings(settings)
    profile = os.environ.get("BENCH_ACTIVITY_PROFILE")     # a cProfile file of the UI thread, to see where it goes
    try:
        if profile:     # the steady state only: from WARMUP_S + 2 s after mount to the quit key
            import cProfile
            prof = cProfile.Profile()
            mounted, leave = ConsoleApp.on_mount, ConsoleApp.exit

            def on_mount(self: ConsoleApp) -> None:
                mounted(self)
                self.set_timer(WARMUP_S + 2, lambda: prof.enable())     # enabled in the UI thread

            def exit(self: ConsoleApp, *args: Any, **kwargs: Any) -> None:
                prof.disable()          # not the shutdown (blur, unmount, the driver's threads)
                leave(self, *args, **kwargs)

            ConsoleApp.on_mount = on_mount  # type: ignore[method-assign]
            ConsoleApp.exit = exit  # type: ignore[method-assign]
            try:
                ConsoleApp(services, initial_mode=mode).run()
            finally:
                prof.disable()
                prof.dump_stats(profile)
        else:
            ConsoleApp(services, initial_mode=mode).run()
    finally:
        services.close()


def plain_textual(ticks: bool = True) -> None:
    """The child process: a plain Textual app for the same screen — a header, a stock
    DataTable of 55 rows x 12 columns and a footer, the 5 active rows' two age cells changed
    every 2 s (what changes on the Activity screen each tick; ``ticks=False``: nothing), no
    data source. What the framework costs for the redraw done the stock way."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header

    class Floor(App[None]):
        BINDINGS = [("q", "quit", "Quit")]

        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable(cursor_type="row", zebra_stripes=True)
            yield Footer()

        def on_mount(self) -> None:
            t = self.query_one(DataTable)
            for c in ("pid", "target", "database", "user", "application", "client", "state", "wait",
                      "xact", "query", "blocked", "query text"):
                t.add_column(c, key=c)
            for i in range(IDLE + ACTIVE):
                t.add_row(str(4000 + i), DB, DB, "postgres", f"idle-{i}", "127.0.0.1", "idle", "ClientRead",
                          "", "", "", "SELECT 1", key=str(i))
            self.n = 0
            if ticks:
                self.set_interval(INTERVAL_S, self.tick)

        def tick(self) -> None:
            self.n += 1
            t = self.query_one(DataTable)
            for i in range(ACTIVE):
                t.update_cell(str(i), "xact", f"{self.n * 2}s")
                t.update_cell(str(i), "query", f"{self.n * 2}s")

    Floor().run()


def _config(path: Path, dsn: str) -> Path:
    """A configuration file like a user's: the bench database, a 2 s refresh, read-only."""
    path.write_text(f'refresh_interval = {INTERVAL_S:g}\nread_only = true\n\n'
                    f'[postgres.{DB}]\ndsn = "{dsn}"\nsystem = "lambda"\n')
    return path


def _measure(cmd: list[str], seconds: float, *, pty: bool, env: dict | None = None,
             on_start=lambda: None, on_end=lambda: None) -> float:
    """CPU seconds of the process over ``seconds``, from its first full refresh on (start-up
    is not measured: pg_activity's terminal library waits for terminal replies first)."""
    import pty as ptymod

    master = slave = None
    kw: dict = {"env": {**os.environ, **(env or {})}}
    if pty:
        import fcntl
        import struct
        import termios
        master, slave = ptymod.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
        kw.update(stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    else:
        kw.update(stdout=subprocess.PIPE, text=True)
    proc = subprocess.Popen(cmd, **kw)
    drain = None
    tail = bytearray()
    seen = [0]
    if master is not None:
        def _drain():
            try:
                while True:
                    chunk = os.read(master, 65536)
                    if not chunk:
                        break
                    tail.extend(chunk)
                    seen[0] += len(chunk)
                    del tail[:-4000]
            except OSError:
                pass
        drain = threading.Thread(target=_drain, daemon=True)
        drain.start()
    try:
        if master is None:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", "the console child did not start"
        deadline = time.monotonic() + 60
        while master is not None and seen[0] < 2000:              # pg_activity's first full screen
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} did not draw its screen ({proc.poll()}): {bytes(tail)[-600:]!r}")
            time.sleep(0.05)
        time.sleep(WARMUP_S)                                     # settle: one more refresh, then measure
        on_start()
        c0, t0, k0 = _cpu_s(proc.pid), _threads_cpu(proc.pid), _ticks_cpu(proc.pid)
        time.sleep(seconds)                                      # the measurement window
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited during the window ({proc.returncode}): {bytes(tail)[-600:]!r}")
        cpu = _cpu_s(proc.pid) - c0
        t1 = _threads_cpu(proc.pid)
        ticks = _ticks_cpu(proc.pid) - k0
        main = t1.get(proc.pid, 0.0) - t0.get(proc.pid, 0.0)
        _log(f"{Path(cmd[0]).name}: main thread {main:.3f} s, other threads {cpu - main:.3f} s "
             f"(in clock ticks: {ticks:.2f} s), {seen[0] / 1024:.0f} KiB written to the terminal so far")
        on_end()
        return cpu
    finally:
        if proc.poll() is None and master is not None:
            os.write(master, b"q")                               # pg_activity's (and the console's) quit key
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        from console.demo.stack import stop_process
        stop_process(proc, 5)                                    # SIGTERM, then SIGKILL, if still running
        for fd in (master, slave):
            if fd is not None:
                os.close(fd)


def _stmt_ms(conn) -> float:
    row = conn.execute("SELECT coalesce(sum(total_exec_time), 0) FROM pg_stat_statements "
                       "WHERE query NOT ILIKE '%pg_stat_statements%'").fetchone()
    return float(row[0])


def _prepare(stack):
    from datetime import datetime, timezone

    from console.backends.postgres import PostgresBackend
    from console.config import PostgresTarget, Settings
    from console.core import migrate
    from console.demo.data import fill_postgres

    target = PostgresTarget(name=DB, system="lambda", dsn=stack.postgres.dsn(DB))
    backend = PostgresBackend(target)
    try:
        res = migrate.migrate(Settings(postgres=(target,)), backend, "lambda", actor="bench")
        assert res.failed is None, res.error
        have = backend.fetch("SELECT coalesce((SELECT reltuples FROM pg_class WHERE oid = "
                             "to_regclass('public.request_logs')), 0)::bigint AS n")[0]["n"]
        if have < ROWS * 0.9:
            t0 = time.perf_counter()
            fill_postgres({DB: backend}, datetime.now(timezone.utc), request_log_rows=ROWS)
            with backend.connect(autocommit=True, statement_timeout_ms=0) as c:
                # vacuumed and analysed now, so that autovacuum has nothing left to do on it
                # while a tool is measured (its workers come and go in the session list)
                c.execute("VACUUM (ANALYZE) request_logs")
                c.execute("CHECKPOINT")
            _log(f"filled request_logs with {ROWS:,} rows in {time.perf_counter() - t0:.0f}s")
        backend.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    finally:
        backend.close()
    return target


def _settle(probe, limit_s: float = 120.0) -> None:
    """Wait until no autovacuum worker has run for 3 s (at most ``limit_s``): each worker
    is a session that comes and goes in both tools' lists, so whichever tool is measured
    while the server still tidies up after the fill redraws more than the other."""
    end = time.monotonic() + limit_s
    quiet_since = time.monotonic()
    while time.monotonic() < end:
        busy = probe.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'"
                             ).fetchone()[0]
        if busy:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 3.0:
            return
        time.sleep(0.5)
    _log(f"autovacuum still running after {limit_s:g} s; measuring anyway")


def _load(dsn: str):
    import psycopg
    conns = [psycopg.connect(dsn, autocommit=True, application_name=f"idle-{i}") for i in range(IDLE)]
    active = []
    for i in range(ACTIVE):
        c = psycopg.connect(dsn, autocommit=True, application_name=f"active-{i}")
        t = threading.Thread(target=lambda c=c: _sleep_until_killed(c), daemon=True)
        t.start()
        active.append((c, t))
    return conns, active


def _sleep_until_killed(conn) -> None:
    try:
        conn.execute("SELECT pg_sleep(3600)")
    except Exception:  # noqa: BLE001 - terminated at the end of the bench
        pass


def run(ctx, window_s: float = WINDOW_S, runs_each: int = RUNS) -> list[Result]:
    if getattr(ctx, "quick", False):          # python -m bench --quick: a 10 s window, one run each
        window_s, runs_each = min(window_s, 10.0), 1
    import psycopg

    stack = ctx.stack
    _prepare(stack)
    dsn = stack.postgres.dsn(DB)
    pga = shutil.which("pg_activity") or str(Path(sys.executable).with_name("pg_activity"))
    if not Path(pga).exists():
        raise RuntimeError("pg_activity is not installed (pip install pg_activity)")
    conns, active = _load(dsn)
    probe = psycopg.connect(dsn, autocommit=True)
    try:
        refreshes = window_s / INTERVAL_S
        root = str(Path(__file__).resolve().parents[1])
        pypath = {"PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        term = {"TERM": "xterm-256color", "COLUMNS": "160", "LINES": "45"}
        config = _config(Path(ctx.scratch) / "bench-activity.toml", dsn)
        runs: dict[str, list[tuple[float, float]]] = {}
        tools = {
            "console": ([sys.executable, "-c", "import sys; from bench.bench_activity import console_app; "
                         "console_app(sys.argv[1])", str(config)],
                        True, {**pypath, **term, "CONSOLE_CONFIG": str(config), "TEXTUAL_ANIMATIONS": "none"}),
            "console metrics": ([sys.executable, "-c", "import sys; from bench.bench_activity import console_app; "
                                 "console_app(sys.argv[1], 'metrics')", str(config)],
                                True, {**pypath, **term, "CONSOLE_CONFIG": str(config), "TEXTUAL_ANIMATIONS": "none"}),
            "source": ([sys.executable, "-c", "import sys; from bench.bench_activity import console_loop; "
                        f"console_loop(sys.argv[1], {window_s + WARMUP_S + 10}, {INTERVAL_S})", dsn],
                       False, pypath),
            "pg_activity": ([pga, "--refresh", f"{INTERVAL_S:g}", dsn], True, term),
            "textual": ([sys.executable, "-c", "from bench.bench_activity import plain_textual; plain_textual()"],
                        True, {**pypath, **term, "TEXTUAL_ANIMATIONS": "none"}),
            "textual idle": ([sys.executable, "-c",
                              "from bench.bench_activity import plain_textual; plain_textual(ticks=False)"],
                             True, {**pypath, **term, "TEXTUAL_ANIMATIONS": "none"}),
        }
        # The two tools the goal compares, in turn, RUNS times each (pg_activity alone measured
        # 0.21-0.30 s over three runs of one day); the references for the rendering share once.
        order = [*(["console", "pg_activity"] * runs_each), "console metrics", "source", "textual", "textual idle"]
        for name in order:
            cmd, pty, env = tools[name]
            marks: list[float] = []

            _settle(probe)

            def start(marks: list[float] = marks) -> None:
                probe.execute("SELECT pg_stat_statements_reset()")
                marks.append(_stmt_ms(probe))

            cpu = _measure(cmd, window_s, pty=pty, env=env, on_start=start,
                           on_end=lambda marks=marks: marks.append(_stmt_ms(probe)))
            db_ms = (marks[1] - marks[0]) / refreshes
            runs.setdefault(name, []).append((cpu, db_ms))
            _log(f"{name}: {cpu:.2f} s CPU in {window_s:g} s, {db_ms:.2f} ms database time per refresh")
    finally:
        probe.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'active-%'")
        for c, t in active:
            t.join(10)
            c.close()
        for c in conns:
            c.close()
        probe.close()
    out = {name: (statistics.median(c for c, _ in got), statistics.median(d for _, d in got))
           for name, got in runs.items()}
    if runs_each > 1:
        for name in ("console", "pg_activity"):
            _log(f"{name}: CPU per run {', '.join(f'{c:.3f}' for c, _ in runs[name])} s; medians reported")
    (ccpu, cdb), (scpu, sdb), (pcpu, pdb) = out["console"], out["source"], out["pg_activity"]
    fcpu, icpu = out["textual"][0], out["textual idle"][0]
    mcpu, mdb = out["console metrics"]
    return [
        Result(f"console Activity screen CPU (real app, 160x45 pty), {window_s:g}s @ {INTERVAL_S:g}s, "
               f"{IDLE}+{ACTIVE} sessions", ccpu, "pg_activity (defaults, 160x45 pty), same window", pcpu,
               unit="s CPU"),
        Result("DB time per Activity screen refresh (pg_stat_statements)", cdb, "pg_activity per refresh", pdb,
               unit="ms"),
        Result(f"console Metrics screen CPU (PostgreSQL tab, the same target and window @ {INTERVAL_S:g}s)", mcpu,
               "pg_activity, same run", pcpu, unit="s CPU"),
        Result("DB time per Metrics screen refresh (pg_stat_statements)", mdb, "pg_activity per refresh", pdb,
               unit="ms"),
        Result("Activity source alone CPU (no widgets: sample, filter, sort, format)", scpu,
               "pg_activity, same run", pcpu, unit="s CPU"),
        Result("DB time per Activity source refresh", sdb, "pg_activity per refresh", pdb, unit="ms"),
        Result("a plain Textual app (header, 55x12 DataTable, footer; 10 cells changed every 2 s) CPU", fcpu,
               "pg_activity, same run", pcpu, unit="s CPU"),
        Result("the same plain Textual app idle (nothing changes) CPU", icpu, "pg_activity, same run", pcpu,
               unit="s CPU"),
        Result("console Activity screen CPU", ccpu, "the plain Textual app, same run", fcpu, unit="s CPU"),
    ]


if __name__ == "__main__":
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(prog="python -m bench.bench_activity")
    ap.add_argument("--quick", action="store_true", help="a 10 s window and 100,000 rows")
    a = ap.parse_args()
    if a.quick:
        ROWS = int(os.environ.get("BENCH_ACTIVITY_ROWS", "100000"))
    from bench import machine
    from bench.__main__ import Context
    from console.demo.stack import Stack

    scratch = Path(tempfile.mkdtemp(prefix="console-bench-"))
    scratch.chmod(0o755)
    st = Stack(scratch / "stack", zengin_env="bench").start(with_influx=False)
    try:
        st.create_databases()
        results = run(Context(st, scratch), 10.0 if a.quick else WINDOW_S, 1 if a.quick else RUNS)
    finally:
        st.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    print(machine())
    for r in results:
        print(f"{r.figure}: {r.value:.4g} {r.unit} vs {r.baseline_name}: {r.baseline:.4g} {r.unit} "
              f"-> {r.ratio:.2f}x")
