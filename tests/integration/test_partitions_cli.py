"""`console partitions list|ensure` end to end on real databases: JSON, exit codes,
dry run, idempotence, read-only refusal."""

from __future__ import annotations

import json

from console.cli import main
from console.core.partitions import add_months

from .test_partitions_maintain import CUR, SPECS, make_partitions


def _config(tmp_path, *backends, read_only=False):
    path = tmp_path / "c.toml"
    body = f"read_only = {'true' if read_only else 'false'}\n"
    for b in backends:
        body += f'[postgres.{b.target.system}]\ndsn = "{b.target.dsn}"\nsystem = "{b.target.system}"\n'
    path.write_text(body)
    return str(path)


def test_list_and_ensure_twice(tmp_path, fresh_db, capsys):
    lam = fresh_db("lambda")
    acc = fresh_db("accesslog")
    make_partitions(lam, SPECS[0], [add_months(CUR, -1)])
    make_partitions(acc, SPECS[1], [add_months(CUR, k) for k in range(-8, 1)])
    cfg = _config(tmp_path, lam, acc)

    assert main(["--config", cfg, "partitions", "list", "--json"]) == 0
    listed = {t["table"] + "@" + t["target"]: t for t in json.loads(capsys.readouterr().out)["tables"]}
    rl = listed["public.request_logs@lambda"]
    assert rl["horizon_months"] == 0 and len(rl["missing_ahead"]) == 4 and rl["default_rows"] == {}
    assert rl["children"][0]["name"] == SPECS[0].name(add_months(CUR, -1))

    assert main(["--config", cfg, "partitions", "ensure", "--target", "accesslog", "--retention", "3",
                 "--dry-run"]) == 3                               # findings: a dry run with steps
    text = capsys.readouterr().out
    assert "DROP TABLE" in text and "ATTACH PARTITION" in text and "lambda" not in text
    assert len(acc.fetch("SELECT 1 FROM pg_inherits i WHERE i.inhparent = 'public.access_logs'::regclass")) == 10

    # the plan drops partitions: without --yes nothing runs
    assert main(["--config", cfg, "partitions", "ensure", "--retention", "3", "--json"]) == 4
    refused = json.loads(capsys.readouterr().out)
    assert refused["error"]["kind"] == "refused" and "--yes" in refused["error"]["message"]
    assert len(acc.fetch("SELECT 1 FROM pg_inherits i WHERE i.inhparent = 'public.access_logs'::regclass")) == 10

    assert main(["--config", cfg, "partitions", "ensure", "--retention", "3", "--yes", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and {s["kind"] for s in out["steps"]} >= {"create", "detach", "drop", "fk_check"}
    assert main(["--config", cfg, "partitions", "ensure", "--retention", "3", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["plan"] == [] and again["dry_run"] is False


def test_ensure_refused_in_read_only_and_exit_code(tmp_path, fresh_db, capsys):
    lam = fresh_db("lambda")
    cfg = _config(tmp_path, lam)
    assert main(["--config", cfg, "--read-only", "partitions", "ensure", "--json"]) == 4
    out = json.loads(capsys.readouterr().out)
    assert out["error"]["kind"] == "refused" and out["plan"]
    assert lam.fetch("SELECT outcome FROM console.audit_log WHERE action = 'partitions.maintain'") == \
        [{"outcome": "refused"}]       # an audited refusal, nothing else
    # a dry run is allowed read-only
    assert main(["--config", cfg, "--read-only", "partitions", "ensure", "--dry-run"]) == 3


def test_list_piped_is_never_cut_and_shows_interval_and_range(tmp_path, fresh_db, capsys):
    """#14.10: without a terminal the table was cut to 80 columns (`acc…`); the range showed
    the exclusive end month as if it were covered."""
    acc = fresh_db("accesslog")
    make_partitions(acc, SPECS[1], [add_months(CUR, k) for k in range(-2, 1)])
    cfg = _config(tmp_path, acc)
    assert main(["--config", cfg, "partitions", "list"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "public.access_logs" in line)
    assert "…" not in row.replace(" … ", "")          # nothing elided (the range's own "…" aside)
    first, last = add_months(CUR, -2), CUR
    assert f"{first:%Y-%m} … {last:%Y-%m}" in row and "monthly" in row
    assert "3 month(s) missing ahead" in row
