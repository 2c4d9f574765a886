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


async def test_show_made_builds_and_draws_only_for_a_new_key() -> None:
    """A Rich table rebuilt and drawn at every refresh, unchanged figures included, was about
    a tenth of the Metrics screen's UI-thread work: ``show_made`` builds it only for a new
    key, and the dead-tuples table's key holds every figure it shows."""
    from datetime import datetime, timezone

    from rich.table import Table

    from console.core.metrics.pg import TableStat
    from console.ui.screens.metrics_panels import pg_tables_key
    from console.ui.widgets.show import show_made

    made: list[str] = []

    def table(label: str) -> Table:
        made.append(label)
        t = Table()
        t.add_column("c")
        t.add_row(label)
        return t

    async with _App().run_test(size=(40, 20)) as pilot:
        fixed = pilot.app.query_one("#fixed", Static)
        assert show_made(fixed, ("k", 1), lambda: table("one"))
        assert not show_made(fixed, ("k", 1), lambda: table("again"))
        assert show_made(fixed, ("k", 2), lambda: table("two"))
        assert made == ["one", "two"]
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    one = TableStat("public", "request_logs", live=10, dead=2, last_autovacuum=at, last_vacuum=None)
    same = TableStat("public", "request_logs", live=10, dead=2, last_autovacuum=at, last_vacuum=None)
    more_dead = TableStat("public", "request_logs", live=10, dead=3, last_autovacuum=at, last_vacuum=None)

    class P:      # what pg_tables reads of a sample
        def __init__(self, *tables: TableStat) -> None:
            self.tables = tables

    assert pg_tables_key(P(one)) == pg_tables_key(P(same))          # type: ignore[arg-type]
    assert pg_tables_key(P(one)) != pg_tables_key(P(more_dead))     # type: ignore[arg-type]
    assert pg_tables_key(P(one)) != pg_tables_key(P(one, one))      # type: ignore[arg-type]
    assert pg_tables_key(None) is None
