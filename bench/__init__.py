"""Benchmarks: each ``bench/bench_<area>.py`` defines ``run(ctx) -> list[Result]`` and
measures its figure against a baseline in the same run. ``python -m bench`` (or
``./scripts/bench``) runs them all against one embedded stack and prints one table."""

from __future__ import annotations

import platform
import os
from dataclasses import dataclass


@dataclass
class Result:
    figure: str            # what was measured, e.g. "scan 200k session keys (s)"
    value: float
    baseline_name: str     # what it is compared with
    baseline: float
    unit: str = "s"
    higher_is_better: bool = False

    @property
    def ratio(self) -> float:
        """How many times better than the baseline (>1 is better)."""
        if self.value == 0 or self.baseline == 0:
            return float("nan")
        return self.value / self.baseline if self.higher_is_better else self.baseline / self.value


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"
