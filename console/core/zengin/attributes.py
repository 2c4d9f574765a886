"""DynamoDB attribute values <-> plain Python for the zengin diff items, checked (a
malformed typed value never reaches the model), and the time helpers the items use
(ISO-8601 UTC timestamps, ``ttl`` epoch seconds). Split out of :mod:`.records`, which
re-exports the public names."""

from __future__ import annotations

from collections.abc import Mapping   # not typing.Mapping: isinstance on it is 5x slower
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

TTL_DAYS = 90
_MAX_TTL = 253402300799        # 9999-12-31T23:59:59Z: beyond it no datetime exists
_MAX_DEPTH = 32                # DynamoDB's own nesting limit
_TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")

_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


# --------------------------------------------------------------------------- conversions


def _check_typed(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` is not a well-formed DynamoDB attribute value, or None.

    TypeDeserializer does the conversion but trusts its input ({"S": 1} comes back as the
    int 1, {"N": "abc"} as NaN); this check keeps such values out of the model."""
    if depth > _MAX_DEPTH:
        return "nested deeper than DynamoDB allows"
    if not isinstance(value, Mapping) or len(value) != 1:
        return "not a typed value ({type: value})"
    (tag, v), = value.items()
    if tag not in _TYPES:
        return f"unknown type {str(tag)[:20]!r}"
    if tag == "S":
        return None if isinstance(v, str) else "S is not a string"
    if tag == "N":
        return _check_number(v)
    if tag == "B":
        return None if isinstance(v, (bytes, bytearray, Binary)) else "B is not bytes"
    if tag == "BOOL":
        return None if isinstance(v, bool) else "BOOL is not a boolean"
    if tag == "NULL":
        return None if v is True else "NULL is not true"
    if tag == "M":
        if not isinstance(v, Mapping):
            return "M is not a map"
        for k, sub in v.items():
            if not isinstance(k, str):
                return "M has a non-string key"
            if (why := _check_typed(sub, depth + 1)) is not None:
                return f"{k[:40]}: {why}"
        return None
    if tag == "L":
        if not isinstance(v, list):
            return "L is not a list"
        for i, sub in enumerate(v):
            if (why := _check_typed(sub, depth + 1)) is not None:
                return f"[{i}]: {why}"
        return None
    if not isinstance(v, list):
        return f"{tag} is not a list"
    for item in v:
        why = {"SS": None if isinstance(item, str) else "SS holds a non-string",
               "NS": _check_number(item),
               "BS": None if isinstance(item, (bytes, bytearray, Binary)) else "BS holds non-bytes"}[tag]
        if why is not None:
            return why
    return None


def _check_number(v: Any) -> str | None:
    if not isinstance(v, str) or len(v) > 64:
        return "N is not a number string"
    try:
        d = Decimal(v)
    except ArithmeticError:
        return f"N {v[:20]!r} is not a number"
    if not d.is_finite():
        return f"N {v[:20]!r} is not a finite number"
    if d != 0 and not (-130 <= d.adjusted() <= 125):
        return f"N {v[:20]!r} is outside DynamoDB's number range"
    if len(d.as_tuple().digits) > 38:
        return f"N {v[:20]!r} has more than 38 digits"
    return None


def _native(value: Any) -> Any:
    """Deserialized DynamoDB value -> plain Python (Decimal -> int or float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, set):
        return {_native(v) for v in value}
    if isinstance(value, Binary):
        return bytes(value.value)
    return value


def _dynamo(value: Any) -> Any:
    """Plain Python -> what TypeSerializer accepts (numbers as Decimal, never float)."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes, Binary)):
        return value
    if isinstance(value, int):
        d = Decimal(value)
        return d.normalize() if len(d.as_tuple().digits) > 38 else d
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dynamo(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_dynamo(v) for v in value}
    return value


def decode_attribute(value: Any) -> tuple[Any, str | None]:
    """``(python value, None)`` or ``(None, reason)``; never raises."""
    why = _check_typed(value)
    if why is not None:
        return None, why
    try:
        return _native(_deserializer.deserialize(value)), None
    except Exception as exc:  # noqa: BLE001 - any decoding failure becomes a problem
        return None, f"cannot decode: {type(exc).__name__}"


def encode_attribute(value: Any) -> dict[str, Any]:
    return _serializer.serialize(_dynamo(value))


# --------------------------------------------------------------------------- time helpers


def iso_utc(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as seed 003 writes timestamps."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC datetime")
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime | None:
    """An ISO-8601 timestamp (``Z`` or offset; naive means UTC, as seed 003's
    ``datetime.utcnow().isoformat()`` writes), or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def ttl_for(now: datetime, days: int = TTL_DAYS) -> int:
    return int(now.timestamp()) + days * 86400
