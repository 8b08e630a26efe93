"""Politeness across workers: ARCHIVE_REDIS_HOST_DELAY spaces the requests of all workers of a
shared frontier to one host, measured where they arrive (a loopback server in this process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.crawl_run import archive_env
from bench.scale_workers import redis_prefix, run_workers, worker_env
from tests.pgdb import fresh_postgres_database
from tests.test_scale_out import redis_test_url

PAGES = 12
DELAY_S = 0.3


class _ArrivalServer(ThreadingHTTPServer):
    daemon_threads = True
    arrivals: list[float]
    lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    server: _ArrivalServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.arrivals.append(time.monotonic())
        if self.path == "/":
            links = "".join(f'<li><a href="/p{n}.html">page {n}</a></li>' for n in range(PAGES))
            body = f"<html><head><title>Hub</title></head><body><ul>{links}</ul></body></html>"
        else:
            words = " ".join(f"word{n}" for n in range(80))
            body = (
                f"<html><head><title>{self.path}</title></head><body><p>{words}</p></body></html>"
            )
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def arrival_server() -> Iterator[_ArrivalServer]:
    server = _ArrivalServer(("127.0.0.1", 0), _Handler)
    server.arrivals, server.lock = [], threading.Lock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_shared_host_delay_spaces_the_requests_of_all_workers(tmp_path: Path) -> None:
    redis_url = redis_test_url()
    with (
        fresh_postgres_database("nv_politeness") as db_url,
        redis_prefix(redis_url) as prefix,
        arrival_server() as server,
    ):
        env = worker_env(archive_env(tmp_path / "archive", db_url, workers=1), redis_url, prefix)
        env["ARCHIVE_REDIS_HOST_DELAY"] = str(DELAY_S)
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        args = {"url": base, "max_depth": "1", "max_pages": str(PAGES + 1)}
        run = run_workers(2, args, env, tmp_path / "run", timeout=120)
        arrivals = sorted(server.arrivals)
    assert run.codes() == [0, 0], run.logs_tail()
    assert len(arrivals) == PAGES + 1, run.logs_tail()
    # Every request after the first took a slot at least DELAY_S after the one before; only the
    # first one's way from its slot to the server (milliseconds) may shorten the span.
    span = arrivals[-1] - arrivals[0]
    assert span >= (PAGES - 1) * DELAY_S, f"{PAGES + 1} requests within {span:.2f} s"
