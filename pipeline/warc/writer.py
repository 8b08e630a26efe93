"""WARC writing with warcio: a rotating, thread-safe writer (records: pipeline.warc.records).

Each record is gzip-compressed into memory first (one gzip member per record), so its offset
and length are known before it touches the file, rotation can be decided on its real size, and
a failed write is truncated away instead of leaving half a member behind.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from pipeline.warc import records
from pipeline.warc.records import (
    CONFORMS_TO,
    HTTP_REQUEST_TYPE,
    HTTP_RESPONSE_TYPE,
    REVISIT_PROFILE,
    WARC_VERSION,
    warcinfo_fields,
)
from pipeline.warc.recovery import file_name_host
from pipeline.warc.ref import RecordRef

__all__ = [
    "CONFORMS_TO",
    "HTTP_REQUEST_TYPE",
    "HTTP_RESPONSE_TYPE",
    "OPEN_SUFFIX",
    "REVISIT_PROFILE",
    "WARC_VERSION",
    "WarcWriteError",
    "WarcWriter",
    "warcinfo_fields",
]

OPEN_SUFFIX = ".open"
_PREFIX = re.compile(r"[A-Za-z0-9._]+(-[A-Za-z0-9._]+)*")


class WarcWriteError(Exception):
    """The WARC file could not be written (closed writer, I/O failure); the message says which."""


class WarcWriter:
    """Rotating, thread-safe WARC/1.1 writer; every write is flushed before it returns."""

    def __init__(
        self,
        directory: Path,
        *,
        prefix: str = "newsvault",
        max_size: int = 1_000_000_000,
        warcinfo: Mapping[str, str] | None = None,
        host: str | None = None,
        pid: int | None = None,
        clock: Callable[[], datetime] | None = None,
        record_id_factory: Callable[[], str] | None = None,
    ) -> None:
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"WARC prefix must be letters, digits, '.', '_' or '-': {prefix!r}")
        if max_size <= 0:
            raise ValueError(f"max_size must be positive, got {max_size}")
        self._directory = Path(directory)
        self._prefix = prefix
        self._max_size = max_size
        self._info = dict(warcinfo or {})
        self._hostname = host or socket.gethostname()
        warcinfo_fields(prefix, self._hostname, self._info)  # bad fields fail here, not mid-crawl
        # Recovery reads host and pid back from the name to tell a dead writer's files.
        self._host = file_name_host(self._hostname)
        self._pid = os.getpid() if pid is None else pid
        self._clock = clock or records.utc_now
        self._new_id = record_id_factory or records.new_record_id
        self._lock = threading.Lock()
        self._fh: io.FileIO | None = None
        self._name: str | None = None
        self._serial = -1
        self._in_file = 0  # records after the warcinfo in the current file
        self._bytes = 0
        self._files: list[str] = []
        self._closed = False

    @property
    def current_name(self) -> str | None:
        return self._name

    @property
    def bytes_written(self) -> int:
        return self._bytes

    @property
    def files(self) -> list[str]:
        return list(self._files)

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._finish_file()

    # -- writers -------------------------------------------------------------------------

    def write_resource(
        self,
        uri: str,
        payload: bytes,
        *,
        content_type: str | None,
        date: datetime | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RecordRef:
        extra = records.resource_extra(extra_headers)
        ctype = content_type or "application/octet-stream"
        return self._write("resource", uri, date, extra, payload, ctype)

    def write_request(
        self,
        uri: str,
        *,
        method: str,
        target: str,
        headers: Sequence[tuple[str, str]],
        body: bytes = b"",
        http_version: str = "HTTP/1.1",
        date: datetime | None = None,
        concurrent_to: str | None = None,
    ) -> RecordRef:
        records.check_http_uri(uri)
        http = records.http_head(records.request_headers(method, target, headers, http_version))
        extra = (
            [("WARC-Concurrent-To", records.check_record_id(concurrent_to))]
            if concurrent_to
            else []
        )
        return self._write("request", uri, date, extra, body, HTTP_REQUEST_TYPE, http)

    def write_response(
        self,
        uri: str,
        *,
        status: int,
        reason: str,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        http_version: str = "HTTP/1.1",
        date: datetime | None = None,
        ip_address: str | None = None,
    ) -> RecordRef:
        records.check_http_uri(uri)
        http = records.http_head(
            records.status_headers(status, reason, headers, len(body), http_version)
        )
        extra = [("WARC-IP-Address", ip_address)] if ip_address else []
        ref = self._write("response", uri, date, extra, body, HTTP_RESPONSE_TYPE, http)
        return records.with_status(ref, status)

    def write_wire_response(
        self,
        uri: str,
        *,
        head: bytes,
        body: bytes,
        status: int,
        date: datetime | None = None,
        ip_address: str | None = None,
    ) -> RecordRef:
        """A response record whose HTTP head is ``head``, byte for byte (as received)."""
        records.check_http_uri(uri)
        http = records.wire_head(head)
        extra = [("WARC-IP-Address", ip_address)] if ip_address else []
        ref = self._write("response", uri, date, extra, body, HTTP_RESPONSE_TYPE, http)
        return records.with_status(ref, status)

    def write_wire_request(
        self,
        uri: str,
        *,
        head: bytes,
        body: bytes = b"",
        date: datetime | None = None,
        concurrent_to: str | None = None,
    ) -> RecordRef:
        """A request record whose HTTP head is ``head``, byte for byte (as sent)."""
        records.check_http_uri(uri)
        http = records.wire_head(head)
        extra = (
            [("WARC-Concurrent-To", records.check_record_id(concurrent_to))]
            if concurrent_to
            else []
        )
        return self._write("request", uri, date, extra, body, HTTP_REQUEST_TYPE, http)

    def write_wire_revisit(
        self,
        uri: str,
        *,
        original: RecordRef,
        head: bytes,
        status: int,
        date: datetime | None = None,
    ) -> RecordRef:
        """An HTTP revisit whose HTTP head is ``head``, byte for byte (as received)."""
        records.check_http_uri(uri)
        extra = records.revisit_extra(original)
        http = records.wire_head(head)
        ref = self._write("revisit", uri, date, extra, b"", HTTP_RESPONSE_TYPE, http)
        return records.with_status(ref, status)

    def write_revisit(
        self,
        uri: str,
        *,
        original: RecordRef,
        status: int | None = None,
        reason: str = "",
        headers: Sequence[tuple[str, str]] = (),
        date: datetime | None = None,
        resource: bool = False,
    ) -> RecordRef:
        extra = records.revisit_extra(original)
        if resource:
            return self._write("revisit", uri, date, extra, b"", None)
        records.check_http_uri(uri)
        status, parsed = records.revisit_http(original, status, reason, headers)
        ref = self._write(
            "revisit", uri, date, extra, b"", HTTP_RESPONSE_TYPE, records.http_head(parsed)
        )
        return records.with_status(ref, status)

    def write_conversion(
        self, uri: str, text: str, *, refers_to: str, date: datetime | None = None
    ) -> RecordRef:
        extra, block, content_type = records.conversion_parts(uri, text, refers_to)
        return self._write("conversion", uri, date, extra, block, content_type)

    def write_metadata(
        self,
        uri: str,
        fields: Mapping[str, Any],
        *,
        refers_to: str | None,
        date: datetime | None = None,
    ) -> RecordRef:
        extra, block, content_type = records.metadata_parts(uri, fields, refers_to)
        return self._write("metadata", uri, date, extra, block, content_type)

    def place(self, prepared: records.PreparedRecord) -> RecordRef:
        """Append a record built elsewhere (records.prepare_record), flushed before it returns."""
        name, offset = self._place(prepared.member, prepared.what)
        return records.record_ref(
            prepared.headers, name, offset, len(prepared.member), prepared.stamp
        )

    # -- internals -------------------------------------------------------------------------

    def _write(
        self,
        rtype: str,
        uri: str,
        when: datetime | None,
        extra: list[tuple[str, str]],
        block: bytes,
        content_type: str | None,
        http: bytes | None = None,
    ) -> RecordRef:
        records.check_uri(uri)  # before the clock and the id factory are asked, as always
        stamp = records.utc(self._clock() if when is None else when)
        prepared = records.prepare_record(
            rtype, uri, stamp, self._new_id(), extra, block, content_type, http
        )
        return self.place(prepared)

    def _place(self, member: bytes, what: str) -> tuple[str, int]:
        """Append one record's member, rotating first if it would overflow a non-empty file."""
        with self._lock:
            if self._closed:
                raise WarcWriteError(f"WARC writer is closed; cannot write {what}")
            if self._fh is None or (
                self._in_file and self._fh.tell() + len(member) > self._max_size
            ):
                self._finish_file()
                self._open_next()
            offset = self._append(member)
            self._in_file += 1
            return str(self._name), offset

    def _append(self, member: bytes) -> int:
        fh = self._fh
        assert fh is not None
        offset = fh.tell()
        try:
            view = memoryview(member)
            while view:
                view = view[fh.write(view) or 0 :]
            fh.flush()
        except OSError as exc:
            # Cut the partial member off so the file stays a valid sequence of records.
            try:
                os.ftruncate(fh.fileno(), offset)
                fh.seek(offset)
            except OSError:
                pass
            raise WarcWriteError(f"cannot write to WARC file {fh.name}: {exc}") from exc
        self._bytes += len(member)
        return offset

    def _open_next(self) -> None:
        stamp = records.utc(self._clock())
        ts = stamp.strftime("%Y%m%d%H%M%S") + f"{stamp.microsecond // 1000:03d}"
        fh, name = self._create_file(ts)
        try:
            member = records.compress(self._warcinfo_record(name, stamp).data)
            self._fh, self._name, self._in_file = fh, name, 0
            self._append(member)
        except BaseException:
            # A file without its warcinfo must not receive records: drop it.
            self._fh = self._name = None
            fh.close()
            with contextlib.suppress(OSError):
                os.unlink(f"{self._directory / name}{OPEN_SUFFIX}")
            raise
        self._files.append(name)

    def _create_file(self, ts: str) -> tuple[io.FileIO, str]:
        try:
            self._directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise WarcWriteError(f"cannot create WARC directory {self._directory}: {exc}") from exc
        for _ in range(1000):
            self._serial += 1
            name = f"{self._prefix}-{ts}-{self._serial:05d}-{self._host}-{self._pid}.warc.gz"
            path = self._directory / name
            if path.exists():
                continue  # another writer with the same clock tick: never overwrite
            try:
                # Unbuffered: every write reaches the OS at once, and a failed one can be cut off.
                return open(f"{path}{OPEN_SUFFIX}", "xb", buffering=0), name
            except FileExistsError:
                continue
            except OSError as exc:
                raise WarcWriteError(f"cannot create WARC file {path}{OPEN_SUFFIX}: {exc}") from exc
        raise WarcWriteError(f"no free WARC file name in {self._directory} for {ts}")

    def _warcinfo_record(self, name: str, stamp: datetime) -> records.BuiltRecord:
        fields = warcinfo_fields(self._prefix, self._hostname, self._info)
        record_id = records.check_record_id(self._new_id(), "record_id_factory result")
        return records.warcinfo_record(fields, record_id, stamp, name)

    def _finish_file(self) -> None:
        fh, name = self._fh, self._name
        if fh is None or name is None:
            return
        self._fh = self._name = None
        final = self._directory / name
        try:
            fh.close()
            os.rename(f"{final}{OPEN_SUFFIX}", final)
        except OSError as exc:
            raise WarcWriteError(f"cannot finish WARC file {final}: {exc}") from exc
