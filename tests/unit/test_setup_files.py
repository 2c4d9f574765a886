"""The set-up files a new user relies on: the compose file parses and names the services
the demo has; its sample config is a valid configuration naming the same things; CI runs
the README's test command; nothing outside console/ui imports textual."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import yaml

from console.config import SYSTEMS, load

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_parses_and_names_the_services():
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    # Only the keys both compose v2 and Debian's docker-compose 1.29 accept (1.29 rejects `name`).
    assert set(data) <= {"version", "services", "volumes", "networks"}, set(data)
    services = data["services"]
    assert {"postgres", "redis", "influxdb", "aws"} <= set(services)
    assert services["influxdb"]["image"].startswith("influxdb:2")
    assert services["influxdb"]["environment"]["DOCKER_INFLUXDB_INIT_BUCKET"] == "learning"
    for svc in services.values():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            assert (ROOT / src).exists(), f"compose mounts a missing file {src}"
    dbs = re.findall(r"CREATE DATABASE (\w+);", (ROOT / "docker/postgres-init.sql").read_text())
    assert sorted(dbs) == sorted(SYSTEMS)


def test_compose_sample_config_is_valid_and_matches():
    s = load(ROOT / "docker" / "console.toml", env={})
    assert sorted(t.system for t in s.postgres) == sorted(SYSTEMS)
    assert s.zengin.table == "zengin-data-diff-demo" and s.zengin.bucket == "demo-zengin-diff-data"
    assert s.influx.database == "learning" and s.influx.retention_policy == "autogen"
    assert not s.secrets(), "the sample config must not carry secrets"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/test" in readme.split("\n## ")[0], "the README's top must give the test command"
    assert "./scripts/test" in ci


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_nothing_outside_ui_imports_textual():
    offenders = []
    for path in (ROOT / "console").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("console/ui/") or rel == "console/cli.py":
            continue
        if any(m == "textual" or m.startswith("textual.") for m in _imports(path)):
            offenders.append(rel)
    assert not offenders


def test_import_linter_contracts_hold():
    """The same wall, indirect imports included, from pyproject.toml's contracts."""
    lint = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]


def test_json_shape_is_one_versioned_object_with_error_objects():
    from datetime import datetime, timezone

    from console.commands import json_shape, print_json  # noqa: F401 - print_json uses json_shape
    assert json_shape([1, 2]) == {"version": 1, "items": [1, 2]}
    out = json_shape({"error": "read-only", "kind": "refused", "plan": "x"})
    assert out == {"version": 1, "error": {"kind": "refused", "message": "read-only"}, "plan": "x"}
    assert list(out)[0] == "version"
    assert json_shape({"errors": {"lambda": "unreachable"}})["errors"] == [
        {"source": "lambda", "kind": "error", "message": "unreachable"}]
    from console.commands import _json_default
    assert _json_default(datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)) == "2026-12-01T09:30:00Z"


def test_every_command_help_has_exit_codes_and_usage():
    import io
    from contextlib import redirect_stdout

    from console.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        if name in ("tui", "demo", "completion"):
            continue
        buf = io.StringIO()
        with redirect_stdout(buf):
            p.print_help()
        assert "exit codes:" in buf.getvalue() and f"console {name}" in buf.getvalue(), name
