"""The fast cell renderer draws exactly what DataTable's own renderer draws, and an update
re-renders only the row that changed."""

from __future__ import annotations

import random

import pytest

from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from console.ui.widgets import table_render
from console.ui.widgets.lists import ListTable

ALPHABET = "ab xyz09-_.:/%漢字テスト🙂é\u0301 \u200b·…"
STYLES = ["", "bold", "red", "dim", "reverse", "bold green on blue", "italic #ff8800", "underline"]


class _App(App[None]):
    def compose(self) -> ComposeResult:
        yield ListTable(id="t")


def _text(rng: random.Random) -> Text | str | int | None:
    kind = rng.random()
    if kind < 0.15:
        return rng.choice([None, 12345, "plain str", "[bold]str[/] with markup", 3.5, Text(""),
                           Text("", style="reverse"), Text("", style="on blue", justify="right"),
                           Text("ab  ", style="reverse", justify="right"), Text(" ab ", style="on blue", justify="center"),
                           Text("x ", style="reverse", justify="left"), Text("y  ", style="underline")])
    plain = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 40)))
    t = Text(plain, style=rng.choice(STYLES), overflow=rng.choice([None, "fold", "crop", "ellipsis"]),
             justify=rng.choice([None, "left", "default", "right", "center"]))
    for _ in range(rng.randint(0, 3)):
        if plain:
            a = rng.randrange(len(plain))
            t.stylize(rng.choice(STYLES[1:]), a, rng.randint(a, len(plain)))
    return t


def _same(a: list[list[Segment]], b: list[list[Segment]]) -> bool:
    return [list(Segment.simplify(line)) for line in a] == [list(Segment.simplify(line)) for line in b]


def _spy_refreshes(monkeypatch, table) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The regions each refresh of ``table`` asks for, from now until monkeypatch.undo()."""
    from textual.widget import Widget
    asked: list[tuple] = []
    real = Widget.refresh

    def spy(self, *regions, **k):  # type: ignore[no-untyped-def]
        if self is table:
            asked.append(regions)
        return real(self, *regions, **k)

    monkeypatch.setattr(Widget, "refresh", spy)
    return asked


async def test_fast_cells_draw_what_datatable_draws() -> None:
    rng = random.Random(20261201)
    async with _App().run_test(size=(120, 30)) as pilot:
        table = pilot.app.query_one("#t", ListTable)
        for c in range(4):
            table.add_column(f"col{c}", key=f"c{c}")
        for r in range(20):
            table.add_row(*[_text(rng) for _ in range(4)], key=f"r{r}")
        await pilot.pause()
        checked = 0
        for _ in range(1500):
            row, col = rng.randrange(-1, 20), rng.randrange(4)
            width = rng.randint(3, 30)
            cursor, hover = rng.random() < 0.3, rng.random() < 0.2
            base = table.rich_style if rng.random() < 0.5 else table.get_component_rich_style("datatable--even-row")
            if rng.random() < 0.3 and row >= 0:
                table.update_cell(f"r{row}", f"c{col}", _text(rng))
            fast = table._render_cell(row, col, base, width, cursor, hover)
            table._cell_render_cache.clear()     # DataTable's own key has no width
            slow = DataTable._render_cell(table, row, col, base, width, cursor, hover)
            assert _same(fast, slow), (row, col, width, table.get_row_at(row)[col] if row >= 0 else None)
            checked += 1
        assert checked == 1500


async def test_an_update_re_renders_only_its_row(monkeypatch) -> None:
    async with _App().run_test(size=(80, 20)) as pilot:
        table = pilot.app.query_one("#t", ListTable)
        table.add_column("a", key="a")
        table.add_column("b", key="b")
        for r in range(10):
            table.add_row(Text(f"row {r}"), Text("x"), key=f"r{r}")
        await pilot.pause()
        calls: list[int] = []
        real = table_render.fast_lines

        def counting(*a, **k):  # type: ignore[no-untyped-def]
            calls.append(a[2])   # the row index
            return real(*a, **k)

        monkeypatch.setattr(table_render, "fast_lines", counting)
        table.update_cell("r3", "b", Text("y"))
        await pilot.pause()
        assert table.get_cell("r3", "b").plain == "y"
        # Only the changed row's cells are drawn again (DataTable drew every visible cell).
        assert calls and set(calls) == {3}, calls
        shown = "".join(s.text for s in table.render_line(4))  # header + rows 0..3
        assert "row 3" in shown and " y " in shown


class _Pair(App[None]):
    CSS = "DataTable { width: 60; height: 14; }"

    def compose(self) -> ComposeResult:
        from textual.widgets import Input
        yield DataTable(id="plain", cursor_type="row", zebra_stripes=True)
        yield table_render.FastCells(id="fast", cursor_type="row", zebra_stripes=True)
        yield Input(id="elsewhere")       # the focus, so both tables draw unfocused


@pytest.mark.parametrize("fixed", [False, True], ids=["auto-widths", "set-widths"])
async def test_fast_lines_match_datatable_through_updates_moves_sorts_and_removals(fixed: bool) -> None:
    from textual.coordinate import Coordinate
    from textual.geometry import Region
    rng = random.Random(7)
    async with _Pair().run_test(size=(130, 40)) as pilot:
        tables = [pilot.app.query_one("#plain", DataTable), pilot.app.query_one("#fast", DataTable)]
        pilot.app.query_one("#elsewhere").focus()
        widths = [rng.choice([8, 14] if fixed else [None, 8, 14]) for _ in range(3)]
        for t in tables:
            for c, w in enumerate(widths):
                t.add_column(f"c{c}", key=f"c{c}", width=w)
        keys: list[str] = []
        for step in range(120):
            op = rng.random()
            if op < 0.25 or not keys:
                k = f"k{step}"
                cells = [_text(rng) for _ in range(3)]
                height = 2 if rng.random() < 0.08 else 1      # now and then a taller row
                for t in tables:
                    t.add_row(*cells, key=k, height=height)
                keys.append(k)
            elif op < 0.55:
                k, c, v = rng.choice(keys), f"c{rng.randrange(3)}", _text(rng)
                for t in tables:
                    t.update_cell(k, c, v)
            elif op < 0.75:
                row = rng.randrange(len(keys))
                for t in tables:
                    t.move_cursor(row=row, animate=False)
            elif op < 0.8:
                k = keys.pop(rng.randrange(len(keys)))
                for t in tables:
                    t.remove_row(k)
            elif op < 0.85:     # the mouse over a cell, and another kind of cursor now and then
                at = Coordinate(rng.randrange(len(keys)), rng.randrange(3))
                kind = rng.choice(["row", "row", "cell", "column", "none"])
                for t in tables:
                    t._set_hover_cursor(True)
                    t.hover_coordinate = at
                    t.cursor_type = kind
            else:
                for t in tables:
                    t.sort("c0", key=lambda v: str(v))
            if step % 30 == 29:     # styles change between frames (the fast table reads them once a frame)
                pilot.app.theme = "textual-light" if pilot.app.theme != "textual-light" else "textual-dark"
                for t in tables:
                    t.zebra_stripes = not t.zebra_stripes
            await pilot.pause()
            sy = rng.randrange(0, 10)     # the same scroll for both (moving the cursor scrolls each on its own time)
            for t in tables:
                t.scroll_to(y=sy, animate=False, immediate=True)
            await pilot.pause()
            plain, fast = (t.render_lines(Region(0, 0, t.size.width, t.size.height)) for t in tables)
            for i, (f, p) in enumerate(zip(fast, plain)):
                assert list(f.simplify()) == list(p.simplify()), (step, i)
            assert tables[1]._frame is None     # nothing kept from one frame to the next
            for i in range(-1, tables[1].row_count + 1):    # a repainted row's region: DataTable's own
                assert tables[1]._get_row_region(i) == DataTable._get_row_region(tables[1], i), (step, i)


async def test_an_update_repaints_only_its_rows_region(monkeypatch) -> None:
    async with _App().run_test(size=(80, 20)) as pilot:
        table = pilot.app.query_one("#t", ListTable)
        table.add_column("a", key="a")
        for r in range(10):
            table.add_row(Text(f"row {r}"), key=f"r{r}")
        await pilot.pause()
        asked = _spy_refreshes(monkeypatch, table)
        table.update_cell("r3", "a", Text("ROW-3"))
        assert asked and all(len(r) == 1 for r in asked)
        assert {r[0].y for r in asked} == {4} and {r[0].height for r in asked} == {1}   # header + rows 0..2 above
        monkeypatch.undo()
        await pilot.pause()
        assert "ROW-3" in pilot.app.export_screenshot()


class _Two(App[None]):
    CSS = "ListTable { width: 70; height: 12; }"

    def compose(self) -> ComposeResult:
        from textual.widgets import Input

        from console.ui.widgets.lists import Col
        cols = (Col("Key", 8), Col("A", 10), Col("B", 12, flex=True))
        yield ListTable(cols, id="merged")
        yield ListTable(cols, id="fresh")
        yield Input(id="elsewhere")


async def test_set_rows_in_place_ends_like_a_table_built_from_scratch() -> None:
    """set_rows merges (drops, adds, changes cells, reorders) instead of rebuilding: after
    any sequence the table shows what a new table given the last rows shows, and the
    cursor stays on its row while that row is there."""
    from textual.geometry import Region
    rng = random.Random(11)
    async with _Two().run_test(size=(150, 30)) as pilot:
        merged = pilot.app.query_one("#merged", ListTable)
        pilot.app.query_one("#elsewhere").focus()
        universe = [f"k{i}" for i in range(30)]
        last: dict[str, list] = {}
        for step in range(60):
            keys = rng.sample(universe, rng.randint(0, 25))
            if rng.random() < 0.5:
                keys.sort()
            rows = [(k, list(last[k]) if k in last and rng.random() < 0.5 else      # the same cell objects again
                     [Text(k), Text(rng.choice(["x", "y", "zz"])), _text(rng) if rng.random() < 0.3 else "s"])
                    for k in keys]
            before = merged.cursor_key
            merged.set_rows(rows)
            last = {k: c for k, c in rows}
            if keys and rng.random() < 0.3:         # one cell changed in place; the next rows may bring it back
                merged.set_cell(rng.choice(keys), "A", Text("set-cell"))
                rows = [(k, merged.row_cells(k) or c) for k, c in rows]
            fresh = pilot.app.query_one("#fresh", ListTable)
            await fresh.remove()
            fresh = ListTable(merged.specs, id="fresh")
            await pilot.app.mount(fresh, before="#elsewhere")
            fresh.set_rows(rows)
            await pilot.pause()
            if before in keys:
                assert merged.cursor_key == before, step
            fresh.move_cursor(row=merged.cursor_row, animate=False)
            await pilot.pause()
            for t in (merged, fresh):
                t.scroll_to(y=0, animate=False, immediate=True)
            await pilot.pause()
            assert merged.row_count == len(keys) and [merged.get_row_at(i)[0].plain for i in range(len(keys))] == keys
            a = merged.render_lines(Region(0, 0, merged.size.width, merged.size.height))
            b = fresh.render_lines(Region(0, 0, fresh.size.width, fresh.size.height))
            assert [s.text for s in a] == [s.text for s in b], (step, keys[:3], merged.cursor_row)


async def test_an_update_that_may_resize_its_column_is_drawn_too() -> None:
    async with _App().run_test(size=(80, 20)) as pilot:
        table = pilot.app.query_one("#t", ListTable)
        table.add_column("a", key="a")
        table.add_row(Text("short"), key="r0")
        await pilot.pause()
        table.render_lines(table.region.reset_offset)          # the old cell is cached now
        table.update_cell("r0", "a", Text("SHORT"), update_width=True)      # same width: same cell size
        await pilot.pause()
        assert "SHORT" in "".join(s.text for s in table.render_line(1))


async def test_a_reorder_repaints_without_laying_the_screen_out(monkeypatch) -> None:
    """set_rows that only moves rows is a repaint of the table (as DataTable.sort is), and
    so are rows taken out or added while the table's height is set by CSS and no scrollbar
    comes or goes; a scrollbar that appears lays the screen out. (The Activity screen
    reorders its rows every refresh, and sessions come and go: each was a layout of the
    whole screen.)"""
    from textual.widget import Widget
    async with _Two().run_test(size=(150, 30)) as pilot:
        table = pilot.app.query_one("#merged", ListTable)
        rows = [(k, [Text(k), Text("x"), "s"]) for k in ("a", "b", "c", "d")]
        table.set_rows(rows)
        await pilot.pause()
        layouts: list[bool] = []
        real = Widget.refresh

        def spy(self, *regions, layout=False, **k):  # type: ignore[no-untyped-def]
            if self is table:
                layouts.append(layout)
            return real(self, *regions, layout=layout, **k)

        monkeypatch.setattr(Widget, "refresh", spy)
        table.set_rows(list(reversed(rows)))
        await pilot.pause()
        assert layouts and not any(layouts), layouts
        assert [table.get_row_at(i)[0].plain for i in range(4)] == ["d", "c", "b", "a"]
        layouts.clear()
        table.set_rows(rows[:2])
        await pilot.pause()
        assert layouts and not any(layouts), layouts
        assert table.row_count == 2 and table.virtual_size.height == 3      # header + 2 rows
        assert not table.show_vertical_scrollbar
        layouts.clear()
        many = [(f"k{i}", [Text(f"k{i}"), Text("x"), "s"]) for i in range(40)]
        table.set_rows(many)                      # more rows than the 12 lines: a scrollbar
        await pilot.pause()
        assert any(layouts) and table.show_vertical_scrollbar and table.virtual_size.height == 41
        table.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert table.scroll_offset.y == table.max_scroll_y > 0
        layouts.clear()
        table.set_rows(many[:30])                 # rows taken out while scrolled to the end
        await pilot.pause()
        assert layouts and not any(layouts), layouts
        assert table.virtual_size.height == 31 and table.scroll_offset.y == table.max_scroll_y
        shot = pilot.app.export_screenshot()
        assert "k29" in shot and "k30" not in shot
        table.set_rows(rows[:2])                  # the scrollbar goes: laid out again
        await pilot.pause()
        assert not table.show_vertical_scrollbar and table.scroll_offset.y == 0
        assert "d" not in [table.get_row_at(i)[0].plain for i in range(table.row_count)]


@pytest.mark.parametrize("kind", ["row", "cell", "column", "none"])
async def test_fast_lines_match_datatable_for_every_cursor_and_hover(kind: str) -> None:
    """One-line rows (the path that puts lines together from cached cells): the cursor and
    the mouse on every cell, for each kind of cursor, draw what DataTable draws."""
    from textual.coordinate import Coordinate
    from textual.geometry import Region
    rng = random.Random(3)
    async with _Pair().run_test(size=(130, 40)) as pilot:
        tables = [pilot.app.query_one("#plain", DataTable), pilot.app.query_one("#fast", DataTable)]
        pilot.app.query_one("#elsewhere").focus()
        for t in tables:
            t.cursor_type = kind
            for c, w in enumerate([8, 10, 14]):     # narrower than the table: the rest is filled
                t.add_column(f"c{c}", key=f"c{c}", width=w)
        for r in range(6):      # row 0: empty texts with a style (DataTable draws them as no text)
            cells = [Text("", style="on blue", justify="right"), Text("", style="reverse", justify="left"),
                     None] if r == 0 else [_text(rng) for _ in range(3)]
            for t in tables:
                t.add_row(*cells, key=f"k{r}")
        await pilot.pause()
        assert tables[1]._total_row_height == tables[1].row_count      # every row one line high
        for step, (row, col) in enumerate((r, c) for r in range(6) for c in range(3)):
            for t in tables:
                t.move_cursor(row=row, column=col, animate=False)
                t._set_hover_cursor(True)
                t.hover_coordinate = Coordinate((row + 2) % 6, (col + 1) % 3)
            focused = step % 3 == 2          # now and then each drawn with the focus, in turn
            lines = []
            for t in tables:
                (t if focused else pilot.app.query_one("#elsewhere")).focus()
                await pilot.pause()
                lines.append(t.render_lines(Region(0, 0, t.size.width, t.size.height)))
            plain, fast = lines
            for i, (f, p) in enumerate(zip(fast, plain)):
                assert list(f.simplify()) == list(p.simplify()), (step, i)


async def test_a_refresh_that_changes_cells_repaints_each_changed_row_once(monkeypatch) -> None:
    """set_rows stores the changed cells and repaints each changed row once (not once per
    cell, not the whole table), and the screen shows the new cells."""
    async with _Two().run_test(size=(150, 30)) as pilot:
        table = pilot.app.query_one("#merged", ListTable)
        rows = [(k, [Text(k), Text("x"), Text("s")]) for k in ("a", "b", "c", "d")]
        table.set_rows(rows)
        await pilot.pause()
        asked = _spy_refreshes(monkeypatch, table)
        rows[2] = ("c", [Text("c"), Text("NEW-A"), Text("NEW-B")])      # two cells of one row
        table.set_rows(rows)
        assert [tuple(r.y for r in regions) for regions in asked] == [(3,)], asked   # header, a, b above
        monkeypatch.undo()
        await pilot.pause()
        shot = pilot.app.export_screenshot()
        assert "NEW-A" in shot and "NEW-B" in shot


async def test_fast_lines_match_datatable_scrolled() -> None:
    """One-line rows scrolled down and sideways (the path that reads the scroll offset once
    a frame) draw what DataTable draws."""
    from textual.geometry import Region
    rng = random.Random(5)
    async with _Pair().run_test(size=(130, 40)) as pilot:
        tables = [pilot.app.query_one("#plain", DataTable), pilot.app.query_one("#fast", DataTable)]
        pilot.app.query_one("#elsewhere").focus()
        for t in tables:
            for c, w in enumerate([20, 30, 25]):       # wider than the table: it scrolls sideways too
                t.add_column(f"c{c}", key=f"c{c}", width=w)
        for r in range(40):
            cells = [_text(rng) for _ in range(3)]
            for t in tables:
                t.add_row(*cells, key=f"k{r}")
        await pilot.pause()
        for sx, sy in ((0, 0), (0, 7), (5, 7), (13, 26), (0, 27)):
            for t in tables:
                t.scroll_to(x=sx, y=sy, animate=False, immediate=True)
            await pilot.pause()
            assert tables[1].scroll_offset == (sx, sy) and tables[1]._total_row_height == tables[1].row_count
            plain, fast = (t.render_lines(Region(0, 0, t.size.width, t.size.height)) for t in tables)
            for i, (f, p) in enumerate(zip(fast, plain)):
                assert list(f.simplify()) == list(p.simplify()), (sx, sy, i)


async def test_a_str_cell_is_plain_text_with_controls_visible() -> None:
    """Data is never markup: a str cell is shown as written (DataTable parses a str as
    markup) and an escape byte shows as a visible mark, through set_rows and set_cell."""
    from textual.geometry import Region
    hostile = "[red]x\x1b"
    async with _Two().run_test(size=(150, 30)) as pilot:
        table = pilot.app.query_one("#merged", ListTable)
        table.set_rows([("k", [Text("k"), hostile, "s"])])
        await pilot.pause()
        table.set_cell("k", "B", "[bold]y[/]")
        await pilot.pause()
        line = table.render_lines(Region(0, 0, table.size.width, 2))[1]
        shown = line.text
        assert "[red]x␛" in shown and "[bold]y[/]" in shown, shown
        assert not any("\x1b" in seg.text for seg in line)
        assert not any(seg.style and seg.style.color and seg.style.color.name == "red" for seg in line)


async def test_rows_changed_together_are_repainted_in_one_refresh_of_datatables_regions(monkeypatch) -> None:
    """refresh_rows asks for every changed row's region in one refresh — the regions
    DataTable's refresh_row asks for one by one (scrolled: translated; out of the window:
    left out)."""
    async with _Two().run_test(size=(150, 30)) as pilot:
        table = pilot.app.query_one("#merged", ListTable)
        rows = [(f"k{i}", [Text(f"k{i}"), Text("x"), Text("s")]) for i in range(40)]
        table.set_rows(rows)
        await pilot.pause()
        table.scroll_to(y=12, animate=False, immediate=True)
        await pilot.pause()
        assert table.scroll_offset.y == 12
        changed = [3, 13, 14, 20, 39]                    # 3 and 39: out of the window
        want = []
        for i in changed:
            region = DataTable._get_row_region(table, i)
            if table.window_region.overlaps(region):
                want.append(region.translate(-table.scroll_offset))
        asked = _spy_refreshes(monkeypatch, table)
        for i in changed:
            rows[i] = (f"k{i}", [Text(f"k{i}"), Text(f"NEW-{i}"), Text("s")])
        table.set_rows(rows)
        assert asked == [tuple(want)], (asked, want)
        assert 0 < len(want) < len(changed)
        monkeypatch.undo()
        await pilot.pause()
        shot = pilot.app.export_screenshot()
        assert "NEW-13" in shot and "NEW-20" in shot
