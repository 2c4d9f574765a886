"""core.sessions.view.RowView gives exactly what sorting and filtering from scratch gives
(same rows, same order, ties included), for every order and a range of filters, and
reuses what it sorted."""

from __future__ import annotations

import random

import pytest

from console.core import sessions as core
from console.core.sessions.view import RowView

KINDS = ("json", "text", "hash", "binary", "gone")


def _records(n: int, seed: int = 7) -> list[core.SessionRecord]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        ttl = rnd.choice([None, -2, rnd.randint(0, 90_000), 300])          # many ties on purpose
        nb = rnd.choice([None, f"notebooks/0{i % 9}_intro.ipynb", "Nb/ΑΣ"])
        out.append(core.SessionRecord(f"session:user_{rnd.randint(0, n // 2)}", ttl, rnd.choice([None, 120, 250]),
                                      rnd.choice(KINDS), nb, rnd.choice([None, "2026-11-22T09:00:00"]),
                                      None, rnd.choice(["", "progress=0.5", "not JSON: Hello"])))
    return out


@pytest.mark.parametrize("flt", ["", "user_1", "kind:text", "ttl:none", "INTRO kind:json", "hello", "nb/ασ",
                                 "zzz-no-match", "session:"])
@pytest.mark.parametrize("haystack", [False, True])
def test_view_equals_sort_of_filter(flt, haystack):
    recs = _records(3000)
    rv = RowView(recs)
    if haystack:                 # the haystack and every order made before the first filter
        rv.prepare_filter()
        for by in core.SORT_KEYS:
            rv.ordered(by, False), rv.ordered(by, True)
    for by in core.SORT_KEYS:
        for rev in (False, True):
            want = core.sort_records(core.filter_records(recs, flt), by, rev)
            got = rv.view(flt, by, rev)
            assert [id(r) for r in got] == [id(r) for r in want], (flt, by, rev)


def test_orders_are_sorted_once():
    recs = _records(500)
    rv = RowView(recs)
    first = rv.ordered("ttl")
    assert rv.ordered("ttl") is first
    assert rv.has("ttl") and not rv.has("ttl", True)
    assert rv.histogram() == core.ttl_histogram(recs)


@pytest.mark.parametrize("flt", ["", "user_1", "kind:text", "ttl:none"])
def test_a_view_extended_batch_by_batch_equals_one_made_from_scratch(flt):
    """A scan hands the view its rows batch by batch: the merged orders (ties included, both
    directions) and histogram are those of the whole list sorted from scratch, whichever
    orders were asked for before each batch."""
    recs = _records(3000, seed=11)
    rv = RowView(recs[:400])
    rv.ordered("ttl")
    rv.ordered("key", True)
    rv.histogram()
    for end in (700, 701, 1500, 3000):
        rv = rv.extended(recs[:end])
        if end == 1500:
            rv.ordered("size")        # asked for mid-scan only
            rv.histogram()
    for by in core.SORT_KEYS:
        for rev in (False, True):
            want = core.sort_records(core.filter_records(recs, flt), by, rev)
            got = rv.view(flt, by, rev)
            assert [id(r) for r in got] == [id(r) for r in want], (flt, by, rev)
    assert rv.histogram() == core.ttl_histogram(recs)


@pytest.mark.parametrize("flt", ["", "user_1", "kind:text", "ttl:none", "INTRO kind:json", "zzz-no-match"])
@pytest.mark.parametrize("n", [1, 7, 200, 5000])
def test_head_is_the_first_rows_of_the_view_and_its_length(flt, n):
    """A page of a new order before the whole order: exactly the view's first rows (ties in
    the same order, both directions), sorted or not, and the view's length."""
    recs = _records(3000, seed=5)
    for by in core.SORT_KEYS:
        for rev in (False, True):
            fresh = RowView(recs)
            want = core.sort_records(core.filter_records(recs, flt), by, rev)
            head, total = fresh.head(flt, by, rev, n)
            assert not fresh.has(by, rev), "head sorted the whole order"
            assert [id(r) for r in head] == [id(r) for r in want[:n]] and total == len(want), (flt, by, rev)
            fresh.ordered(by, rev)
            head, total = fresh.head(flt, by, rev, n)
            assert [id(r) for r in head] == [id(r) for r in want[:n]] and total == len(want)


def test_the_filter_haystack_is_made_batch_by_batch():
    recs = _records(3000, seed=3)
    rv = RowView(recs[:500])
    rv.prepare_filter()
    for end in (900, 901, 3000):
        rv = rv.extended(recs[:end])
        assert rv._prefix_hay is not None and len(rv._prefix_hay) < end
        rv.prepare_filter()
        assert len(rv._hay or []) == end
    for flt in ("user_1", "intro", "ασ", "progress=0.5 kind:json"):
        assert [id(r) for r in rv.matching(flt)] == [id(r) for r in core.filter_records(recs, flt)]


def test_merge_in_is_sorted_of_the_whole_list_ties_and_directions_included():
    """merge_in(base, new) == sorted([*base, *new]) for a base sorted that way, every key
    and direction, with many ties (stability: base's rows first among equals), with the
    merged rows' keys, whether base's keys are given or read."""
    import random

    from console.core.sessions.stats import SORT_KEYS
    from console.core.sessions.view import merge_in

    rng = random.Random(11)
    for trial in range(200):
        n, m = rng.randrange(0, 50), rng.randrange(0, 50)
        recs = [core.SessionRecord(f"k{rng.randrange(6)}", rng.choice([None, 1, 2, 3]), rng.choice([None, 5, 9]),
                                   rng.choice(["json", "text"]), rng.choice([None, "a", "b"]),
                                   rng.choice([None, "t1", "t2"]), None, str(i)) for i in range(n + m)]
        for by, key in SORT_KEYS.items():
            for rev in (False, True):
                base = sorted(recs[:n], key=key, reverse=rev)
                want = sorted([*base, *recs[n:]], key=key, reverse=rev)
                got, keys = merge_in(base, recs[n:], key, rev)
                assert [id(x) for x in got] == [id(x) for x in want], (trial, by, rev)
                assert keys == [key(x) for x in got]
                again, _ = merge_in(base, recs[n:], key, rev, [key(x) for x in base])   # keys known
                assert [id(x) for x in again] == [id(x) for x in want], (trial, by, rev)


def test_a_view_extended_by_a_batch_reads_the_keys_of_the_new_rows_only(monkeypatch):
    """Each order keeps its rows' sort keys: a scan's handover merges its new rows by their
    keys alone (every row's key read again was a Python loop over the whole list at each
    handover), and the merged order is still the order sorting from scratch gives, in
    both directions, batch after batch."""
    from console.core.sessions import stats

    recs = _records(4000, seed=5)
    calls = [0]
    real = stats.SORT_KEYS["ttl"]

    def counting(r):
        calls[0] += 1
        return real(r)

    monkeypatch.setitem(stats.SORT_KEYS, "ttl", counting)
    rv = RowView(recs[:1000])
    rv.ordered("ttl")
    rv.ordered("ttl", True)
    for start, end in ((1000, 1100), (1100, 3000), (3000, 4000)):
        want = {rev: [id(r) for r in core.sort_records(recs[:end], "ttl", rev)] for rev in (False, True)}
        rv = rv.extended(recs[:end])
        calls[0] = 0
        for rev in (False, True):
            assert [id(r) for r in rv.ordered("ttl", rev)] == want[rev]
        assert calls[0] == 2 * (end - start), (start, end, calls[0])    # each new row's key, once an order
