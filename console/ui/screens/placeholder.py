"""Screens whose issue has not landed yet say so plainly, nothing more."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class NotBuiltScreen(Screen):
    def __init__(self, title: str, what: str, *, id: str) -> None:
        super().__init__(id=id)
        self.screen_title = title
        self.what = what

    def compose(self) -> ComposeResult:
        yield Header()
        with Middle():
            with Center():
                yield Static(f"[b]{self.screen_title}[/b]\n\nnot built yet\n\n[dim]{self.what}[/dim]",
                             classes="not-built")
        yield Footer()
