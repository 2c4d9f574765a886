"""Ask for a new TTL (seconds) before the expire preview; dismisses with the number or None."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...core import text


class TtlPrompt(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sessions-ttl.cancel", tooltip="Do not change the TTL")]

    DEFAULT_CSS = """
    TtlPrompt { align: center middle; }
    #ttl-box { width: 70; height: auto; border: thick $warning; background: $panel; padding: 1 2; }
    #ttl-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    #ttl-buttons Button { margin-left: 2; }
    #ttl-error { color: $error; height: auto; }
    """

    def __init__(self, key: str, current: str, default: int = 60) -> None:
        super().__init__()
        self.key = key
        self.current = current
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="ttl-box"):
            yield Label(Text.assemble("New TTL for ", text.plain(self.key, "bold"), " (now: ",
                                      text.plain(self.current), ")"))
            yield Input(str(self.default), id="ttl-seconds", type="integer", placeholder="seconds")
            yield Static("", id="ttl-error")
            with Horizontal(id="ttl-buttons"):
                yield Button("Cancel", id="ttl-cancel")
                yield Button("Preview", id="ttl-ok", variant="warning")

    @on(Input.Submitted, "#ttl-seconds")
    @on(Button.Pressed, "#ttl-ok")
    def _ok(self) -> None:
        text = self.query_one("#ttl-seconds", Input).value.strip()
        try:
            seconds = int(text)
        except ValueError:
            seconds = 0
        if seconds <= 0:
            self.query_one("#ttl-error", Static).update("a whole number of seconds, at least 1")
            return
        self.dismiss(seconds)

    @on(Button.Pressed, "#ttl-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
