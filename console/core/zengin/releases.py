"""Other releases of the ``zengin-code`` package as zengin sources: the data a wheel ships
(``zengin_code/source-data/data/banks.json`` and ``branches/<bank>.json``), read straight
from the wheel file without installing it. Used by the tests and the benchmark to replay
the real change between two releases of the Japanese bank master data."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

from .generator import SourceError, check_source

DATA = "zengin_code/source-data/data/"


def load_wheel(path: str | Path) -> tuple[dict[str, Any], str]:
    """``(source, data version)`` of a zengin-code wheel."""
    try:
        with zipfile.ZipFile(path) as z:
            banks = json.loads(z.read(DATA + "banks.json").decode("utf-8"))
            version = z.read(DATA + "updated_at").decode("utf-8").strip()
            source: dict[str, Any] = {}
            for code, b in banks.items():
                try:
                    branches = json.loads(z.read(f"{DATA}branches/{code}.json").decode("utf-8") or "{}")
                except KeyError:
                    branches = {}
                source[code] = {"code": b.get("code", code), "name": b.get("name"), "kana": b.get("kana"),
                                "hira": b.get("hira"), "roma": b.get("roma"),
                                "branches": {bc: {"code": br.get("code", bc), "name": br.get("name"),
                                                  "kana": br.get("kana"), "hira": br.get("hira"),
                                                  "roma": br.get("roma")} for bc, br in (branches or {}).items()}}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise SourceError(f"{path}: not a zengin-code wheel: {type(exc).__name__}: {exc}") from None
    check_source(source, str(path))
    return source, version


def download(version: str, dest: str | Path, *, timeout_s: float = 300) -> Path:
    """``pip download zengin_code==VERSION`` (no dependencies) into ``dest``; the wheel's
    path. Reuses a wheel already there. Raises SourceError when pip cannot get it."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    found = sorted(dest.glob(f"zengin_code-{version}-*.whl"))
    if found:
        return found[0]
    try:
        p = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                            "--disable-pip-version-check", "-q", "-d", str(dest), f"zengin_code=={version}"],
                           capture_output=True, text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceError(f"pip download zengin_code=={version}: {exc}") from None
    found = sorted(dest.glob(f"zengin_code-{version}-*.whl"))
    if p.returncode != 0 or not found:
        raise SourceError(f"pip download zengin_code=={version} failed: {(p.stderr or p.stdout).strip()[-300:]}")
    return found[0]
