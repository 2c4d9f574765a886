"""Content validation of zengin diffs, run before anything else (listing, approval,
execution). The reader (records.py) says whether an item is *readable*; this module says
whether it is *acceptable*: a diff with any problem is shown with every reason and can be
neither approved nor executed.

Rules
-----
* bank code: exactly 4 ASCII digits; branch code: exactly 3 ASCII digits (the CHECKs of
  sql/zengin/001_banks_branches.sql);
* names: non-empty strings within the column limits, read from sql/zengin (VARCHAR(n));
* kana: katakana of the zengin character set, full- or half-width. The real zengin-code
  data also carries ``－`` ``．`` full-width Latin letters and digits and full-width spaces,
  so those are accepted; hiragana, kanji and most ASCII punctuation are not;
* ``changes`` consistent with ``currentData`` / ``zenginData`` (records.entry_problems) and,
  inside a branch record, a bank field listed in ``changes`` must agree with both sides;
* a bulk diff: the S3 object named by ``dataLocation`` is in the configured bucket, exists,
  parses as ``zengin-diff-bulk/1``, belongs to this item, its summary matches its records and
  the item's ``dataSummary``, no row is changed twice, and every record passes the rules above.

Nothing here raises on bad input; every function returns a list of reasons.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable, Mapping   # not typing.Mapping: isinstance on it is 5x slower
from typing import Any

from .. import collector
from .records import (BANK_COMPARED, DiffEntry, DiffRecord, ROW_DIFF_TYPES, BulkDocument, is_map)
from .records import entry_problems as structural_problems

BANK_CODE = re.compile(r"^[0-9]{4}\Z")
BRANCH_CODE = re.compile(r"^[0-9]{3}\Z")

# Zengin kana: full-width katakana (ァ..ヺ, ・, ー), half-width katakana (ｦ..ﾟ), the
# full-width and ASCII forms of Latin capitals / digits, spaces, and ( ) . - / ¥ , 「」.
_KANA_CHARS = (
    "\u30a1-\u30fa\u30fb\u30fc"            # katakana, middle dot, long vowel mark
    "\uff66-\uff9f"                        # half-width katakana
    "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"  # full-width digits and letters
    "\u3000 "                              # full- and half-width space
    "\uff0d\uff0e\uff08\uff09\uff0f\uff0c\uffe5\u300c\u300d\uff62\uff63"  # －．（）／，￥「」｢｣
    "0-9A-Za-z().\\-/,\\\\"
)
KANA = re.compile(f"^[{_KANA_CHARS}]+\\Z")

DEFAULT_LIMITS = {"bank_name": 100, "bank_kana": 100, "branch_name": 100, "branch_kana": 100}
FIELD_COLUMN = {"bankName": "bank_name", "bankKana": "bank_kana", "branchName": "branch_name",
                "branchKana": "branch_kana"}
MAX_S3_BYTES = 256 * 1024 * 1024       # a bulk document larger than this is not read


@functools.lru_cache(maxsize=4)
def column_limits(root: str | None = None) -> dict[str, int]:
    """``{column: n}`` for the VARCHAR(n) columns of banks / branches in sql/zengin."""
    from ..migrate import sql_root

    folder = Path(root) if root else sql_root() / "zengin"
    limits: dict[str, int] = {}
    try:
        text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sql")))
    except OSError:
        return dict(DEFAULT_LIMITS)
    for table in ("banks", "branches"):
        m = re.search(rf"CREATE TABLE (?:public\.)?{table}\s*\((.*?)\n\);", text, re.S | re.I)
        if not m:
            continue
        for col, n in re.findall(r"^\s*(\w+)\s+VARCHAR\((\d+)\)", m.group(1), re.M | re.I):
            limits[col.lower()] = int(n)
    return {**DEFAULT_LIMITS, **limits}


def _short(v: Any, n: int = 30) -> str:
    s = str(v)
    return repr(s if len(s) <= n else s[:n] + "…")


# (field, column, kana?, name?) of a bank payload and of a branch payload, in checking order.
_BANK_SPEC = tuple((f, FIELD_COLUMN[f], f.endswith("Kana"), f.endswith("Name")) for f in ("bankName", "bankKana"))
_BRANCH_SPEC = _BANK_SPEC + tuple((f, FIELD_COLUMN[f], f.endswith("Kana"), f.endswith("Name"))
                                  for f in ("branchName", "branchKana"))


def payload_problems(name: str, payload: Mapping[str, Any] | None, *, names_required: bool = True) -> list[str]:
    """Content rules for one side of a row diff (``zenginData`` / ``currentData``).
    ``names_required=False`` for a deletion's zenginData, which only has to name the row
    (seed 003's executor reads nothing but its codes)."""
    if payload is None:
        return []
    if not is_map(payload):
        return [f"{name} is not a map"]
    out: list[str] = []
    limits = column_limits()
    code = payload.get("bankCode")
    if not isinstance(code, str) or not BANK_CODE.match(code):
        out.append(f"{name}.bankCode {_short(code)} is not 4 digits")
    is_branch = "branchCode" in payload
    if is_branch:
        bcode = payload.get("branchCode")
        if not isinstance(bcode, str) or not BRANCH_CODE.match(bcode):
            out.append(f"{name}.branchCode {_short(bcode)} is not 3 digits")
    required = ("branchName" if is_branch else "bankName") if names_required else None
    check_chars = not name.startswith("currentData")
    for f, column, kana, is_name in _BRANCH_SPEC if is_branch else _BANK_SPEC:
        v = payload.get(f)
        if v is None:
            if f == required:
                out.append(f"{name}.{f} is missing")
            continue
        if not isinstance(v, str):
            out.append(f"{name}.{f} is not a string")
            continue
        if f == required and not v.strip():
            out.append(f"{name}.{f} is empty")
        limit = limits.get(column)
        if limit is not None and len(v) > limit:
            out.append(f"{name}.{f} is {len(v)} characters, the column holds {limit}")
        if kana:
            if v and not KANA.match(v):
                bad = "".join(sorted({c for c in v if not KANA.match(c)}))[:10]
                out.append(f"{name}.{f} {_short(v)} is not zengin katakana (bad: {bad!r})")
        elif is_name and check_chars:
            out += name_char_problems(f"{name}.{f}", v)
    return out


# --------------------------------------------------------------------------- name characters
# Names are printable text only: no C0/C1 controls (ESC, BEL, CR, NUL, …), no bidi
# controls (U+202E …), no zero-width or other invisible format characters. Checked on the
# new values (zenginData) only, so that a diff can still remove a row that has them.

_NAME_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
_NAME_INVISIBLE = {0x00AD, 0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, *range(0x200B, 0x200E),
                   *range(0x2060, 0x2065), 0x3164, 0xFEFF, 0xFFA0, *range(0xFFF9, 0xFFFC)}


# The refused characters that str.isprintable() passes (letters and marks that draw as
# nothing); every other refused character is one it fails, so a name that is printable and
# has none of these is clean without a look at each character.
_PRINTABLE_REFUSED = re.compile("[" + "".join(
    re.escape(chr(o)) for o in sorted(_NAME_BIDI | _NAME_INVISIBLE) if chr(o).isprintable()) + "]")


def _name_char_kind(ch: str) -> str | None:
    o = ord(ch)
    if o < 0x20 or o == 0x7F:
        return "control character"
    if 0x80 <= o <= 0x9F:
        return "C1 control character"
    if o in _NAME_BIDI:
        return "bidi control"
    if o in _NAME_INVISIBLE:
        return "zero-width / invisible character"
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        return f"non-printable character ({cat})"
    return None


def name_char_problems(where: str, value: str) -> list[str]:
    """One problem per offending character (position, code point, kind), at most 10."""
    if value.isprintable() and not _PRINTABLE_REFUSED.search(value):
        return []
    out: list[str] = []
    for i, ch in enumerate(value):
        kind = _name_char_kind(ch)
        if kind:
            out.append(f"{where} has a {kind} U+{ord(ch):04X} at position {i + 1}")
            if len(out) == 10:
                out.append(f"{where}: further characters not listed")
                break
    return out


def entry_problems(entry: DiffEntry, where: str = "", *, structural: bool = True) -> list[str]:
    """Every problem of one row diff: structure (the reader's rules; ``structural=False``
    when the reader already judged it, as for bulk records) and content."""
    prefix = f"{where}: " if where else ""
    out = list(entry.problems)
    if structural:
        out += structural_problems(entry.diffType, entry.zenginData, entry.currentData, entry.changes)
    if entry.diffType not in ROW_DIFF_TYPES:
        if not any("diffType" in p for p in out):
            out.append(f"diffType {_short(entry.diffType)} is not one of {', '.join(ROW_DIFF_TYPES)}")
        return [prefix + p for p in dict.fromkeys(out)]
    out += payload_problems("zenginData", entry.zenginData, names_required=entry.diffType != "deletion")
    out += payload_problems("currentData", entry.currentData)
    z, c = entry.zenginData, entry.currentData
    if z and c and is_map(z) and is_map(c) and ("branchCode" in z) != ("branchCode" in c):
        out.append("zenginData and currentData are not the same kind of row (bank / branch)")
    changes = entry.changes if is_map(entry.changes) else {}
    if entry.diffType == "update" and not changes:
        out.append("update without changes")
    for name in changes:
        if name not in FIELD_COLUMN:
            out.append(f"changes.{str(name)[:40]} is not a bank or branch field")
    # A bank field listed in a branch record's changes updates banks: both sides must agree.
    if entry.table == "branches" and entry.diffType == "update":
        for name in BANK_COMPARED:
            ch = changes.get(name)
            if is_map(ch):
                if c and c.get(name) != ch.get("old"):
                    out.append(f"changes.{name}.old disagrees with currentData")
                if z and z.get(name) != ch.get("new"):
                    out.append(f"changes.{name}.new disagrees with zenginData")
    elif entry.table == "branches" and entry.diffType != "update":
        for name in BANK_COMPARED:
            if name in changes:
                out.append(f"a branch {entry.diffType} cannot change {name} (only a branch update can)")
    return [prefix + p for p in dict.fromkeys(out)]


def key_text(key: tuple[str, str | None] | None) -> str:
    if key is None:
        return "?"
    return key[0] if key[1] is None else f"{key[0]}-{key[1]}"


def bulk_problems(doc: BulkDocument, max_listed: int = 20) -> list[str]:
    """Problems of a bulk document's content (the reader's plus content rules, duplicate
    rows, conflicting bank changes). Record problems are listed up to ``max_listed``."""
    out = list(doc.problems)
    listed = 0
    bad = 0
    seen: dict[tuple[str, str | None], int] = {}
    bank_changes: dict[str, tuple] = {}
    for i, e in enumerate(doc.records):
        probs = entry_problems(e, structural=False)
        probs = [f"record {i + 1} ({key_text(e.key)}): {p}" for p in probs]
        if probs:
            bad += 1
            for p in probs:
                if listed < max_listed:
                    out.append(p)
                    listed += 1
        k = e.key
        if k is not None:
            if k in seen:
                out.append(f"record {i + 1}: row {key_text(k)} is already changed by record {seen[k] + 1}")
            else:
                seen[k] = i
        if e.table == "branches" and e.diffType == "update" and k is not None:
            bank_fields = tuple((n, _plain_change(e.changes.get(n))) for n in BANK_COMPARED if n in e.changes)
            if bank_fields:
                prev = bank_changes.setdefault(k[0], bank_fields)
                if prev != bank_fields:
                    out.append(f"record {i + 1}: conflicting changes to bank {k[0]}")
    for k, i in seen.items():
        if k[1] is None and doc.records[i].diffType in ("update",) and k[0] in bank_changes:
            out.append(f"record {i + 1}: bank {k[0]} is changed by a bank record and by branch records")
    if bad and listed >= max_listed:
        out.append(f"… {bad} record(s) have problems in all")
    return list(dict.fromkeys(out))


def _plain_change(ch: Any) -> tuple:
    if is_map(ch):
        return (ch.get("old"), ch.get("new"))
    return (None, None)


@dataclass(frozen=True)
class Validation:
    problems: tuple[str, ...]
    document: BulkDocument | None = None      # a bulk diff's records, when they could be read

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def entries(self) -> tuple[DiffEntry, ...]:
        """The row diffs to apply: the single entry, or the bulk document's records."""
        return self.document.records if self.document is not None else ()


def record_problems(rec: DiffRecord) -> list[str]:
    """Problems of the item itself (no S3): the reader's, and a single diff's content."""
    out = list(rec.problems)
    if not rec.id:
        out.append("missing id")
    if rec.diffType in ROW_DIFF_TYPES:
        entry = rec.entry
        if entry is not None:
            out += [p for p in entry_problems(entry) if p not in out]
    return list(dict.fromkeys(out))


def validate(rec: DiffRecord, *, bucket: str | None = None, fetch=None) -> Validation:
    """Validate one diff. ``fetch(bucket, key) -> bytes`` reads a bulk document (S3);
    without it a bulk diff is validated from its item only. Never raises."""
    problems = record_problems(rec)
    doc: BulkDocument | None = None
    if rec.is_bulk:
        loc = rec.s3_location
        if loc is None:
            pass  # the reader already said why
        elif bucket is not None and loc[0] != bucket:
            problems.append(f"dataLocation is in bucket {loc[0]!r}, not the configured {bucket!r}")
        elif fetch is not None:
            doc, why = load_document(rec, fetch)
            if why:
                problems.append(why)
            if doc is not None:
                with collector.paused():     # no cycles among 30,000 records' problems either
                    problems += bulk_problems(doc)
    return Validation(tuple(dict.fromkeys(problems)), doc)


def load_document(rec: DiffRecord, fetch) -> tuple[BulkDocument | None, str | None]:
    """Read and parse a bulk diff's S3 document; ``(document, None)`` or ``(None, why)``."""
    from ...backends.base import BackendError
    from .records import parse_bulk_document

    loc = rec.s3_location
    if loc is None:
        return None, "no S3 location"
    try:
        data = fetch(*loc)
    except BackendError as exc:
        return None, f"S3 object {rec.dataLocation} cannot be read: {exc.kind.value}: {exc.message[:200]}"
    except Exception as exc:  # noqa: BLE001 - never crash the screen on a bad object
        return None, f"S3 object {rec.dataLocation} cannot be read: {type(exc).__name__}"
    if data is None:
        return None, f"S3 object {rec.dataLocation} is larger than {MAX_S3_BYTES} bytes"
    with collector.paused():     # half a million acyclic objects for 30,000 records; not the read above
        doc = parse_bulk_document(data, expected_id=rec.id, expected_summary=rec.dataSummary)
    if rec.dataSize is not None and len(data) != rec.dataSize:
        doc = BulkDocument(doc.id, doc.timestamp, doc.summary, doc.records,
                           doc.problems + (f"dataSize says {rec.dataSize} bytes, the object has {len(data)}",))
    if doc.timestamp is not None and rec.timestamp and doc.timestamp != rec.timestamp:
        doc = BulkDocument(doc.id, doc.timestamp, doc.summary, doc.records,
                           doc.problems + (f"document timestamp {doc.timestamp!r} is not the item's",))
    return doc, None




def describe(problems: Iterable[str]) -> str:
    return "; ".join(problems)
