"""core.jsonvalue: untrusted JSON never raises anything but ValueError — nesting deeper than
the interpreter's recursion limit (which the standard library raises as RecursionError),
not UTF-8, not JSON — and parses what the standard library parses, the same way."""

from __future__ import annotations

import json
import math

import pytest

from console.core import jsonvalue


@pytest.mark.parametrize("doc", [
    b'{"a": 1, "b": [1, 2.5, "x", null, true], "c": {"d": "\\u00e9\\ud83d\\ude00"}}',
    b'"plain"', b"123", b"[]", b"{}",
    b'{"big": 123456789012345678901234567890}',       # over 64 bits: orjson makes it a float
    b'[18446744073709551616, -9223372036854775809, 18446744073709551615, 1e400, -0.0]',
    b'{"id": "12345678901234567890123", "n": 7}',      # a long digit run in a string: same value
    b'{"progress": 0.5, "n": -9223372036854775809}',   # a small float first, then a big integer
    b'{"n": NaN, "i": Infinity}',                      # not RFC JSON, but Python's json reads it
    b'{"dup": 1, "dup": 2}',                           # the last one wins, as in json
    b'{"lone": "\\ud800"}',                            # a lone surrogate escape
])
def test_same_value_as_the_standard_library(doc):
    got, want = jsonvalue.loads(doc), json.loads(doc.decode())
    if b"NaN" in doc:
        assert math.isnan(got["n"]) and got["i"] == math.inf
        return
    assert got == want and json.dumps(got) == json.dumps(want)     # ints stay ints, exactly
    assert jsonvalue.loads(doc.decode()) == want


@pytest.mark.parametrize("depth", [65, 1000, 1025, 50_000])
@pytest.mark.parametrize("open_, close", [(b"[", b"]"), (b'{"a":', b"}")])
def test_deep_nesting_is_a_value_error(depth, open_, close):
    doc = open_ * depth + b"1" + close * depth
    with pytest.raises(ValueError, match="nested deeper"):
        jsonvalue.loads(doc)
    with pytest.raises(ValueError):
        jsonvalue.loads(open_ * depth)                 # unterminated as well


def test_nesting_up_to_the_bound_is_read():
    doc = "[" * 64 + "1" + "]" * 64
    v = jsonvalue.loads(doc)
    str(v)                                            # and shows without recursing out
    json.dumps(v)
    with pytest.raises(ValueError):
        jsonvalue.loads("[" * 65 + "1" + "]" * 65)


@pytest.mark.parametrize("doc", [b"\xff\xfe{}", b"{'a': 1}", b"", b"   ", b'{"a": 1} trailing',
                                 '{"a": 1}'.encode("utf-16")])
def test_not_json_is_a_value_error(doc):
    with pytest.raises(ValueError):
        jsonvalue.loads(doc)


@pytest.mark.parametrize("value", [
    {"rows": {"branches:0001-001": {"branchName": "本店\u202e", "op": "update"}}, "records": 1, "n": None},
    {1: "int key"}, {"big": 2 ** 70}, ["\ud800 lone surrogate"], [True, -0.0, 1.5, "é"],
])
def test_dumps_writes_what_the_standard_library_reads_back(value):
    """orjson where it can; keys that are not strings, integers over 64 bits and lone
    surrogates go to the standard library (orjson refuses them) — the text always reads
    back as json.dumps's would."""
    out = jsonvalue.dumps(value)
    assert isinstance(out, bytes)
    assert json.loads(out.decode("utf-8", "surrogatepass")) == json.loads(json.dumps(value))
