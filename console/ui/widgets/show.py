"""Put text into a Static at the least cost: nothing when it did not change, and no new
layout of the screen when the widget's height is fixed (a one-line status cannot grow).

A Static's ``update`` repaints and lays out the whole screen by default; a live screen
updates its status lines every tick and its age once a second, so doing that for unchanged
text, or for a line that cannot change size, was a large part of what an open screen cost.
A pane whose height follows its text (``height: auto``, e.g. a detail pane whose ages change
every tick) is laid out again only when the new text takes a different number of lines."""

from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual.widgets import Static

_SHOWN = "_console_shown"


def _key(t: Text) -> tuple[Any, ...]:
    return (t.plain, tuple(t.spans), str(t.style), t.justify, t.overflow, t.no_wrap)


def show(widget: Static, content: Text) -> bool:
    """Show ``content`` in ``widget``; False when it was already shown (nothing done)."""
    key = _key(content)
    if getattr(widget, _SHOWN, None) == key:
        return False
    setattr(widget, _SHOWN, key)
    widget.update(content, layout=False)
    if _resizes(widget):
        widget.refresh(layout=True)
    return True


def show_made(widget: Static, key: Any, make: Callable[[], Any]) -> bool:
    """Show ``make()`` in ``widget`` unless the ``key`` it was made from is the one shown:
    for content that is costly to build or draw and cannot be compared itself (a Rich
    table: each update measured and drew all of it again, unchanged figures included).
    ``key`` must hold everything the content shows. The widget's height is its container's
    (the caller's to know): no new layout."""
    if getattr(widget, _SHOWN, None) == ("made", key):     # (a show() key is never a ("made", …) pair)
        return False
    setattr(widget, _SHOWN, ("made", key))
    widget.update(make(), layout=False)
    return True


def _resizes(widget: Static) -> bool:
    """Whether the widget's new content changes its size (so the screen must lay out)."""
    styles = widget.styles
    h, w = styles.height, styles.width
    if w is not None and w.is_auto:
        return True                  # its width follows its text
    if h is None or not h.is_auto:
        return False                 # cells, fr, %: the content does not size it
    size = widget.content_size
    if size.width <= 0:
        return True                  # not laid out yet
    try:
        return widget._render().get_height(styles, size.width) != size.height  # type: ignore[arg-type]
    except Exception:                # noqa: BLE001 - a Textual internal changed: lay out, as update would
        return True
