"""Seed 000 (lambda): request logs, errors, metrics, sessions."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Iterator

import psycopg
from psycopg import sql

from ...core.partitions import add_months
from .partitions import (DRIFTED_INDEX, DRIFTED_INDEX_DDL, month_of, utc)
from .helpers import (timeline, rand_uuid, weighted, copy_rows, indexes_rebuilt_after, insert_many, T, dumps)


# --------------------------------------------------------------------------- lambda (seed 000)

FUNCTIONS = [  # language, title, share of traffic, median ms, error rate, cache rate
    ("python", "fibonacci", 0.20, 35, 0.01, 0.45),
    ("python", "pdf_extract", 0.08, 900, 0.06, 0.05),
    ("rust", "image_resize", 0.14, 60, 0.01, 0.30),
    ("rust", "hash_sha256", 0.10, 4, 0.002, 0.60),
    ("go", "json_transform", 0.14, 12, 0.01, 0.35),
    ("go", "http_fetch", 0.08, 350, 0.09, 0.10),
    ("nodejs", "markdown_render", 0.10, 25, 0.02, 0.50),
    ("ruby", "csv_parse", 0.06, 140, 0.03, 0.20),
    ("java", "xml_validate", 0.05, 220, 0.04, 0.15),
    ("python", "ml_predict", 0.05, 1800, 0.12, 0.02),
]
LAMBDA_USERS = [f"user_{i:03d}" for i in range(1, 61)]
ERROR_STATUSES = [(400, 0.25), (401, 0.05), (404, 0.10), (413, 0.03), (429, 0.12),
                  (500, 0.25), (502, 0.08), (504, 0.12)]
ERROR_CODES = {400: "INVALID_INPUT", 401: "UNAUTHORIZED", 404: "FUNCTION_NOT_FOUND", 413: "PAYLOAD_TOO_LARGE",
               429: "RATE_LIMITED", 500: "RUNTIME_ERROR", 502: "UPSTREAM_ERROR", 504: "TIMEOUT"}
USER_AGENTS = ["lambda-cli/2.3.1", "python-requests/2.32.3", "Go-http-client/1.1", "curl/8.5.0",
               "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15",
               "okhttp/4.12.0", "node-fetch/3.3.2"]


def language_title(lang: str, title: str) -> str:
    return f"{lang}-{title}"


def request_log_rows(rng: random.Random, now: datetime, count: int, start: datetime,
                     errors_since: datetime, error_sink: list) -> Iterator[tuple]:
    """Rows for ``REQUEST_LOG_COLUMNS``. The hot loop draws with ``rng.random()`` and
    picks whole JSON strings from small pools: a million rows must stay quick."""
    rand, bits = rng.random, rng.getrandbits
    pick_fn = [(language_title(f[0], f[1]), f[1], f[3], f[4], f[5])
               for f in weighted(rng, [(f, f[2]) for f in FUNCTIONS])]
    n_fn = len(pick_fn)
    pick_err = weighted(rng, ERROR_STATUSES)
    n_err = len(pick_err)
    ips = [f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(400)]
    headers = [dumps({"user-agent": ua, "content-type": "application/json", "x-forwarded-proto": "https"})
               for ua in USER_AGENTS]

    def payload(title: str) -> str:
        body = ({"n": rng.randrange(10, 40)} if title == "fibonacci" else
                {"size": rng.choice([128, 256, 512, 1024]), "format": rng.choice(["png", "jpeg"])})
        return dumps({"input": body, "options": {"trace": rng.random() < 0.1}})

    payloads = {f[1]: [payload(f[1]) for _ in range(30)] for f in FUNCTIONS}
    ok_responses = [dumps({"ok": True, "result": {"value": rng.randrange(10**6)}}) for _ in range(50)]
    errors = {st: (dumps({"code": code, "message": f"{code.lower().replace('_', ' ')}"}),
                   dumps({"ok": False, "error": code})) for st, code in ERROR_CODES.items()}
    n_users = len(LAMBDA_USERS)
    heavy = {"ml_predict", "pdf_extract"}
    lognorm = rng.lognormvariate
    for ts in timeline(rng, start, now, count):
        lt, title, median, err_rate, cache_rate = pick_fn[int(rand() * n_fn)]
        rid = f"{bits(128):032x}"
        is_err = rand() < err_rate
        if is_err:
            status = pick_err[int(rand() * n_err)]
            cached = False
            error, response = errors[status]
            if ts >= errors_since:
                error_sink.append((rid, ts, status, lt))
        else:
            status = 200 if rand() < 0.93 else 201
            cached = rand() < cache_rate
            error, response = None, ok_responses[int(rand() * 50)]
        duration = 30000 + int(rand() * 500) if status == 504 else \
            max(1, int(lognorm(0, 0.6) * median * (0.2 if cached else 1.0)))
        user = LAMBDA_USERS[int(rand() ** 2 * n_users)] if rand() > 0.05 else None
        mem = 64 + rand() * (900 if title in heavy else 200)
        runtime = (f'{{"memory_usage_mb":{mem:.1f},"cpu_usage_percent":{rand() * 100:.1f},'
                   f'"cold_start":{"true" if rand() < 0.03 else "false"}}}')
        yield (rid, f"req-{bits(64):016x}", lt, ts, ips[int(rand() * 400)], user,
               headers[int(rand() * len(headers))], payloads[title][int(rand() * 30)], response, status,
               duration, cached, error, runtime)


REQUEST_LOG_COLUMNS = ("id", "request_id", "language_title", "timestamp", "client_ip", "user_id",
                       "request_headers", "request_payload", "response_payload", "status_code",
                       "duration_ms", "cached", "error_details", "runtime_metrics")


def fill_lambda(conn: psycopg.Connection, rng: random.Random, now: datetime, start: datetime,
                request_log_rows_: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    functions = []
    for i, (lang, title, *_rest) in enumerate(FUNCTIONS):
        functions.append((lang, title, language_title(lang, title), f"{title.replace('_', ' ')} in {lang}",
                          dumps({"type": "object", "properties": {"input": {"type": "object"}}}),
                          dumps([{"input": {"n": 10}}]), utc(add_months(month_of(now), -18)) + timedelta(days=i),
                          "platform-team", title != "xml_validate", f"1.{i % 4}.0",
                          [lang, "public" if i % 3 else "internal"]))
    counts["meta.functions"] = insert_many(conn, T("meta", "functions"), (
        "language", "title", "language_title", "description", "schema_definition", "examples", "created_at",
        "created_by", "is_active", "version", "tags"), functions)
    users = [(u, f"Demo User {u[-3:]}", f"{u}@example.com", f"{rng.getrandbits(128):032x}",
              now - timedelta(days=400 - i * 5), now - timedelta(minutes=rng.randrange(60 * 24 * 30)),
              i % 17 != 0, 100 if i % 10 else 1000, [lang for lang in ("python", "rust", "go") if rng.random() < 0.8],
              "admin" if i == 0 else "user") for i, u in enumerate(LAMBDA_USERS)]
    counts["meta.users"] = insert_many(conn, T("meta", "users"), (
        "user_id", "name", "email", "api_key_hash", "created_at", "last_active_at", "is_active",
        "rate_limit_per_minute", "allowed_languages", "role"), users)

    errors: list = []
    with indexes_rebuilt_after(conn, T("public", "request_logs")):
        counts["public.request_logs"] = copy_rows(
            conn, T("public", "request_logs"), REQUEST_LOG_COLUMNS,
            request_log_rows(rng, now, request_log_rows_, start, now - timedelta(days=10), errors))
    messages = {"RUNTIME_ERROR": 'Traceback (most recent call last):\n  File "handler.py", line 42\nValueError',
                "TIMEOUT": None, "UPSTREAM_ERROR": None}
    counts["public.error_logs"] = copy_rows(conn, T("public", "error_logs"), (
        "id", "request_log_id", "timestamp", "error_code", "error_message", "stack_trace", "context"),
        ((rand_uuid(rng), rid, ts + timedelta(milliseconds=5), ERROR_CODES[st],
          f"{ERROR_CODES[st].lower().replace('_', ' ')} while running {lt}",
          messages.get(ERROR_CODES[st]), dumps({"status_code": st, "runtime": lt.split("-")[0]}))
         for rid, ts, st, lt in errors))

    sessions = []
    for _ in range(400):
        created = now - timedelta(minutes=rng.randrange(60 * 24 * 3))
        ttl = timedelta(minutes=rng.choice([15, 30, 60, 240]))
        expires = created + ttl
        status = "active" if expires > now or rng.random() < 0.3 else rng.choice(["expired", "closed"])
        lang, title, *_ = FUNCTIONS[rng.randrange(len(FUNCTIONS))]
        execs = rng.randrange(0, 40)
        sessions.append((f"req-{rng.getrandbits(64):016x}", language_title(lang, title),
                         LAMBDA_USERS[rng.randrange(len(LAMBDA_USERS))], created, expires,
                         created + (expires - created) * rng.random() if execs else None, execs, status,
                         dumps({"variables": {"n": rng.randrange(100)}}), dumps({"client": "lambda-cli/2.3.1"})))
    counts["meta.sessions"] = insert_many(conn, T("meta", "sessions"), (
        "request_id", "language_title", "user_id", "created_at", "expires_at", "last_executed_at",
        "execution_count", "status", "context", "metadata"), sessions)
    counts["meta.schema_version"] = insert_many(conn, T("meta", "schema_version"), (
        "version", "description", "applied_at", "applied_by"), [
        ("1.0.0", "Initial schema creation", now - timedelta(days=540), "system"),
        ("1.1.0", "Partition request_logs by month", now - timedelta(days=420), "dba"),
        ("1.2.0", "analytics.daily_stats_mv and its unique index", now - timedelta(days=120), "dba")])

    # Daily aggregates of the last 30 days, as analytics.aggregate_daily_metrics() would
    # have written them one night at a time.
    since = (now - timedelta(days=30)).date()
    cur = conn.execute("""
        INSERT INTO analytics.runtime_metrics (timestamp, language_title, avg_duration_ms, p50_duration_ms,
            p90_duration_ms, p95_duration_ms, p99_duration_ms, request_count, error_count, cache_hit_count,
            memory_usage_mb, cpu_usage_percent)
        SELECT date_trunc('day', timestamp), language_title, avg(duration_ms),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms),
               percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms),
               count(*), count(*) FILTER (WHERE status_code >= 400), count(*) FILTER (WHERE cached),
               avg((runtime_metrics->>'memory_usage_mb')::float), avg((runtime_metrics->>'cpu_usage_percent')::float)
        FROM public.request_logs WHERE timestamp >= %s AND timestamp < %s
        GROUP BY 1, 2""", (since, now.date()))
    counts["analytics.runtime_metrics"] = cur.rowcount
    cur = conn.execute("""
        INSERT INTO analytics.cache_metrics (timestamp, language_title, cache_hits, cache_misses, cache_hit_ratio,
            avg_cache_latency_ms, evictions, memory_usage_mb)
        SELECT date_trunc('day', timestamp), language_title, count(*) FILTER (WHERE cached),
               count(*) FILTER (WHERE NOT cached),
               round(count(*) FILTER (WHERE cached)::numeric / count(*), 4),
               coalesce(avg(duration_ms) FILTER (WHERE cached), 0), (random() * 50)::int, 32 + random() * 200
        FROM public.request_logs WHERE timestamp >= %s AND timestamp < %s
        GROUP BY 1, 2""", (since, now.date()))
    counts["analytics.cache_metrics"] = cur.rowcount
    conn.execute("REFRESH MATERIALIZED VIEW analytics.daily_stats_mv")

    # The drifted index: same name as sql/ declares, different definition.
    conn.execute(sql.SQL("DROP INDEX public.{}").format(sql.Identifier(DRIFTED_INDEX)))
    conn.execute(sql.SQL(DRIFTED_INDEX_DDL).format(sql.Identifier(DRIFTED_INDEX)))
    return counts
