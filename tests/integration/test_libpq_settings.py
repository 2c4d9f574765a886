"""The user's libpq settings are respected: `options` and `application_name` from the DSN,
`$PGOPTIONS` and `$PGAPPNAME`, while the console's own timeouts still hold."""

from __future__ import annotations

import dataclasses

from console.backends.postgres import PostgresBackend


def _settings(backend: PostgresBackend) -> dict:
    return backend.fetch("SELECT current_setting('search_path') AS sp, current_setting('application_name') AS app, "
                         "current_setting('statement_timeout') AS st, current_setting('work_mem') AS wm")[0]


def _with_dsn(db, extra: str) -> PostgresBackend:
    sep = "&" if "?" in db.target.dsn else "?"
    return PostgresBackend(dataclasses.replace(db.target, dsn=db.target.dsn + sep + extra))


def test_dsn_options_and_application_name_are_kept(fresh_db):
    db = fresh_db("lambda")
    b = _with_dsn(db, "options=-c%20search_path%3Danalytics%20-c%20statement_timeout%3D0"
                      "&application_name=nightly-report")
    try:
        s = _settings(b)
        assert s["sp"] == "analytics" and s["app"] == "nightly-report (console)"
        assert s["st"] == "5s", "the console's statement_timeout wins over a user's 0"
        with b.connect() as conn:       # the unpooled path too
            assert conn.execute("SHOW search_path").fetchone()[0] == "analytics"
    finally:
        b.close()


def test_pgoptions_and_pgappname_from_the_environment(fresh_db, monkeypatch):
    db = fresh_db("lambda")
    monkeypatch.setenv("PGOPTIONS", "-c work_mem=7MB")
    monkeypatch.setenv("PGAPPNAME", "cron-job")
    b = PostgresBackend(db.target)
    try:
        s = _settings(b)
        assert s["wm"] == "7MB" and s["app"] == "cron-job (console)" and s["st"] == "5s"
    finally:
        b.close()


def test_plain_target_is_tagged_console(fresh_db, monkeypatch):
    monkeypatch.delenv("PGOPTIONS", raising=False)
    monkeypatch.delenv("PGAPPNAME", raising=False)
    db = fresh_db("lambda")
    b = PostgresBackend(db.target)
    try:
        assert _settings(b)["app"] == "console"
    finally:
        b.close()
