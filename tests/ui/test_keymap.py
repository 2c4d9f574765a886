"""One table of key meanings (console.ui.keymap): every screen's bindings come from it, the
shared keys mean the same everywhere, no mutating key is harmless on another screen, and a
user's [keymap] remaps by binding id."""

from __future__ import annotations

from textual.binding import Binding

from console.config import parse_text
from console.ui import keymap
from console.ui.app import SCREENS, ConsoleApp, _screen_factory
from console.ui.screens.partition_detail import PartitionDetailScreen
from console.ui.widgets.lists import ListTable, ListTree

from .conftest import settled
from .fakes import overview_services


def screen_bindings() -> dict[str, list[Binding]]:
    out: dict[str, list[Binding]] = {}
    for mode, _key, title, what in SCREENS:
        cls = _screen_factory(mode, title, what)
        out[mode] = [b for b in cls.BINDINGS if isinstance(b, Binding)]
    out["partitions-detail"] = list(PartitionDetailScreen.BINDINGS)
    out["lists"] = [*ListTable.BINDINGS, *ListTree.BINDINGS]
    return out


def test_every_screen_binding_is_from_the_table_and_consistent():
    assert keymap.check(screen_bindings()) == []


def test_shared_keys_mean_the_same_on_every_screen():
    seen: dict[str, tuple[str, str]] = {}
    for name, binds in screen_bindings().items():
        for b in binds:
            if b.id in keymap.SHARED:
                assert (b.key, b.action) == seen.setdefault(b.id, (b.key, b.action)), (name, b.id)
    assert {"refresh", "pause", "tab_next"} <= set(seen)
    screens_with_refresh = [n for n, bs in screen_bindings().items() if any(b.id == "refresh" for b in bs)]
    assert set(screens_with_refresh) >= {m for m, *_ in SCREENS}


def test_check_catches_a_mutating_key_that_is_harmless_elsewhere():
    bad = {"diffs": keymap.bindings("diffs.execute"),
           "other": [Binding("X", "refresh_now", "Refresh", id="refresh")]}
    problems = keymap.check(bad)
    assert any("X mutates" in p for p in problems) and any("the table says" in p for p in problems)


def test_mutations_sit_on_capital_letters():
    for m in keymap.ALL.values():
        if m.mutating:
            assert all(len(k) == 1 and k.isupper() for k in keymap.keys_of(m.key)), m


def test_user_keymap_by_id_and_refusals():
    settings = parse_text('[keymap]\nrefresh = "ctrl+r"\nnope = "z"\npause = "X"\n')
    mapping, problems = keymap.user_keymap(settings.keymap)
    assert mapping == {"refresh": "ctrl+r"}
    assert any("nope" in p for p in problems) and any("mutating" in p for p in problems)


async def test_remapped_key_refreshes_and_palette_lists_screen_actions():
    import dataclasses

    services = overview_services()
    services.settings = dataclasses.replace(services.settings, keymap=(("refresh", "ctrl+r"),))
    calls = []
    app = ConsoleApp(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        app.screen.action_refresh_now = lambda: calls.append("refresh")   # type: ignore[method-assign]
        await pilot.press("ctrl+r")
        await settled(pilot)
        assert calls == ["refresh"]
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Refresh" in titles and "Pause" in titles and "Screen: Diffs" in titles


async def test_palette_help_names_the_key():
    from textual.content import Content

    app = ConsoleApp(overview_services())
    async with app.run_test(size=(100, 30)) as pilot:
        await settled(pilot)
        helps = {c.title: Content.from_markup(c.help).plain for c in app.get_system_commands(app.screen)}
        assert helps["Refresh"].startswith("r · ") and helps["Screen: Diffs"].startswith("6 · ")
