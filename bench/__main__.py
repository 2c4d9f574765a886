"""Run every benchmark module (or the ones named) and print one table."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import Result, machine


class Context:
    """What a benchmark gets: a started embedded stack (databases created), a scratch dir,
    and whether this is a ``--quick`` run."""

    def __init__(self, stack, scratch: Path, quick: bool = False):
        self.stack = stack
        self.scratch = scratch
        self.quick = quick        # --quick: each benchmark runs a short version


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("names", nargs="*", help="benchmark modules to run (default: all), e.g. sessions")
    ap.add_argument("--quick", action="store_true", help="a short version of each benchmark (development)")
    args = ap.parse_args(argv)
    from console.demo.stack import Stack

    mods = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    if args.names:
        mods = [m for m in mods if m.removeprefix("bench_") in args.names]
    scratch = Path(tempfile.mkdtemp(prefix="console-bench-"))
    scratch.chmod(0o755)
    stack = Stack(scratch / "stack", zengin_env="bench").start()
    results: list[Result] = []
    failed: list[str] = []
    try:
        stack.create_databases()
        ctx = Context(stack, scratch, quick=args.quick)
        for name in mods:
            t0 = time.perf_counter()
            print(f"running {name} ...", file=sys.stderr, flush=True)
            try:
                results.extend(importlib.import_module(f"bench.{name}").run(ctx))
            except Exception:          # one broken benchmark does not lose the others' figures
                traceback.print_exc()
                failed.append(name)
                continue
            print(f"  done in {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    finally:
        stack.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    from rich.console import Console
    from rich.table import Table
    t = Table(title=f"console benchmarks · {machine()}")
    for c in ("figure", "value", "baseline", "baseline value", "ratio (x better)"):
        t.add_column(c)
    for r in results:
        t.add_row(r.figure, f"{r.value:,.4g} {r.unit}", r.baseline_name, f"{r.baseline:,.4g} {r.unit}",
                  f"{r.ratio:,.2f}")
    Console(width=max(160, Console().width)).print(t)
    if failed:
        print(f"FAILED: {', '.join(failed)} (traceback above)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
