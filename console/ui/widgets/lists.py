"""The list conventions of every screen, in two widgets.

:class:`ListTable` (a DataTable) and :class:`ListTree` (a Tree) share the cursor keys of
:mod:`console.ui.keymap`: ``up/down``, ``j/k``, ``Home``/``g`` first row, ``End``/``G`` last
row, ``PgUp``/``PgDn``. :meth:`ListTable.set_rows` replaces the rows and keeps the cursor on
the same row id (not the same index), so a refresh that adds or removes rows above the
cursor never moves what the person is looking at. ``space`` in a tree selects (the screen's
``select`` action) instead of folding the node.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from rich.text import Text
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Tree
from textual._two_way_dict import TwoWayDict
from textual.widgets.data_table import ColumnKey, RowKey

from ...core import text
from .. import keymap
from .table_render import FastCells
from ..typeahead import FilterInput

CURSOR_BINDINGS = keymap.bindings("list.down", "list.up", "list.first", "list.last")


@dataclass(frozen=True)
class Col:
    """A column and what happens to it as the terminal narrows: ``drop`` 0 is always kept;
    otherwise the highest ``drop`` goes first. ``flex``: takes the width the others leave
    (at least ``width``)."""

    label: str
    width: int
    drop: int = 0
    flex: bool = False


class ListTable(FastCells):
    """A DataTable with the list keys, rows kept by id across refreshes, and columns that
    give way by priority when the table is narrower than all of them (:class:`Col`)."""

    BINDINGS = CURSOR_BINDINGS

    class ColumnsResized(Message):
        """The shown columns or their widths changed (the table was resized): a screen that
        cuts a cell's text to its column's width draws its rows again."""

        def __init__(self, table: "ListTable") -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> "ListTable":
            return self.table

    def __init__(self, columns: Sequence[Col] = (), **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.specs: list[Col] = list(columns)
        self.shown: list[Col] = []
        self._list_rows: list[tuple[str, list[Any]]] = []
        self._list_index: dict[str, int] = {}
        self._all_rows: list[tuple[str, Sequence[Any]]] = []
        self._filter = ""
        self._picks: tuple[list[Col], list[int]] | None = None

    # --- columns that fit

    def fit(self, width: int) -> list[Col]:
        """The columns kept at ``width`` cells (each costs its width plus 2 of padding).

        >>> t = ListTable([Col("a", 10), Col("b", 10, drop=1), Col("c", 10, drop=2)])
        >>> [c.label for c in t.fit(40)], [c.label for c in t.fit(30)], [c.label for c in t.fit(5)]
        (['a', 'b', 'c'], ['a', 'b'], ['a'])
        """
        cols = list(self.specs)
        while len(cols) > 1 and sum(c.width + 2 for c in cols) > width:
            worst = max(cols, key=lambda c: (c.drop, -cols.index(c)))
            if worst.drop == 0:
                break
            cols.remove(worst)
        return cols

    def on_resize(self) -> None:
        self._layout(self.size.width)

    def on_mount(self) -> None:
        if self.specs and not self.columns:
            self._layout(self.size.width or 80)

    def _layout(self, width: int) -> None:
        if not self.specs or width <= 0:
            return
        room = width - 3          # a vertical scrollbar never pushes the last column out
        cols = self.fit(room)
        spare = max(0, room - sum(c.width + 2 for c in cols))
        widths = [c.width + (spare if c.flex else 0) for c in cols]
        if [c.label for c in cols] == [c.label for c in self.shown] and self.columns:
            changed = False
            for c, w in zip(cols, widths):
                col = self.columns.get(ColumnKey(c.label or "_"))
                if col is not None and col.width != w:
                    col.width = w
                    col.auto_width = False
                    changed = True
            self._require_update_dimensions = True
            self.refresh()
            if changed:
                self.post_message(self.ColumnsResized(self))
            return
        had = bool(self.shown)
        self.shown = cols
        keep_key, keep_row = self.cursor_key, self.cursor_row
        self.clear(columns=True)
        for c, w in zip(cols, widths):
            self.add_column(c.label, key=c.label or "_", width=w)
        self._fill(keep_key, keep_row)
        if had:
            self.post_message(self.ColumnsResized(self))

    def _visible(self, cells: Sequence[Any]) -> list[Any]:
        if not self.specs:
            return [_cell(c) for c in cells]
        shown = self.shown
        if self._picks is None or self._picks[0] is not shown:     # where each shown column's cell is
            pos = {c.label: i for i, c in enumerate(self.specs)}
            self._picks = (shown, [pos[c.label] for c in shown])
        n = len(cells)
        return [_cell(cells[i]) if i < n else _EMPTY for i in self._picks[1]]

    def _fill(self, keep_key: str | None, keep_row: int) -> None:
        index = None
        for i, (key, cells) in enumerate(self._list_rows):
            self.add_row(*self._visible(cells), key=key)
            if key == keep_key:
                index = i
        if self.row_count:
            row = index if index is not None else min(max(keep_row, 0), self.row_count - 1)
            self.move_cursor(row=row, animate=False)

    def action_first(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_last(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)

    @property
    def cursor_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:  # cursor outside the rows while they are replaced
            return None

    @property
    def filter_text(self) -> str:
        return self._filter

    @filter_text.setter
    def filter_text(self, value: str) -> None:
        """Show only the rows with a cell containing ``value`` (case-insensitive); ``""``
        shows every row again. Kept across :meth:`set_rows`."""
        self._filter = (value or "").strip()
        self.set_rows(self._all_rows)

    def set_rows(self, rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Replace every row (cells in the order of every :class:`Col`, shown or not); the
        cursor stays on the row with the same key if it is still there, else at the same
        index (clamped). With a :attr:`filter_text`, only the rows that match are shown."""
        rows = self._all_rows = list(rows)
        if self._filter:
            needle = self._filter.lower()
            rows = [(k, c) for k, c in rows
                    if any(needle in (cell.plain if isinstance(cell, Text) else str(cell)).lower() for cell in c)]
        keep_key, keep_row = self.cursor_key, self.cursor_row
        seen: dict[str, int] = {}
        before = dict(self._list_rows)        # what each row shows now (rows change only here and in set_cell)
        self._list_rows = []
        for k, c in rows:
            n = seen[k] = seen.get(k, 0) + 1
            self._list_rows.append((k if n == 1 else f"{k}\x00{n}", list(c)))   # a key twice stays two rows
        self._list_index = {k: i for i, (k, _) in enumerate(self._list_rows)}
        if self.specs and not self.shown:
            self._layout(self.size.width or 80)
            return
        have = {str(k.value): k for k in self.rows}
        want = [k for k, _ in self._list_rows]
        if not self.row_count or sum(k in have for k in want) * 2 < len(want):
            self.clear()                    # mostly new rows: build the table again
            self._fill(keep_key, keep_row)
            return
        self._merge(have, keep_key, keep_row, before)

    def _merge(self, have: dict[str, RowKey], keep_key: str | None, keep_row: int,
               before: dict[str, list[Any]]) -> None:
        """Bring the table to ``_list_rows`` in place: drop the rows that went, add the new
        ones, change only the cells that changed and put the rows in the new order — no
        rebuild (a refresh of a 1,000-row list whose order moved used to clear and re-add
        every row), and the cached lines of unchanged rows stay."""
        want = {k for k, _ in self._list_rows}
        gone = [rk for k, rk in have.items() if k not in want]
        if gone:
            for rk in gone:
                del self.rows[rk]
                del self._data[rk]
                self._new_rows.discard(rk)
                self._updated_cells = {c for c in self._updated_cells if c.row_key != rk}
            self._relocate([rk for rk in self.ordered_rows_keys() if rk in self.rows], resized=True)
        columns = [ColumnKey(c.label or "_") for c in self.shown] if self.specs else list(self.columns)
        changed: list[RowKey] = []
        for key, cells in self._list_rows:
            existing = have.get(key)
            if existing is None or existing not in self.rows:
                self.add_row(*self._visible(cells), key=key)
                continue
            prev = before.get(key)
            if prev is not None and len(prev) == len(cells) and all(map(operator.is_, prev, cells)):
                continue         # the same cell objects as the row shows (a screen that keeps them)
            shown = self._visible(cells)
            current = self._data[existing]
            for column, new in zip(columns, shown):
                old = current.get(column)
                if old is not new and not _same(old, new):
                    if self.store_cell(existing, column, new):
                        changed.append(existing)
                    else:
                        self.update_cell(existing, column, new)
        if [k for k, _ in self._list_rows] != [row.key.value for row in self.ordered_rows]:
            self._relocate([RowKey(k) for k, _ in self._list_rows])     # a repaint of the whole table
        elif changed:
            self.refresh_rows(dict.fromkeys(changed))     # each changed row once
        if self.row_count:
            index = self._list_index.get(keep_key or "")
            row = index if index is not None else min(max(keep_row, 0), self.row_count - 1)
            if row != self.cursor_row or index is None or self.cursor_key != keep_key:
                self.move_cursor(row=row, animate=False)

    def ordered_rows_keys(self) -> list[RowKey]:
        """The row keys in their shown order."""
        locations = self._row_locations
        return sorted(self.rows, key=lambda rk: locations.get(rk) or 0)

    def _relocate(self, order: list[RowKey], *, resized: bool = False) -> None:
        """Put the rows in ``order`` (every row key once), as DataTable's own sort does: a
        repaint. ``resized``: rows were taken out as well, so the table's scrollable size
        changes: measured again when the table is next idle (``_update_dimensions``, which
        lays the screen out only when the table's own size or a scrollbar depends on it)."""
        self._row_locations = TwoWayDict({rk: i for i, rk in enumerate(order)})
        self._update_count += 1
        if resized:
            self._require_update_dimensions = True
            self.cursor_coordinate = self.cursor_coordinate      # clamped to the rows left
        self.refresh()

    def set_cell(self, key: str, label: str, value: Any) -> None:
        """Change one cell by row id and column label (kept even while the column is hidden)."""
        i = self._list_index.get(key)
        if i is None:
            return
        pos = [c.label for c in self.specs].index(label) if self.specs else None
        if pos is not None:
            self._list_rows[i][1][pos] = value
        if any(c.label == label for c in self.shown) or not self.specs:
            self.update_cell(key, label or "_", _cell(value))

    def row_cells(self, key: str) -> list[Any] | None:
        i = self._list_index.get(key)
        return None if i is None else self._list_rows[i][1]


_EMPTY = Text()


def _cell(value: Any) -> Any:
    """A cell as the table shows it: a ``str`` is plain text (DataTable would parse it as
    markup) with its control characters made visible (core.text.plain), like every cell a
    screen makes from a backend's data; anything else as given."""
    return text.plain(value) if type(value) is str else value


def _same(a: Any, b: Any) -> bool:
    """Cell equality that sees styles (rich's Text == compares text and spans only)."""
    if a is b:
        return True
    if isinstance(a, Text) and isinstance(b, Text):
        return (a.plain == b.plain and a.justify == b.justify and a.overflow == b.overflow
                and a.spans == b.spans and str(a.style) == str(b.style))
    return type(a) is type(b) and bool(a == b)


class ListTree(Tree):
    BINDINGS = [
        *CURSOR_BINDINGS,
        *keymap.bindings("list.select"),
    ]

    def action_first(self) -> None:
        if self.last_line >= 0:
            self.cursor_line = 0

    def action_last(self) -> None:
        if self.last_line >= 0:
            self.cursor_line = self.last_line


class FilterPrompt(ModalScreen[str | None]):
    """``/`` on a list: one line of text; Enter applies it (empty: every row), Esc cancels."""

    DEFAULT_CSS = """
    FilterPrompt { align: center bottom; }
    FilterPrompt Input { width: 100%; margin: 0 0 1 0; }
    """
    BINDINGS = [("escape", "cancel", "Cancel")]
    TAKES_TYPE_AHEAD = True      # keys typed right behind `/` are the filter's text (ui.typeahead)

    def __init__(self, current: str = "") -> None:
        super().__init__()
        self.current = current

    def compose(self):
        yield FilterInput(value=self.current, placeholder="filter the list: any text of a row (Enter applies, Esc cancels)")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ListFilter:
    """Mixed into a screen whose main list is a :class:`ListTable` (``FILTER_LIST`` is its
    selector): ``/`` asks for the text, the table shows the matching rows, focus returns to
    the table. The screen's BINDINGS include ``keymap.bindings(..., "filter")``."""

    FILTER_LIST = ""
    query_one: Any
    app: Any
    notify: Any

    def action_filter(self) -> None:
        table = self.query_one(self.FILTER_LIST, ListTable)

        def done(value: str | None) -> None:
            if value is not None:
                table.filter_text = value
                if value.strip():
                    self.notify(f"{table.row_count} row(s) match", title="Filter")
            table.focus()
        self.app.push_screen(FilterPrompt(table.filter_text), done)
