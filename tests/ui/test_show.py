"""``show`` lays the screen out again only when the text changes the widget's size."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.ui.widgets.show import show

from .conftest import wait_for


class _App(App[None]):
    CSS = "#auto { height: auto; } #fixed { height: 1; } #pane { height: 12; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="pane"):
            yield Static("", id="auto")
        yield Static("", id="fixed")


async def test_layout_only_when_the_line_count_changes(monkeypatch) -> None:
    async with _App().run_test(size=(40, 20)) as pilot:
        auto = pilot.app.query_one("#auto", Static)
        fixed = pilot.app.query_one("#fixed", Static)
        assert show(auto, Text("one\ntwo"))
        await wait_for(pilot, lambda: auto.size.height == 2, "two lines laid out")
        layouts: list[str] = []
        real = Static.refresh

        def spy(self, *a, **k):  # type: ignore[no-untyped-def]
            if k.get("layout"):
                layouts.append(self.id or "")
            return real(self, *a, **k)

        monkeypatch.setattr(Static, "refresh", spy)
        assert show(auto, Text("uno\ndos"))          # same height: a repaint, no layout
        assert show(fixed, Text("a status line"))
        assert not show(fixed, Text("a status line"))  # unchanged: nothing at all
        await pilot.pause()
        assert layouts == []
        assert "dos" in str(auto.render())
        assert show(auto, Text("1\n2\n3\n4"))          # taller: laid out, and it grows
        assert layouts == ["auto"]
        await wait_for(pilot, lambda: auto.size.height == 4, "four lines laid out")
        before = len(layouts)
        assert show(auto, Text("x" * 100))             # one line wrapped to three at width 40
        assert len(layouts) > before
        await wait_for(pilot, lambda: auto.size.height == 3, "the wrapped line laid out")
