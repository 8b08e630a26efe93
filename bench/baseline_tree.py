"""Measuring in another source tree: a benchmark runs itself as a child process whose imports
come from that tree (a baseline commit's export) first and from this one after, so one run
compares the two on the same machine, under the same load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def export_tree(commit: str, folder: Path) -> str:
    """Write ``commit``'s files into ``folder`` (git archive); its short hash."""
    command = ["git", "rev-parse", "--short", commit]
    resolved = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return resolved.stdout.strip()


def tree_env(tree: Path, hash_seed: int | None = None) -> dict[str, str]:
    """The environment of a child measuring ``tree``: its pipeline first, then this tree's
    bench helpers; a fixed string hash seed where outputs are compared."""
    env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{ROOT}")
    if hash_seed is not None:
        env["PYTHONHASHSEED"] = str(hash_seed)
    return env


def child_json(script: str, tree: Path, args: list[str], hash_seed: int | None = None) -> Any:
    """Run ``script --child ARGS`` in ``tree`` and parse the JSON it prints."""
    out = subprocess.run(
        [sys.executable, script, "--child", *args],
        env=tree_env(tree, hash_seed),
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)
