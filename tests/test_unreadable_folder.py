"""A folder the crawl may not list (chmod 000) is a failure row, never files that vanish.

Root reads every folder whatever its mode, so as root the crawl runs without the two
capabilities that let it (setpriv drops them from its bounding set): it then meets the folder
as any other user would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import PROJECT_DIR, SCRAPY, archive_env
from tests.newsite import db_rows

SETPRIV = shutil.which("setpriv")
WITHOUT_DAC_OVERRIDE = ["--bounding-set=-dac_override,-dac_read_search", "--"]


def as_ordinary_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    if SETPRIV is None:
        pytest.skip("running as root without setpriv (util-linux): a chmod 000 folder is readable")
    return [SETPRIV, *WITHOUT_DAC_OVERRIDE]


@pytest.fixture
def locked_folder(tmp_path: Path) -> Iterator[Path]:
    inputs = tmp_path / "in"
    locked = inputs / "drafts"
    locked.mkdir(parents=True)
    article = "Harbour reopens\n\nThe harbour of Portmere reopened on Monday after repairs.\n"
    (inputs / "harbour.txt").write_text(article * 3, encoding="utf-8")
    (locked / "secret.txt").write_text("Not to be read.\n", encoding="utf-8")
    locked.chmod(0)
    yield inputs
    locked.chmod(0o755)


def test_a_folder_that_cannot_be_listed_is_a_failure_row(
    locked_folder: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    done = subprocess.run(
        [*as_ordinary_user(), str(SCRAPY), "crawl", "files", "-a", f"path={locked_folder}"],
        cwd=PROJECT_DIR, env=archive_env(archive), capture_output=True, text=True, timeout=180,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert db_rows(archive, "select url from documents") == [
        ((locked_folder / "harbour.txt").as_uri(),)
    ]
    assert db_rows(archive, "select uri, reason from failures") == [
        ((locked_folder / "drafts").as_uri(), "cannot read the folder: Permission denied")
    ]
