"""Pure parts of console.core.sessions: value parsing, TTL buckets, filter/sort/page, deltas."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from console.core import sessions as core
from console.core.sessions import scan, values


def rec(key, ttl, kind="json", notebook=None, summary=""):
    return core.SessionRecord(key, ttl, 100, kind, notebook, None, None, summary)


def test_parse_value_kinds():
    v = core.parse_value(b'{"current_notebook": "nb/1", "last_activity": "t", "progress": 0.5}')
    assert (v["kind"], v["notebook"], v["last_activity"], v["summary"]) == ("json", "nb/1", "t", "progress=0.5")
    assert core.parse_value(b"{'x': 1")["kind"] == "text"
    assert core.parse_value(b"\x80\x04\x95")["kind"] == "binary"
    assert core.parse_value(b"")["kind"] == "empty"
    assert core.parse_value(b"[1, 2]")["kind"] == "json"
    assert core.parse_value(b'{"a"' + b"x" * 10, truncated=True)["summary"].startswith("(over 64 KiB")
    assert core.ttl_value(-1) is None and core.ttl_value(-2) == -2 and core.ttl_value(5) == 5


def test_parse_connection_forms():
    assert core.parse_connection("ws", b'{"user_id": "u1", "last_activity": "t"}')[:2] == ("u1", "t")
    assert core.parse_connection("ws", b"u2")[:2] == ("u2", None)
    assert core.parse_connection("ws", b"\xff")[0] is None


def test_histogram_filter_sort_page():
    recs = [rec("session:a", 30), rec("session:b", 4000, notebook="nb/pandas"), rec("session:c", None, "text"),
            rec("session:d", -2, "gone")]
    hist = dict(core.ttl_histogram(recs))
    assert hist["<1m"] == 1 and hist["1-4h"] == 1 and hist["no TTL"] == 1 and sum(hist.values()) == 3
    assert [r.key for r in core.filter_records(recs, "PANDAS")] == ["session:b"]
    assert [r.key for r in core.filter_records(recs, "kind:text")] == ["session:c"]
    assert [r.key for r in core.filter_records(recs, "ttl:none")] == ["session:c"]
    assert [r.key for r in core.sort_records(recs, "ttl")] == ["session:d", "session:a", "session:b", "session:c"]
    rows, idx, pages = core.page(list(range(450)), 5, 200)
    assert (rows[0], idx, pages) == (400, 2, 3)
    assert core.page([], 0, 200) == ([], 0, 1)


def test_info_delta_and_restart():
    a = core.parse_info({"redis_version": "7.2", "uptime_in_seconds": 10, "evicted_keys": 1, "expired_keys": 5,
                         "keyspace_hits": 9, "keyspace_misses": 1, "db0": {"keys": 3}})
    b = core.parse_info({"redis_version": "7.2", "uptime_in_seconds": 20, "evicted_keys": 4, "expired_keys": 5,
                         "keyspace_hits": 9, "keyspace_misses": 1})
    assert a.keyspace == {0: 3} and a.hit_ratio == 0.9
    assert core.info_delta(a, b)["evicted_keys"] == 3
    assert core.info_delta(b, a) == {}          # uptime went backwards: a restart
    assert core.keyevents_enabled("Ex") and core.keyevents_enabled("AKE") and not core.keyevents_enabled("K$")
    assert core.db_of("redis://h:1/7") == 7 and core.db_of("redis://h:1") == 0
    assert core.fmt_ttl(59) == "59s" and core.fmt_ttl(3600) == "1h00m" and core.fmt_ttl(None) == "none"


def test_hostile_nesting_is_text_not_a_crash():
    """A value nested deeper than Python's recursion limit made json.loads raise
    RecursionError, which ended the whole listing; now it is a row like any other."""
    deep = b'{"current_notebook": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    for raw in (b"[" * 50_000, deep, b"{" * 3000):
        v = core.parse_value(raw)
        assert v["kind"] == "text" and v["summary"].startswith("not JSON")
        assert core.parse_cache(raw)[0] == "text"
        assert core.parse_connection("ws", raw)[2]
    ok = b'{"current_notebook": "nb", "x": ' + b"[" * 60 + b"]" * 60 + b"}"
    assert core.parse_value(ok)["summary"].startswith("x=[[[")


_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                       max_leaves=6)
_keys = st.one_of(st.sampled_from(["current_notebook", "last_activity", "connection_id", "user_id"]),
                  st.text(max_size=12))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=8))
def test_the_listing_fast_path_reads_a_value_as_the_general_path_does(obj):
    """``flat_session_fields`` (one pass over orjson's object, the per-key cost of a listing)
    answers exactly what ``parse_value`` answers, or leaves the value to it."""
    raw = json.dumps(obj, ensure_ascii=False).encode()
    fast = values.flat_session_fields(raw)
    general = core.parse_value(raw)
    if fast is not None:
        assert general["kind"] == "json"
        assert fast == (general["notebook"], general["last_activity"], general["connection_id"], general["summary"])
    if all(type(v) not in (dict, list, float) and not (type(v) is int and not -2 ** 63 < v < 2 ** 63)
           for v in obj.values()):
        assert fast is not None       # the common value does take the fast path (an integer
        # past 64 bits is left to the general path, which keeps it exact)


def test_the_listing_fast_path_leaves_what_it_does_not_read_to_the_general_path():
    for raw in (b"[1]", b"not json", b"\xff\xfe", b'{"a": {"b": 1}}', b'{"a": 1e400}', b'{"a": NaN}',
                b'{"n": 123456789012345678901234567890}', b'"text"', b""):
        assert values.flat_session_fields(raw) is None, raw
    assert values.flat_session_fields(b'{"a": "x\\u001b[2J\\ny", "current_notebook": 1}') == (
        "1", None, None, "a=x\x1b[2J y")       # the summary on one line (shown escaped by the screen)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(" a\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u3000é"), max_size=40),
       st.integers(min_value=2, max_value=30))
def test_a_summary_is_one_line_whatever_the_whitespace(text, n):
    want = " ".join(text.split())
    want = want if len(want) <= n else want[: n - 1] + "…"
    assert values._short(text, n) == want


def _distinct_reference(pages, cap):
    """What SCAN's de-duplication must give: each key once, in first-seen order, up to the cap."""
    seen: list[bytes] = []
    out = []
    for keys, cursor in pages:
        new, dropped = [], False
        for k in keys:
            if k not in seen:
                if len(seen) < cap:
                    seen.append(k)
                    new.append(k)
                else:
                    dropped = True
        capped = len(seen) >= cap and (cursor != 0 or dropped)
        out.append((new, cursor == 0 and not capped, capped))
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from([b"a", b"b", b"c", b"d", b"e", b"f", b"g"]), max_size=6), min_size=1,
                max_size=6),
       st.integers(min_value=1, max_value=9))
def test_a_scan_hands_over_each_key_once_in_order_up_to_the_cap(pages, cap):
    """``_Distinct`` (a page of keys never seen, under the cap, is taken in C): SCAN may
    return a key twice, across pages or within one; the keys handed over are each key once,
    in the order first seen, never past the cap, with the same done/capped answers."""
    paged = [(keys, 0 if i == len(pages) - 1 else 7) for i, keys in enumerate(pages)]
    d = scan._Distinct(cap)
    got = []
    for keys, cursor in paged:
        done, capped = d.add(keys, cursor)
        got.append((d.take(), done, capped))
    assert got == _distinct_reference(paged, cap)
