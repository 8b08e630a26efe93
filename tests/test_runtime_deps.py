"""The product runs with its runtime dependencies alone: no module imports a test-only package."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IMPORT_EVERYTHING_WITHOUT = """
import importlib, pkgutil, sys
blocked = set(sys.argv[1:])

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ImportError(f"test-only package imported at run time: {name}")
        return None

sys.meta_path.insert(0, Blocker())
import pipeline, spiders
for package in (pipeline, spiders):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
"""


def test_modules_import_without_test_extras() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    test_only = [
        re.split(r"[<>=\[ ]", requirement)[0].replace("-", "_")
        for requirement in project["optional-dependencies"]["test"]
    ]
    assert "pytest" in test_only
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING_WITHOUT, *test_only],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
