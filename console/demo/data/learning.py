"""Seed 004 (learning), the PostgreSQL side."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Iterator

import psycopg

from .helpers import (timeline, rand_uuid, copy_rows, insert_many, T)


# --------------------------------------------------------------------------- learning (seed 004)

LEARNERS = [f"user_{i:03d}" for i in range(1, 41)]
NOTEBOOKS = [("notebooks/01_python_basics.ipynb", "Python 基礎", 24),
             ("notebooks/02_numpy_intro.ipynb", "NumPy 入門", 30),
             ("notebooks/03_pandas_dataframe.ipynb", "pandas DataFrame", 36),
             ("notebooks/04_matplotlib.ipynb", "可視化", 20),
             ("notebooks/05_sklearn_regression.ipynb", "回帰分析", 28),
             ("notebooks/06_classification.ipynb", "分類", 32),
             ("notebooks/07_sql_basics.ipynb", "SQL 基礎", 18),
             ("notebooks/08_final_project.ipynb", "最終課題", 40)]


def fill_learning(conn: psycopg.Connection, rng: random.Random, now: datetime, start: datetime,
                  rows: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    users = [(rand_uuid(rng), u, f"受講生 {u[-3:]}", "student", now - timedelta(days=420)) for u in LEARNERS]
    users += [(rand_uuid(rng), f"teacher_{i}", f"講師 {i}", "teacher", now - timedelta(days=500)) for i in (1, 2)]
    counts["public.users"] = insert_many(conn, T("public", "users"), (
        "id", "username", "display_name", "role", "created_at"), users)
    notebooks = [(rand_uuid(rng), path, title, f"{title}の演習", cells) for path, title, cells in NOTEBOOKS]
    counts["public.notebooks"] = insert_many(conn, T("public", "notebooks"), (
        "id", "path", "title", "description", "cell_count"), notebooks)

    def gen() -> Iterator[tuple]:
        for ts in timeline(rng, start, now, rows, 1.03):
            u = users[rng.randrange(len(LEARNERS))]
            nb = notebooks[min(len(notebooks) - 1, int(rng.random() ** 1.5 * len(notebooks)))]
            live = (now - ts) < timedelta(hours=1) and rng.random() < 0.8
            dur_ms = int(rng.lognormvariate(14.3, 0.6))
            execs = rng.randrange(3, 120)
            yield (rand_uuid(rng), u[0], nb[0], ts, None if live else ts + timedelta(milliseconds=dur_ms),
                   None if live else dur_ms, execs, int(execs * rng.random() * 0.15))

    counts["public.learning_sessions"] = copy_rows(conn, T("public", "learning_sessions"), (
        "id", "user_id", "notebook_id", "started_at", "ended_at", "total_duration_ms", "cell_executions",
        "error_count"), gen())
    return counts
