"""Which environment the console is pointed at, who it acts as, and switching contexts.

- :func:`header_content`: the header line — context (bold red, with PRODUCTION, when the
  context is a production one), READ-ONLY, and who you act as (the identity's label, which
  says "declared, not verified" for a declared name). Plain Content: names are data.
- :class:`ContextPicker`: the contexts of the configuration file (``[contexts.<name>]``),
  the current one marked, production ones marked "starts read-only".
- :func:`reload_settings`: the configuration loaded again with another context
  (:func:`console.config.load`). A production context switched to starts read-only (no
  write access is carried over); read-only is never lifted by a switch: a session that is
  read-only stays read-only (restart to write).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from .. import config
from ..config import Settings
from ..core import identity, text
from ..core.text import error_text
from .screens.placeholder import NotBuiltScreen


def principal_for(settings: Settings) -> identity.Principal:
    """Who the header says you act as (may call STS: run it in a worker)."""
    if settings.zengin is not None:
        return identity.for_cli(settings, "aws")
    return identity.for_cli(settings, "postgres")


def header_content(settings: Settings, who: identity.Principal | None, who_error: str | None = None) -> Content:
    parts: list[Content | tuple[str, str]] = [Content("console"), (" — ", "dim")]
    where = settings.context or settings.environment
    if settings.production:
        parts += [(f"{text.visible(where)} PRODUCTION", "bold white on red")]
    else:
        parts += [(f"{'context' if settings.context else 'env'} ", "dim"), (text.visible(where), "bold")]
    if settings.read_only:
        parts += [(" · ", "dim"), ("READ-ONLY", "bold red" if not settings.production else "bold yellow")]
    parts += [(" · as ", "dim")]
    if who is not None and who.source == identity.UNRESOLVED:
        parts += [("PostgreSQL session_user (verified when you act)", "dim")]
    elif who is not None:
        parts += [(text.cut(who.label(), 70), "yellow" if not who.verified else "")]
    elif who_error:
        parts += [("unknown: " + text.cut(who_error, 50), "red")]
    else:
        parts += [("…", "dim")]
    return Content.assemble(*parts)


def reload_settings(old: Settings, name: str) -> Settings:
    """``old``'s configuration file loaded with context ``name``. Read-only only tightens:
    it carries over; a production context is read-only (write access is never carried)."""
    new = config.load(old.source, context=name, read_only=True if old.read_only else None,
                      refresh_interval=old.refresh_interval_s)
    if new.production and not new.read_only:      # load() already does this; never rely on one place
        new = dataclasses.replace(new, read_only=True)
    return new


class ContextPicker(ModalScreen[str | None]):
    """``push_screen(ContextPicker(settings), callback)``: the callback gets the chosen
    context's name, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="context.cancel")]
    DEFAULT_CSS = """
    ContextPicker { align: center middle; }
    #context-box { width: 70; max-width: 100%; height: auto; max-height: 100%; border: thick $primary;
                   background: $panel; padding: 1 2; }
    #context-title { width: 100%; height: auto; margin-bottom: 1; }
    #context-list { height: auto; max-height: 16; }
    """

    def __init__(self, settings: Settings, production: dict[str, bool] | None = None) -> None:
        super().__init__(id="context-picker")
        self.settings = settings
        self.production = production or {}

    def compose(self) -> ComposeResult:
        s = self.settings
        with Vertical(id="context-box"):
            yield Static(Content.assemble(("Switch context", "bold"), (" — the configuration is loaded again; "
                                                                       "a production context starts read-only",
                                                                       "dim")), id="context-title")
            opts = []
            for name in s.contexts:
                label = Content.assemble((text.visible(name), "bold"),
                                         ("  (current)" if name == s.context else "", "dim"),
                                         ("  production: starts read-only" if self.production.get(name) else "",
                                          "red"))
                opts.append(Option(label, id=name))
            yield OptionList(*opts, id="context-list")

    def on_mount(self) -> None:
        ol = self.query_one("#context-list", OptionList)
        ol.focus()
        if self.settings.context in self.settings.contexts:
            ol.highlighted = list(self.settings.contexts).index(self.settings.context)

    @on(OptionList.OptionSelected, "#context-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


def production_contexts(settings: Settings) -> dict[str, bool]:
    """Which contexts of the file are production ones (read from the file; no backend)."""
    out: dict[str, bool] = {}
    if settings.source is None:
        return out
    try:
        import tomllib
        data = tomllib.loads(settings.source.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return out
    ctxs = data.get("contexts")
    if isinstance(ctxs, dict):
        for name, body in ctxs.items():
            out[name] = bool(isinstance(body, dict) and body.get("production") is True)
    return out


class ContextSwitching:
    """Mixed into :class:`console.ui.app.ConsoleApp`: the header (context, read-only, who
    you act as) and ``ctrl+k`` / the palette's "Switch context"."""

    services: Any
    initial_mode: str
    principal: identity.Principal | None
    principal_error: str | None
    MODES: ClassVar[dict[str, Any]]
    sub_title: Any
    current_mode: str
    set_class: Any
    notify: Any
    call_from_thread: Any
    run_worker: Any
    push_screen: Any
    add_mode: Any
    remove_mode: Any
    switch_mode: Any
    workers: Any


    def _set_header(self) -> None:
        s = self.services.settings
        flags = [f"{'context' if s.context else 'env'} {s.context or s.environment}"]
        if s.production:
            flags.append("PRODUCTION")
        if s.read_only:
            flags.append("READ-ONLY")
        flags.append(f"as {self.principal.label() if self.principal else '…'}")   # the plain form (tests, logs)
        self.sub_title = text.visible(" · ".join(flags))      # plain; format_title styles it
        self.set_class(s.production, "-production")

    def format_title(self, title: str, sub_title: str) -> Content:
        return header_content(self.services.settings, self.principal, self.principal_error)

    @work(thread=True, exit_on_error=False, group="app-identity", exclusive=True)
    def _resolve_principal(self) -> None:
        """The AWS caller identity is an STS call: never on the UI thread."""
        try:
            who, err = principal_for(self.services.settings), None
        except Exception as exc:  # shown in the header
            who, err = None, error_text(exc)
        self.call_from_thread(self._got_principal, who, err)

    def _got_principal(self, who: identity.Principal | None, err: str | None) -> None:
        self.principal, self.principal_error = who, err
        self._set_header()

    def action_switch_context(self) -> None:
        s = self.services.settings
        if not s.contexts:
            self.notify("the configuration file defines no [contexts.<name>]", title="Context", severity="warning")
            return

        def chosen(name: str | None) -> None:
            if name and name != s.context:
                self._load_context(name)
        self.push_screen(ContextPicker(s, production_contexts(s)), chosen)

    @work(thread=True, exit_on_error=False, group="app-context", exclusive=True)
    def _load_context(self, name: str) -> None:
        try:
            new = type(self.services).from_settings(reload_settings(self.services.settings, name))
        except Exception as exc:  # the current context stays
            self.call_from_thread(self.notify, error_text(exc), title=f"Context {name} not loaded", severity="error")
            return
        self.call_from_thread(self._install_soon, new)

    def _install_soon(self, new: Any) -> None:
        self.run_worker(self._install(new), exclusive=True, group="app-context-install")

    async def _install(self, new: Any) -> None:
        """Every screen rebuilt on the new services (screens read ``app.services``)."""
        old, current = self.services, self.current_mode
        self.workers.cancel_group(self, "app-build-ahead")     # screens built from here on use the new services
        self.add_mode("switching", lambda: NotBuiltScreen("Switching context", "loading the configuration again", id="switching"))
        await self.switch_mode("switching")
        self.services = new
        for mode in self.MODES:
            await self.remove_mode(mode)
            self.add_mode(mode, self.MODES[mode])
        await self.switch_mode(current if current in self.MODES else self.initial_mode)
        await self.remove_mode("switching")
        self.principal, self.principal_error = None, None
        self._set_header()
        self._resolve_principal()
        s = new.settings
        self.notify(f"context {s.context}" + (": production, read-only" if s.production else "")
                    + (" (read-only)" if s.read_only and not s.production else ""), title="Context switched",
                    severity="warning" if s.production else "information")
        self.run_worker(old.close, thread=True, exit_on_error=False, group="app-context-close")
        build_ahead = getattr(self, "_build_ahead", None)
        if build_ahead is not None:
            build_ahead()            # the other screens again, on the new services
