"""The real change between two releases of the Japanese bank master data: zengin-code
1.1.0.20250825 (fetched as a test fixture with ``pip download``) and the installed
release (a year later). The change is queued as single pending items in seed 003's
format (deletions carry zenginData), approved and executed with --all-approved in whatever
order the queue returns: PostgreSQL ends equal to the newer release, no diff fails, one
change_history row per diff.

When the package index cannot be reached, the older release is derived deterministically
from the installed one (the demo's changed copy, reversed) and the test says so in its
output; the real pair is what CI runs."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


from console.cli import main
from console.core.zengin import generator as gen, releases
from console.core.zengin.records import DiffEntry
from console.demo import zengin as zdemo

from .test_diffs_cli import write_config
from .test_diffs_helpers import NOW, make_zen

OLDER = "1.1.0.20250825"
CACHE = Path(os.environ.get("CONSOLE_TEST_WHEEL_CACHE", Path(tempfile.gettempdir()) / "console-test-wheels"))


def older_release() -> tuple[dict, str]:
    try:
        return releases.load_wheel(releases.download(OLDER, CACHE))
    except gen.SourceError as exc:
        newer, _ = gen.load_zengin_code()
        print(f"zengin-code {OLDER} unavailable ({exc}); deriving an older release from the installed one")
        return zdemo.changed_copy(newer, seed=7).source, "derived"


def seed_format(e: DiffEntry) -> DiffEntry:
    """Seed 003's producer writes a deletion with zenginData: the row to delete."""
    if e.diffType == "deletion":
        return DiffEntry("deletion", dict(e.currentData), e.currentData, e.changes)
    return e


def test_a_year_of_real_changes_converges(stack, fresh_db, tmp_path, capsys):
    older, version = older_release()
    newer, new_version = gen.load_zengin_code()
    zen = make_zen(stack, fresh_db, source=older)
    entries = [seed_format(e) for e in gen.compare(gen.master_from_source(newer), zen.master())]
    assert len(entries) > 100 and any(e.diffType == "deletion" and e.zenginData for e in entries)
    deletions = [e for e in entries if e.diffType == "deletion"]
    assert any(e.table == "banks" for e in deletions) and any(e.table == "branches" for e in deletions)
    plan = gen.plan_diffs(entries, now=NOW, threshold_bytes=10 ** 9,
                          metadata={"source": "zengin-code", "sourceVersion": new_version})
    assert not plan.bulk
    ids = gen.write_plan(zen.dynamo, zen.s3, plan).ids
    cfg = write_config(tmp_path, zen)
    assert main(["--config", cfg, "--as", "approver", "diffs", "approve", "--all-pending", "--json"]) == 0
    approved = json.loads(capsys.readouterr().out)
    assert approved["counts"] == {"ok": len(ids)}, approved["summary"]
    assert main(["--config", cfg, "--as", "executor", "diffs", "execute", "--all-approved", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"] == {"ok": len(ids)}, [r for r in out["results"] if r["outcome"] != "ok"][:5]
    assert zen.master() == gen.master_from_source(newer)
    n = zen.pg.fetch("SELECT count(*) AS n, count(DISTINCT diff_id) AS d FROM change_history")[0]
    assert n["n"] == n["d"] == len(ids)
    assert zen.svc.counts()["completed"] == len(ids) and zen.svc.counts()["failed"] == 0
    print(f"zengin-code {version} -> {new_version}: {len(ids)} diffs applied")
