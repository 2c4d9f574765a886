"""The S3 bulk document (``zengin-diff-bulk/1``) that holds the records of a large diff:
built and read (never raising). The format is described in :mod:`.records`, which
re-exports these names."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import jsonvalue
from .records import BULK_FORMAT, DiffEntry, summarize


@dataclass(frozen=True)
class BulkDocument:
    id: str | None
    timestamp: str | None
    summary: Mapping[str, Any]
    records: tuple[DiffEntry, ...]
    problems: tuple[str, ...] = ()

    @property
    def record_problems(self) -> list[tuple[int, str]]:
        return [(i, p) for i, e in enumerate(self.records) for p in e.problems]


def build_bulk_document(diff_id: str, timestamp: str, entries: list[DiffEntry] | tuple[DiffEntry, ...]) -> bytes:
    doc = {"format": BULK_FORMAT, "id": diff_id, "timestamp": timestamp, "summary": summarize(entries),
           "records": [e.to_json() for e in entries]}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def parse_bulk_document(data: bytes | str, *, expected_id: str | None = None,
                        expected_summary: Mapping[str, Any] | None = None) -> BulkDocument:
    """Read a bulk document; never raises. ``expected_id`` / ``expected_summary`` (the
    item's ``id`` and ``dataSummary``) catch a document that belongs to another diff or
    was changed after the item was written."""
    if isinstance(data, (bytes, bytearray)) and data[:3] == b"\xef\xbb\xbf":
        data = data[3:]     # a UTF-8 byte order mark: JSON readers may ignore it (RFC 8259 §8.1)
    try:    # orjson where it reads the document as Python's json would (2x on 30,000 records)
        doc = jsonvalue.loads(data)
    except jsonvalue.TooDeep as exc:
        return BulkDocument(None, None, {}, (), (f"not read: {exc}",))
    except (ValueError, TypeError, RecursionError) as exc:
        return BulkDocument(None, None, {}, (), (f"not JSON: {type(exc).__name__}",))
    if not isinstance(doc, dict):
        return BulkDocument(None, None, {}, (), ("document is not a JSON object",))
    problems = []
    if doc.get("format") != BULK_FORMAT:
        problems.append(f"format {str(doc.get('format'))[:40]!r} is not {BULK_FORMAT}")
    raw_records = doc.get("records")
    if not isinstance(raw_records, list):
        problems.append("records is not a list")
        raw_records = []
    records = tuple(DiffEntry.from_json(r) for r in raw_records)
    summary: dict[str, Any] = doc["summary"] if isinstance(doc.get("summary"), dict) else {}
    if not summary:
        problems.append("summary missing")
    actual = summarize(records)
    for n in ("totalRecords", "additions", "updates", "deletions"):
        if summary and summary.get(n) != actual[n]:
            problems.append(f"summary.{n} says {summary.get(n)!r}, the records count {actual[n]}")
        if expected_summary is not None and expected_summary.get(n) != actual[n]:
            problems.append(f"dataSummary.{n} says {expected_summary.get(n)!r}, the records count {actual[n]}")
    doc_id = doc.get("id") if isinstance(doc.get("id"), str) else None
    if expected_id is not None and doc_id != expected_id:
        problems.append(f"document belongs to {doc_id!r}, not {expected_id!r}")
    bad = sum(1 for r in records if r.problems)
    if bad:
        problems.append(f"{bad} of {len(records)} records are malformed")
    ts = doc.get("timestamp") if isinstance(doc.get("timestamp"), str) else None
    return BulkDocument(doc_id, ts, summary, records, tuple(problems))
