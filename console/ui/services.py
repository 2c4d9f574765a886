"""What the UI needs from the rest of the console, as one object the app receives.

The real app builds it from Settings and Backends; snapshot tests build it from fixed
fakes of the same core interfaces (a HealthCheck whose ``run`` returns a fixed Health).

:meth:`Services.from_settings` with ``defer=True`` (the TUI's launch) does not build the
backends: importing the drivers (psycopg, redis, boto3) costs more than drawing the first
screen, so the Overview draws first and calls :meth:`Services.ensure_built` in a worker
thread; ``source()`` builds them too if a screen asks before that."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from ..config import Settings

if TYPE_CHECKING:
    from ..backends.registry import Backends
    from ..core.attention import Source as AttentionSource
    from ..core.health import HealthCheck


@dataclass
class Services:
    settings: Settings
    health_checks: list[HealthCheck] = field(default_factory=list)
    attention: list[AttentionSource] = field(default_factory=list)
    backends: Backends | None = None
    clock: Callable[[], float] = time.monotonic
    notices: list[str] = field(default_factory=list)   # shown once at start (e.g. demo caveats)
    # Per-screen data sources by name; snapshot tests put fixed fakes here.
    sources: dict[str, Any] = field(default_factory=dict)
    # from_settings: the backends are built by ensure_built() (once), not by the constructor
    deferred: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def ready(self) -> bool:
        """The backends, health checks and attention counts are there (always, unless built
        by :meth:`from_settings` and :meth:`ensure_built` has not run yet)."""
        return not self.deferred

    def ensure_built(self) -> None:
        """Build the backends, the health checks and the attention sources once: blocking
        (driver imports), so the UI calls it from a worker thread."""
        if not self.deferred:
            return
        with self._lock:
            if not self.deferred:
                return
            from ..backends.registry import Backends
            from ..core.attention import sources_for
            from ..core.health import checks_for
            backends = Backends.from_settings(self.settings)
            self.health_checks = checks_for(backends)
            self.attention = sources_for(backends)
            self.backends = backends
            self.deferred = False

    def source(self, name: str) -> Any:
        """The screen's data source (a protocol of console.core.ports): an injected one
        (tests), else the real one from :func:`console.core.ports.build`, built once and kept."""
        if name not in self.sources:
            self.ensure_built()
            from ..core import ports
            if name == "activity":        # the screen's own port (console.ui.data.activity)
                from .data.activity import build_live
                self.sources[name] = build_live(self.settings, self.backends)
            else:
                self.sources[name] = ports.build(name, self.settings, self.backends)
        return self.sources[name]

    @classmethod
    def from_settings(cls, settings: Settings, *, notices: list[str] | None = None,
                      defer: bool = False) -> "Services":
        """Every configured backend, built now; ``defer=True`` (the TUI's launch) leaves
        that to :meth:`ensure_built`."""
        s = cls(settings=settings, notices=list(notices or []), deferred=True)
        if not defer:
            s.ensure_built()
        return s

    def close(self) -> None:
        with self._lock:          # not while ensure_built() is half way
            self.deferred = False
        for src in self.sources.values():
            close = getattr(src, "close", None)
            if callable(close):
                close()
        if self.backends is not None:
            self.backends.close()
