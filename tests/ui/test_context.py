"""The header (context, red PRODUCTION, READ-ONLY, who you act as) and the context switcher
(ctrl+k and the palette): the configuration is loaded again with the other context, the
services rebuilt, and a production context switched to starts read-only."""

from __future__ import annotations

from pathlib import Path

from console import config
from console.core import identity
from console.ui.app import ConsoleApp
from console.ui.context import ContextPicker, header_content, reload_settings
from console.ui.services import Services

from .conftest import settled, wait_for

CONFIG = """
context = "staging"
refresh_interval = 5

[contexts.staging]

[contexts.prod]
production = true
"""


def _settings(tmp_path: Path, **kw) -> config.Settings:
    path = tmp_path / "console.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return config.load(path, env={}, **kw)


def test_header_says_context_production_and_who(tmp_path):
    s = _settings(tmp_path, context="prod")
    assert s.production and s.read_only
    who = identity.Principal("alice", identity.DECLARED)
    c = header_content(s, who)
    assert "prod PRODUCTION" in c.plain and "READ-ONLY" in c.plain and "alice (declared, not verified)" in c.plain
    red = [span for span in c.spans if "red" in str(span.style)]
    assert any(c.plain[sp.start:sp.end] == "prod PRODUCTION" for sp in red), "the production context is red"
    staging = header_content(_settings(tmp_path), None, "no AWS")
    assert "PRODUCTION" not in staging.plain and "context staging" in staging.plain and "unknown: no AWS" in staging.plain


def test_a_switch_never_lifts_read_only_and_production_starts_read_only(tmp_path):
    prod = reload_settings(_settings(tmp_path), "prod")
    assert prod.context == "prod" and prod.read_only
    write = _settings(tmp_path, context="prod", write=True)
    assert not write.read_only                      # --write at the start ...
    assert reload_settings(write, "staging").read_only is False
    assert reload_settings(reload_settings(write, "staging"), "prod").read_only   # ... is not carried into prod
    ro = _settings(tmp_path, read_only=True)
    assert reload_settings(ro, "staging").read_only   # read-only (flag) carries over


async def test_ctrl_k_switches_to_production_read_only(tmp_path):
    services = Services.from_settings(_settings(tmp_path))
    app = ConsoleApp(services)
    async with app.run_test(size=(120, 30)) as pilot:
        await settled(pilot)
        assert "context staging" in app.format_title("", "").plain
        palette = [c.title for c in app.get_system_commands(app.screen)]
        assert "Switch context" in palette
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(app.screen, ContextPicker), "the context picker")
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.services.settings.context == "prod" and app.current_mode == "overview",
                       "the prod context loaded")
        await settled(pilot)
        assert app.services is not services, "services rebuilt"
        assert app.services.settings.read_only
        head = app.format_title("", "").plain
        assert "prod PRODUCTION" in head and "READ-ONLY" in head
        assert app.screen.id != "switching"
    app.services.close()


def test_context_picker_snapshot(snap_compare, tmp_path):
    """The picker: the current context marked, production ones "starts read-only"."""
    async def run_before(pilot):
        await settled(pilot)
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ContextPicker), "the picker")
    app = ConsoleApp(Services(settings=_settings(tmp_path), clock=lambda: 1000.0))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
