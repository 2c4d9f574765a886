"""Launch draws the Overview before anything it does not need: the other screens' modules
are imported on the first switch to them, the drivers (psycopg, redis, boto3) after the
first frame, in a worker thread. (How fast: bench/bench_app.py; here, that it works.)"""

from __future__ import annotations

import json
import subprocess
import sys

from console.ui.app import SCREENS, ConsoleApp
from console.ui.services import Services

from .conftest import wait_for
from .test_overview_pilot import ensure_zengin_storage, stack_settings, statuses

HEAVY = ("psycopg", "psycopg_pool", "redis", "boto3", "botocore", "textual_plotext",
         "console.backends.registry", "console.backends.postgres")


def test_the_first_screen_imports_no_driver_and_no_other_screen():
    code = ("import sys, json, console.cli as c; c.build_parser();"
            "import console.ui.app, console.ui.screens.overview;"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    loaded = set(json.loads(out))
    assert "console.ui.screens.overview" in loaded          # the probe itself is not broken
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
    others = {f"console.ui.screens.{mode}" for mode, *_ in SCREENS if mode != "overview"}
    assert not loaded & others, sorted(loaded & others)


async def test_deferred_services_fill_the_overview_after_the_first_frame_and_every_screen_opens(stack):
    settings = stack_settings(stack)
    ensure_zengin_storage(Services.from_settings(settings))
    services = Services.from_settings(settings, defer=True)
    assert not services.ready and services.backends is None and services.health_checks == []
    app = ConsoleApp(services)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for(pilot, lambda: services.ready, "backends built in the background")
            await wait_for(pilot, lambda: statuses(app) and all(s.endswith("up") for s in statuses(app).values()),
                           "every backend up")
            assert set(statuses(app)) == {c.key for c in services.health_checks}
            assert len(services.health_checks) == len(services.backends.all())
            for _round in range(2):                 # the first visit installs the screen, the second reuses it
                for mode, key, *_ in SCREENS:
                    await pilot.press(key)
                    await wait_for(pilot, lambda m=mode: app.screen.id == m and app.screen.is_mounted,
                                   f"{mode} shown")
                    assert f"console.ui.screens.{mode}" in sys.modules
    finally:
        services.close()
