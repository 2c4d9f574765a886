"""The Activity table's remembered cells: the same objects while what a row shows is the
same, new cells as soon as anything shown changes, and always what row_cells draws."""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timezone

from console.core.activity.model import CLIENT, Backend
from console.ui.screens import activity_panels as panels

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def _row(pid: int = 7, **kw) -> Backend:
    base = Backend(pid, "app", "alice", "psql", "10.0.0.5", 5432, CLIENT, "idle", "Client", "ClientRead", T0,
                   None, 12.0, 12.0, "select 1")
    return dataclasses.replace(base, **kw)


def _plain(cells) -> list[tuple[str, str, list]]:
    return [(c.plain, str(c.style), [(s.start, s.end, str(s.style)) for s in c.spans]) if hasattr(c, "plain")
            else (str(c), "", []) for c in cells]


def test_an_unchanged_row_keeps_its_cells_and_a_changed_one_gets_new_ones():
    memo = panels.RowCells()
    first = memo("t:7", "t", _row(), set(), False, 40)
    # an idle session one tick later: its query and state ages moved, nothing shown did
    again = memo("t:7", "t", _row(query_age_s=14.0, state_age_s=14.0), set(), False, 40)
    assert all(a is b for a, b in zip(first, again))
    for change in ({"state": "active"}, {"query": "select 2"}, {"xact_age_s": 400.0}, {"wait_event": None}):
        cells = memo("t:7", "t", _row(**change), set(), False, 40)
        assert _plain(cells) == _plain(panels.row_cells("t", _row(**change), set(), False, 40))
        assert _plain(cells) != _plain(first), change
    assert _plain(memo("t:7", "t", _row(), {7}, False, 40))[0][0].startswith("▲")   # now blocking another
    assert _plain(memo("t:7", "t", _row(), set(), True, 40)) != _plain(first)        # stale: dimmed


def test_remembered_cells_always_draw_what_row_cells_draws():
    rng = random.Random(3)
    memo = panels.RowCells()
    for _ in range(2000):
        pid = rng.randrange(4)
        r = _row(pid, state=rng.choice(["idle", "active", "idle in transaction"]),
                 query_age_s=rng.choice([None, 0.4, 1.2, 59.9, 61.0]), xact_age_s=rng.choice([None, 2.0, 301.0]),
                 query=rng.choice(["select 1", "select 2", None]), blocked_by=rng.choice([(), (1,)]))
        blocking, stale, width = rng.choice([set(), {pid}]), rng.random() < 0.2, rng.choice([10, 40])
        got = memo(f"t:{pid}", "t", r, blocking, stale, width)
        assert _plain(got) == _plain(panels.row_cells("t", r, blocking, stale, width))


def test_detail_shows_a_huge_query_in_part_and_says_so():
    """track_activity_query_size goes up to 1 MB: the pane (wrapped on the UI thread) shows
    the first DETAIL_QUERY_CHARS, controls visible, and names what it left out."""
    from console.core.activity.model import ActivitySample

    q = "select '\x1b[2J' || " + "x" * 1_000_000
    row = _row(query=q)
    sample = ActivitySample("app", T0, 150000, "app", 1, (row,))
    t = panels.detail(sample, row, None)
    assert "\x1b" not in t.plain and "␛[2J" in t.plain
    assert len(t.plain) < panels.DETAIL_QUERY_CHARS + 2_000
    assert f"{len(q) - panels.DETAIL_QUERY_CHARS:,} more characters not shown" in t.plain
    short = panels.detail(sample, _row(query="select 1"), None)
    assert short.plain.endswith("select 1") and "not shown" not in short.plain


def test_detail_puts_what_a_session_does_on_its_own_line_and_leaves_no_blank_one():
    from console.core.activity.model import ActivitySample

    row = _row(state="active", wait_event_type=None, wait_event=None, xact_age_s=3.0, query_age_s=2.0,
               query="select \x1b[2J")
    sample = ActivitySample("app", T0, 150000, "app", 1, (row,))
    lines = panels.detail(sample, row, None).plain.split("\n")
    assert lines[1].startswith("state active") and "xact" in lines[1] and "query" in lines[1]
    assert lines[2].startswith("user alice") and "xact" not in lines[2]
    worker = _row(backend_type="checkpointer", state=None, wait_event_type=None, wait_event=None,
                  xact_age_s=None, query_age_s=None, query=None)
    lines = panels.detail(ActivitySample("app", T0, 150000, "app", 1, (worker,)), worker, None).plain.split("\n")
    assert lines[1].startswith("user alice"), lines     # nothing it does now: no blank line for it
