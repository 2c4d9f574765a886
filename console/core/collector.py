"""The cyclic garbage collector held off while a large acyclic tree is built and read.

Parsing and validating a bulk diff of 30,000 records makes about half a million dicts,
strings and tuples, none of them in a reference cycle; every 700 allocations the collector
looks at the young ones again, and as the heap grows it scans all of it (two full passes
over 500,000+ objects in one execution: 0.43 s of 2.9 s measured). :func:`paused` turns it
off for the block and back on after, if it was on. Reference counting still frees
everything that is not in a cycle; cycles made meanwhile (by any thread) wait for the next
collection. The collector is process-wide: a nested or concurrent pause ends when the
first one that turned it off ends, which only lets a collection run sooner.

:func:`kept` is for objects that live on after the block (a page of rows, a sorted view,
imported modules): frozen out of the collector before it is back on, so that neither the
pass its re-enabling triggers nor any later full pass reads them again (with a million
rows kept, each such pass was a 50-140 ms stop of every thread). What else was young in
the process is frozen with them: if it later dies in a cycle it stays until the process
ends — the trade of every ``gc.freeze`` user; objects not in a cycle are still freed by
reference counting.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextmanager
def kept() -> Iterator[None]:
    """:func:`paused`, and what is alive at the block's end frozen before the collector is
    back on (not when the block raises)."""
    with paused():
        yield
        gc.freeze()
