"""Diffs, two figures.

1. A ten-year change of the real master data (zengin-code 1.1.0.20170427 -> the installed
   release, about 9,000 single diffs in seed 003's format) taken through approve and
   execute as batches (core.zengin.batch: dependency order, conditional writes a few at a
   time, one transaction per chunk with a savepoint per diff), end to end including
   reading the queue, against the one-diff-at-a-time path (workflow.approve then
   executor.execute per diff). The baseline is timed on a sample of BASELINE_SAMPLE diffs
   and extrapolated to the whole change (said so in its name): run one at a time, the
   whole change takes about ten minutes. Both paths talk to a moto server started as its
   own process for this figure (``python -m moto.server``), so the emulator's CPU does not
   compete with the console's for one interpreter lock; moto's cost per request (about
   10 ms for a conditional UpdateItem, more to serialize a whole item back on a Query) is
   still most of both figures.

2. Executing one bulk diff of 30,000 branch records (updates and additions) with
the console's executor (S3 and DynamoDB in a moto process of their own, as for figure 1) — S3 document read and validated, conditional claim, ONE
transaction: COPY into a temporary table, change_history, set-based upsert / guarded
UPDATE … FROM, commit, DynamoDB completed — against a baseline in the same run that
applies the same records the way seed 003's executor does: one transaction per record
(change_history insert + the row statement + commit), on an identical second database.

Both run with durable commits (fsync and synchronous_commit on, as on any production
server): the embedded stack turns them off for speed, which would make the baseline's
30,000 commits look nearly free. They are switched on for this benchmark and restored."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from psycopg import sql

from console.backends.dynamo import DynamoBackend
from console.backends.postgres import PostgresBackend
from console.backends.s3 import S3Backend
from console.config import PostgresTarget, Settings, ZenginSettings
from console.core import migrate
from console.core.zengin import executor, generator as gen
from console.core.zengin.records import DiffEntry
from console.core.zengin.workflow import Ref, approve
from console.demo import zengin as zdemo

from . import Result, moto_process

RECORDS = 30_000
DBS = ("bench_diffs_console", "bench_diffs_seed003")


def _db(ctx, name: str) -> PostgresBackend:
    ctx.stack.postgres.create_database(name)
    target = PostgresTarget(name=name, system="zengin", dsn=ctx.stack.postgres.dsn(name), statement_timeout_ms=60_000)
    backend = PostgresBackend(target)
    res = migrate.migrate(Settings(postgres=(target,)), backend, "zengin", actor="bench")
    assert res.failed is None, res.error
    return backend


def build_entries(source) -> list[DiffEntry]:
    """Updates of existing branches (name + 支店), topped up with additions to RECORDS."""
    master = gen.master_from_source(source)
    out: list[DiffEntry] = []
    for key in sorted(master.branches):
        if len(out) >= RECORDS:
            break
        old = master.branches[key]
        new = {**old, "branchName": (old["branchName"] + "支店")[:100]}
        out.append(DiffEntry("update", new, dict(old), {"branchName": {"old": old["branchName"],
                                                                        "new": new["branchName"]}}))
    banks = sorted(master.banks)
    i = 0
    while len(out) < RECORDS:
        bank = master.banks[banks[i % len(banks)]]
        code = f"{900 + (i // len(banks)) % 100:03d}"
        i += 1
        if (bank["bankCode"], code) in master.branches:
            continue
        row = {**bank, "branchCode": code, "branchName": "ベンチ支店", "branchKana": "ベンチシテン"}
        out.append(DiffEntry("addition", row, None, {"branchName": {"old": None, "new": "ベンチ支店"},
                                                     "branchKana": {"old": None, "new": "ベンチシテン"}}))
    return out


def seed003_style(pg: PostgresBackend, entries: list[DiffEntry], diff_id: str) -> int:
    """Seed 003's execute_diff_changes, fixed to touch branches: one transaction per record."""
    n = 0
    with pg.connect() as conn:
        for i, e in enumerate(entries):
            z, c = e.zenginData, e.currentData
            with conn.transaction():
                conn.execute("INSERT INTO change_history (diff_id, diff_timestamp, operation_type, table_name, "
                             "record_id, old_values, new_values, executed_at) VALUES (%s, %s, %s, 'branches', %s, "
                             "%s::jsonb, %s::jsonb, now())",
                             (f"{diff_id}-{i}", "t", e.diffType, f"{z['bankCode']}-{z['branchCode']}",
                              None if c is None else executor.Jsonb(c), executor.Jsonb(z)))
                if e.diffType == "addition":
                    cur = conn.execute(
                        "INSERT INTO branches (bank_code, branch_code, branch_name, branch_kana, updated_at) "
                        "VALUES (%s, %s, %s, %s, now()) ON CONFLICT (bank_code, branch_code) DO UPDATE SET "
                        "branch_name = EXCLUDED.branch_name, branch_kana = EXCLUDED.branch_kana, "
                        "updated_at = EXCLUDED.updated_at",
                        (z["bankCode"], z["branchCode"], z["branchName"], z["branchKana"]))
                else:
                    cur = conn.execute("UPDATE branches SET branch_name = %s, branch_kana = %s, updated_at = now() "
                                       "WHERE bank_code = %s AND branch_code = %s",
                                       (z["branchName"], z["branchKana"], z["bankCode"], z["branchCode"]))
                n += cur.rowcount
    return n


DURABLE = ("fsync", "synchronous_commit")


def _durable(pg: PostgresBackend, on: bool) -> None:
    with pg.connect(autocommit=True) as conn:
        for name in DURABLE:
            if on:
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = on").format(sql.Identifier(name)))
            else:
                conn.execute(sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name)))
        conn.execute("SELECT pg_reload_conf()")


def run(ctx) -> list[Result]:
    return run_ten_years(ctx) + run_bulk(ctx)


def run_bulk(ctx) -> list[Result]:
    with moto_process() as url:
        return _bulk(ctx, url)


def _bulk(ctx, moto_url: str) -> list[Result]:
    now = datetime.now(timezone.utc)
    source, _ = gen.load_zengin_code()
    entries = build_entries(source)
    assert len(entries) == RECORDS
    a, b = (_db(ctx, n) for n in DBS)
    z = ZenginSettings(env=f"bench{uuid.uuid4().hex[:8]}", endpoint_url=moto_url, target=a.target.name,
                       timeout_s=60)
    settings = Settings(postgres=(a.target,), zengin=z)
    dynamo, s3 = DynamoBackend(z), S3Backend(z)
    try:
        zdemo.create_table_and_bucket(dynamo, s3)
        for pg in (a, b):
            zdemo.seed_master(pg, source, now)
        plan = gen.plan_diffs(entries, now=now, threshold_bytes=1)
        rid = gen.write_plan(dynamo, s3, plan).ids[0]
        rec_ref = Ref(rid, None)
        assert approve(settings, dynamo, s3, a, rec_ref, "bench-approver", now=now).ok
        _durable(a, True)
        time.sleep(0.5)   # let every backend see the reloaded settings

        t0 = time.perf_counter()
        out = executor.execute(settings, a, dynamo, s3, rec_ref, "bench-executor", now=now)
        ours = time.perf_counter() - t0
        assert out.ok, out.message
        assert out.record.executionResult["rowsAffected"] == RECORDS, out.record.executionResult
        in_tx = out.record.executionResult["executionTime"] / 1000

        t0 = time.perf_counter()
        n = seed003_style(b, entries, rid)
        base = time.perf_counter() - t0
        assert n == RECORDS
        same = a.fetch(sql.SQL("SELECT count(*) AS n FROM branches"))[0]["n"] == \
            b.fetch(sql.SQL("SELECT count(*) AS n FROM branches"))[0]["n"]
        assert same
    finally:
        try:
            _durable(a, False)
        except Exception:  # noqa: BLE001
            pass
        try:
            dynamo.call("delete_table", TableName=dynamo.table)
        except Exception:  # noqa: BLE001
            pass
        for x in (dynamo, s3, a, b):
            x.close()
        for name in DBS:
            ctx.stack.postgres.drop_database(name)
    return [
        Result(f"diffs: execute a bulk diff of {RECORDS:,} branch records, end to end, durable commits (records/s)", RECORDS / ours,
               "seed 003 style: one transaction per record", RECORDS / base, unit="rec/s", higher_is_better=True),
        Result(f"diffs: the PostgreSQL transaction alone, {RECORDS:,} records (records/s)", RECORDS / in_tx,
               "seed 003 style: one transaction per record", RECORDS / base, unit="rec/s", higher_is_better=True),
    ]


# --------------------------------------------------------------------------- ten years of changes

OLDER = "1.1.0.20170427"
BASELINE_SAMPLE = 200
TEN_DBS = ("bench_diffs_batch", "bench_diffs_single")


def _seed_format(e: DiffEntry) -> DiffEntry:
    if e.diffType == "deletion":
        return DiffEntry("deletion", dict(e.currentData), e.currentData, e.changes)
    return e


def _older(ctx) -> tuple[dict, str]:
    from console.core.zengin import releases
    try:
        return releases.load_wheel(releases.download(OLDER, ctx.scratch / "wheels"))
    except gen.SourceError:
        newer, _ = gen.load_zengin_code()
        return zdemo.changed_copy(newer, seed=7).source, "derived (package index unreachable)"


def run_ten_years(ctx) -> list[Result]:
    with moto_process() as url:
        return _ten_years(ctx, url)


def _ten_years(ctx, moto_url: str) -> list[Result]:
    from console.core.zengin import batch, batch_exec
    from console.core.zengin.workflow import approve as approve_one

    now = datetime.now(timezone.utc)
    older, version = _older(ctx)
    newer, new_version = gen.load_zengin_code()
    a, b = (_db(ctx, n) for n in TEN_DBS)
    backends = []
    try:
        for pg in (a, b):
            zdemo.seed_master(pg, older, now)
        entries = [_seed_format(e) for e in gen.compare(gen.master_from_source(newer), gen.read_master(a))]
        total = len(entries)

        def setup(pg, entries_):
            z = ZenginSettings(env=f"bench{uuid.uuid4().hex[:8]}", endpoint_url=moto_url,
                               target=pg.target.name, timeout_s=60)
            settings = Settings(postgres=(pg.target,), zengin=z)
            dynamo, s3 = DynamoBackend(z), S3Backend(z)
            backends.append(dynamo)
            zdemo.create_table_and_bucket(dynamo, s3)
            plan = gen.plan_diffs(entries_, now=now, threshold_bytes=10 ** 9)
            return settings, dynamo, s3, gen.write_plan(dynamo, s3, plan).ids

        s_a, dy_a, s3_a, ids = setup(a, entries)
        # the baseline applies its sample in the generator's (dependency) order
        s_b, dy_b, s3_b, ids_b = setup(b, entries[:BASELINE_SAMPLE])
        for pg in (a, b):
            _durable(pg, True)
        time.sleep(0.5)

        t0 = time.perf_counter()
        ap = batch.approve_many(s_a, a, dy_a, s3_a, None, "bench-approver", now=now)
        ours_ap = time.perf_counter() - t0
        ex = batch_exec.execute_many(s_a, a, dy_a, s3_a, None, "bench-executor", now=now)
        ours = time.perf_counter() - t0
        assert ap.counts() == {"ok": total}, ap.summary()
        assert ex.counts() == {"ok": total}, ex.summary()
        assert gen.read_master(a) == gen.master_from_source(newer)

        base_ap = base_ex = 0.0
        for rid in ids_b:
            t0 = time.perf_counter()
            assert approve_one(s_b, dy_b, s3_b, b, Ref(rid, None), "bench-approver", now=now).ok
            t1 = time.perf_counter()
            out = executor.execute(s_b, b, dy_b, s3_b, Ref(rid, None), "bench-executor", now=now)
            base_ex += time.perf_counter() - t1
            base_ap += t1 - t0
            assert out.ok, out.message
        scale = total / len(ids_b)
        base_ap, base_ex = base_ap * scale, base_ex * scale
        base = base_ap + base_ex
    finally:
        for pg in (a, b):
            try:
                _durable(pg, False)
            except Exception:  # noqa: BLE001
                pass
        for d in backends:
            try:
                d.call("delete_table", TableName=d.table)
            except Exception:  # noqa: BLE001
                pass
            d.close()
        for x in (a, b):
            x.close()
        for name in TEN_DBS:
            ctx.stack.postgres.drop_database(name)
    sample = f"timed on {BASELINE_SAMPLE} diffs and extrapolated to {total:,}"
    return [Result(f"diffs: approve + execute a ten-year change ({version} -> {new_version}, {total:,} single "
                   "diffs), end to end, durable commits (s)", ours,
                   f"one diff at a time (workflow.approve + executor.execute), {sample}", base),
            Result("diffs: the approve half of it (s)", ours_ap, f"workflow.approve one at a time, {sample}", base_ap),
            Result("diffs: the execute half of it (s)", ours - ours_ap, f"executor.execute one at a time, {sample}",
                   base_ex)]
