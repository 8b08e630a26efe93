"""How to gzip a WARC record: zlib levels against the drop-in faster deflate libraries.

    .venv/bin/python bench/warc_compression.py [--pages DIR] [--rounds 3]

Every record is one gzip member (the WARC convention the archive keeps), so what matters is the
CPU time to compress one record of a typical size and how large the member gets. The records are
real: each HTML page of the dev set (or any folder of ``*.html``) becomes an HTTP response record
built by warcio exactly as the crawl builds it, uncompressed; each candidate then compresses all
of them, and the output is checked to inflate with the standard library's gzip to the same bytes.
Candidates that are not installed are listed as such.
"""

from __future__ import annotations

import argparse
import gzip
import io
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

DEFAULT_PAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "devsets" / "fundus"

Compressor = Callable[[bytes], bytes]


def zlib_member(level: int) -> Compressor:
    def compress(data: bytes) -> bytes:
        packer = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        return packer.compress(data) + packer.flush()

    return compress


def candidates() -> dict[str, Compressor | str]:
    found: dict[str, Compressor | str] = {
        f"zlib {level}": zlib_member(level) for level in (1, 6, 9)
    }
    try:
        from isal import igzip

        for level in (1, 2, 3):
            found[f"isal {level}"] = lambda data, level=level: igzip.compress(data, level)
    except ImportError:
        found["isal"] = "not installed (pip install isal)"
    try:
        from zlib_ng import gzip_ng

        for level in (1, 6):
            found[f"zlib-ng {level}"] = lambda data, level=level: gzip_ng.compress(data, level)
    except ImportError:
        found["zlib-ng"] = "not installed (pip install zlib-ng)"
    return found


def response_record(url: str, body: bytes) -> bytes:
    """One uncompressed WARC response record, as warcio writes it for the crawl."""
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False, warc_version="WARC/1.1")
    http = StatusAndHeaders(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
        protocol="HTTP/1.1",
    )
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)
    writer.write_record(record)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pages = sorted(args.pages.glob("*.html"))
    if not pages:
        raise SystemExit(f"no *.html pages in {args.pages}")
    records = [response_record(f"https://example.org/{p.name}", p.read_bytes()) for p in pages]
    raw = sum(len(r) for r in records)
    print(f"{len(records)} response records, {raw / len(records) / 1024:.0f} kB each on average")
    print(f"{'method':<12} {'ms/record':>10} {'MB/s':>8} {'size %':>8}")
    for name, compress in candidates().items():
        if isinstance(compress, str):
            print(f"{name:<12} {compress}")
            continue
        best = float("inf")
        for _ in range(args.rounds):
            started = time.process_time()
            members = [compress(record) for record in records]
            best = min(best, time.process_time() - started)
        for member, record in zip(members, records, strict=True):
            if gzip.decompress(member) != record:
                raise SystemExit(f"{name}: a member does not inflate to its record")
        size = sum(len(m) for m in members)
        print(
            f"{name:<12} {best * 1000 / len(records):>10.3f} {raw / best / 1e6:>8.1f} "
            f"{100 * size / raw:>8.1f}"
        )


if __name__ == "__main__":
    main()
