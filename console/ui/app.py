"""The Textual application: one mode per screen, global keys, the command palette, the
header that says which context (red when production), whether the console is read-only and
who you act as, and the context switcher (ctrl+k, palette; console.ui.context)."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import time
from typing import Any, Callable, Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.markup import escape as escape_markup
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from ..core import collector, identity, text
from ..core.text import error_text, visible
from . import context, keymap
from .screens.placeholder import NotBuiltScreen
from .services import Services
from .typeahead import TypeAhead

log = logging.getLogger("console.ui")

PREFETCH_AFTER_S = 1.0     # the other screens' modules are imported this long after launch,
PREFETCH_WAIT_MAX_S = 20.0  # once the screen shown is quiet (or after this long at the latest)
BUILD_AHEAD = True         # then the screens not visited yet are built ahead (hidden), one at a time
BUILD_AHEAD_GAP_S = 0.3    # with this pause before each, and before each one's first layout
BUILD_AHEAD_IGNORES = frozenset({"app-build-ahead", "sessions-tail"})   # workers that never end

# (mode, key, title, what it will do) — the order is the order of the keys.
SCREENS: list[tuple[str, str, str, str]] = [
    ("overview", "1", "Overview", "every backend: reachability, latency, version"),
    ("schema", "2", "Schema", "expected (sql/) vs live catalog, drift and fixes"),
    ("partitions", "3", "Partitions", "coverage, gaps, retention, default-partition rows"),
    ("metrics", "4", "Metrics", "pg_stat activity, analytics views, InfluxDB series"),
    ("sessions", "5", "Sessions", "Redis sessions, connections, caches, channel tail"),
    ("diffs", "6", "Diffs", "zengin diff review queue: approve, reject, execute"),
    ("activity", "7", "Activity", "PostgreSQL sessions, blocking chains, cancel/terminate, statements"),
]


def _screen_factory(mode: str, title: str, what: str):
    """A screen's module ``console.ui.screens.<mode>`` defines ``SCREEN``; until its issue
    lands the screen says plainly that it is not built yet."""
    try:
        module = importlib.import_module(f"{__package__}.screens.{mode}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.screens.{mode}":
            raise
        return lambda: NotBuiltScreen(title, what, id=mode)
    return module.SCREEN


def _lazy_screen(mode: str, title: str, what: str) -> Callable[[], Screen]:
    """The mode's screen, its module imported on the first switch to it: launch imports
    only what the first screen needs (each screen pulls its own core services, charts,
    SQL), so the Overview draws sooner and the others cost nothing until opened."""
    def build() -> Screen:
        screen = _screen_factory(mode, title, what)()
        _styled_now(screen)
        return screen
    build.__qualname__ = f"screen:{mode}"
    return build


def _styled_now(screen: Screen) -> None:
    """Textual (8.2, pinned) re-parses every CSS source and restyles the whole app when it
    switches to a screen whose CSS generation is behind the app's: a new screen always is,
    and stays so until a later switch finds it mounted — 100-400 ms on each of the first two
    visits. A screen built now has nothing stale (it is styled as it mounts, from the
    stylesheet as it is; its widgets' CSS is added incrementally), so it starts at the
    app's generation; a theme change still bumps the app's and restyles it on its next switch."""
    from textual._context import active_app
    try:
        app = active_app.get()
    except LookupError:
        return
    if hasattr(app, "_css_update_count") and hasattr(screen, "_css_update_count"):
        screen._css_update_count = app._css_update_count


def _palette_text(value: str) -> str:
    """The palette parses help as Textual markup (where even ``[A]`` is a tag, which no
    escape function handles): keys are written without brackets, the rest escaped."""
    return escape_markup(text.visible(value))


class ConsoleApp(context.ContextSwitching, TypeAhead, App):
    CSS_PATH = "console.tcss"
    TITLE = "console"
    ENABLE_COMMAND_PALETTE = True

    MODES = {mode: _lazy_screen(mode, title, what) for mode, _, title, what in SCREENS}

    BINDINGS = [
        *[Binding(key, f"switch_mode('{mode}')", title, id=f"screen.{mode}", show=False,
                  tooltip=f"Show the {title} screen: {what}")
          for mode, key, title, what in SCREENS],
        *keymap.bindings("help", "quit", "context", "record", hide=("record",)),
    ]
    recorder = None          # console.ui.recorder.UiRecorder while recording (ctrl+s)

    def __init__(self, services: Services, *, initial_mode: str = "overview") -> None:
        super().__init__()
        self.services = services
        self.initial_mode = initial_mode
        self._prefetch_from = 0.0
        self.prefetched = False        # the other screens' modules imported (benchmarks wait for it)
        self.principal: identity.Principal | None = None
        self.principal_error: str | None = None
        self._set_header()

    def get_driver_class(self) -> Any:
        """Textual's driver for this terminal; on Linux and macOS one whose input thread
        sleeps until there is input (``console.ui.driver``)."""
        driver = super().get_driver_class()
        if (driver.__module__, driver.__qualname__) == ("textual.drivers.linux_driver", "LinuxDriver"):
            from .driver import QuietLinuxDriver      # (imports termios: not on Windows)
            return QuietLinuxDriver
        return driver

    def on_mount(self) -> None:
        # Until the first frame, the cycle collector stays off: what was imported (Textual,
        # the console: ~140,000 objects) and the first screen's widgets (~70,000 more) live
        # as long as the app, and each full pass over them while the screen was built took
        # 35-75 ms of every thread (a Sessions scan starts at mount). Frozen now and after the
        # first frame (see _prefetch_screens); the collector is back on after that frame.
        self._collector_was_on = gc.isenabled()
        gc.freeze()
        gc.disable()
        mapping, problems = keymap.user_keymap(self.services.settings.keymap)
        if mapping:
            self.set_keymap(mapping)
        for p in problems:
            self.notify(p, severity="warning", timeout=12)
        self.switch_mode(self.initial_mode)
        self.call_after_refresh(self._resolve_principal)    # after the first frame (STS, driver imports)
        self.call_after_refresh(self._first_frame_drawn)
        self._prefetch_from = time.monotonic() + PREFETCH_AFTER_S
        self.set_timer(PREFETCH_AFTER_S, self._prefetch_when_quiet)
        for notice in self.services.notices:
            self.notify(notice, severity="warning", timeout=12)

    def _first_frame_drawn(self) -> None:
        gc.freeze()
        if self._collector_was_on:
            gc.enable()

    def _prefetch_when_quiet(self) -> None:
        """Start the background imports once the screen shown has nothing in flight: an
        import holds the interpreter lock in C for tens of milliseconds at a time, and
        launched into Sessions it stalled the 200,000-key scan's screen (the scan goes first)."""
        if not self.is_running:
            return
        if self._quiet() or time.monotonic() - self._prefetch_from >= PREFETCH_WAIT_MAX_S:
            self._prefetch_screens()
        else:
            self.set_timer(BUILD_AHEAD_GAP_S, self._prefetch_when_quiet)

    @work(thread=True, exit_on_error=False, group="app-prefetch")
    def _prefetch_screens(self) -> None:
        """Import the other screens' modules in the background once the Overview is up, so
        a first switch builds the screen without importing its module (100-400 ms each on
        the UI thread). A module that fails to import here fails again, and is reported,
        on the switch itself."""
        # Everything alive after each import (modules, classes, the first screen) lives as
        # long as the app: out of the cycle collector's way. Each full collection walked all
        # ~300,000 of these objects, a 100-180 ms stop of the UI thread, often in the middle
        # of a switch. Module by module, with the collector held off meanwhile: frozen only
        # at the end, the imports' objects piled up young, and a full pass over 140,000-
        # 220,000 of them ran in the middle (30-77 ms, in whichever thread allocated — the
        # Sessions scan's included — and every thread waits for it: the largest stall of a
        # 200,000-key scan). Frozen objects are still freed by reference counting; the
        # startup garbage caught in cycles at this moment stays (bounded, once).
        for mode, *_ in SCREENS:
            with collector.kept():
                try:
                    importlib.import_module(f"{__package__}.screens.{mode}")
                except Exception as exc:  # noqa: BLE001 - the switch imports it again and reports it
                    log.debug("background import of the %s screen failed: %s", mode, error_text(exc))
        self.prefetched = True
        if not BUILD_AHEAD:
            return
        try:
            self.call_from_thread(self._build_ahead)
        except Exception as exc:  # noqa: BLE001 - the app is closing; screens are built on their first visit
            log.debug("screens not built ahead: %s", error_text(exc))

    def _build_ahead(self) -> None:
        if not BUILD_AHEAD:
            return
        self.run_worker(self._build_screens_ahead(), group="app-build-ahead", exclusive=True, exit_on_error=False)

    async def _build_screens_ahead(self) -> None:
        """Build every screen not visited yet, one at a time with a pause between them and
        only while the screen shown has nothing in flight (``_quiet``: a 200,000-key scan
        finishes first). Textual builds a screen (compose, mount and style 25-80 widgets)
        in the event loop, 100-350 ms on a first visit; a screen built ahead is shown without
        that, and laid out and drawn off screen once, so a first visit draws only what
        changed. A screen built ahead is hidden: its live sources load when it is first shown
        (``LiveScreen.add_source``); what a screen's mount starts besides them (Metrics' list
        of InfluxDB tag values, Diffs' identity lookup) runs at its build. Each screen's
        objects are then frozen out of the cycle collector, like the startup's."""
        for mode, *_ in SCREENS:
            await asyncio.sleep(BUILD_AHEAD_GAP_S)
            while not self._quiet():
                await asyncio.sleep(BUILD_AHEAD_GAP_S)     # the screen shown goes first (a scan, a refresh)
            if not self.is_running or self._exit:
                return                    # quitting: Textual is closing every screen stack
            if mode in self._screen_stacks or mode not in self._modes:
                continue                  # visited already, or being built by its switch
            factory = self._modes[mode]
            if not callable(factory):
                continue
            screen = None
            try:
                screen, mounted = self._get_screen(factory())
                self._load_screen_css(screen)
                self._screen_stacks[mode] = [screen]    # a switch to it now shows this one
                await mounted
                await asyncio.sleep(BUILD_AHEAD_GAP_S)
                if self.is_running and self.screen is not screen and screen.is_attached:
                    # laid out and drawn once off screen: the first visit only draws what changed
                    screen._refresh_layout(self.size)
                    screen._compositor.render_update(full=True)
                gc.freeze()       # this screen lives as long as the app (see _prefetch_screens)
            except Exception as exc:  # noqa: BLE001 - that screen is built on its first visit instead
                log.debug("the %s screen was not built ahead: %s", mode, error_text(exc))
                if screen is not None and self._screen_stacks.get(mode) == [screen] and self.screen is not screen:
                    del self._screen_stacks[mode]     # its switch builds it again
                return

    def _handle_exception(self, error: Exception) -> None:
        """Textual's handling (a traceback, exit code 1), except for a query that found
        nothing once the app is closing: a screen being built ahead when the user quits can
        still be running its mount while the shutdown removes its widgets (seen in the test
        suite: Overview's mount asked for its indicator, already pruned). Nothing is lost
        then; it is logged, not shown as a crash."""
        from textual.css.query import NoMatches
        if isinstance(error, NoMatches) and (self._exit or not self.is_running):
            log.debug("while closing: %s", error_text(error))
            return
        super()._handle_exception(error)

    def _quiet(self) -> bool:
        """Nothing of the screen shown is in flight: no live source running, no paint
        waiting, no worker busy (but the ever-running ones: the build itself, a live tail)."""
        screen: Any = self.screen
        states = getattr(screen, "states", None) or {}
        if any(st.running for st in states.values()) or getattr(screen, "paint_pending", False):
            return False
        return not any(w.is_running for w in self.workers if w.group not in BUILD_AHEAD_IGNORES)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: every action of the current screen (its bindings, enabled ones
        only), then every screen, then Textual's own commands."""
        seen: set[str] = set()
        for _key, (node, binding, enabled, tooltip) in screen.active_bindings.items():
            if not enabled or binding.action in seen or node is self or binding.id not in keymap.ALL:
                continue          # Textual's own widget bindings (copy, cursor...) stay out
            seen.add(binding.action)
            keys = self.get_key_display(binding)
            yield SystemCommand(binding.description or binding.action,
                                _palette_text(f"{keys} · {tooltip or binding.tooltip}"),
                                lambda n=node, a=binding.action: self.run_action(a, n))
        for mode, key, title, what in SCREENS:
            yield SystemCommand(f"Screen: {title}", _palette_text(f"{key} · {what}"),
                                lambda m=mode: self.switch_mode(m))
        if self.services.settings.contexts:
            yield SystemCommand("Switch context", _palette_text(
                "ctrl+k · now " + (self.services.settings.context or "?") + "; a production context starts read-only"),
                self.action_switch_context)
        yield from super().get_system_commands(screen)

    def action_toggle_recording(self) -> None:
        """Start / stop writing every Metrics and Activity sample to a local file."""
        from .recorder import UiRecorder, default_path
        if self.recorder is not None:
            rec, self.recorder = self.recorder, None
            rec.stop()
            self.notify(f"Recording stopped: {rec.count} samples in {rec.path}")
            return
        try:
            self.recorder = UiRecorder(default_path())
        except Exception as exc:  # the file could not be created: said, not fatal
            self.notify(error_text(exc), title="Recording not started", severity="error")
            return
        self.notify(f"Recording every Metrics and Activity sample to {self.recorder.path} (ctrl+s stops)")

    def action_help(self) -> None:
        rows: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        remapped = keymap.user_keymap(self.services.settings.keymap)[0]
        name = self.screen.__class__.__name__.replace("Screen", "")
        for node, label in ((self.screen, name), (self, "everywhere")):
            for binding in node.BINDINGS:
                b = binding if isinstance(binding, Binding) else Binding(*binding)
                key = remapped.get(b.id or "", b.key)
                if key in seen:
                    continue
                seen.add(key)
                keys = ", ".join(self.get_key_display(Binding(k, b.action)) for k in key.split(","))
                rows.append((keys, b.tooltip or b.description, label))
        rows.append(("j / k", "Next / previous row", "every list"))
        rows.append(("g Home / G End", "First / last row", "every list"))
        rows.append(("PgUp / PgDn", "A screenful up / down", "every list"))
        rows.append((f"1-{len(SCREENS)}", "Switch screen", "everywhere"))
        rows.append(("Ctrl+P", "Command palette: this screen's actions and every screen", "everywhere"))
        from .screens.help import HelpScreen
        self.push_screen(HelpScreen(name, rows))

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = True) -> None:
        """Notifications carry data (keys, names, server errors), so they are always plain
        text: "session:[u1]" must not turn into markup. (Widget.notify passes markup=True
        explicitly, hence ignored here rather than defaulted.)"""
        super().notify(visible(message, newlines=True), title=visible(title), severity=severity,
                       timeout=timeout, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place for workers that died: show the error, never a traceback (tracebacks
        with locals can carry passwords)."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(error_text(event.worker.error), title="Background task failed",
                        severity="error", timeout=10)
