"""JSON that comes from a backend (a Redis value, a server's answer, a recording from
another machine) parsed without letting it crash the caller.

The standard library raises ``RecursionError`` (not ``ValueError``) on a document nested
deeper than the interpreter's recursion limit, and a document just under that limit still
breaks ``str()``/``json.dumps`` of what it returned. :func:`loads` parses with orjson (C,
3-4x faster on a session value) and falls back to the standard library for what orjson
refuses or reads differently but is still JSON to Python (``NaN``, ``1e400``, integers
over 64 bits); anything nested deeper than :data:`MAX_DEPTH` is refused. It raises
``ValueError`` and nothing else.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:          # pragma: no cover - a dependency; the standard library alone is only slower
    orjson = None  # type: ignore[assignment]

MAX_DEPTH = 64

# orjson reads an integer outside 64 bits as a float (123456789012345678901234567890 ->
# 1.2345678901234568e+29): a document where orjson gave a float that large is read again
# by the standard library, which keeps every integer exact (an id must not change on screen).
INT64 = float(2 ** 63)


class TooDeep(ValueError):
    pass


def _walk(obj: Any, limit: int) -> str:
    """``"deep"`` when ``obj`` nests containers deeper than ``limit``, ``"big"`` when it
    holds a float of 2**63 or more (maybe an integer orjson could not keep), else ``""``.
    Iterative: no recursion on hostile input."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    pop, push = stack.pop, stack.append
    big = ""
    while stack:
        o, d = pop()
        for v in (o.values() if type(o) is dict else o):
            t = type(v)
            if t is dict or t is list:
                if d >= limit:
                    return "deep"
                push((v, d + 1))
            elif t is float and not -INT64 < v < INT64:
                big = "big"
    return big


def _stdlib(data: bytes | bytearray | str, max_depth: int) -> Any:
    try:        # bytes are UTF-8 or not JSON (json.loads would also guess UTF-16/32)
        obj = json.loads(data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {max_depth} levels") from None
    except TypeError as exc:
        raise ValueError(str(exc)) from None
    t = type(obj)
    if (t is dict or t is list) and _walk(obj, max_depth) == "deep":
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    return obj


def loads(data: bytes | bytearray | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed value of untrusted JSON ``data``; ``ValueError`` when it is not JSON, is
    not UTF-8, or nests deeper than ``max_depth``."""
    if orjson is None:
        return _stdlib(data, max_depth)
    try:
        obj = orjson.loads(data)
    except ValueError:             # orjson.JSONDecodeError; NaN, 1e400, deeper than 1024: Python's json
        return _stdlib(data, max_depth)
    t = type(obj)
    if t is dict:
        for v in obj.values():     # the common value (a flat object of strings and numbers): no walk
            tv = type(v)
            if tv is dict or tv is list or (tv is float and not -INT64 < v < INT64):
                break
        else:
            return obj
    elif t is not list:
        if t is float and not -INT64 < obj < INT64:
            return _stdlib(data, max_depth)
        return obj
    found = _walk(obj, max_depth)
    if found == "deep":
        raise TooDeep(f"JSON nested deeper than {max_depth} levels")
    if found == "big":
        return _stdlib(data, max_depth)
    return obj


def dumps(obj: Any) -> bytes:
    """UTF-8 JSON of ``obj`` for a ``jsonb`` parameter: orjson (6x the standard library on
    a bulk diff's change_history values), the standard library for what orjson refuses
    (keys that are not strings, integers over 64 bits, lone surrogates). Only for values of strings,
    numbers, booleans, None, lists and dicts: orjson writes NaN as null where the standard
    library writes ``NaN``, which PostgreSQL refuses anyway."""
    if orjson is None:
        return _stdlib_dumps(obj)
    try:
        return orjson.dumps(obj)
    except TypeError:              # orjson.JSONEncodeError: what it refuses, the standard library writes
        return _stdlib_dumps(obj)


def _stdlib_dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("ascii")     # \u escapes: a lone surrogate too
