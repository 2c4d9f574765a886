"""The one live-data layer of the UI.

A screen that shows data from a backend subclasses :class:`LiveScreen` and declares each
source once::

    self.add_source(Source("queue", fetch=svc.queue, every=lambda: 10.0,
                           render=self._render_queue, panel="#diffs-list"))

- ``fetch`` runs in a thread worker (never on the UI thread, never two at once);
- ``render(state)`` runs on the UI thread with a :class:`State`: ``value`` (the last good
  one is kept when a run fails), ``error`` (one line, from :func:`console.core.text.error_text`),
  ``ok_at``/``ok_wall`` (time of the last good sample), ``stale`` and ``failures``;
- the next run is armed only while the screen is shown and not paused; after failures the
  delay doubles up to ``backoff_cap_s``; on show/unpause every source that is older than its
  interval, failed, or never loaded runs at once;
- ``r``/F5 (``action_refresh_now``) runs every source now; ``p`` (``action_toggle_pause``)
  pauses and resumes them all; :meth:`LiveScreen.set_paused` is the one way to pause;
- :class:`LiveIndicator` shows the age / staleness of one or more sources, the same way
  on every panel; ``panel=`` gets the one ``.stale`` CSS class (dimmed) while stale.

Streaming parts (a SCAN in batches, a pub/sub subscriber) keep their own worker but report
into a :class:`State` (``screen.state(name)``) and use the same indicator.

Lists follow :mod:`console.ui.keymap` and :mod:`console.ui.widgets.lists`: ``/`` filters,
``space`` selects, the cursor stays on the same row id across refreshes.
"""

from .indicator import LiveIndicator
from .screen import LiveResult, LiveScreen
from .state import Source, State, age_text

__all__ = ["LiveIndicator", "LiveResult", "LiveScreen", "Source", "State", "age_text"]
