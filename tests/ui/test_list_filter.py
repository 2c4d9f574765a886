"""`/` filters the main list of every screen that lacked it (Overview, Metrics, Partitions):
the rows shown are the ones with a cell containing the text, an empty filter shows every
row again, Esc cancels, focus returns to the list."""

from __future__ import annotations

import pytest

from console.ui.app import ConsoleApp
from console.ui.widgets.lists import FilterPrompt, ListTable

from .conftest import settled, wait_for
from .fakes import overview_services
from .fakes_metrics import metrics_services
from .fakes_partitions import partitions_services

CASES = [
    ("overview", overview_services, "#health", "redis"),
    ("metrics", metrics_services, "#pg-targets", "zengin"),
    ("partitions", partitions_services, "#part-tables", "pipeline"),
]


@pytest.mark.parametrize("mode,services,selector,needle", CASES, ids=[c[0] for c in CASES])
async def test_slash_filters_the_list(mode, services, selector, needle):
    app = ConsoleApp(services(), initial_mode=mode)
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        table = app.screen.query_one(selector, ListTable)
        await wait_for(pilot, lambda: table.row_count > 1, what="the list loaded")
        every = table.row_count

        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, FilterPrompt), what="the filter prompt")
        await pilot.press(*needle)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, FilterPrompt), what="prompt closed")
        assert 0 < table.row_count < every
        for i in range(table.row_count):
            cells = " ".join(str(getattr(c, "plain", c)) for c in table.get_row_at(i)).lower()
            assert needle in cells, cells
        assert app.focused is table

        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, FilterPrompt), what="the filter prompt")
        await pilot.press("escape")                      # cancel: the filter stays
        await wait_for(pilot, lambda: not isinstance(app.screen, FilterPrompt), what="prompt closed")
        assert table.filter_text == needle

        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, FilterPrompt), what="the filter prompt")
        app.screen.query_one("Input").value = ""
        await pilot.press("enter")                       # empty: every row again
        await wait_for(pilot, lambda: table.row_count == every, what="every row back")
