"""Ships the top-level ``sql/`` folder inside the wheel as ``console/sql`` (the repository keeps
one copy, at the top, where DBAs and reviewers look for it). Everything else is in
pyproject.toml."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py


class build_py(_build_py):
    def run(self):
        super().run()
        src = Path(__file__).resolve().parent / "sql"
        if not src.is_dir() or self.editable_mode:
            return
        dest = Path(self.build_lib) / "console" / "sql"
        for path in sorted(src.rglob("*")):
            if path.is_file() and path.suffix in (".sql", ".md"):
                target = dest / path.relative_to(src)
                self.mkpath(str(target.parent))
                self.copy_file(str(path), str(target))


setup(cmdclass={"build_py": build_py})
