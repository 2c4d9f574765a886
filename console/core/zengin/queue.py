"""The whole review queue, read lazily: StatusIndex pages (newest first) pulled only as far
as the caller iterates, counts from ``Select='COUNT'`` queries (no items transferred), and
the filter / sort the screen and ``diffs list`` share. No cap: a queue of 10,000 pending
diffs is read to the end when the caller asks for all of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator

from ...backends.dynamo import DynamoBackend
from .records import EXPIRED, STATUSES, DiffRecord

PAGE = 1000          # items per StatusIndex page (DynamoDB also stops a page at 1 MB)


def pages(dynamo: DynamoBackend, status: str, *, page: int = PAGE, newest_first: bool = True,
          projection: str | None = None, names: dict[str, str] | None = None) -> Iterator[list[DiffRecord]]:
    """StatusIndex pages of ``status``; the next page is read only when asked for."""
    start: dict | None = None
    while True:
        kw: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        attr_names = {"#s": "status", **(names or {})}
        if projection:
            kw["ProjectionExpression"] = projection
        resp = dynamo.call("query", TableName=dynamo.table, IndexName="StatusIndex",
                           KeyConditionExpression="#s = :s", ExpressionAttributeNames=attr_names,
                           ExpressionAttributeValues={":s": {"S": status}}, ScanIndexForward=not newest_first,
                           Limit=page, **kw)
        yield [DiffRecord.from_item(i) for i in resp.get("Items", [])]
        start = resp.get("LastEvaluatedKey")
        if not start:
            return


def iter_status(dynamo: DynamoBackend, status: str, *, newest_first: bool = True, page: int = PAGE) -> Iterator[DiffRecord]:
    for recs in pages(dynamo, status, page=page, newest_first=newest_first):
        yield from recs


def count(dynamo: DynamoBackend, status: str, *, expired_before: datetime | None = None) -> int:
    """How many items have ``status`` (all pages of a COUNT query). With ``expired_before``:
    only those whose ttl has passed."""
    total = 0
    start: dict | None = None
    while True:
        kw: dict[str, Any] = {"ExclusiveStartKey": start} if start else {}
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": {"S": status}}
        if expired_before is not None:
            names["#ttl"] = "ttl"
            values[":now"] = {"N": str(int(expired_before.timestamp()))}
            kw["FilterExpression"] = "#ttl < :now"
        resp = dynamo.call("query", TableName=dynamo.table, IndexName="StatusIndex", Select="COUNT",
                           KeyConditionExpression="#s = :s", ExpressionAttributeNames=names,
                           ExpressionAttributeValues=values, **kw)
        total += int(resp.get("Count", 0))
        start = resp.get("LastEvaluatedKey")
        if not start:
            return total


def counts(dynamo: DynamoBackend, now: datetime, statuses: Iterable[str] = STATUSES) -> dict[str, int]:
    """Items per tab: each stored status minus its expired items, and ``expired`` (an
    executing diff is never counted as expired: it must be reconciled)."""
    out: dict[str, int] = {}
    expired = 0
    for s in statuses:
        n = count(dynamo, s)
        gone = count(dynamo, s, expired_before=now) if n and s != "executing" else 0
        out[s] = n - gone
        expired += gone
    out[EXPIRED] = expired
    return out


def tab_items(dynamo: DynamoBackend, tab: str, now: datetime, *, limit: int | None = None) -> tuple[list[DiffRecord], bool]:
    """The diffs of one tab, newest first, up to ``limit`` (None: all), and whether more
    exist. ``expired`` gathers the expired items of every stored status."""
    out: list[DiffRecord] = []
    statuses = [s for s in STATUSES if s != "executing"] if tab == EXPIRED else [tab]
    for s in statuses:
        for r in iter_status(dynamo, s, page=min(PAGE, (limit + 1) if limit else PAGE)):
            if (r.display_status(now) == EXPIRED) != (tab == EXPIRED):
                continue
            out.append(r)
            if limit is not None and len(out) > limit and tab != EXPIRED:
                return out[:limit], True
    if tab == EXPIRED:
        out.sort(key=lambda r: r.timestamp, reverse=True)
    if limit is not None and len(out) > limit:
        return out[:limit], True
    return out, False


# --------------------------------------------------------------------------- filter / sort


def row_text(rec: DiffRecord) -> tuple[str, str]:
    """``(codes, names)`` of a diff for filtering and listing."""
    from .validate import key_text

    if rec.is_bulk:
        return "", ""
    side = rec.zenginData or rec.currentData or {}
    e = rec.entry
    codes = key_text(e.key) if e else ""
    name = str(side.get("bankName") or "")
    if "branchCode" in side and side.get("branchName"):
        name += " " + str(side.get("branchName"))
    return codes, name


@dataclass(frozen=True)
class Filter:
    """What an approver narrows the queue to. Every given criterion must hold."""

    code: str | None = None            # prefix of "BANK" or "BANK-BRANCH"
    name: str | None = None            # substring of the bank / branch name (case-insensitive)
    types: frozenset[str] | None = None  # diffType values
    table: str | None = None           # banks | branches
    valid: bool | None = None          # only valid / only invalid

    def matches(self, rec: DiffRecord, problems: list[str] | tuple[str, ...] = ()) -> bool:
        codes, name = row_text(rec)
        if self.code and not codes.startswith(self.code):
            return False
        if self.name and self.name.casefold() not in name.casefold():
            return False
        if self.types and rec.diffType not in self.types:
            return False
        if self.table:
            e = rec.entry
            if e is None or e.table != self.table:
                return False
        if self.valid is not None and (not problems) != self.valid:
            return False
        return True


SORTS = {
    "newest": (lambda r: r.timestamp, True),
    "oldest": (lambda r: r.timestamp, False),
    "code": (lambda r: row_text(r)[0], False),
    "type": (lambda r: (r.diffType, row_text(r)[0]), False),
}


def sort(recs: list[DiffRecord], by: str = "newest") -> list[DiffRecord]:
    key, rev = SORTS[by]
    return sorted(recs, key=key, reverse=rev)
