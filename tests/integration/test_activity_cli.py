"""`console activity ...` and `console record` / `console replay` against the real server:
the list with filters (text output made visible), cancel/terminate confirmation, refusal
and read-only, statements and replication, and a recording that replays the values it
recorded."""

from __future__ import annotations

import json

from console.cli import main
from console.core.activity import ActivitySource
from console.core.recording import Recorder, Recording, ReplayActivity
from tests.activity_helpers import Victim, active_in, exists, wait_until


def _config(tmp_path, db, *, read_only: bool = False) -> str:
    path = tmp_path / ("ro.toml" if read_only else "c.toml")
    path.write_text(f'environment = "activity-test"\nread_only = {str(read_only).lower()}\n'
                    f'[identity]\nallow_declared = true\n'
                    f'[postgres.pipe]\ndsn = "{db.target.dsn}"\nsystem = "pipe"\n')
    return str(path)


def test_list_json_filter_and_text_is_visible(tmp_path, fresh_db, capsys):
    pg = fresh_db("pipe")
    v = Victim(pg.target.dsn, "cli-victim").start("SELECT pg_sleep(60) /* \x1b]0;owned\x07 */")
    try:
        wait_until(lambda: active_in(pg, v.pid, "pg_sleep"), "pg_sleep running")
        cfg = _config(tmp_path, pg)
        assert main(["--config", cfg, "activity", "--filter", "app:^cli-victim$", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)["pipe"]
        assert [s["pid"] for s in out["sessions"]] == [v.pid] and out["total"] > out["shown"]
        assert out["sessions"][0]["state"] == "active" and "\x1b]0;owned\x07" in out["sessions"][0]["query"]
        assert main(["--config", cfg, "activity", "--min-duration", "3600", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["pipe"]["sessions"] == []
        assert main(["--config", cfg, "activity", "--hide-idle"]) == 0
        text = capsys.readouterr().out
        assert "cli-victim" in text and "\x1b" not in text and "\x07" not in text and "␛]0;owned␇" in text
        assert main(["--config", cfg, "activity", "--filter", "user:("]) == 1
        assert "bad filter regex" in capsys.readouterr().err
    finally:
        v.close(killer=pg)


def test_cancel_needs_yes_terminate_runs_read_only_refuses(tmp_path, fresh_db, capsys, monkeypatch):
    pg = fresh_db("pipe")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    v = Victim(pg.target.dsn).start("SELECT pg_sleep(600)")
    try:
        wait_until(lambda: active_in(pg, v.pid, "pg_sleep"), "pg_sleep running")
        cfg = _config(tmp_path, pg)
        assert main(["--config", cfg, "activity", "cancel", str(v.pid), "--target", "pipe"]) == 4
        out = capsys.readouterr()
        assert "pg_cancel_backend" in out.out and "not confirmed" in out.err
        assert active_in(pg, v.pid, "pg_sleep")
        ro = _config(tmp_path, pg, read_only=True)
        assert main(["--config", ro, "activity", "terminate", str(v.pid), "--target", "pipe", "--yes"]) == 4
        assert "read-only" in capsys.readouterr().err and exists(pg, v.pid)
        assert main(["--config", cfg, "activity", "cancel", str(v.pid), "--target", "pipe", "--yes", "--json"]) == 0
        res = json.loads(capsys.readouterr().out)["results"]
        assert res[0]["outcome"] == "ok" and res[0]["confirmed"] and exists(pg, v.pid)
        own = ActivitySource({pg.name: pg}).sample(pg.name).self_pid
        assert main(["--config", cfg, "activity", "terminate", str(own), "--target", "pipe", "--yes"]) == 4
        assert "console's own" in capsys.readouterr().out
        rows = pg.fetch("SELECT action, outcome FROM console.audit_log WHERE action LIKE 'activity.%' ORDER BY id")
        assert [(r["action"], r["outcome"]) for r in rows] == [("activity.terminate", "refused"), ("activity.cancel", "ok")]
    finally:
        v.close(killer=pg)


def test_statements_and_replication_commands(tmp_path, fresh_db, capsys):
    pg = fresh_db("pipe")
    cfg = _config(tmp_path, pg)
    assert main(["--config", cfg, "activity", "statements", "--interval", "0"]) == 0
    assert "CREATE EXTENSION pg_stat_statements;" in capsys.readouterr().out
    pg.execute("CREATE EXTENSION pg_stat_statements")
    assert main(["--config", cfg, "activity", "statements", "--interval", "0.2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["pipe"]
    assert out["available"] and out["how_to"] is None and out["since_reset"]
    assert main(["--config", cfg, "activity", "replication", "--interval", "0.2", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)["pipe"]
    assert rep["in_recovery"] is False and rep["wal_bytes_s"] is not None and rep["wal_bytes_s"] >= 0


def test_a_recording_replays_the_values_it_recorded(tmp_path, fresh_db):
    from console.core.activity.maintenance import MaintenanceSampler
    from console.core.metrics import PgCollector

    pg = fresh_db("pipe")
    v = Victim(pg.target.dsn, "recorded").start("SELECT pg_sleep(60)")
    path = tmp_path / "rec.sqlite"
    try:
        wait_until(lambda: active_in(pg, v.pid, "pg_sleep"), "pg_sleep running")
        src, coll, maint = ActivitySource({pg.name: pg}), PgCollector(pg), MaintenanceSampler(pg)
        taken = []
        with Recorder(path, interval_s=1) as rec:
            for _ in range(3):
                with rec.tick() as t:
                    a, m, mt = src.sample(pg.name), coll.sample(), maint.sample()
                    t.add("activity", pg.name, a)
                    t.add("metrics.pg", pg.name, m)
                    t.add("maintenance", pg.name, mt)
                    taken.append((a, m, mt))
                wait_until(lambda: src.sample(pg.name).taken_at > taken[-1][0].taken_at, "the server clock to move")
        with Recording(path) as r:
            assert len(r) == 3
            for i, f in enumerate(r.frames()):
                a, m, mt = taken[i]
                assert f.get("activity", pg.name) == a          # every field, types included
                assert f.get("metrics.pg", pg.name) == m
                assert f.get("maintenance", pg.name) == mt
            assert r.first().get("activity", pg.name).row(v.pid).query == "SELECT pg_sleep(60)"
            replay = ReplayActivity(r)
            assert replay.targets == [pg.name]
            r.last()
            assert replay.sample(pg.name) == taken[-1][0]
            r.seek(taken[1][0].taken_at.replace(year=2000))
            assert r.position == 0
            assert [x.rates for x in r.samples("metrics.pg", pg.name)] == [x[1].rates for x in taken]
    finally:
        v.close(killer=pg)


def test_record_and_replay_commands(tmp_path, fresh_db, capsys):
    pg = fresh_db("pipe")
    cfg = _config(tmp_path, pg)
    out = tmp_path / "cli.sqlite"
    assert main(["--config", cfg, "record", "--out", str(out), "--duration", "1", "--interval", "0.5"]) == 0
    assert "recorded 2 ticks" in capsys.readouterr().out
    assert main(["--config", cfg, "replay", str(out), "--json", "--step", "-1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ticks"] == 2 and data["frames"][0]["index"] == 1
    kinds = data["frames"][0]["samples"]
    assert {"activity", "metrics.pg", "maintenance", "statements"} <= set(kinds)
    assert kinds["metrics.pg"]["pipe"]["rates"] is not None      # the second tick has rates
    assert main(["--config", cfg, "replay", str(tmp_path / "nope.sqlite")]) == 1
