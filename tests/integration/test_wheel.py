"""The built wheel works outside the repository: it carries sql/ (schema commands find it
from the installed package), `console --version` answers, and `schema check` / `status` run
against the test stack from a fresh virtual environment with a non-editable install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _uv() -> str:
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("uv is missing: scripts/test installs it into the venv")
        pytest.skip("uv is not installed (scripts/test installs it)")
    return uv


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    uv = _uv()
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    # Build from a copy of the tracked tree, so nothing of the checkout (a .venv, data) leaks in.
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()
    for rel in files:
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    dist = work / "dist"
    subprocess.run([uv, "build", "--wheel", "--quiet", "-o", str(dist), str(src)], check=True, timeout=600)
    (wheel,) = dist.glob("console-*.whl")
    venv = work / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True, timeout=120)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
                   check=True, timeout=600)
    return wheel, venv


def _run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSOLE_", "PYTHON"))}
    return subprocess.run([str(venv / "bin" / "console"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_wheel_carries_sql(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    expected = {f"console/sql/{p.relative_to(ROOT / 'sql').as_posix()}" for p in (ROOT / "sql").rglob("*.sql")}
    assert expected and expected <= set(names), sorted(expected - set(names))[:5]


def test_installed_console_runs_schema_commands(installed, fresh_db, tmp_path):
    _, venv = installed
    assert not (venv / "lib").joinpath("console").exists()
    version = _run(venv, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("console "), version.stderr

    db = fresh_db("lambda", migrated=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[postgres.lam]\ndsn = "{db.target.dsn}"\nsystem = "lambda"\n')
    mig = _run(venv, "--config", str(cfg), "schema", "migrate", cwd=tmp_path)
    assert mig.returncode == 0, mig.stdout + mig.stderr
    check = _run(venv, "--config", str(cfg), "schema", "check", cwd=tmp_path)
    assert check.returncode == 0 and "clean" in check.stdout, check.stdout + check.stderr
    status = _run(venv, "--config", str(cfg), "status", cwd=tmp_path)
    assert status.returncode == 0 and "lam" in status.stdout, status.stdout + status.stderr
    # the sql/ it used is the installed copy, not this checkout's
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "from console.core.migrate import sql_root; print(sql_root())"],
                           cwd=tmp_path, capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    assert str(venv) in where.stdout and str(ROOT) not in where.stdout
