"""``show`` lays the screen out again only when the text changes the widget's size."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.ui.widgets.show import show

from .conftest import wait_for
from .fakes_metrics import pg_sample


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
    import dataclasses
    from datetime import timedelta

    from rich.table import Table

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
    base = pg_sample("lambda", tps=2.0)                # a real PgSample, as the Metrics source makes
    same = dataclasses.replace(base, tables=tuple(dataclasses.replace(t) for t in base.tables),
                               taken_at=base.taken_at + timedelta(seconds=2), queries=7)
    first = base.tables[0]
    more_dead = dataclasses.replace(base, tables=(dataclasses.replace(first, dead=first.dead + 1), *base.tables[1:]))
    vacuumed = dataclasses.replace(base, tables=(dataclasses.replace(first, last_autovacuum=base.taken_at),
                                                 *base.tables[1:]))
    assert pg_tables_key(base) == pg_tables_key(same)          # another sample, the same figures
    assert pg_tables_key(base) != pg_tables_key(more_dead)
    assert pg_tables_key(base) != pg_tables_key(vacuumed)
    assert pg_tables_key(base) != pg_tables_key(dataclasses.replace(base, tables=base.tables[:1]))
    assert pg_tables_key(None) is None
