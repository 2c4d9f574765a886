"""Snapshots of the Partitions screen fed fixed fake data (SVGs in __snapshots__)."""

from __future__ import annotations

import pytest

from console.ui.app import ConsoleApp

from .conftest import settled
from .fakes_partitions import partitions_services

SIZES = {"80x24": (80, 24), "160x45": (160, 45)}


def _keys(*keys):
    async def run_before(pilot):
        await settled(pilot)
        for k in keys:
            await pilot.press(k)
            await settled(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_partitions_list(snap_compare, size):
    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZES[size],
                        run_before=settled)


@pytest.mark.parametrize("size", SIZES)
def test_partitions_drill_in(snap_compare, size):
    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZES[size],
                        run_before=_keys("enter"))


@pytest.mark.parametrize("size", SIZES)
def test_partitions_plan_preview(snap_compare, size):
    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZES[size],
                        run_before=_keys("M"))


def test_partitions_plan_refused_read_only(snap_compare):
    assert snap_compare(ConsoleApp(partitions_services(read_only=True), initial_mode="partitions"),
                        terminal_size=(100, 30), run_before=_keys("down", "down", "M"))


@pytest.mark.parametrize(("name", "downs"), [("daily", 4), ("weekly_partman", 5), ("yearly", 6), ("integer", 7),
                                             ("list_not_maintained", 8)])
def test_partitions_strip_per_interval(snap_compare, name, downs):
    """The strip labelled per interval (days, ISO weeks, years, id ranges), "managed by
    pg_partman", and "not maintained: why" with LIST bounds as values."""
    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=(160, 45),
                        run_before=_keys(*["down"] * downs))


@pytest.mark.parametrize("size", SIZES)
def test_partitions_drill_in_integer_bounds(snap_compare, size):
    assert snap_compare(ConsoleApp(partitions_services(), initial_mode="partitions"), terminal_size=SIZES[size],
                        run_before=_keys(*["down"] * 7, "enter"))


async def test_preview_names_referencing_tables_rows_and_every_lock():
    from console.ui.widgets.confirm import ConfirmModal
    app = ConsoleApp(partitions_services(), initial_mode="partitions")
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        await pilot.press("M")
        await settled(pilot)
        assert isinstance(app.screen, ConfirmModal)
        p = app.screen.preview
    assert ("references: public.custom_parameter_values via custom_parameter_values_access_log_id_fkey "
            "(ON DELETE CASCADE): 15,602 row(s), set aside and put back") in p
    assert "lock: SHARE ROW EXCLUSIVE on public.custom_parameter_values" in p
    assert "lock: ACCESS EXCLUSIVE on public.access_logs_default (scanned at ATTACH)" in p
    assert "create public.events_p2026_11_25 for 2026-11-25 (ahead)" in p      # daily, named after its siblings
    assert "create public.tenants" not in p                                    # LIST: never maintained


async def test_list_bounds_as_values_and_audit_errors_after_a_run():
    from textual.widgets import RichLog

    from console.ui.widgets.confirm import ConfirmModal

    services = partitions_services()
    fake = services.sources["partitions"]
    orig = fake.run

    def run_with_unsettled_audit(plan, *, actor, progress=None):
        report = orig(plan, actor=actor, progress=progress)
        report.audit_errors["lambda"] = "audit target unreachable"
        return report
    fake.run = run_with_unsettled_audit
    app = ConsoleApp(services, initial_mode="partitions")
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        await pilot.press(*["down"] * 8, "enter")
        await settled(pilot)
        rows = app.screen.query_one("#pdetail-children")
        assert [str(rows.get_row_at(i)[1]) for i in range(rows.row_count)] == ["IN ('us', 'ca')", "IN ('jp', 'kr')"]
        await pilot.press("escape", "home", "M")
        await settled(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press(*"drop")
        await pilot.click("#confirm")
        await settled(pilot)
        log = app.screen.query_one("#part-log", RichLog)
        text = "".join(str(line.text) for line in log.lines)
        notes = [n.message for n in app._notifications]
    assert "done, but the audit record of lambda could not be settled" in text
    assert any("done, but the audit record of lambda could not be settled: audit target unreachable" in n
               for n in notes)


async def test_table_names_are_cut_again_when_the_table_widens():
    """The Table column's names are cut to its width when drawn; after a resize (shown, or
    while the screen was hidden) they are cut again to the new width, not left at the old."""
    from textual.widgets import DataTable

    from .conftest import wait_for

    app = ConsoleApp(partitions_services(), initial_mode="partitions")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one("#part-tables", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0, "rows")

        def names() -> list[str]:
            return [table.get_row_at(i)[1].plain for i in range(table.row_count)]

        narrow = names()
        assert any(n.endswith("…") for n in narrow), narrow
        await pilot.resize_terminal(160, 45)
        await wait_for(pilot, lambda: names() != narrow, "names cut again")
        assert not any(n.endswith("…") for n in names()), names()
        await pilot.press("1")                                  # hidden while the terminal narrows
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: app.size == (80, 24) and app.screen.size == (80, 24), "narrowed")
        await pilot.press("3")
        await wait_for(pilot, lambda: names() == narrow, "cut to the narrow width again")
