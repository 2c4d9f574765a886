"""The Sessions list's sorted, filtered view of one scan's rows, cheap to ask again.

A 200,000-row list sorted from scratch costs 100-300 ms of Python; a sort key press that
pays it every time cannot answer within 100 ms. ``RowView`` keeps, for one list of rows:

- every order asked for (``by``, ``reverse``), sorted once and reused (sorting the orders
  not asked for yet after a scan was measured and dropped: worse on 2 cores);
- one lowercased haystack per row (key, notebook, summary), so a text filter is one
  substring test per row instead of three ``lower()`` calls;
- ``head``: the first page of an order not sorted yet, without sorting all of it.

A filtered view is the cached order with the non-matching rows left out: the same rows in
the same order as ``sort_records(filter_records(rows, text), by, reverse)`` (a stable sort
of a subset keeps the subset's relative order). Pure: no I/O, no UI; not thread-safe (one
worker at a time uses one ``RowView``)."""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from typing import Any, Callable, Sequence

from .stats import SORT_KEYS, ttl_histogram
from .values import SessionRecord


def _sort_index(records: Sequence[SessionRecord], by: str, reverse: bool) -> tuple[list[int], list[Any]]:
    """The positions of ``records`` in ``sort_records`` order (stable), and each row's key. The keys are read in a
    Python loop (the UI thread gets its turns); only the sort of the bare keys is one C call,
    which holds the GIL — so a whole order is sorted only when a page past the first few is
    asked for (``head`` answers those). Measured and dropped: sorting in runs merged by
    ``heapq.merge`` (3-5x the CPU, worse stalls on 2 cores) and in 25,000-row chunks merged
    by ``merge_in`` (3-4x the CPU, the whole order in ~1 s instead of ~0.3 s, no steadier
    stalls)."""
    key = SORT_KEYS[by]
    keys = [key(r) for r in records]
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=reverse), keys


def merge_in(base: Sequence[Any], new: Sequence[Any], key: Callable[[Any], Any], reverse: bool = False,
             base_keys: Sequence[Any] | None = None) -> tuple[list[Any], list[Any]]:
    """``sorted([*base, *new], key=key, reverse=reverse)`` when ``base`` is sorted that way
    already (stable: among equal keys ``base``'s rows first), and the merged rows' keys in
    their order — without one long C call: ``sorted`` of 200,000 rows whose prefix is sorted
    still held the GIL, and so the UI, for 50-80 ms at every handover of a scan. Here only
    ``new`` is sorted in one call; each of its rows finds its place in ``base`` by bisection
    and the rows of ``base`` between two places are copied as one slice — a Python loop over
    ``new``, so the UI thread gets its turns. ``base_keys``: ``base``'s keys in its order
    (a view extended batch by batch keeps each order's, so a handover reads the keys of its
    new rows only: reading every row's key again was a Python loop over all 200,000 rows at
    each handover, 0.1-0.2 s of the interpreter lock at the end of a scan)."""
    read = [key(r) for r in new]
    order = sorted(range(len(read)), key=read.__getitem__, reverse=reverse)     # stable, as sorted(new)
    new_sorted = [new[i] for i in order]
    new_keys = [read[i] for i in order]
    if not base:
        return new_sorted, new_keys
    keys = base_keys if base_keys is not None else [key(r) for r in base]    # in base's order
    asc = keys[::-1] if reverse else keys            # ascending, to bisect
    n = len(base)
    out: list[Any] = []
    out_keys: list[Any] = []
    extend, append = out.extend, out.append
    extend_k, append_k = out_keys.extend, out_keys.append
    lo = 0
    for r, k in zip(new_sorted, new_keys):
        # ascending: after every base row <= k; descending: after every base row >= k
        at = bisect_right(asc, k, lo) if not reverse else n - bisect_left(asc, k, 0, n - lo)
        if at > lo:
            extend(base[lo:at])
            extend_k(keys[lo:at])
            lo = at
        append(r)
        append_k(k)
    if lo < n:
        extend(base[lo:])
        extend_k(keys[lo:])
    return out, out_keys


class RowView:
    def __init__(self, records: Sequence[SessionRecord]):
        self.records = records
        self._orders: dict[tuple[str, bool], list[SessionRecord]] = {}
        self._order_keys: dict[tuple[str, bool], list[Any]] = {}    # an order's sort keys, in its order
        self._order_index: dict[tuple[str, bool], list[int]] = {}    # an order as positions in ``records``
        self._hay: list[str] | None = None
        self._prefix_hay: list[str] | None = None     # extended(): the prefix's haystack
        self._hist: list[tuple[str, int]] | None = None
        # extended(): orders of a prefix of ``records`` (list, its keys, prefix length), merged on demand
        self._prefix_orders: dict[tuple[str, bool], tuple[list[SessionRecord], list[Any], int]] = {}
        self._prefix_hist: tuple[list[tuple[str, int]], int] | None = None

    def extended(self, records: Sequence[SessionRecord]) -> "RowView":
        """The view of ``records``, which start with this view's rows (a scan that goes
        on): every order sorted so far is reused — the new rows are sorted and merged into
        it (Timsort finds the sorted prefix as one run: linear, where a sort from scratch
        of 200,000 rows holds the GIL, and so the UI, for 100-300 ms) — and the histogram
        is this one plus the new rows'. Holds the prefix's lists, never this view."""
        n = len(self.records)
        out = RowView(records)
        out._prefix_orders = {o: (lst, self._order_keys[o], n) for o, lst in self._orders.items()}
        for o, pending in self._prefix_orders.items():
            out._prefix_orders.setdefault(o, pending)
        out._prefix_hay = self._hay if self._hay is not None else self._prefix_hay
        if self._hist is not None:
            out._prefix_hist = (self._hist, n)
        elif self._prefix_hist is not None:
            out._prefix_hist = self._prefix_hist
        return out

    def histogram(self) -> list[tuple[str, int]]:
        if self._hist is None:
            if self._prefix_hist is not None:
                base, n = self._prefix_hist
                more = ttl_histogram(self.records[n:])
                self._hist = [(label, a + b) for (label, a), (_, b) in zip(base, more)]
                self._prefix_hist = None
            else:
                self._hist = ttl_histogram(self.records)
        return self._hist

    def ordered(self, by: str, reverse: bool = False) -> list[SessionRecord]:
        got = self._orders.get((by, reverse))
        if got is None:
            prefix = self._prefix_orders.pop((by, reverse), None)
            if prefix is not None:
                # Stable: among equal keys the prefix's rows (earlier in ``records``) come
                # first, in their order, then the new rows in theirs: what sorting all of
                # ``records`` gives, in either direction.
                base, base_keys, n = prefix
                got, keys = merge_in(base, self.records[n:], SORT_KEYS[by], reverse, base_keys)
            else:
                idx, row_keys = _sort_index(self.records, by, reverse)
                self._order_index[(by, reverse)] = idx
                got = [self.records[i] for i in idx]
                keys = list(map(row_keys.__getitem__, idx))
            self._orders[(by, reverse)] = got
            self._order_keys[(by, reverse)] = keys
        return got

    def has(self, by: str, reverse: bool = False) -> bool:
        return (by, reverse) in self._orders

    def _haystack(self) -> list[str]:
        """One lowercased line per row: key, notebook, summary. "\n" cannot occur in a filter
        term (terms are split on whitespace), so a term never matches across two fields. A
        view extended from another reuses its lines and makes only the new rows'."""
        if self._hay is None:
            hay = self._prefix_hay[:] if self._prefix_hay is not None else []
            self._prefix_hay = None
            hay.extend(f"{r.key}\n{r.notebook or ''}\n{r.summary}".lower() for r in self.records[len(hay):])
            self._hay = hay
        return self._hay

    def prepare_filter(self) -> None:
        """Make the haystack now (only the rows a view extended from did not have)."""
        self._haystack()

    def matching(self, text: str) -> list[SessionRecord]:
        """``filter_records``, in the rows' own order: one substring test per row and term on
        the haystack (4-5x faster than three ``lower()`` per row; the keys tab makes it
        while the scan runs, batch by batch)."""
        recs = self.records
        return [recs[i] for i in self._matching_index(text)]

    def _matching_index(self, text: str) -> Sequence[int]:
        recs = self.records
        keep: Sequence[int] = range(len(recs))      # positions: no tuple per row (allocation, GC)
        terms = text.strip().lower().split()
        if not terms:
            return keep
        hay = self._haystack()
        for term in terms:
            if term.startswith("kind:"):
                want = term[5:]
                keep = [i for i in keep if recs[i].kind == want]
            elif term == "ttl:none":
                keep = [i for i in keep if recs[i].ttl_s is None]
            else:
                keep = [i for i in keep if term in hay[i]]
        return keep

    def sorted_already(self, by: str, reverse: bool = False) -> bool:
        """That order is kept, or merges linearly from a prefix's (a scan that went on)."""
        return (by, reverse) in self._orders or (by, reverse) in self._prefix_orders

    def head(self, text: str, by: str, reverse: bool, n: int) -> tuple[list[SessionRecord], int]:
        """The first ``n`` rows of ``view(text, by, reverse)`` and the view's length, without
        sorting every row when that order is not sorted yet: a page of the new order shows
        before the whole of it is sorted. (``heapq.nsmallest``/``nlargest`` equal
        ``sorted(...)[:n]``, ties included; a Python loop, so the UI thread gets its turns.)"""
        if self.sorted_already(by, reverse):
            v = self.view(text, by, reverse)
            return v[:n], len(v)
        rows = self.matching(text) if text.strip() else self.records
        key = SORT_KEYS[by]
        top = heapq.nlargest(n, rows, key=key) if reverse else heapq.nsmallest(n, rows, key=key)
        return top, len(rows)

    def view(self, text: str, by: str, reverse: bool = False) -> list[SessionRecord]:
        base = self.ordered(by, reverse)
        if not text.strip():
            return base
        found = self._matching_index(text)
        if len(found) == len(base):
            return base
        order = self._order_index.get((by, reverse))
        if order is not None:            # the order's positions, filtered: one pass, no id()s
            mask = bytearray(len(self.records))
            for i in found:
                mask[i] = 1
            recs = self.records
            return [recs[i] for i in order if mask[i]]
        keep = {id(self.records[i]) for i in found}
        return [r for r in base if id(r) in keep]
