"""Seed 001 (accesslog): apps, page views, events."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Iterator

import psycopg

from .partitions import (utc)
from .helpers import (timeline, rand_uuid, weighted, copy_rows, insert_many, T, dumps)
from .lambda_ import (USER_AGENTS)


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
