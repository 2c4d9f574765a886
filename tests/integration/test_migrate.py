"""The migration runner applies every sql/ folder to a fresh real PostgreSQL, twice: the
second run changes nothing. Versions, checksums and the audit record are kept."""

from __future__ import annotations

import pytest

from console.backends.base import ReadOnlyError
from console.config import SYSTEMS, Settings
from console.core import migrate


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_folder_applies_twice(fresh_db, system):
    backend = fresh_db(system, migrated=False)
    settings = Settings(postgres=(backend.target,))
    files = migrate.files_for(system)
    assert files[0].version.startswith("common/") and any(f.version.startswith(f"{system}/") for f in files)

    first = migrate.migrate(settings, backend, system, actor="pytest")
    assert first.failed is None, f"{first.failed}: {first.error}"
    assert first.applied == [f.version for f in files]

    second = migrate.migrate(settings, backend, system, actor="pytest")
    assert second.applied == [] and second.failed is None and second.skipped == len(files)

    rows = backend.fetch("SELECT version, checksum, applied_by FROM console.schema_migrations ORDER BY version")
    assert {r["version"]: r["checksum"] for r in rows} == {f.version: f.checksum for f in files}
    audit = backend.fetch("SELECT actor, action, outcome, detail FROM console.audit_log")
    assert len(audit) == 1  # the second, empty run records nothing
    assert audit[0]["action"] == "schema.migrate" and audit[0]["outcome"] == "ok"
    assert audit[0]["detail"]["applied"] == first.applied

    st = migrate.status(backend, system)
    assert not st.pending and not st.changed and not st.unknown


def test_changed_file_is_reported_not_rerun(fresh_db, tmp_path):
    import shutil
    root = tmp_path / "sql"
    shutil.copytree(migrate.sql_root() / "common", root / "common")
    shutil.copytree(migrate.sql_root() / "zengin", root / "zengin")
    backend = fresh_db("zengin", migrated=False)
    settings = Settings(postgres=(backend.target,))
    assert migrate.migrate(settings, backend, "zengin", actor="t", root=root).failed is None
    last = sorted((root / "zengin").glob("*.sql"))[-1]
    last.write_text(last.read_text() + "\n-- edited after it was applied\n")
    (root / "zengin" / "999_extra.sql").write_text("CREATE TABLE extra_table (id int);")
    st = migrate.status(backend, "zengin", root)
    assert [f.version for f in st.changed] == [f"zengin/{last.stem}"]
    assert [f.version for f in st.pending] == ["zengin/999_extra"]
    res = migrate.migrate(settings, backend, "zengin", actor="t", root=root)
    assert res.applied == ["zengin/999_extra"] and res.changed == [f"zengin/{last.stem}"]


def test_failing_file_rolls_back_alone(fresh_db, tmp_path):
    import shutil
    root = tmp_path / "sql"
    shutil.copytree(migrate.sql_root() / "common", root / "common")
    (root / "pipe").mkdir()
    (root / "pipe" / "001_ok.sql").write_text("CREATE TABLE ok_table (id int);")
    (root / "pipe" / "002_bad.sql").write_text("CREATE TABLE half_table (id int);\nSELECT no_such_function();")
    backend = fresh_db("pipe", migrated=False)
    res = migrate.migrate(Settings(postgres=(backend.target,)), backend, "pipe", actor="t", root=root)
    assert res.failed == "pipe/002_bad" and "no_such_function" in res.error
    present = backend.fetch("SELECT to_regclass('ok_table') AS ok, to_regclass('half_table') AS half")[0]
    assert present["ok"] is not None and present["half"] is None
    audit = backend.fetch("SELECT outcome, detail FROM console.audit_log")
    assert audit[-1]["outcome"] == "failed" and audit[-1]["detail"]["failed"] == "pipe/002_bad"


def test_read_only_refuses_migrate(fresh_db):
    backend = fresh_db("zengin", migrated=False)
    with pytest.raises(ReadOnlyError):
        migrate.migrate(Settings(read_only=True, postgres=(backend.target,)), backend, "zengin", actor="t")
    assert backend.fetch("SELECT to_regclass('console.schema_migrations') AS t")[0]["t"] is None
