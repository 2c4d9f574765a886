"""Shared set-up for the diffs tests (no tests here): a real zengin PostgreSQL database
(fresh_db) and a real moto table + bucket with a unique env per test."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from psycopg import sql

from console.backends.dynamo import DynamoBackend
from console.backends.s3 import S3Backend
from console.config import Settings, ZenginSettings, IdentitySettings
from console.core.zengin import generator as gen
from console.core.zengin.records import DiffEntry, DiffRecord, iso_utc, ttl_for
from console.core.zengin.service import DiffsService
from console.core.zengin.workflow import Ref
from console.demo import zengin as zdemo

NOW = datetime.now(timezone.utc).replace(microsecond=0)

SOURCE: dict[str, Any] = {
    "0001": {"code": "0001", "name": "みずほ", "kana": "ミズホ", "branches": {
        "001": {"code": "001", "name": "東京営業部", "kana": "トウキヨウ"},
        "004": {"code": "004", "name": "丸の内中央", "kana": "マルノウチチユウオウ"},
        "005": {"code": "005", "name": "丸之内", "kana": "マルノウチ"}}},
    "0005": {"code": "0005", "name": "三菱ＵＦＪ", "kana": "ミツビシユ－エフジエイ", "branches": {
        "001": {"code": "001", "name": "本店", "kana": "ホンテン"}}},
    "0009": {"code": "0009", "name": "三井住友", "kana": "ミツイスミトモ", "branches": {}},
}


@dataclasses.dataclass
class Zen:
    settings: Settings
    pg: Any
    dynamo: DynamoBackend
    s3: S3Backend
    svc: DiffsService

    def put(self, entry: DiffEntry, *, status: str = "pending", when: datetime | None = None,
            **fields: Any) -> DiffRecord:
        when = when or NOW

        def make(rid: str):
            rec = DiffRecord(id=rid, timestamp=iso_utc(when), status=status, diffType=entry.diffType,
                             zenginData=entry.zenginData, currentData=entry.currentData, changes=entry.changes,
                             metadata={"source": "test"}, ttl=ttl_for(when))
            return dataclasses.replace(rec, **fields), None, None
        rec, _ = gen.write_record(self.dynamo, gen.IdAllocator(self.dynamo, when), make)
        return rec

    def put_bulk(self, entries: list[DiffEntry], *, status: str = "pending", when: datetime | None = None,
                 **fields: Any) -> DiffRecord:
        when = when or NOW
        plan = gen.plan_diffs(entries, now=when, threshold_bytes=1)
        assert plan.bulk

        def make(rid: str):
            rec, key, doc = gen.build_bulk_record(plan, rid, self.s3.bucket)
            return dataclasses.replace(rec, status=status, **fields), key, doc
        rec, _ = gen.write_record(self.dynamo, gen.IdAllocator(self.dynamo, when), make, s3=self.s3)
        return rec

    def get(self, rec: DiffRecord) -> DiffRecord:
        from console.core.zengin.workflow import get_item
        return get_item(self.dynamo, rec.id, rec.timestamp)

    def master(self) -> gen.Master:
        return gen.read_master(self.pg)

    def history(self, rec: DiffRecord) -> list[dict]:
        return self.pg.fetch("SELECT * FROM public.change_history WHERE diff_id = %s", (rec.id,))

    def audit(self, action: str | None = None) -> list[dict]:
        if action:
            return self.pg.fetch("SELECT * FROM console.audit_log WHERE action = %s ORDER BY id", (action,))
        return self.pg.fetch("SELECT * FROM console.audit_log WHERE action LIKE 'diffs.%%' ORDER BY id")

    def snapshot(self) -> tuple:
        return (self.pg.fetch("SELECT bank_code, bank_name, bank_kana, updated_at FROM banks ORDER BY 1"),
                self.pg.fetch("SELECT bank_code, branch_code, branch_name, branch_kana, updated_at "
                              "FROM branches ORDER BY 1, 2"),
                self.pg.fetch("SELECT count(*) FROM change_history"))


def make_zen(stack, fresh_db, *, source=None, read_only=False, forbid_self=True, operator=None) -> Zen:
    pg = fresh_db("zengin")
    z = ZenginSettings(env=f"t{uuid.uuid4().hex[:12]}", endpoint_url=stack.moto.url, target=pg.target.name,
                       forbid_self_execution=forbid_self)
    settings = Settings(postgres=(pg.target,), zengin=z, read_only=read_only, operator=operator,
                        identity=IdentitySettings(allow_declared=True))
    dynamo, s3 = DynamoBackend(z), S3Backend(z)
    zdemo.create_table_and_bucket(dynamo, s3)
    zdemo.seed_master(pg, source or SOURCE, NOW - timedelta(days=1))
    return Zen(settings, pg, dynamo, s3, DiffsService(settings, pg, dynamo, s3))


def branch(bank: str, code: str, name: str, kana: str | None, bank_name="みずほ", bank_kana="ミズホ") -> dict:
    return {"bankCode": bank, "bankName": bank_name, "bankKana": bank_kana, "branchCode": code,
            "branchName": name, "branchKana": kana}


def bank(code: str, name: str, kana: str | None) -> dict:
    return {"bankCode": code, "bankName": name, "bankKana": kana}


def update(old: dict, **new: Any) -> DiffEntry:
    return DiffEntry("update", {**old, **new}, dict(old), {k: {"old": old.get(k), "new": v} for k, v in new.items()})


def addition(row: dict) -> DiffEntry:
    fields = ("branchName", "branchKana") if "branchCode" in row else ("bankName", "bankKana")
    return DiffEntry("addition", row, None, {k: {"old": None, "new": row[k]} for k in fields})


def deletion(row: dict) -> DiffEntry:
    fields = ("branchName", "branchKana") if "branchCode" in row else ("bankName", "bankKana")
    return DiffEntry("deletion", None, row, {k: {"old": row[k], "new": None} for k in fields})


def ref(rec: DiffRecord) -> Ref:
    return Ref(rec.id, rec.timestamp)


def set_row(pg, query: str, params=()) -> None:
    pg.execute(sql.SQL(query), params)
