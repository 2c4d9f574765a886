"""The confirmation every mutating action goes through: a preview of exactly what will run
(a plan's text, a diff, a key), and an explicit yes. Destructive actions ask the person to
type the object's name."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ...core import text


def typable(name: str) -> str:
    """``text.visible(name)`` with the control pictures it uses for C0 controls and DEL
    (``␛``, ``␇``, ``␡``: no key types them) written as ``\\xNN``; bidi and zero-width
    characters are already ``<U+202E>``."""
    return "".join(f"\\x{ord(ch) - 0x2400:02x}" if 0x2400 <= ord(ch) <= 0x241F
                   else "\\x7f" if ch == "\u2421" else ch for ch in text.visible(name))


class ConfirmModal(ModalScreen[bool]):
    """``push_screen(ConfirmModal(...), callback)``; the callback gets True only on an
    explicit confirmation. ``preview_sql=True`` highlights the preview as SQL."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm.cancel")]

    DEFAULT_CSS = """
    ConfirmModal { align: center middle; }
    #confirm-box { width: 110; max-width: 100%; height: auto; max-height: 100%;
                   border: thick $warning; background: $panel; padding: 1 2; }
    #confirm-title { text-style: bold; margin-bottom: 1; width: 100%; }
    #confirm-preview { height: auto; max-height: 18; border: round $primary-darken-2; }
    #confirm-buttons { height: 3; margin-top: 1; align-horizontal: right; }
    #confirm-buttons Button { margin-left: 2; }
    #confirm-typed { margin-top: 1; }
    .refused { color: $error; text-style: bold; }
    """

    def __init__(self, title: str, preview: str, *, confirm_label: str = "Run",
                 preview_sql: bool = False, type_to_confirm: str | None = None,
                 refused: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.preview = preview
        self.confirm_label = confirm_label
        self.preview_sql = preview_sql
        # What the person must type is what the dialog shows: a name with hidden characters
        # (a table or key with an escape sequence) is shown, and typed, in a visible form
        # made of keys a keyboard has.
        self.type_to_confirm = None if type_to_confirm is None else typable(type_to_confirm)
        self.refused = refused

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            # Titles, names and reasons carry data (Redis keys, table names, server errors):
            # rendered as plain Text, never parsed as markup, so "session:[u1]" stays itself.
            yield Label(text.plain(self.title_text, newlines=True), id="confirm-title")
            shown = text.visible(self.preview, newlines=True)
            body = (Syntax(shown, "sql", word_wrap=True, theme="ansi_dark")
                    if self.preview_sql else Text(shown))
            with VerticalScroll(id="confirm-preview"):
                yield Static(body)
            if self.refused:
                yield Static(text.plain(self.refused, newlines=True), classes="refused")
            elif self.type_to_confirm:
                yield Label(Text.assemble("Destructive. Type ", text.plain(self.type_to_confirm, "bold"),
                                          " to confirm:"))
                yield Input(placeholder=self.type_to_confirm, id="confirm-typed")  # typable() above
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel")
                if not self.refused:
                    yield Button(self.confirm_label, id="confirm", variant="warning",
                                 disabled=bool(self.type_to_confirm))

    def on_resize(self) -> None:
        """The preview gives way so the buttons stay on screen down to 80x24."""
        extra = 11 + (5 if self.type_to_confirm and not self.refused else 0) + (2 if self.refused else 0)
        self.query_one("#confirm-preview").styles.max_height = max(3, min(18, self.size.height - extra))

    def on_mount(self) -> None:
        """Start where the person acts: in the name field for a destructive action, else on
        Cancel, so a stray Enter never confirms."""
        if self.type_to_confirm and not self.refused:
            self.query_one("#confirm-typed", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    @on(Input.Submitted, "#confirm-typed")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value == self.type_to_confirm:
            self.query_one("#confirm", Button).focus()

    @on(Input.Changed, "#confirm-typed")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value != self.type_to_confirm

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self.type_to_confirm and self.query_one("#confirm-typed", Input).value != self.type_to_confirm:
            return
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
