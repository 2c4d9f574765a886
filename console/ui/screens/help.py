"""The help screen: every key of the app and of the screen underneath, from the bindings
themselves (so it cannot drift from what the keys do)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    def __init__(self, screen_name: str, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__(id="help")
        self.screen_name = screen_name
        self.bindings_list = bindings

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("Key", style="bold cyan", no_wrap=True, max_width=16)
        table.add_column("Action", ratio=1)
        table.add_column("Where", style="dim", no_wrap=True, max_width=12)
        for key, desc, where in self.bindings_list:
            table.add_row(Text(key), Text(desc), Text(where))
        intro = Text.assemble("Keys on ", (self.screen_name, "bold"),
                              ". Ctrl+P opens the command palette; every screen is there too.\n")
        with VerticalScroll(id="help-body"):
            yield Static(intro)
            yield Static(table)
            yield Static(Text("\nEsc closes this help.", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
