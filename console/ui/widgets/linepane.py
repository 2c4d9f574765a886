"""A Static for text whose lines change one at a time, repainted line by line.

A detail pane shows a dozen lines of which one changes each refresh (the highlighted
session's ages). ``Static.update`` renders the whole text again and repaints every line of
the widget: on the Activity screen the pane's five visible lines cost as much as the five
changed table rows, every tick. :class:`LinePane` keeps each logical line's strips (keyed
on the line's text, spans, the width and the style) and, when the text changes but its
number of screen lines does not, repaints only the screen lines that differ. What it draws
is what a Static draws for the same text (``tests/ui/test_linepane.py``): each logical line
goes through the same ``Visual.to_strips`` a Static's whole text goes through.

It falls back to the Static's own path (the whole text, every line) while the user selects
text in it (a selection's offsets span the whole text), when the content is not a Rich
``Text``, when the content is aligned other than left/top, and before it has a size."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.content import Content
from textual.visual import Visual, visualize
from textual.widget import _RenderCache
from textual.widgets import Static


def _line_key(line: Text) -> tuple[Any, ...]:
    return (line.plain, tuple(line.spans), str(line.style), line.justify, line.overflow, line.no_wrap, line.end)


def _at_line(strips: list[Strip], y: int) -> list[Strip]:
    """Strips of one logical line rendered alone, with the text-selection offsets a whole
    text gives them: each segment's ``offset`` meta is (column, logical line), and a line
    rendered alone is line 0."""
    if y == 0:
        return strips
    out = []
    for strip in strips:
        segments = []
        for text, style, control in strip:
            meta = style.meta if style is not None else None
            if style is not None and meta and "offset" in meta:
                style = style + Style.from_meta({"offset": (meta["offset"][0], y)})
            segments.append(Segment(text, style, control))
        out.append(Strip(segments, strip.cell_length))
    return out


class LinePane(Static):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._text: Text | None = None
        self._lines: list[Text] = []          # the text's logical lines (split once)
        self._keys: list[tuple[Any, ...]] = []
        self._parts: dict[tuple[Any, ...], list[Strip]] = {}   # the last render's lines, by key+line+width+style
        self._made: tuple[Any, list[Strip]] | None = None       # set_text's render, for the repaint it asks
        self._styles_at: dict[Any, Any] = {}     # the one-line path's segment styles, by (style, x, y)

    def set_text(self, text: Text) -> None:
        """Show ``text``: nothing when no line changed; the changed screen lines only when
        the text still takes as many; else the Static's update (and a layout when the
        number of lines changed)."""
        lines = text.split("\n", allow_blank=True)
        keys = [_line_key(line) for line in lines]
        if self._text is not None and keys == self._keys:     # (a line's key holds the text's style)
            return
        old = self._render_cache
        self._text, self._lines, self._keys = text, list(lines), keys
        # The Static's own content, for everything that reads it (render(), the height,
        # a selection). Name-mangled in Static; pinned with Textual's version.
        self._Static__content = text
        self._Static__visual = None   # made again when read
        size = self.size
        if not self._lean():
            self._parts.clear()
            self.refresh(layout=True)
            return
        strips = self._strips()
        if old.size != size or len(old.lines) != len(strips) or len(strips) != size.height:
            self.refresh(layout=True)        # another number of lines: the pane's height changes
            return
        changed = [y for y, (a, b) in enumerate(zip(old.lines, strips)) if a != b]
        self._render_cache = _RenderCache(size, strips)
        self._made = ((size, self.visual_style, self._keys), strips)
        if changed:
            self.refresh(*[Region(0, y, size.width, 1) for y in changed])

    def _lean(self) -> bool:
        return (self._text is not None and self.is_mounted and self.size.width > 0
                and self.text_selection is None and self.styles.content_align == ("left", "top"))

    def _strips(self) -> list[Strip]:
        """The text's strips, logical line by logical line, reusing the last render's."""
        assert self._text is not None
        width = self.size.width
        style = self.visual_style
        parts: dict[tuple[Any, ...], list[Strip]] = {}
        out: list[Strip] = []
        plain_rules = self._plain_rules()
        for y, (line, key) in enumerate(zip(self._lines, self._keys)):
            k = (key, y, width, style)
            got = parts.get(k) or self._parts.get(k)
            if got is None and plain_rules:
                got = self._one_line(line, y, width, style)
            if got is None:
                got = _at_line(Visual.to_strips(self, visualize(self, line, markup=False), width, None, style), y)
            parts[k] = got
            out.extend(got)
        self._parts = parts
        return out

    def _plain_rules(self) -> bool:
        """The widget's text rules are the defaults the one-line path assumes."""
        rule = self.styles.get_rule
        return (rule("text_align", "left") in ("left", "start") and rule("text_wrap", "wrap") == "wrap"
                and rule("text_overflow", "fold") == "fold" and not rule("line_pad", 0))

    def _one_line(self, line: Text, y: int, width: int, style: Any) -> list[Strip] | None:
        """What ``Visual.to_strips`` makes of a logical line that fits the width (so nothing
        wraps, folds or is cut) and has no tab, without its wrapping and formatting
        machinery: the line's segments, each with its selection offset — as Textual's
        ``_FormattedLine.to_strip`` makes them — and the widget's link style. None for any
        other line (the whole path). ``tests/ui/test_linepane.py`` holds the two equal."""
        if "\t" in line.plain or width <= 0:
            return None
        content = visualize(self, line, markup=False)
        if type(content) is not Content or content.cell_length > width:
            return None
        memo = self._styles_at
        if memo.get(None) is not style or len(memo) > 4096:
            memo.clear()
            memo[None] = style          # (the base style the memo's entries were made on)
        segments = []
        x = 0
        for text, text_style in content.render(style, end="", parse_style=self._get_style):
            at = (text_style, x, y)     # a label drawn where it was last time: its style again
            rich = memo.get(at)
            if rich is None:
                rich = memo[at] = (style + text_style).rich_style_with_offset(x, y)
            segments.append(Segment(text, rich))
            x += len(text)
        strip = Strip(segments, content.cell_length)
        if self.auto_links and not self.is_container and not self.screen._selecting:
            strip = strip._apply_link_style(self.link_style)
        return [strip]

    def _render_content(self) -> None:
        if not self._lean():
            self._parts.clear()
            super()._render_content()
            return
        size = self.size
        made, self._made = self._made, None
        strips = made[1] if made is not None and made[0] == (size, self.visual_style, self._keys) else self._strips()
        self._render_cache = _RenderCache(size, strips[:size.height] if size.height else strips)
        self._dirty_regions.clear()
