"""Ask for a rejection reason; dismisses with the text or None."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...core import text


class ReasonPrompt(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="diffs-reason.cancel", tooltip="Do not reject")]

    DEFAULT_CSS = """
    ReasonPrompt { align: center middle; }
    #reason-box { width: 90; max-width: 95%; height: auto; border: thick $warning; background: $panel; padding: 1 2; }
    #reason-buttons { height: auto; margin-top: 1; align-horizontal: right; }
    #reason-buttons Button { margin-left: 2; }
    #reason-error { color: $error; height: auto; }
    """

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Label(Text.assemble("Reject ", text.plain(self.what),
                                      ": why? (recorded on the diff and in the audit log)"))
            yield Input(id="reason-text", placeholder="reason", max_length=1000)
            yield Static("", id="reason-error")
            with Horizontal(id="reason-buttons"):
                yield Button("Cancel", id="reason-cancel")
                yield Button("Reject", id="reason-ok", variant="error")

    @on(Input.Submitted, "#reason-text")
    @on(Button.Pressed, "#reason-ok")
    def _ok(self) -> None:
        text = self.query_one("#reason-text", Input).value.strip()
        if not text:
            self.query_one("#reason-error", Static).update("a reason is required")
            return
        self.dismiss(text)

    @on(Button.Pressed, "#reason-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
