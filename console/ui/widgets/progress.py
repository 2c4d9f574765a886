"""A progress bar that costs nothing while nothing progresses.

Textual's ProgressBar (8.2.8, pinned) animates at 15 redraws a second while it has no
total, and starts a once-a-second timer at mount for its ETA, shown or not, on every
screen that has one, visible or hidden. :class:`QuietProgressBar` starts with a total (not
animated) and keeps the timer only when it shows an ETA."""

from __future__ import annotations

from typing import Any

from textual.events import Mount
from textual.widgets import ProgressBar


class QuietProgressBar(ProgressBar):
    def __init__(self, *, total: float | None = 1, show_eta: bool = False, **kwargs: Any) -> None:
        super().__init__(total=total, show_eta=show_eta, **kwargs)

    def on_mount(self, event: Mount) -> None:  # type: ignore[override]  # the event, to prevent ProgressBar's
        if self.show_eta:
            return                    # ProgressBar's own: the ETA moves each second
        event.prevent_default()       # not ProgressBar.on_mount: no timer
        self.update()
        self._clock.reset()
