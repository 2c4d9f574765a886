"""Session, connection and cache values: pure parsing (no server needed), and the
record types the screen and the CLI show. Keys are ``str`` decoded with
``surrogateescape`` (core.sessions.keys): byte-exact, shown through core.text."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .. import jsonvalue
from . import keys as K

SESSION_PREFIX = "session:"
SESSION_PATTERN = "session:*"
CONNECTIONS_KEY = "websocket_connections"
CACHE_PATTERN = "class_summary:*"
CHANNELS = ("progress_events", "error_events", "session_events")
VALUE_READ_BYTES = 64 * 1024          # a value is read with GETRANGE 0 .. this-1
HASH_READ_MAX_BYTES = 64 * 1024       # a hash session bigger than this is not read
CACHE_CAP = 10_000


def _int(v: Any) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return 0

# --------------------------------------------------------------------------- values


@dataclass(slots=True)
class SessionRecord:
    key: str                     # byte-exact (surrogateescape, see .keys); shown: keys.escaped(key)
    ttl_s: int | None            # None: no TTL; -2: gone since it was scanned
    size_bytes: int | None
    kind: str                    # json | text | binary | hash | empty | gone | other type name
    notebook: str | None = None
    last_activity: str | None = None
    connection_id: str | None = None
    summary: str = ""
    truncated: bool = False

    @property
    def user(self) -> str:
        return self.key.removeprefix(SESSION_PREFIX)

    @property
    def key_bytes(self) -> bytes:
        return K.to_bytes(self.key)

    @property
    def shown_key(self) -> str:
        """The escaped form: safe to print, accepted back by ``sessions delete``."""
        return K.escaped(self.key)

    def as_dict(self) -> dict[str, Any]:
        return {**K.as_json(self.key), "user": K.json_safe(self.user), "ttl_s": self.ttl_s, "size_bytes": self.size_bytes,
                "kind": self.kind, "notebook": self.notebook, "last_activity": self.last_activity,
                "connection_id": self.connection_id, "summary": self.summary, "truncated": self.truncated}


def _short(text: str, n: int = 80) -> str:
    """``text`` on one line (any run of whitespace one space), cut to ``n`` characters."""
    if not (text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " "):
        text = " ".join(text.split())   # printable text has no whitespace but the ASCII space
    return text if len(text) <= n else text[: n - 1] + "…"


def _decode(raw: bytes | str | None) -> tuple[str | None, bool]:
    """(text, is_text): bytes that are not UTF-8 are binary."""
    if raw is None:
        return None, False
    if isinstance(raw, str):
        return raw, True
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return None, False


def parse_value(raw: bytes | str | None, *, truncated: bool = False) -> dict[str, Any]:
    """A string value -> kind, notebook, last_activity, connection_id, summary.

    JSON objects give their fields; anything else is shown as what it is: text that is not
    JSON, binary (not UTF-8), empty."""
    if raw is None:
        return {"kind": "gone", "summary": "(key disappeared)"}
    text, is_text = _decode(raw)
    if not is_text:
        assert isinstance(raw, bytes)
        return {"kind": "binary", "summary": f"binary, {len(raw):,} bytes: {raw[:16].hex(' ')}"}
    assert text is not None
    if not text.strip():
        return {"kind": "empty", "summary": "(empty string)"}
    if truncated:
        return {"kind": "text", "summary": f"(over {VALUE_READ_BYTES // 1024} KiB, not parsed) " + _short(text, 50)}
    try:
        obj = jsonvalue.loads(text)
    except ValueError:
        return {"kind": "text", "summary": "not JSON: " + _short(text, 60)}
    if not isinstance(obj, dict):
        return {"kind": "json", "summary": _short(json.dumps(obj, ensure_ascii=False))}
    return _from_mapping(obj, "json")


_KNOWN_FIELDS = frozenset(("current_notebook", "last_activity", "connection_id", "user_id"))


def _from_mapping(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    notebook, last, conn, summary = mapping_fields(obj)
    return {"kind": kind, "notebook": notebook, "last_activity": last, "connection_id": conn, "summary": summary}


def mapping_fields(obj: dict[str, Any]) -> tuple[str | None, str | None, str | None, str]:
    """(notebook, last_activity, connection_id, summary of the other fields) of a session
    object — the per-key hot path of a listing, so no intermediate dicts."""
    return _fields(obj, [f"{k}={v}" for k, v in obj.items() if k not in _KNOWN_FIELDS])


def _fields(obj: dict[str, Any], rest: list[str]) -> tuple[str | None, str | None, str | None, str]:
    get = obj.get
    nb, la, cid = get("current_notebook"), get("last_activity"), get("connection_id")
    return (None if nb is None else str(nb), None if la is None else str(la), None if cid is None else str(cid),
            _short(", ".join(rest)) if rest else "")


def flat_session_fields(raw: bytes) -> tuple[str | None, str | None, str | None, str] | None:
    """``mapping_fields`` of the common session value — a JSON object whose values are
    strings, numbers, booleans or null — parsed and read in one pass: the per-key cost of
    a listing. ``None`` for anything else (not JSON, not an object, nested, a float that
    may be an integer orjson could not keep): the caller then takes ``jsonvalue.loads``
    and ``parse_value``, which treat it as untrusted in full. Same fields, same summary
    as ``mapping_fields(jsonvalue.loads(raw))`` whenever it answers."""
    if jsonvalue.orjson is None:
        return None
    try:
        obj = jsonvalue.orjson.loads(raw)
    except ValueError:
        return None
    if type(obj) is not dict:
        return None
    rest = []
    known = _KNOWN_FIELDS
    for k, v in obj.items():
        tv = type(v)
        if tv is str:
            if k not in known:
                rest.append(f"{k}={v}")
        elif tv is dict or tv is list or (tv is float and not -jsonvalue.INT64 < v < jsonvalue.INT64):
            return None
        elif k not in known:
            rest.append(f"{k}={v}")
    return _fields(obj, rest)


def parse_hash(fields: dict) -> dict[str, Any]:
    obj = {}
    for k, v in fields.items():
        kt, _ = _decode(k)
        vt, ok = _decode(v)
        obj[kt if kt is not None else K.escaped(k)] = vt if ok else f"<{len(v)} bytes binary>"
    return _from_mapping(obj, "hash")


def ttl_value(ttl: Any) -> int | None:
    """Redis TTL reply -> seconds; None for 'no TTL' (-1); -2 for 'gone'."""
    t = _int(ttl)
    if t == -1:
        return None
    return t


# --------------------------------------------------------------------------- connections


@dataclass(slots=True)
class ConnectionRecord:
    connection_id: str
    user_id: str | None
    last_activity: str | None
    has_session: bool | None      # None: unknown (no user id in the value)
    raw: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"connection_id": K.json_safe(self.connection_id), "user_id": self.user_id,
                "last_activity": self.last_activity, "has_session": self.has_session, "raw": self.raw}



def parse_connection(cid: str, raw: bytes | str) -> tuple[str | None, str | None, str]:
    """A hash value -> (user_id, last_activity, shown text). Seed 004 writes the user id
    as the plain value; the demo writes ``{"user_id", "last_activity"}``."""
    text, ok = _decode(raw)
    if not ok:
        return None, None, f"binary {len(raw)} bytes"
    assert text is not None
    try:
        obj = jsonvalue.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        u = obj.get("user_id")
        la = obj.get("last_activity")
        return (str(u) if u is not None else None, str(la) if la is not None else None, _short(text, 80))
    return (text.strip() or None, None, _short(text, 80))


# --------------------------------------------------------------------------- caches


@dataclass(slots=True)
class CacheRecord:
    key: str
    ttl_s: int | None
    size_bytes: int | None
    kind: str
    fields: dict[str, Any]
    summary: str

    def as_dict(self) -> dict[str, Any]:
        return {**K.as_json(self.key), "ttl_s": self.ttl_s, "size_bytes": self.size_bytes, "kind": self.kind,
                "fields": self.fields, "summary": self.summary}


def parse_cache(raw: bytes | str | None) -> tuple[str, dict[str, Any], str]:
    if raw is None:
        return "gone", {}, "(key disappeared)"
    text, ok = _decode(raw)
    if not ok:
        return "binary", {}, f"binary, {len(raw)} bytes"
    try:
        obj = jsonvalue.loads(text or "")
    except ValueError:
        return "text", {}, "not JSON: " + _short(text or "", 60)
    if isinstance(obj, dict):
        return "json", obj, _short(", ".join(f"{k}={v}" for k, v in obj.items()), 100)
    return "json", {}, _short(json.dumps(obj), 100)



def fmt_ttl(ttl: int | None) -> str:
    if ttl is None:
        return "none"
    if ttl < 0:
        return "gone"
    if ttl < 60:
        return f"{ttl}s"
    if ttl < 3600:
        return f"{ttl // 60}m{ttl % 60:02d}s"
    if ttl < 86400:
        return f"{ttl // 3600}h{ttl % 3600 // 60:02d}m"
    return f"{ttl // 86400}d{ttl % 86400 // 3600:02d}h"


