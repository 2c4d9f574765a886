"""What the UI needs from the rest of the console, as one object the app receives.

The real app builds it from Settings and Backends; snapshot tests build it from fixed
fakes of the same core interfaces (a HealthCheck whose ``run`` returns a fixed Health)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from ..backends.registry import Backends
from ..config import Settings
from ..core import ports
from ..core.attention import Source as AttentionSource
from ..core.attention import sources_for
from ..core.health import HealthCheck, checks_for


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

    def source(self, name: str) -> Any:
        """The screen's data source (a protocol of console.core.ports): an injected one
        (tests), else the real one from :func:`console.core.ports.build`, built once and kept."""
        if name not in self.sources:
            if name == "activity":        # the screen's own port (console.ui.data.activity)
                from .data.activity import build_live
                self.sources[name] = build_live(self.settings, self.backends)
            else:
                self.sources[name] = ports.build(name, self.settings, self.backends)
        return self.sources[name]

    @classmethod
    def from_settings(cls, settings: Settings, *, notices: list[str] | None = None) -> "Services":
        backends = Backends.from_settings(settings)
        return cls(settings=settings, health_checks=checks_for(backends), attention=sources_for(backends),
                   backends=backends, notices=list(notices or []))

    def close(self) -> None:
        for src in self.sources.values():
            close = getattr(src, "close", None)
            if callable(close):
                close()
        if self.backends is not None:
            self.backends.close()
