"""The Overview against the real stack, driven through Pilot: every backend comes up; a
Redis stopped by hand turns only its row red with a retry countdown; it recovers without a
restart of the console when Redis is back."""

from __future__ import annotations

from textual.widgets import DataTable

from console.config import parse_text
from console.ui.app import ConsoleApp
from console.ui.services import Services

from .conftest import wait_for


def ensure_zengin_storage(services) -> None:
    """The table and bucket exactly as the demo makes them (seed 003's key schema and GSI)."""
    from console.demo.zengin import create_table_and_bucket

    create_table_and_bucket(services.backends.dynamo, services.backends.s3)


def stack_settings(stack, refresh: float = 0.5):
    text = stack.config_toml().replace("refresh_interval = 5", f"refresh_interval = {refresh}")
    return parse_text(text)


def statuses(app) -> dict[str, str]:
    table = app.screen.query_one("#health", DataTable)
    return {row.value: table.get_cell(row, "Status").plain for row in table.rows}


async def test_overview_on_real_stack_and_redis_outage(stack):
    settings = stack_settings(stack)
    services = Services.from_settings(settings)
    # The bare test stack has no zengin table or bucket yet: make them so every row is up.
    ensure_zengin_storage(services)
    app = ConsoleApp(services)
    try:
        await _drive(app, stack, settings)
    finally:
        services.close()


async def _drive(app, stack, settings):
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: all(s.endswith("up") for s in statuses(app).values()), "every backend up")
        expected = {f"postgres:{t.name}" for t in settings.postgres} | {"redis:redis", "dynamodb:dynamodb",
                                                                        "s3:s3"}
        assert expected <= set(statuses(app))
        table = app.screen.query_one("#health", DataTable)
        assert table.get_cell("redis:redis", "Version").plain.startswith("Redis ")

        stack.redis.stop()
        try:
            await pilot.press("r")
            await wait_for(pilot, lambda: statuses(app)["redis:redis"].endswith("down"), "redis down")
            others = {k: v for k, v in statuses(app).items() if k != "redis:redis"}
            assert all(v.endswith("up") for v in others.values()), others
            await wait_for(pilot, lambda: table.get_cell("redis:redis", "Next").plain.startswith(("retry", "retrying")),
                           "retry countdown")
            assert "unreachable" in table.get_cell("redis:redis", "Address / error").plain
        finally:
            stack.redis.start()
        await wait_for(pilot, lambda: statuses(app)["redis:redis"].endswith("up"), "redis up again", timeout=30)
        await wait_for(pilot, lambda: "0 down" in str(app.screen.query_one("#overview-summary").render()),
                       "summary says 0 down")
