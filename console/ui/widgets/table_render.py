"""A cheaper cell renderer for Textual's DataTable (pinned textual 8.2.8).

DataTable renders every cell through ``console.render_lines(Styled(Padding(cell)))`` and
keys its cell cache on a table-wide counter that every ``update_cell`` bumps, so one changed
age re-renders every visible cell of the table through Rich's whole layout machinery
(~0.2-0.4 ms a cell). A busy screen (Activity: every age changes every tick) spent most of
its CPU there.

:class:`FastCells` renders the common cell — one line of :class:`rich.text.Text` without a
tab or a newline, in a row of height 1 — straight to segments, and keys its cache on the
row's own version (bumped when one of its cells changes) instead of the table-wide counter,
so an update re-renders only the cells that changed. Anything else (a multi-line cell, a
non-Text renderable, a justified cell, row labels) goes through DataTable's own path.
A line of a table whose rows are all one line high, without fixed rows, fixed columns or
row labels, is put together from those cells here too (DataTable's ``_render_line_in_row``
spends ~0.5 ms a line around its cached cells), and a cell's new value no longer counts as
a change of the table's shape: DataTable keys its row order and line offsets on the same
update counter, so each changed age rebuilt both (twice a row) before the row could be
repainted. ``tests/ui/test_table_render.py`` checks the cells and the lines against
DataTable's own for random texts, styles, widths, cursor and hover states, updates, moves,
sorts, removals, taller rows and theme changes: the segments must be the same.
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.segment import Segment
from rich.style import Style
from textual._segment_tools import line_crop
from textual.color import Color
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import _EMPTY_TEXT, default_cell_formatter
from textual.widgets.data_table import ColumnKey, RowKey

from .table_cells import Frame, FrameStyles, OneLine, fast_lines

class FastCells(DataTable):
    """Mixed in before DataTable (``class ListTable(FastCells)``)."""

    _cells_only = False        # set while update_cell counts an update (see _update_count)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._row_version: dict[RowKey, int] = {}       # any change in the row (its lines)
        self._cell_version: dict[tuple[RowKey, ColumnKey], int] = {}   # one cell's change
        self._born: dict[RowKey, int] = {}       # when the row (or the header) was last added
        self._col_epoch = 0                      # when a column was last added or removed
        self._version_seq = 0
        self._frame: Frame | None = None        # while a frame is drawn (render_lines)

    # DataTable counts every change in ``_update_count`` and keys its caches on it: the cell,
    # line and row-renderable caches (a cell's value matters to them) but also the row order
    # (``ordered_rows``) and the line offsets (``_y_offsets``), which only rows added, taken
    # out, moved or resized change. ``_shape`` follows every count except update_cell's.

    @property
    def _update_count(self) -> int:
        return self._counted

    @_update_count.setter
    def _update_count(self, value: int) -> None:
        self._counted = value
        if not self._cells_only:
            self._shape = value

    @property
    def ordered_rows(self) -> Any:
        cache: Any = self._ordered_row_cache
        key = (self.row_count, self._shape)
        hit = cache.get(key)
        if hit is None:
            get_key, rows = self._row_locations.get_key, self.rows
            hit = cache[key] = [rows[k] for i in range(self.row_count) if (k := get_key(i)) is not None]
        return hit

    @property
    def _y_offsets(self) -> Any:
        cache: Any = self._offset_cache
        hit = cache.get(self._shape)
        if hit is None:
            hit = []
            for row in self.ordered_rows:
                hit += [(row.key, y) for y in range(row.height)]
            cache[self._shape] = hit
        return hit

    def _bump(self, row_key: RowKey, column_key: ColumnKey | None = None) -> None:
        self._version_seq += 1
        self._row_version[row_key] = self._version_seq
        if column_key is not None:
            self._cell_version[(row_key, column_key)] = self._version_seq

    def update_cell(self, row_key: RowKey | str, column_key: ColumnKey | str, value: Any, *,
                    update_width: bool = False) -> None:
        """As DataTable's, but only the changed row is repainted (DataTable repaints the whole
        table, so every visible line went through the compositor again)."""
        rk = RowKey(row_key) if isinstance(row_key, str) else row_key
        ck = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if update_width or not self.store_cell(rk, ck, value):
            super().update_cell(rk, ck, value, update_width=update_width)     # raises for a bad key
            self._bump(rk, ck)
            return
        self.refresh_rows((rk,))

    def store_cell(self, rk: RowKey, ck: ColumnKey, value: Any) -> bool:
        """Change a one-line row's cell without repainting (the caller repaints the rows it
        changed once, with :meth:`refresh_rows`); False, and nothing done, for a cell this
        cannot change so (a row or column not there, a row whose height follows its cells)."""
        if rk not in self._row_locations or ck not in self._column_locations or (
                (row := self.rows.get(rk)) is None or row.auto_height):
            return False
        self._data[rk][ck] = value
        self._cells_only = True
        try:
            self._update_count += 1
        finally:
            self._cells_only = False
        self._bump(rk, ck)
        return True

    def refresh_rows(self, row_keys: Iterable[RowKey]) -> None:
        """Repaint these rows: the regions ``refresh_row`` would repaint one by one, asked for
        in one ``refresh`` (each call clears the widget's layout, style and size caches and
        schedules an idle check)."""
        indexes = []
        for rk in row_keys:
            index = self._row_locations.get(rk)
            if index is None:
                self.refresh()
                return
            if self.is_valid_row_index(index):
                indexes.append(index)
        if not indexes:
            return
        if self._total_row_height != self.row_count:
            for index in indexes:
                self.refresh_row(index)
            return
        window, scroll = self.window_region, self.scroll_offset
        width = max(self.size.width, sum(column.get_render_width(self) for column in self.columns.values())
                    + self._row_label_column_width)
        top = self.header_height if self.show_header else 0
        regions = [r.translate(-scroll) for r in (Region(0, index + top, width, 1) for index in indexes)
                   if window.overlaps(r)]
        if regions:
            self.refresh(*regions)

    def _get_row_region(self, row_index: int) -> Any:
        """As DataTable's, without its walk over every row above (``ordered_rows``, rebuilt
        after each update): when every row is one line high, the row's y is its index."""
        if self._total_row_height != self.row_count or not self.is_valid_row_index(row_index):
            return super()._get_row_region(row_index)
        row_width = sum(column.get_render_width(self) for column in self.columns.values()) + self._row_label_column_width
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(0, y, max(self.size.width, row_width), 1)

    def add_row(self, *cells: Any, height: int | None = 1, key: str | None = None,
                label: Any = None) -> RowKey:
        row_key = super().add_row(*cells, height=height, key=key, label=label)
        self._bump(row_key)           # a key used before (removed, cleared) starts fresh
        self._born[row_key] = self._version_seq
        return row_key

    def add_column(self, label: Any, *, width: int | None = None, key: str | None = None,
                   default: Any = None) -> ColumnKey:
        column_key = super().add_column(label, width=width, key=key, default=default)
        self._bump(self._header_row_key)
        self._born[self._header_row_key] = self._col_epoch = self._version_seq   # every cell drawn afresh
        return column_key

    def remove_column(self, column_key: ColumnKey | str) -> None:
        super().remove_column(column_key)
        self._bump(self._header_row_key)
        self._born[self._header_row_key] = self._col_epoch = self._version_seq

    def clear(self, columns: bool = False) -> Any:
        self._row_version.clear()
        self._cell_version.clear()
        self._born.clear()
        return super().clear(columns)

    def _update_dimensions(self, new_rows: Any) -> None:
        """DataTable measures every cell of every new row for the auto-width columns; when
        every column has a set width (ListTable's) and no row has a label or an automatic
        height, that measuring changes nothing (a 200-row page cost ~0.1 s of it): only the
        scrollable size is set, as DataTable sets it."""
        rows = list(new_rows)
        if any(c.auto_width for c in self.columns.values()) or any(
                (r := self.rows.get(rk)) is not None and (r.label is not None or r.auto_height) for rk in rows):
            super()._update_dimensions(rows)
            return
        width = sum(c.get_render_width(self) for c in self.columns.values()) + self._row_label_column_width
        self._set_virtual_size(Size(width, self._total_row_height + (self.header_height if self.show_header else 0)))

    def _set_virtual_size(self, size: Size) -> None:
        """Set the scrollable size without laying the whole screen out when only that
        changed: ``virtual_size`` is a layout reactive, so every row that came or went (a
        session on the Activity screen) laid out every widget of the screen (~10 ms at
        160x45). When the table's own size does not follow its content (neither height nor
        width ``auto``), the new size needs only what ScrollView does with it — the
        scrollbars set again, the scroll offset kept in range — and a repaint (new columns
        draw nothing until then); a scrollbar that appears or goes is a layout reactive of
        its own, so that still lays out."""
        if size == self.virtual_size:
            return
        height, width = self.styles.height, self.styles.width
        if (not self.is_mounted or not self.container_size or height is None or height.is_auto
                or (width is not None and width.is_auto)):
            self.virtual_size = size
            return
        self.set_reactive(FastCells.virtual_size, size)
        self._scroll_update(size)
        self.refresh()

    def render_lines(self, crop: Any) -> Any:
        # What every line depends on besides its row, read once a frame (``Frame``): among
        # it the component styles and background colours DataTable asks each line for, each
        # a walk up the DOM (~0.1 ms, more than a cached cell).
        self._frame = Frame(self)
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def get_component_styles(self, *names: str) -> Any:
        frame = self._frame
        if frame is None:
            return super().get_component_styles(*names)
        hit = frame.styles.get(names)
        if hit is None:
            hit = frame.styles[names] = FrameStyles(super().get_component_styles(*names))
        return hit

    @property
    def background_colors(self) -> Any:
        frame = self._frame
        if frame is None:
            return super().background_colors
        if frame.backgrounds is None:
            frame.backgrounds = super().background_colors
        return frame.backgrounds

    def render_line(self, y: int) -> Strip:
        """As DataTable's, with what it reads for every line (the scroll offset, the size,
        the widget's rich style: a walk up the DOM) read once a frame (``Frame``)."""
        frame = self._frame
        if frame is None or not frame.simple:
            return super().render_line(y)
        if frame.rich_style is None:
            frame.rich_style = self.rich_style
            frame.scroll = self.scroll_offset
        scroll_x, scroll_y = frame.scroll
        if y >= frame.header_lines:
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + frame.widget_width, frame.rich_style)

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Any:
        """A line of the table, cached on its row's version (DataTable keys it on the
        table-wide update counter, so any update drew every visible line again)."""
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        header = row_key is self._header_row_key
        row_index = -1 if header else self._row_locations.get(row_key)
        if row_index is None:
            return super()._render_line(y, x1, x2, base_style)
        frame = self._frame
        cursor, hover = self.cursor_coordinate, self.hover_coordinate
        if (frame.cursor_type if frame is not None else self.cursor_type) == "row":
            at: Any = (cursor.row == row_index, hover.row == row_index)   # a row only cares whether it has the cursor
        else:
            at = (cursor, hover)
        key = ("fast", row_key, self._row_version.get(row_key, 0), line_no, row_index, y, x1, x2,
               frame.widget_width if frame is not None else self.size.width, at, base_style,
               self._pseudo_class_state, frame.layout_sig if frame is not None else None)
        cache: Any = self._line_cache
        hit = cache.get(key)
        if hit is not None:
            return hit
        if frame is not None and frame.simple and not header:
            strip = self._simple_line(frame, row_key, row_index, x1, x2, base_style)
        else:
            strip = super()._render_line(y, x1, x2, base_style)
        cache[key] = strip
        return strip

    def _simple_line(self, frame: Frame, row_key: RowKey, row_index: int, x1: int, x2: int,
                     base_style: Style) -> Strip:
        """What DataTable's ``_render_line`` and ``_render_line_in_row`` make of a one-line
        row when there are no fixed rows, fixed columns or row labels (``Frame.simple``)."""
        cursor, hover, kind = self.cursor_coordinate, self.hover_coordinate, frame.cursor_type
        row_style = frame.row_styles.get((row_index & 1, base_style))
        if row_style is None:
            row_style = frame.row_styles[(row_index & 1, base_style)] = self._get_row_style(row_index, base_style)
        segments: list[Segment] = []
        render_cell = self._render_cell
        simplified = True
        # The row's cells as this line drew them last (kept in the cell cache, so whatever
        # clears that — a theme, CSS — clears them too): a row whose line changed because
        # one cell did takes its other cells from here, checked by their versions, instead
        # of building each one's cache key again (~10 µs a cell; Activity's changed rows
        # are twelve cells of which two or three changed).
        cache: Any = self._cell_render_cache
        memo_key = ("row", row_key)
        context = (row_index, row_style, frame.layout_sig, frame.shows, self._col_epoch, self._born.get(row_key, 0),
                   self._pseudo_class_state)
        memo = cache.get(memo_key)
        if memo is None or memo[0] != context:
            memo = (context, {})
            cache[memo_key] = memo
        drawn: dict[int, tuple[int, bool, bool, OneLine]] = memo[1]
        versions, column_at = self._cell_version, self._column_locations.get_key
        for column_index, width in enumerate(frame.widths):
            if kind == "row":
                on, over = cursor.row == row_index, hover.row == row_index
            elif kind == "cell":
                on = cursor.row == row_index and cursor.column == column_index
                over = hover.row == row_index and hover.column == column_index
            elif kind == "column":
                on, over = cursor.column == column_index, hover.column == column_index
            else:
                on = over = False
            column_key = column_at(column_index)
            version = versions.get((row_key, column_key), 0) if column_key is not None else 0
            was = drawn.get(column_index)
            if was is not None and was[0] == version and was[1] == on and was[2] == over:
                lines: Any = was[3]
            else:
                lines = render_cell(row_index, column_index, row_style, width, on, over)
                if type(lines) is OneLine:
                    drawn[column_index] = (version, on, over, lines)
                else:
                    simplified = False
                    drawn.pop(column_index, None)
            segments.extend(lines[0])
        if kind == "row":
            extend_style, _ = self._get_styles_to_render_cell(
                False, False, False, hover.row == row_index, row_index == cursor.row,
                frame.show_cursor, frame.show_hover, False, False)
            extend_style = row_style + extend_style
        elif row_style.bgcolor is not None:
            faded = Color.from_rich_color(row_style.bgcolor).blend(self.background_colors[1], factor=0.25)
            extend_style = Style.from_color(color=row_style.color, bgcolor=faded.rich_color)
        else:
            extend_style = Style.from_color(row_style.color, row_style.bgcolor)
        extend_style += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        segments.append(Segment(" " * max(0, frame.widget_width - frame.table_width), extend_style))
        width = frame.widget_width
        if x1 == 0 and x2 >= width and simplified:
            # Nothing to crop on the left (the crop would only drop empty segments before the
            # first cell), and each cell is simplified already: cells never merge with each
            # other (each style carries its own row and column meta), so the line is too.
            return Strip(segments).adjust_cell_length(width, base_style)
        return Strip(line_crop(segments, x1, x2, width)).adjust_cell_length(width, base_style).simplify()

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> Any:
        frame = self._frame
        if frame is not None and frame.simple:      # what the frame already read (each a reactive)
            pad, shows = frame.pad, frame.shows
            if column_index < 0 or width <= 2 * pad:
                return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            header = row_index == -1
            row_key = self._header_row_key if header else self._row_locations.get_key(row_index)
            if row_key is None:
                return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        else:
            pad = self.cell_padding
            if column_index < 0 or width <= 2 * pad or self.fixed_rows or self.fixed_columns:
                return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            header = row_index == -1
            row_key = self._header_row_key if header else self._row_locations.get_key(row_index)
            if row_key is None:
                return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            if header:
                if self.header_height != 1:
                    return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            else:
                row = self.rows.get(row_key)
                if row is None or row.height != 1:
                    return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            shows = (self._show_hover_cursor, self.show_cursor)
        column_key = self._column_locations.get_key(column_index)
        key = ("fast", row_key, column_key, row_index, column_index, width, base_style, cursor, hover,
               shows, self._col_epoch, self._born.get(row_key, 0),
               self._cell_version.get((row_key, column_key), 0) if column_key is not None else 0,
               self._pseudo_class_state)
        cache: Any = self._cell_render_cache     # shared, so DataTable's clears (theme, CSS) clear it too
        hit = cache.get(key)
        if hit is not None:
            return hit
        if frame is not None and frame.simple:
            # The one cell, formatted as _get_row_renderables formats a row's cells (which
            # formats every cell of the row again after any update of the table).
            if header:
                cell: Any = self.columns[column_key].label if column_key is not None else None
            else:
                datum = self._data[row_key].get(column_key) if column_key is not None else None
                cell = _EMPTY_TEXT if datum is None else (default_cell_formatter(datum, False, 1) or _EMPTY_TEXT)
        else:
            _, cells = self._get_row_renderables(row_index)
            cell = cells[column_index] if column_index < len(cells) else None
        lines = fast_lines(self, cell, row_index, column_index, base_style, width, cursor, hover, header)
        if lines is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        lines = OneLine([list(Segment.simplify(lines[0]))])
        cache[key] = lines
        return lines
