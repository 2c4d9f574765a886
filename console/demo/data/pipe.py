"""Seed 002 (pipe): pipeline runs."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Iterator

import psycopg

from .helpers import (timeline, rand_uuid, weighted, copy_rows, insert_many, T, dumps)


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
