"""Put text into a Static at the least cost: nothing when it did not change, and no new
layout of the screen when the widget's height is fixed (a one-line status cannot grow).

A Static's ``update`` repaints and lays out the whole screen by default; a live screen
updates its status lines every tick and its age once a second, so doing that for unchanged
text, or for a line that cannot change size, was a large part of what an open screen cost."""

from __future__ import annotations

from typing import Any

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
    h = widget.styles.height
    widget.update(content, layout=not (h is not None and h.is_cells))
    return True
