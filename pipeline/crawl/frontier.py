"""One crawl frontier in Redis, shared by any number of worker processes (``ARCHIVE_REDIS_URL``).

scrapy-redis keeps the queue (a sorted set by priority) and the duplicate filter (a set of request
fingerprints); on its own it pops requests destructively, so a worker killed mid-crawl loses what
it held, and it marks a URL seen and queues it in two commands, so a kill between them loses the
URL. Here every change is one Lua script, atomic in Redis:

- enqueue: mark seen and queue together (a request already in flight may be re-queued, e.g. a
  retry, and leaves this worker's in-flight hash in the same step);
- pop: the request moves from the queue into the worker's in-flight hash, under a token;
- ack: the worker drops the token once the request's item is indexed;
- reap: a worker whose heartbeat key expired is dead; its in-flight requests go back to the
  queue, marked as requeued (a leading ``R``), so the archive can answer those it already holds.

Keys of one frontier share the prefix ``{ARCHIVE_REDIS_PREFIX}:{spider}:{digest of the -a
arguments}``: the same command joins the same frontier, another command gets its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis import Redis

REQUEUED_MARK = b"R"
HEARTBEAT_TTL_MS = 15_000

_ENQUEUE = """
if ARGV[4] == '1' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
if ARGV[5] ~= '' then redis.call('HDEL', KEYS[3], ARGV[5]) end
return 1
"""

_POP = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0)
if #found == 0 then return false end
redis.call('ZREM', KEYS[1], found[1])
redis.call('HSET', KEYS[2], ARGV[1], found[1])
return found[1]
"""

_REQUEUE = """
local entries = redis.call('HGETALL', KEYS[1])
for i = 2, #entries, 2 do
  local member = entries[i]
  if string.sub(member, 1, 1) ~= 'R' then member = 'R' .. member end
  redis.call('ZADD', KEYS[2], 0, member)
end
redis.call('DEL', KEYS[1])
return #entries / 2
"""

# Page budget shared by all workers: each URL digest is admitted once, while fewer than the limit.
_ADMIT = """
local limit = tonumber(ARGV[1])
local answers = {}
for i = 2, #ARGV do
  if redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then
    answers[#answers + 1] = 0
  elseif redis.call('SCARD', KEYS[1]) >= limit then
    answers[#answers + 1] = -1
  else
    redis.call('SADD', KEYS[1], ARGV[i])
    answers[#answers + 1] = 1
  end
end
return answers
"""
ADMITTED, ADMITTED_BEFORE, OVER_BUDGET = 1, 0, -1


class FrontierError(Exception):
    """Redis cannot be reached or used; the message says where."""


def connect(url: str) -> Redis:
    """A client for ``url`` with scrapy-redis's connection defaults, checked with a PING."""
    from scrapy_redis.connection import get_redis
    from scrapy_redis.defaults import REDIS_PARAMS

    server: Redis = get_redis(url=url, **REDIS_PARAMS)
    try:
        server.ping()
    except Exception as error:
        raise FrontierError(f"cannot reach Redis at {url} (ARCHIVE_REDIS_URL): {error}") from None
    return server


def frontier_name(prefix: str, spider: str, args: Mapping[str, Any]) -> str:
    """The key prefix of the frontier that the command ``scrapy crawl SPIDER -a ARGS`` shares."""
    canonical = json.dumps({k: v for k, v in args.items() if v is not None}, sort_keys=True)
    digest = hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:12]
    return f"{prefix}:{spider}:{digest}"


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class FrontierKeys:
    name: str

    @property
    def queue(self) -> str:
        return f"{self.name}:requests"

    @property
    def seen(self) -> str:
        return f"{self.name}:dupefilter"

    @property
    def workers(self) -> str:  # worker id -> JSON (host, pid, crawl id)
        return f"{self.name}:workers"

    @property
    def crawls(self) -> str:  # crawl ids (index rows) of every worker of this frontier
        return f"{self.name}:crawls"

    @property
    def crawl(self) -> str:  # the first worker's crawl id: the crawl all workers make together
        return f"{self.name}:crawl"

    @property
    def admitted(self) -> str:  # page budget (max_pages): digests of the URLs admitted so far
        return f"{self.name}:admitted"

    @property
    def seeded(self) -> str:
        return f"{self.name}:seeded"

    @property
    def seeding(self) -> str:
        return f"{self.name}:seeding"

    @property
    def reaps(self) -> str:  # counter: how often in-flight requests were requeued
        return f"{self.name}:reaps"

    def inflight(self, worker: str) -> str:
        return f"{self.name}:inflight:{worker}"

    def alive(self, worker: str) -> str:
        return f"{self.name}:alive:{worker}"

    def reaping(self, worker: str) -> str:
        return f"{self.name}:reaping:{worker}"

    def all_fixed(self) -> list[str]:
        return [
            self.queue,
            self.seen,
            self.workers,
            self.crawls,
            self.crawl,
            self.admitted,
            self.seeded,
            self.seeding,
        ]


@dataclass(frozen=True)
class WorkerInfo:
    worker: str
    host: str
    pid: int
    crawl_id: int | None


class Frontier:
    """The Redis side of one shared frontier, seen from one worker."""

    def __init__(
        self,
        server: Redis,
        name: str,
        worker: str | None = None,
        *,
        timeout_ms: int = HEARTBEAT_TTL_MS,
    ) -> None:
        self.server = server
        self.timeout_ms = timeout_ms
        self.keys = FrontierKeys(name)
        self.worker = worker or new_worker_id()
        self._enqueue = server.register_script(_ENQUEUE)
        self._pop = server.register_script(_POP)
        self._requeue = server.register_script(_REQUEUE)
        self._admit = server.register_script(_ADMIT)
        self._tokens = 0

    # -- queue ---------------------------------------------------------------------------------

    def push(
        self, fingerprint: str, score: int, data: bytes, *, filter_seen: bool, token: str
    ) -> bool:
        """Queue ``data`` unless its fingerprint was seen; ``token`` (if any) leaves in-flight."""
        keys = [self.keys.seen, self.keys.queue, self.keys.inflight(self.worker)]
        args: list[str | int | bytes] = [
            fingerprint,
            score,
            data,
            "1" if filter_seen else "0",
            token,
        ]
        return bool(self._enqueue(keys=keys, args=args))

    def pop(self) -> tuple[str, bytes] | None:
        """The next request's (token, data), now held in this worker's in-flight hash."""
        self._tokens += 1
        token = str(self._tokens)
        data = self._pop(keys=[self.keys.queue, self.keys.inflight(self.worker)], args=[token])
        return None if data is None else (token, bytes(data))

    def ack(self, tokens: list[str]) -> None:
        if tokens:
            self.server.hdel(self.keys.inflight(self.worker), *tokens)

    def queued(self) -> int:
        return int(self.server.zcard(self.keys.queue))

    def inflight_count(self, worker: str | None = None) -> int:
        return int(self.server.hlen(self.keys.inflight(worker or self.worker)))

    def admit(self, keys: list[str], limit: int) -> list[int]:
        """Count ``keys`` (canonical URLs) against the crawl's page budget, across all workers:
        per key ADMITTED (now, by this call), ADMITTED_BEFORE (by any worker) or OVER_BUDGET."""
        if not keys:
            return []
        digests = [hashlib.sha1(key.encode("utf-8")).hexdigest() for key in keys]
        answers = self._admit(keys=[self.keys.admitted], args=[limit, *digests])
        return [int(answer) for answer in answers]

    def admitted_count(self) -> int:
        return int(self.server.scard(self.keys.admitted))

    # -- workers -------------------------------------------------------------------------------

    def register(self, crawl_id: int | None) -> int | None:
        """Announce this worker; the shared crawl id: the first registered worker's crawl id."""
        info = {"host": socket.gethostname(), "pid": os.getpid(), "crawl_id": crawl_id}
        pipe = self.server.pipeline()
        pipe.hset(self.keys.workers, self.worker, json.dumps(info))
        if crawl_id is not None:
            pipe.sadd(self.keys.crawls, crawl_id)
            pipe.set(self.keys.crawl, crawl_id, nx=True)
        pipe.set(self.keys.alive(self.worker), "1", px=self.timeout_ms)
        pipe.get(self.keys.crawl)
        shared = pipe.execute()[-1]
        return None if shared is None else int(shared)

    def heartbeat(self) -> None:
        self.server.set(self.keys.alive(self.worker), "1", px=self.timeout_ms)

    def workers(self) -> list[WorkerInfo]:
        found = []
        for worker, raw in self.server.hgetall(self.keys.workers).items():
            info = json.loads(raw)
            name = worker.decode() if isinstance(worker, bytes) else str(worker)
            found.append(WorkerInfo(name, str(info["host"]), int(info["pid"]), info["crawl_id"]))
        return found

    def is_alive(self, worker: str) -> bool:
        return bool(self.server.exists(self.keys.alive(worker)))

    def dead_workers(self) -> list[WorkerInfo]:
        return [info for info in self.workers() if not self.is_alive(info.worker)]

    def claim_reap(self, worker: str) -> bool:
        """One live worker at a time takes care of a dead one."""
        return bool(self.server.set(self.keys.reaping(worker), self.worker, nx=True, px=120_000))

    def release_reap(self, worker: str) -> None:
        self.server.delete(self.keys.reaping(worker))

    def requeue(self, worker: str) -> int:
        """Put ``worker``'s in-flight requests back into the queue, marked as requeued."""
        count = int(self._requeue(keys=[self.keys.inflight(worker), self.keys.queue]))
        if count:
            self.server.incr(self.keys.reaps)
        return count

    def forget(self, worker: str) -> None:
        pipe = self.server.pipeline()
        pipe.hdel(self.keys.workers, worker)
        pipe.delete(self.keys.alive(worker), self.keys.reaping(worker))
        pipe.execute()

    def reap_count(self) -> int:
        return int(self.server.get(self.keys.reaps) or 0)

    def crawl_ids(self) -> list[int]:
        return sorted(int(value) for value in self.server.smembers(self.keys.crawls))

    # -- seeding and the end ------------------------------------------------------------------

    def claim_seeding(self) -> bool:
        """True when this worker is to seed the frontier: the first one, or the heir of a
        seeder that died before it finished."""
        if self.server.exists(self.keys.seeded):
            return False
        if self.server.set(self.keys.seeding, self.worker, nx=True):
            return True
        holder = self.server.get(self.keys.seeding)
        seeder = holder.decode() if isinstance(holder, bytes) else str(holder or "")
        if seeder and not self.is_alive(seeder):
            self.server.set(self.keys.seeding, self.worker)
            return True
        return False

    def mark_seeded(self) -> None:
        self.server.set(self.keys.seeded, time.time())

    def is_seeded(self) -> bool:
        return bool(self.server.exists(self.keys.seeded))

    def busy_workers(self) -> list[str]:
        """Workers holding requests in flight (live or dead but not yet reaped)."""
        return [info.worker for info in self.workers() if self.inflight_count(info.worker)]

    def drop(self) -> None:
        """Delete the frontier: the crawl is over, the same command starts a new one."""
        self.server.delete(*self.keys.all_fixed(), self.keys.reaps)
