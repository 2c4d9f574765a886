"""Recording from the live app (``ctrl+s``) and replaying a file in the app.

:class:`UiRecorder` receives every good Metrics and Activity sample the live layer gets
(``Source.record``) through a queue and writes it with console.core.recording's
:class:`Recorder` on its own thread (the UI thread never writes the file).
:func:`replay_app` builds the app on a recording: the ports of console.ui.data.replay,
no backend, the time cursor in the header."""

from __future__ import annotations

import queue
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..config import Settings
from ..core.text import visible
from . import keymap
from .app import ConsoleApp
from .services import Services


class UiRecorder:
    def __init__(self, path: str | Path) -> None:
        from ..core.recording import Recorder
        self.path = Path(path)
        self._rec = Recorder(self.path)          # opened (and checked) here; used by the thread only
        self.count = 0
        self.error: str | None = None
        self._q: queue.Queue[tuple[str, str, Any] | None] = queue.Queue()
        self._rec.close()
        self._thread = threading.Thread(target=self._run, name="console-recorder", daemon=True)
        self._thread.start()

    def put(self, kind: str, target: str, value: Any) -> None:
        self._q.put((kind, target, value))

    def _run(self) -> None:
        from ..core.recording import Recorder
        from ..core.text import error_text
        rec = Recorder(self.path)
        try:
            while True:
                item = self._q.get()
                if item is None:
                    return
                try:
                    with rec.tick() as t:
                        t.add(*item)
                    self.count += 1
                except Exception as exc:  # a sample that cannot be stored is reported, not fatal
                    self.error = error_text(exc)
        finally:
            rec.close()

    def stop(self) -> None:
        self._q.put(None)
        self._thread.join(timeout=10)


def default_path(now: datetime | None = None) -> Path:
    now = now or datetime.now(timezone.utc)
    return Path(f"console-recording-{now:%Y%m%dT%H%M%SZ}.sqlite")


REPLAY_BINDINGS = keymap.bindings("replay.back", "replay.forward", "replay.start", "replay.end", "replay.play")


class ReplayApp(ConsoleApp):
    """The console on a recording: Metrics and Activity (others show nothing configured),
    the cursor in the header, no backend, no mutating key offered."""

    BINDINGS = [*ConsoleApp.BINDINGS, *REPLAY_BINDINGS]

    def __init__(self, services: Services, cursor: Any, *, initial_mode: str = "activity") -> None:
        super().__init__(services, initial_mode=initial_mode)
        self.cursor = cursor
        self._play_timer: Any = None
        self._show_cursor()

    def _set_header(self) -> None:
        """The header of a replay is its time cursor (no context, no one acts)."""
        if getattr(self, "cursor", None) is not None:
            self._show_cursor()

    def format_title(self, title: str, sub_title: str):
        from textual.app import App
        return App.format_title(self, title, sub_title)

    def _show_cursor(self) -> None:
        from ..core import format as fmt
        c = self.cursor
        state = "▶ playing" if c.playing else "⏸"
        self.sub_title = (f"REPLAY {visible(c.path.name)} · tick {c.position + 1}/{c.count} at {fmt.timestamp(c.at())} UTC "
                          f"{state} · read-only")

    def _moved(self) -> None:
        self._show_cursor()
        refresh = getattr(self.screen, "refresh_all", None)
        if callable(refresh):
            refresh()

    def action_replay_step(self, step: int) -> None:
        self.cursor.move(step)
        self._moved()

    def action_replay_jump(self, where: int) -> None:
        self.cursor.jump(where)
        self._moved()

    def action_replay_play(self) -> None:
        c = self.cursor
        c.playing = not c.playing
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None
        if c.playing:
            self._play_timer = self.set_interval(1.0, self._tick)
        self._show_cursor()

    def _tick(self) -> None:
        if self.cursor.position >= self.cursor.count - 1:
            self.action_replay_play()
            return
        self.action_replay_step(1)


def replay_app(settings: Settings, path: str | Path, *, initial_mode: str = "activity") -> ReplayApp:
    from dataclasses import replace

    from .data.replay import Cursor, ReplayActivityPort, ReplayMetrics
    cursor = Cursor(path)
    services = Services(settings=replace(settings, read_only=True),
                        sources={"metrics": ReplayMetrics(cursor), "activity": ReplayActivityPort(cursor),
                                 "schema": None, "sessions": None, "diffs": None})
    return ReplayApp(services, cursor, initial_mode=initial_mode)
