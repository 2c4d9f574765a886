"""The footer of every screen: the screen's keys from the left, and ``? Help`` and ``q Quit``
pinned on the right so they are never cut.

When the terminal is too narrow for every key, whole keys are left out from the end (never a
key cut in the middle of its word) and ``…`` says that more are listed in ``? Help``. The
screen's key order is its priority order: mutations and the main actions come first."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Label
from textual.widgets._footer import FooterKey

PINNED = ("help", "quit")
MORE = "…"


def key_width(key: FooterKey) -> int:
    """Cells a compact footer key takes: key, space, description, and its right margin."""
    text = key.key_display + (" " + key.description if key.description else "")
    return cell_len(text) + 1


def fitting(widths: list[int], room: int, more: int) -> int:
    """How many of the keys (in order) fit in ``room`` cells; when not all of them fit, room
    for the ``more`` marker is kept too."""
    if sum(widths) <= room:
        return len(widths)
    used = n = 0
    for w in widths:
        if used + w > room - more:
            break
        used += w
        n += 1
    return n


class ConsoleFooter(Footer):
    DEFAULT_CSS = """
    ConsoleFooter .-pinned { dock: right; width: auto; height: 1; background: $footer-background; }
    ConsoleFooter .-more { width: auto; height: 1; display: none; color: $footer-key-foreground; }
    """

    def __init__(self) -> None:
        super().__init__(show_command_palette=False, compact=True)
        self._composed_for: tuple[Any, ...] | None = None

    def _keys_shown(self) -> tuple[Any, ...]:
        """Everything the keys are built from (what Footer.compose reads: the shown
        bindings, their order, state and display)."""
        return tuple((b.key, b.action, b.description, b.group, enabled, tooltip,
                      self.app.get_key_display(b))
                     for (_, b, enabled, tooltip) in self.screen.active_bindings.values() if b.show)

    def bindings_changed(self, screen: Screen) -> None:
        # Textual recomposes the footer (a new widget per key, each styled) whenever the
        # screen's bindings may have changed — every switch back to a screen, every focus
        # move — ~30 ms each time; the same keys are kept as they are.
        if (self._bindings_ready and self.is_attached and screen is self.screen
                and self._composed_for == self._keys_shown()):
            return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._composed_for = self._keys_shown()
        pinned = []
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # born compact: the bound ``compact`` then finds the class set instead of
                # restyling each key as it mounts (~1.3 ms a key, every footer rebuild)
                widget.set_class(self.compact, "-compact", update=False)
            if isinstance(widget, FooterKey) and widget.action in PINNED:
                pinned.append(widget)
                continue
            yield widget
        yield Label(MORE, classes="-more")
        order = {a: i for i, a in enumerate(PINNED)}
        if pinned:
            yield Horizontal(*sorted(pinned, key=lambda w: order[w.action]), classes="-pinned")
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Show the keys that fit whole; hide the rest and show the marker."""
        keys = [w for w in self.children if isinstance(w, FooterKey)]
        pinned = sum(key_width(w) for w in self.query(".-pinned FooterKey").results(FooterKey))
        room = self.size.width - pinned
        if not keys or room <= 0:
            return
        shown = fitting([key_width(k) for k in keys], room, cell_len(MORE) + 1)
        for i, k in enumerate(keys):
            k.display = i < shown
        for m in self.query(".-more"):
            m.display = shown < len(keys)
