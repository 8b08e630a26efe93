"""The sample archives pywb ships in its source distribution on PyPI, imported as a user would.

Sixteen files written by other tools (wget 1.14, wpull, Heritrix-style ARC and ARC.gz, a "bad"
ARC, uncompressed WARCs, a record with no status text, revisits, POST requests): every record
warcio reads must become a capture where the file lies, `verify` must pass and `reindex` must
rebuild the same captures. The sdist is fetched with pip; without a reachable package index the
test is skipped with that reason (CI, which installs pywb itself, always has one).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.newsite import crawl
from tests.test_warc_import_wild import assert_every_record_kept, reindex_keeps_captures, verify

PYWB = "pywb>=2.8,<3"
ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
SAMPLES_SHIPPED = 16  # pywb 2.8-2.10: sample_archive/warcs/


@pytest.fixture(scope="module")
def pywb_samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    download = tmp_path_factory.mktemp("pywb-sdist")
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:"]
    fetched = subprocess.run(
        [*pip, "--no-deps", PYWB, "-d", str(download)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    sdists = sorted(download.glob("pywb-*.tar.gz"))
    if fetched.returncode != 0 or not sdists:
        reason = (fetched.stderr.strip().splitlines() or ["no sdist"])[-1]
        pytest.skip(f"pywb's source distribution could not be fetched from the index: {reason}")
    samples = tmp_path_factory.mktemp("pywb-samples")
    with tarfile.open(sdists[-1]) as sdist:
        for member in sdist.getmembers():
            name = Path(member.name).name
            wanted = "/sample_archive/warcs/" in member.name and name.endswith(ARCHIVE_SUFFIXES)
            if wanted and member.isfile():
                source = sdist.extractfile(member)
                assert source is not None
                (samples / name).write_bytes(source.read())
    return sorted(samples.iterdir())


def test_every_record_of_pywbs_sample_archives_is_kept(
    pywb_samples: list[Path], tmp_path: Path
) -> None:
    assert len(pywb_samples) == SAMPLES_SHIPPED, [p.name for p in pywb_samples]
    inputs = tmp_path / "in"
    inputs.mkdir()
    for sample in pywb_samples:
        shutil.copy(sample, inputs / sample.name)
    archive = tmp_path / "archive"
    crawl("warc", archive, "-a", f"path={inputs}")
    assert_every_record_kept(archive, *sorted(inputs.iterdir()))
    verify(archive)
    reindex_keeps_captures(archive)
