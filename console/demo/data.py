"""The demo's data: months of partitioned logs (with partitions missing ahead, one past
month missing so that its rows sit in the default partition, and one drifted index), the
tables the analytics views need, Redis sessions and caches with a publisher on the pub/sub
channels, and InfluxDB points. Deterministic for a given ``seed`` and ``now``.

Expects freshly migrated databases (``sql/common`` + ``sql/<system>``, empty tables).
Bulk rows go in with COPY, fed from generators, so that a million request logs stay quick.
"""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Iterator, Sequence

import psycopg
from psycopg import sql

from ..backends.influx import InfluxBackend
from ..backends.postgres import PostgresBackend

# --------------------------------------------------------------------------- partitions


@dataclass(frozen=True)
class PartitionedTable:
    """A partitioned table of sql/, how its monthly partitions are named, and which past
    month the demo leaves out (its rows land in the default partition)."""

    system: str
    table: str
    name_format: str          # str.format with y, m
    gap_months_ago: int

    def partition_name(self, month: date) -> str:
        return self.name_format.format(y=month.year, m=month.month)

    @property
    def default_partition(self) -> str:
        return f"{self.table}_default"


PARTITIONED: dict[str, PartitionedTable] = {
    "lambda": PartitionedTable("lambda", "request_logs", "request_logs_y{y:04d}m{m:02d}", 4),
    "accesslog": PartitionedTable("accesslog", "access_logs", "access_logs_{y:04d}_{m:02d}", 6),
    "pipe": PartitionedTable("pipe", "pipeline_runs", "pipeline_runs_y{y:04d}m{m:02d}", 3),
    "learning": PartitionedTable("learning", "learning_sessions", "learning_sessions_{y:04d}_{m:02d}", 5),
}
HISTORY_MONTHS = 13     # partitions from 13 months back ...
AHEAD_MONTHS = 1        # ... to next month only (a 3-month premake finds two missing)

DRIFTED_INDEX = "idx_request_logs_status_code"
DRIFTED_INDEX_DDL = "CREATE INDEX {} ON public.request_logs (status_code) WHERE status_code >= 400"


def add_months(month: date, n: int) -> date:
    y, m = divmod(month.year * 12 + month.month - 1 + n, 12)
    return date(y, m + 1, 1)


def month_of(moment: datetime) -> date:
    moment = moment.astimezone(timezone.utc)
    return date(moment.year, moment.month, 1)


def utc(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


def partition_months(now: datetime, spec: PartitionedTable) -> tuple[list[date], date]:
    """The months that get a partition, and the gap month that does not."""
    current = month_of(now)
    gap = add_months(current, -spec.gap_months_ago)
    months = [add_months(current, k) for k in range(-HISTORY_MONTHS, AHEAD_MONTHS + 1)]
    return [m for m in months if m != gap], gap


def create_partitions(conn: psycopg.Connection, spec: PartitionedTable, months: Iterable[date]) -> list[str]:
    names = []
    for m in months:
        name = spec.partition_name(m)
        conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier("public", name), sql.Identifier("public", spec.table),
            sql.Literal(utc(m).isoformat()), sql.Literal(utc(add_months(m, 1)).isoformat())))
        names.append(name)
    return names


# --------------------------------------------------------------------------- helpers


def timeline(rng: random.Random, start: datetime, end: datetime, count: int,
             monthly_growth: float = 1.06) -> Iterator[datetime]:
    """``count`` ascending instants between ``start`` and ``end``, each month a little
    busier than the one before (traffic grows)."""
    spans: list[tuple[float, float]] = []
    if count <= 0 or start >= end:
        return
    m = month_of(start)
    while utc(m) < end:
        lo = max(utc(m), start).timestamp()
        hi = min(utc(add_months(m, 1)), end).timestamp()
        spans.append((lo, hi))
        m = add_months(m, 1)
    weights = [(hi - lo) * monthly_growth ** i for i, (lo, hi) in enumerate(spans)]
    total = sum(weights)
    counts = [int(count * w / total) for w in weights]
    counts[-1] += count - sum(counts)
    for (lo, hi), n in zip(spans, counts):
        for t in sorted(rng.uniform(lo, hi) for _ in range(n)):
            yield datetime.fromtimestamp(t, timezone.utc)


def rand_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]], size: int = 1000) -> list[Any]:
    """A lookup list: ``table[rng.randrange(len(table))]`` is a weighted draw, much
    cheaper per row than ``rng.choices``."""
    total = sum(w for _, w in pairs)
    out: list[Any] = []
    for value, w in pairs:
        out += [value] * max(1, round(size * w / total))
    rng.shuffle(out)
    return out


def copy_rows(conn: psycopg.Connection, table: sql.Composable, columns: Sequence[str],
              rows: Iterable[Sequence[Any]]) -> int:
    n = 0
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(table, sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


@contextlib.contextmanager
def indexes_rebuilt_after(conn: psycopg.Connection, table: sql.Identifier) -> Iterator[None]:
    """Drop ``table``'s indexes and primary / unique keys, run the block, then create the
    very same definitions again (``pg_get_indexdef`` / ``pg_get_constraintdef``): one
    sorted build per index instead of a million random B-tree inserts."""
    rel = table.as_string(conn)
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY conname", (rel,)).fetchall()
    indexes = conn.execute(
        "SELECT n.nspname, i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace "
        "WHERE x.indrelid = %s::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid) ORDER BY i.relname", (rel,)).fetchall()
    for schema, name, _definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, name)))
    for name, _definition in constraints:
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, sql.Identifier(name)))
    yield
    for name, definition in constraints:
        conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(table, sql.Identifier(name))
                     + sql.SQL(definition))
    for _schema, _name, definition in indexes:
        # A partitioned parent's definition reads "ON ONLY": without it, the index is
        # built on every partition too, as the original was.
        conn.execute(sql.SQL(definition.replace(" ON ONLY ", " ON ", 1)))


def insert_many(conn: psycopg.Connection, table: sql.Composable, columns: Sequence[str],
                rows: Sequence[Sequence[Any]]) -> int:
    stmt = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    with conn.cursor() as cur:
        cur.executemany(stmt, rows)
    return len(rows)


def T(schema: str, name: str) -> sql.Identifier:
    return sql.Identifier(schema, name)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


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


# --------------------------------------------------------------------------- accesslog (seed 001)

APPS = [  # app_id, name, domain, modules, page types
    ("shop-web", "デモショップ", "shop.example.com", ["product", "cart", "checkout", "search"],
     ["product_detail", "cart", "checkout", "search", "top"]),
    ("news-portal", "デモニュース", "news.example.com", ["article", "category", "search"],
     ["article", "category", "search", "top"]),
    ("recipe-app", "レシピ帳", "recipes.example.com", ["recipe", "search", "favorites"],
     ["recipe", "search", "favorites"]),
    ("travel-booking", "旅行予約", "travel.example.com", ["hotel", "flight", "checkout"],
     ["hotel_detail", "flight_search", "checkout"]),
]
EVENTS = [("page_view", 0.62), ("click", 0.2), ("scroll", 0.1), ("add_to_cart", 0.05), ("purchase", 0.03)]
SCREENS = ["1920x1080", "1440x900", "390x844", "412x915", "2560x1440", "1366x768"]


def fill_accesslog(conn: psycopg.Connection, rng: random.Random, now: datetime, start: datetime,
                   rows: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    apps = []
    for i, (app_id, name, domain, *_rest) in enumerate(APPS):
        apps.append((rand_uuid(rng), app_id, name, f"{name}のアクセス解析", domain, f"{rng.getrandbits(256):064x}",
                     "active" if i < 3 else "suspended", 1000 * (i + 1), now - timedelta(days=500 - 30 * i)))
    counts["public.applications"] = insert_many(conn, T("public", "applications"), (
        "id", "app_id", "name", "description", "domain", "api_key_hash", "status", "rate_limit_per_minute",
        "created_at"), apps)
    app_uuid = {a[1]: a[0] for a in apps}
    counts["public.application_settings"] = insert_many(conn, T("public", "application_settings"), (
        "application_id", "setting_key", "setting_value"),
        [(a[0], k, v) for a in apps for k, v in (("retention_days", "400"), ("sampling_rate", "1.0"),
                                                 ("timezone", "Asia/Tokyo"))])
    defs = [("page_type", "ページタイプ", "string"), ("product_id", "商品ID", "string"),
            ("product_price", "商品価格", "number"), ("user_segment", "ユーザーセグメント", "string")]
    news_defs = [("page_type", "ページタイプ", "string"), ("article_id", "記事ID", "string"),
                 ("article_tags", "タグ", "array"), ("article_read_time", "読了時間", "number")]
    counts["public.custom_parameter_definitions"] = insert_many(
        conn, T("public", "custom_parameter_definitions"),
        ("application_id", "parameter_key", "parameter_name", "parameter_type", "is_required"),
        [(app_uuid["shop-web"], k, n, t, k == "page_type") for k, n, t in defs]
        + [(app_uuid["news-portal"], k, n, t, k == "page_type") for k, n, t in news_defs])

    session_rows = []
    sessions_by_app: dict[str, list[tuple[str, str]]] = {a[1]: [] for a in apps}
    for i in range(3000):
        app = APPS[i % len(APPS)]
        sid, client = f"sess-{rng.getrandbits(64):016x}", f"client-{rng.randrange(1, 1500):05d}"
        first = now - timedelta(minutes=rng.randrange(60 * 24 * 400))
        sessions_by_app[app[0]].append((sid, client))
        session_rows.append((sid, app_uuid[app[0]], app[0], client, rng.choice(app[3]), USER_AGENTS[i % 7],
                             f"192.0.2.{i % 254 + 1}", first, first + timedelta(minutes=rng.randrange(1, 90)),
                             rng.randrange(1, 40), first > now - timedelta(minutes=30),
                             dumps({"user_segment": rng.choice(["premium", "regular", "new"])})))
    counts["public.sessions"] = insert_many(conn, T("public", "sessions"), (
        "session_id", "application_id", "app_id", "client_sub_id", "module_id", "user_agent", "ip_address",
        "first_accessed_at", "last_accessed_at", "page_views", "is_active", "session_custom_params"), session_rows)

    pick_event = weighted(rng, EVENTS)
    pick_app = weighted(rng, [(a, w) for a, w in zip(APPS, (0.45, 0.3, 0.15, 0.1))])

    def gen() -> Iterator[tuple]:
        for ts in timeline(rng, start, now, rows, 1.05):
            app_id, _name, domain, modules, pages = pick_app[rng.randrange(len(pick_app))]
            sid, client = sessions_by_app[app_id][rng.randrange(len(sessions_by_app[app_id]))]
            event = pick_event[rng.randrange(len(pick_event))]
            page = pages[rng.randrange(len(pages))]
            params: dict[str, Any] = {"page_type": page}
            if app_id == "shop-web" and page == "product_detail":
                params.update(product_id=f"P{rng.randrange(1, 5000):05d}", product_price=rng.randrange(300, 50000))
            elif app_id == "news-portal" and page == "article":
                params.update(article_id=f"A{rng.randrange(1, 20000):06d}", article_read_time=rng.randrange(1, 15))
            yield (app_uuid[app_id], app_id, client, modules[rng.randrange(len(modules))],
                   f"https://{domain}/{page}/{rng.randrange(1, 999)}",
                   "https://www.google.com/" if rng.random() < 0.3 else None,
                   USER_AGENTS[rng.randrange(len(USER_AGENTS))], f"198.51.100.{rng.randrange(1, 255)}", sid,
                   SCREENS[rng.randrange(len(SCREENS))], "ja" if rng.random() < 0.85 else "en", "Asia/Tokyo",
                   event, dumps({"x": rng.randrange(1920), "y": rng.randrange(1080)}) if event == "click" else None,
                   dumps(params), ts)

    counts["public.access_logs"] = copy_rows(conn, T("public", "access_logs"), (
        "application_id", "app_id", "client_sub_id", "module_id", "url", "referrer", "user_agent", "ip_address",
        "session_id", "screen_resolution", "language", "timezone", "event_name", "event_data", "custom_params",
        "created_at"), gen())

    cur = conn.execute("""
        INSERT INTO public.custom_parameter_values
            (access_log_id, application_id, parameter_key, parameter_value, created_at)
        SELECT l.id, l.application_id, p.key, p.value, l.created_at
        FROM (SELECT * FROM public.access_logs WHERE custom_params ? 'product_id' OR custom_params ? 'article_id'
              ORDER BY created_at DESC LIMIT 2000) l, jsonb_each_text(l.custom_params) p""")
    counts["public.custom_parameter_values"] = cur.rowcount
    cur = conn.execute("""
        INSERT INTO public.daily_statistics (application_id, app_id, date, total_requests, unique_visitors,
                                             unique_sessions, custom_param_stats)
        SELECT application_id, app_id, (created_at AT TIME ZONE 'UTC')::date, count(*),
               count(DISTINCT client_sub_id), count(DISTINCT session_id),
               jsonb_build_object('page_views', count(*) FILTER (WHERE event_name = 'page_view'))
        FROM public.access_logs WHERE created_at >= %s AND created_at < %s GROUP BY 1, 2, 3""",
                       (now - timedelta(days=90), utc(now.date())))
    counts["public.daily_statistics"] = cur.rowcount
    cur = conn.execute("""
        INSERT INTO public.hourly_statistics (application_id, app_id, date, hour, total_requests, unique_visitors)
        SELECT application_id, app_id, (created_at AT TIME ZONE 'UTC')::date,
               extract(hour FROM created_at AT TIME ZONE 'UTC')::int, count(*), count(DISTINCT client_sub_id)
        FROM public.access_logs WHERE created_at >= %s AND created_at < %s GROUP BY 1, 2, 3, 4""",
                       (now - timedelta(hours=48), now.replace(minute=0, second=0, microsecond=0)))
    counts["public.hourly_statistics"] = cur.rowcount

    jobs = []
    for i in range(40):
        created = now - timedelta(hours=i * 6 + rng.randrange(5))
        status = "pending" if i == 0 else "processing" if i == 1 else ("failed" if i % 9 == 4 else "completed")
        processed = 0 if status == "pending" else rng.randrange(100, 5000)
        jobs.append(("aggregate_access_logs" if i % 2 else "flush_batch_queue", status, 500, processed,
                     rng.randrange(5) if status == "failed" else 0,
                     created + timedelta(seconds=5) if status != "pending" else None,
                     created + timedelta(minutes=3) if status in ("completed", "failed") else None,
                     "connection reset by peer" if status == "failed" else None, created))
    counts["public.batch_jobs"] = insert_many(conn, T("public", "batch_jobs"), (
        "job_type", "status", "batch_size", "processed_count", "error_count", "started_at", "completed_at",
        "error_message", "created_at"), jobs)
    queue = []
    for i in range(300):
        created = now - timedelta(seconds=rng.randrange(3600 * 6))
        status = "queued" if i < 40 else "processing" if i < 45 else ("failed" if i < 55 else "completed")
        queue.append((dumps({"app_id": APPS[i % 4][0], "event_name": "page_view", "url": f"/p/{i}"}), i % 3,
                      3 if status == "failed" else rng.randrange(2), status,
                      created + timedelta(seconds=30) if status == "completed" else None,
                      "timeout writing to access_logs" if status == "failed" else None, created))
    counts["public.batch_queue"] = insert_many(conn, T("public", "batch_queue"), (
        "tracking_data", "priority", "retry_count", "status", "processed_at", "error_message", "created_at"), queue)
    counts["public.api_keys"] = insert_many(conn, T("public", "api_keys"), (
        "application_id", "key_hash", "name", "permissions", "last_used_at", "expires_at", "is_active"),
        [(a[0], f"{rng.getrandbits(256):064x}", f"{a[1]} {kind}", dumps({"write": kind == "ingest"}),
          now - timedelta(minutes=rng.randrange(9000)), now + timedelta(days=rng.randrange(-10, 300)), True)
         for a in apps for kind in ("ingest", "read")])
    counts["public.webhooks"] = insert_many(conn, T("public", "webhooks"), (
        "application_id", "url", "events", "is_active", "last_triggered_at", "failure_count"),
        [(a[0], f"https://hooks.example.com/{a[1]}", dumps(["purchase", "daily_report"]), i != 2,
          now - timedelta(hours=i), 7 if i == 2 else 0) for i, a in enumerate(apps)])
    return counts


# --------------------------------------------------------------------------- pipe (seed 002)


def fill_pipe(conn: psycopg.Connection, rng: random.Random, now: datetime, start: datetime,
              rows: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    users = [(rand_uuid(rng), f"dev{i:02d}@example.com", f"開発者{i:02d}", f"$2b$12${rng.getrandbits(200):050x}",
              "active" if i % 11 else "inactive", now - timedelta(days=600 - i * 10)) for i in range(1, 31)]
    counts["public.users"] = insert_many(conn, T("public", "users"), (
        "id", "email", "name", "password_hash", "status", "created_at"), users)
    orgs = [(rand_uuid(rng), name, plan, now - timedelta(days=700 - i * 50))
            for i, (name, plan) in enumerate([("Acme Data", "enterprise"), ("Kaizen Labs", "pro"),
                                              ("Sakura Analytics", "pro"), ("Hobby Org", "free")])]
    counts["public.organizations"] = insert_many(conn, T("public", "organizations"), (
        "id", "name", "plan_type", "created_at"), orgs)
    members = [(orgs[i % 4][0], u[0], "owner" if i < 4 else rng.choice(["admin", "member", "member", "readonly"]))
               for i, u in enumerate(users)]
    counts["public.organization_members"] = insert_many(conn, T("public", "organization_members"), (
        "organization_id", "user_id", "role"), members)
    kinds = ["s3-to-warehouse", "kafka-ingest", "daily-rollup", "ml-features", "crm-sync", "log-compaction"]
    pipelines = [(rand_uuid(rng), orgs[i % 4][0], f"{kinds[i % 6]}-{i:02d}", f"{kinds[i % 6]} pipeline",
                  dumps({"schedule": rng.choice(["*/15 * * * *", "0 * * * *", "0 3 * * *"]),
                         "source": kinds[i % 6].split("-")[0], "parallelism": rng.randrange(1, 9)}),
                  "active" if i % 7 else "inactive", users[i % 30][0]) for i in range(14)]
    counts["public.pipelines"] = insert_many(conn, T("public", "pipelines"), (
        "id", "organization_id", "name", "description", "config", "status", "created_by"), pipelines)

    pick_status = weighted(rng, [("completed", 0.9), ("failed", 0.07), ("cancelled", 0.03)])

    def gen() -> Iterator[tuple]:
        for ts in timeline(rng, start, now, rows, 1.04):
            p = pipelines[rng.randrange(len(pipelines))]
            recent = (now - ts) < timedelta(minutes=20)
            status = ("running" if rng.random() < 0.7 else "queued") if recent else pick_status[rng.randrange(1000)]
            dur = timedelta(seconds=int(rng.lognormvariate(5, 0.8)))
            yield (rand_uuid(rng), p[0], status, ts, None if status in ("running", "queued") else ts + dur,
                   "step 'load' failed: relation is locked" if status == "failed" else None,
                   dumps({"rows_processed": rng.randrange(10**6), "bytes_read": rng.randrange(10**9),
                          "duration_ms": int(dur.total_seconds() * 1000)}), p[6])

    counts["public.pipeline_runs"] = copy_rows(conn, T("public", "pipeline_runs"), (
        "id", "pipeline_id", "status", "started_at", "completed_at", "error_message", "metrics", "created_by"), gen())
    counts["public.storage_files"] = insert_many(conn, T("public", "storage_files"), (
        "organization_id", "path", "size", "mime_type", "metadata", "created_by", "created_at"),
        [(orgs[i % 4][0], f"/exports/{kinds[i % 6]}/part-{i:05d}.parquet", rng.randrange(10**4, 10**9),
          "application/vnd.apache.parquet", dumps({"rows": rng.randrange(10**6)}), users[i % 30][0],
          now - timedelta(hours=i * 3)) for i in range(150)])
    counts["public.api_keys"] = insert_many(conn, T("public", "api_keys"), (
        "organization_id", "name", "key_hash", "last_used_at", "created_by", "expires_at"),
        [(o[0], f"{o[1]} CI", f"{rng.getrandbits(256):064x}", now - timedelta(hours=rng.randrange(200)), users[0][0],
          now + timedelta(days=90)) for o in orgs])
    actions = [("pipeline.update", "pipeline"), ("pipeline.run", "pipeline"), ("member.invite", "user"),
               ("api_key.create", "api_key"), ("storage.delete", "storage_file")]
    counts["public.audit_logs"] = insert_many(conn, T("public", "audit_logs"), (
        "organization_id", "user_id", "action", "resource_type", "resource_id", "old_values", "new_values",
        "ip_address", "created_at"),
        [(orgs[i % 4][0], users[i % 30][0], *actions[i % 5], pipelines[i % 14][0],
          dumps({"status": "inactive"}) if i % 5 == 0 else None, dumps({"status": "active"}) if i % 5 == 0 else None,
          f"203.0.113.{i % 250 + 1}", now - timedelta(minutes=i * 37)) for i in range(400)])
    return counts


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


# --------------------------------------------------------------------------- PostgreSQL entry point

FILLERS: dict[str, Callable[..., dict[str, int]]] = {
    "lambda": fill_lambda, "accesslog": fill_accesslog, "pipe": fill_pipe, "learning": fill_learning}


@dataclass
class FillReport:
    """What fill_postgres made, per system: partitions created, the gap month, row counts."""

    partitions: dict[str, list[str]] = field(default_factory=dict)
    gap: dict[str, str] = field(default_factory=dict)        # system -> missing partition's name
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def fill_system(backend: PostgresBackend, now: datetime, *, rows: int, seed: int, report: FillReport) -> None:
    system = backend.target.system
    spec = PARTITIONED[system]
    started = time.perf_counter()
    rng = random.Random(f"{seed}:{system}")
    months, gap = partition_months(now, spec)
    start = utc(months[0])
    with backend.connect(autocommit=True, statement_timeout_ms=0) as conn:
        with conn.transaction():
            report.partitions[system] = create_partitions(conn, spec, months)
            report.gap[system] = spec.partition_name(gap)
            report.rows[system] = FILLERS[system](conn, rng, now, start, rows)
        # Row estimates (reltuples) are what the console reads; a small sample gets them
        # right at a fraction of the default target's cost on the JSONB columns.
        conn.execute("SET default_statistics_target = 10")
        conn.execute("ANALYZE")
    report.seconds[system] = time.perf_counter() - started


DEFAULT_ROWS = {"accesslog": 80_000, "pipe": 25_000, "learning": 20_000}


def fill_postgres(backends: dict[str, PostgresBackend], now: datetime, *, request_log_rows: int = 200_000,
                  seed: int = 1, rows: dict[str, int] | None = None, parallel: bool = True) -> FillReport:
    """Fill every lambda / accesslog / pipe / learning target (other systems are skipped;
    zengin has :mod:`console.demo.zengin`). One transaction per target, then ANALYZE so
    that the catalog's row estimates exist. Targets run in parallel threads: the
    server's COPY and index work overlaps the row generation of the others."""
    counts = {**DEFAULT_ROWS, **(rows or {}), "lambda": request_log_rows}
    report = FillReport()
    todo = [b for b in backends.values() if b.target.system in PARTITIONED]
    # The biggest first, so that it is never the one left running alone at the end.
    todo.sort(key=lambda b: -counts[b.target.system])
    if not parallel:
        for b in todo:
            fill_system(b, now, rows=counts[b.target.system], seed=seed, report=report)
        return report
    errors: list[BaseException] = []

    def run(b: PostgresBackend) -> None:
        try:
            fill_system(b, now, rows=counts[b.target.system], seed=seed, report=report)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(b,), name=f"fill-{b.name}") for b in todo]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return report


# --------------------------------------------------------------------------- Redis (seed 004)

SESSION_TTLS = (5 * 60, 15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600)


@dataclass
class RedisReport:
    sessions: list[str] = field(default_factory=list)
    unparsable: list[str] = field(default_factory=list)
    without_ttl: list[str] = field(default_factory=list)
    wrong_type: list[str] = field(default_factory=list)
    connections: int = 0
    orphan_connections: list[str] = field(default_factory=list)   # user has no session
    class_summaries: list[str] = field(default_factory=list)


def fill_redis(client, now: datetime, seed: int = 1) -> RedisReport:
    """Seed 004's Redis keys.

    - ``session:<user_id>``: JSON string with a TTL (SETEX), e.g.
      ``{"user_id", "current_notebook", "last_activity", "connection_id", "cell_index",
      "progress"}``; two hold unparsable text; one has no TTL; ``session:123`` is a hash,
      as seed 004's pipeline example writes it (HSET), where every other session is a string.
    - ``websocket_connections``: hash ``connection_id -> {"user_id", "last_activity"}``
      (seed 004 writes user_id and last_activity under the same field, the second HSET
      overwriting the first, so both go in one JSON value; two entries keep the seed's plain
      user id). Some connections belong to users without a session; some sessions have no
      connection.
    - ``class_summary:<notebook>``: ``{"total_students", "avg_progress", ...}`` for 60-300 s.
    """
    rng = random.Random(f"{seed}:redis")
    report = RedisReport()
    pipe = client.pipeline(transaction=False)
    active = [u for u in LEARNERS if rng.random() < 0.7]
    conn_of: dict[str, str] = {}
    for u in active:
        nb, title, cells = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))]
        last = now - timedelta(seconds=rng.randrange(1, 3600))
        cid = f"ws-{rng.getrandbits(48):012x}"
        conn_of[u] = cid
        value = {"user_id": u, "current_notebook": nb, "last_activity": last.isoformat(),
                 "connection_id": cid, "cell_index": rng.randrange(cells), "progress": round(rng.random(), 2)}
        pipe.set(f"session:{u}", dumps(value), ex=rng.choice(SESSION_TTLS) + rng.randrange(60))
        report.sessions.append(f"session:{u}")
    for key, raw in (("session:user_041", "{'current_notebook': notebooks/01"),
                     ("session:user_042", b"\x80\x04\x95 pickled by an old worker")):
        pipe.set(key, raw, ex=1800)
        report.unparsable.append(key)
    pipe.set("session:user_043", dumps({"user_id": "user_043", "current_notebook": NOTEBOOKS[0][0],
                                        "last_activity": (now - timedelta(days=3)).isoformat()}))
    report.without_ttl.append("session:user_043")
    pipe.hset("session:123", mapping={"last_activity": now.isoformat(), "current_notebook": NOTEBOOKS[1][0]})
    pipe.expire("session:123", 3600)
    report.wrong_type.append("session:123")

    # Connections: most sessions have one; a few sessions lost theirs; a few connections
    # outlived their session.
    for u, cid in conn_of.items():
        if rng.random() < 0.85:
            # The first two as seed 004 writes them: the plain user id.
            plain = report.connections < 2
            pipe.hset("websocket_connections", cid,
                      u if plain else dumps({"user_id": u, "last_activity": now.isoformat()}))
            report.connections += 1
    for u in ("user_044", "user_045", "user_046"):
        cid = f"ws-{rng.getrandbits(48):012x}"
        pipe.hset("websocket_connections", cid,
                  dumps({"user_id": u, "last_activity": (now - timedelta(hours=5)).isoformat()}))
        report.connections += 1
        report.orphan_connections.append(cid)
    for path, _title, _cells in NOTEBOOKS[:6]:
        key = f"class_summary:{path.split('/')[-1].removesuffix('.ipynb')}"
        pipe.set(key, dumps({
            "total_students": rng.randrange(15, 41), "avg_progress": round(rng.random(), 2),
            "avg_cell_executions": rng.randrange(5, 80), "error_rate": round(rng.random() * 0.2, 3),
            "computed_at": now.isoformat()}), ex=rng.randrange(60, 301))
        report.class_summaries.append(key)
    pipe.execute()
    return report


CHANNELS = ("progress_events", "error_events", "session_events")
PY_ERRORS = [("NameError", "name 'df' is not defined"),
             ("TypeError", "unsupported operand type(s) for +: 'int' and 'str'"),
             ("ValueError", "could not convert string to float: 'abc'"), ("KeyError", "'price'"),
             ("ModuleNotFoundError", "No module named 'sklearn'"), ("IndexError", "list index out of range")]


def event_message(rng: random.Random, channel: str, moment: datetime) -> str:
    """One seed-004 event: ``{"event_type", "user_id", "data", "timestamp"}``."""
    user = LEARNERS[rng.randrange(len(LEARNERS))]
    nb, _title, cells = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))]
    if channel == "progress_events":
        data = {"notebook_path": nb, "cell_index": rng.randrange(cells),
                "execution_duration_ms": int(rng.lognormvariate(5, 1)), "has_error": False,
                "completed_cells": rng.randrange(cells), "total_cells": cells}
        kind = "cell_execution"
    elif channel == "error_events":
        err, msg = PY_ERRORS[rng.randrange(len(PY_ERRORS))]
        data = {"notebook_path": nb, "cell_index": rng.randrange(cells), "error_type": err, "error_message": msg}
        kind = "execution_error"
    else:
        kind = rng.choice(["session_start", "session_end", "heartbeat", "heartbeat"])
        data = {"notebook_path": nb, "connection_id": f"ws-{rng.getrandbits(48):012x}"}
    return dumps({"event_type": kind, "user_id": user, "data": data, "timestamp": moment.isoformat()})


class _Daemon:
    """A stoppable daemon thread that runs ``tick`` on an interval and swallows every
    error (a demo helper must never print over the TUI nor die with its server)."""

    interval_s = 1.0

    def __init__(self, name: str):
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._name = name
        self.errors = 0

    def start(self) -> "_Daemon":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        backoff = self.interval_s
        while not self._stop.is_set():
            try:
                self.tick()
                backoff = self.interval_s
            except Exception:  # noqa: BLE001 - the server may be restarting: wait, retry
                self.errors += 1
                backoff = min(backoff * 2, 5.0)
            self._stop.wait(backoff)

    def tick(self) -> None:
        raise NotImplementedError


class Publisher(_Daemon):
    """Publishes seed-004 events on ``progress_events`` (~3/s), ``session_events``
    (~0.5/s) and ``error_events`` (~0.3/s). Reconnects quietly after a Redis restart."""

    interval_s = 0.2

    def __init__(self, url: str, *, seed: int = 1, rate_per_s: float = 3.8):
        super().__init__("demo-publisher")
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2,
                                           client_name="demo-publisher")
        self.rng = random.Random(f"{seed}:publisher")
        self.rate = rate_per_s
        self.published = 0
        self._mix = weighted(self.rng, [("progress_events", 3.0), ("session_events", 0.5), ("error_events", 0.3)])

    def tick(self) -> None:
        n = sum(1 for _ in range(10) if self.rng.random() < self.rate * self.interval_s / 10)
        for _ in range(n):
            channel = self._mix[self.rng.randrange(len(self._mix))]
            self.client.publish(channel, event_message(self.rng, channel, datetime.now(timezone.utc)))
            self.published += 1

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        self.client.close()


# --------------------------------------------------------------------------- InfluxDB (seed 004)


def cell_execution_point(rng: random.Random, moment: datetime):
    from influxdb_client import Point, WritePrecision

    user = LEARNERS[int(rng.random() ** 1.3 * len(LEARNERS))]
    nb, _title, cells = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))]
    has_error = rng.random() < (0.12 if "final" in nb else 0.05)
    duration = int(rng.lognormvariate(5.2 if "sklearn" in nb else 4.5, 0.9))
    err = PY_ERRORS[rng.randrange(len(PY_ERRORS))] if has_error else None
    return (Point("cell_executions").tag("user_id", user).tag("notebook_path", nb)
            .tag("cell_index", str(rng.randrange(cells))).tag("event_type", "execute")
            .field("execution_duration_ms", duration).field("has_error", has_error)
            .field("error_message", f"{err[0]}: {err[1]}" if err else "")
            .field("execution_count", rng.randrange(1, 50))
            .time(int(moment.timestamp() * 1000), WritePrecision.MS))


@dataclass
class InfluxReport:
    points: dict[str, int] = field(default_factory=dict)


def fill_influx(influx: InfluxBackend, now: datetime, seed: int = 1, *, batch: int = 5000) -> InfluxReport:
    """The last 24 h of seed 004's measurements, busier in class hours (JST 9-18):

    - ``cell_executions`` tags user_id, notebook_path, cell_index, event_type; fields
      execution_duration_ms (int), has_error (bool), error_message, execution_count;
    - ``learning_progress`` tags user_id, notebook_path; fields completed_cells,
      total_cells, progress_percentage, session_duration_ms (every 10 min per active user);
    - ``performance_metrics`` tags user_id, notebook_path, cell_type; fields
      avg_execution_time, max_execution_time, error_rate (hourly).
    """
    from influxdb_client import Point, WritePrecision

    rng = random.Random(f"{seed}:influx")
    report = InfluxReport()
    start = now - timedelta(hours=24)

    def busy(moment: datetime) -> float:
        jst_hour = (moment.hour + 9) % 24
        return 1.0 if 9 <= jst_hour < 18 else 0.25

    points: list = []

    def flush(force: bool = False) -> None:
        if points and (force or len(points) >= batch):
            influx.write(points, precision="ms")
            points.clear()

    n = 0
    minute = start
    while minute < now:
        for _ in range(int(rng.randrange(10, 30) * busy(minute))):
            points.append(cell_execution_point(rng, minute + timedelta(seconds=rng.random() * 60)))
            n += 1
        flush()
        minute += timedelta(minutes=1)
    report.points["cell_executions"] = n

    n = 0
    progress = {u: {nb: 0.0 for nb, _t, _c in NOTEBOOKS} for u in LEARNERS}
    tick = start
    while tick < now:
        for u in LEARNERS:
            if rng.random() > 0.5 * busy(tick):
                continue
            nb, _title, cells = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))]
            progress[u][nb] = min(1.0, progress[u][nb] + rng.random() * 0.1)
            done = int(progress[u][nb] * cells)
            points.append(Point("learning_progress").tag("user_id", u).tag("notebook_path", nb)
                          .field("completed_cells", done).field("total_cells", cells)
                          .field("progress_percentage", round(progress[u][nb] * 100, 1))
                          .field("session_duration_ms", rng.randrange(60_000, 3_600_000))
                          .time(int(tick.timestamp() * 1000), WritePrecision.MS))
            n += 1
        flush()
        tick += timedelta(minutes=10)
    report.points["learning_progress"] = n

    n = 0
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < now:
        for u in LEARNERS[:20]:
            nb = NOTEBOOKS[rng.randrange(len(NOTEBOOKS))][0]
            for cell_type in ("code", "markdown"):
                avg = rng.lognormvariate(4.5, 0.5) if cell_type == "code" else rng.random() * 5
                points.append(Point("performance_metrics").tag("user_id", u).tag("notebook_path", nb)
                              .tag("cell_type", cell_type).field("avg_execution_time", round(avg, 2))
                              .field("max_execution_time", round(avg * (1 + rng.random() * 4), 2))
                              .field("error_rate", round(rng.random() * 0.15 if cell_type == "code" else 0.0, 3))
                              .time(int(hour.timestamp() * 1000), WritePrecision.MS))
                n += 1
        flush()
        hour += timedelta(hours=1)
    report.points["performance_metrics"] = n
    flush(force=True)
    return report


class TrafficGenerator(_Daemon):
    """Keeps the metrics screen moving: every second a few ``cell_executions`` points and a
    few ``request_logs`` rows stamped with the current time. Either side may be None."""

    interval_s = 1.0

    def __init__(self, *, lambda_pg: PostgresBackend | None = None, influx: InfluxBackend | None = None,
                 seed: int = 1, points_per_s: int = 4, rows_per_s: int = 5):
        super().__init__("demo-traffic")
        self.lambda_pg = lambda_pg
        self.influx = influx
        self.rng = random.Random(f"{seed}:traffic")
        self.points_per_s = points_per_s
        self.rows_per_s = rows_per_s
        self.written_points = 0
        self.written_rows = 0

    def tick(self) -> None:
        now = datetime.now(timezone.utc)
        if self.influx is not None:
            n = self.rng.randrange(self.points_per_s + 1) + self.points_per_s // 2
            self.written_points += self.influx.write([cell_execution_point(self.rng, now) for _ in range(n)],
                                                     precision="ms")
        if self.lambda_pg is not None:
            n = self.rng.randrange(self.rows_per_s + 1) + self.rows_per_s // 2
            rows = list(request_log_rows(self.rng, now, n, now - timedelta(seconds=1), now, []))
            stmt = sql.SQL("INSERT INTO public.request_logs ({}) VALUES ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, REQUEST_LOG_COLUMNS)),
                sql.SQL(", ").join(sql.Placeholder() * len(REQUEST_LOG_COLUMNS)))
            with self.lambda_pg.connection() as conn, conn.cursor() as cur:
                cur.executemany(stmt, rows)
            self.written_rows += len(rows)
