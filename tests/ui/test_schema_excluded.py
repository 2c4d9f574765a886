"""Findings matching [schema] exclude are listed under "excluded" in the Schema screen, never
counted as drift and never selectable (the CLI's `schema check` shows them the same way)."""

from __future__ import annotations

import dataclasses

from console.ui.app import ConsoleApp
from console.ui.widgets.lists import ListTree

from .conftest import settled, wait_for
from .fakes_schema import schema_services


async def test_excluded_findings_are_listed_apart():
    services = schema_services(drifted=True)
    src = services.sources["schema"]
    r = src.reports["lambda"]
    moved, kept = r.findings[:1], r.findings[1:]
    src.reports["lambda"] = dataclasses.replace(r, findings=kept, excluded=moved)
    app = ConsoleApp(services, initial_mode="schema")
    async with app.run_test(size=(160, 45)) as pilot:
        await settled(pilot)
        tree = app.screen.query_one("#schema-tree", ListTree)
        await wait_for(pilot, lambda: any(str(n.label).startswith("excluded") for n in tree.root.children),
                       what="an excluded group")
        group = next(n for n in tree.root.children if str(n.label).startswith("excluded"))
        assert str(group.label) == "excluded (1)"
        leaf = group.children[0]
        assert moved[0].object in str(leaf.label) and leaf.data is None      # nothing to select
        others = [n for n in tree.root.children if n is not group]
        assert sum(len(n.children) for n in others) == len(kept)
