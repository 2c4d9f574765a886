"""One cell of a one-line table row drawn as DataTable draws it, and what every line of a
table's frame shares, read once — the drawing half of :class:`~.table_render.FastCells`
(which keeps the table's versions and caches and decides when these apply)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from .table_render import FastCells

_FAST_JUSTIFY = (None, "default", "left", "right", "center")


class OneLine(list[list[Segment]]):
    """A cell's one line of segments, simplified (adjacent segments never share a style)."""


class Frame:
    """What every line of one frame of a table shares, read once."""

    __slots__ = ("widths", "cursor_type", "show_cursor", "show_hover", "shows", "pad", "widget_width",
                 "table_width", "simple", "row_styles", "header_lines", "rich_style", "scroll",
                 "layout_sig", "styles", "backgrounds")

    def __init__(self, table: "FastCells") -> None:
        self.widths = [column.get_render_width(table) for column in table.ordered_columns]
        self.cursor_type = table.cursor_type
        self.show_cursor = table.show_cursor
        self.show_hover = table._show_hover_cursor
        self.shows = (self.show_hover, self.show_cursor)
        self.pad = table.cell_padding
        self.widget_width = table.size.width
        self.table_width = sum(self.widths) + table._row_label_column_width
        self.row_styles: dict[tuple[int, Style], Style] = {}
        self.header_lines = table.header_height if table.show_header else 0    # no fixed rows (simple)
        self.rich_style: Style | None = None      # read by the first line drawn
        self.scroll: Any = None
        self.styles: dict[tuple[str, ...], Any] = {}     # component styles asked for
        self.backgrounds: Any = None
        # What a cached line's look depends on besides its row (part of its cache key).
        self.layout_sig = (tuple(self.widths), table._row_label_column_width, table.show_header,
                           table.header_height, table.fixed_rows, table.fixed_columns, table.show_row_labels,
                           self.cursor_type, self.show_cursor, self.show_hover)
        self.simple = (not table.fixed_columns and not table.fixed_rows and table.header_height == 1
                       and not (table._labelled_row_exists and table.show_row_labels)
                       and table._total_row_height == table.row_count)


class FrameStyles:
    """A component's styles with its rich style read once (for one frame)."""

    __slots__ = ("_styles", "rich_style")

    def __init__(self, styles: Any) -> None:
        self._styles = styles
        self.rich_style = styles.rich_style

    def __getattr__(self, name: str) -> Any:
        return getattr(self._styles, name)


def fast_lines(table: "FastCells", cell: Any, row_index: int, column_index: int, base_style: Style,
                width: int, cursor: bool, hover: bool, header: bool) -> list[list[Segment]] | None:
    """One cell as DataTable would render it, or None when this path does not apply."""
    if not isinstance(cell, Text) or cell.justify not in _FAST_JUSTIFY:
        return None
    plain = cell.plain
    if "\n" in plain or "\t" in plain or "\r" in plain:
        return None
    component_style, post_style = table._get_styles_to_render_cell(
        header, False, False, hover, cursor, table.show_cursor, table._show_hover_cursor,
        table.cursor_foreground_priority == "css", table.cursor_background_priority == "css")
    pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
    pad = table.cell_padding
    inner = width - 2 * pad
    console = table.app.console
    if not cell.spans and cell_len(plain) <= inner:
        # What the steps below make of a text without spans that fits, without copying it.
        justify = cell.justify
        if justify == "left":
            body = plain + " " * (inner - cell_len(plain))
        elif justify in ("right", "center"):
            body = plain.rstrip()
            room = inner - cell_len(body)
            body = " " * room + body if justify == "right" else " " * (room // 2) + body + " " * (room - room // 2)
        else:
            body = plain
        text = [Segment(body, console.get_style(cell.style, default=Style.null()))] if body else []
        return _padded(text, cell_len(body), inner, pad, pre, post_style, width)
    line = cell.copy()
    line.end = ""
    overflow = cell.overflow or "fold"
    justify = cell.justify              # as rich's Lines.justify: padding takes the text's own style
    if justify == "left":
        line.truncate(inner, overflow=overflow, pad=True)
    elif justify in ("right", "center"):
        line.rstrip()
        line.truncate(inner, overflow=overflow)
        if justify == "right":
            line.pad_left(inner - line.cell_len)
        else:
            line.pad_left((inner - line.cell_len) // 2)
            line.pad_right(inner - line.cell_len)
    line.truncate(inner, overflow=overflow)
    if line.spans:
        text = list(line.render(console, end=""))
    elif line.plain:    # Text.render drops the base style of a text without spans
        text = [Segment(line.plain, console.get_style(line.style, default=Style.null()))]
    else:
        text = []
    return _padded(text, line.cell_len, inner, pad, pre, post_style, width)


def _padded(text: list[Segment], used: int, inner: int, pad: int, pre: Style, post_style: Style,
            width: int) -> list[list[Segment]]:
    """A cell's line: the padding, its text (``used`` cells of ``inner``), spaces to fill,
    the padding, styled as DataTable styles a cell."""
    segments = [Segment(" " * pad, Style.null())] if pad else []
    segments.extend(text)
    if inner - used > 0:
        segments.append(Segment(" " * (inner - used), Style.null()))
    if pad:
        segments.append(Segment(" " * pad, Style.null()))
    styled = list(Segment.apply_style(segments, style=pre, post_style=post_style))
    return [Segment.adjust_line_length(styled, width)]
