"""The footer of every screen: the screen's keys from the left (cut when the terminal is
narrow), and ``? Help`` and ``q Quit`` pinned on the right so they are never cut."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PINNED = ("help", "quit")


class ConsoleFooter(Footer):
    DEFAULT_CSS = """
    ConsoleFooter .-pinned { dock: right; width: auto; height: 1; background: $footer-background; }
    """

    def __init__(self) -> None:
        super().__init__(show_command_palette=False, compact=True)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        pinned = []
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.action in PINNED:
                pinned.append(widget)
                continue
            yield widget
        order = {a: i for i, a in enumerate(PINNED)}
        if pinned:
            yield Horizontal(*sorted(pinned, key=lambda w: order[w.action]), classes="-pinned")
