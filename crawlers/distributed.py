"""Distributed crawling: any number of crawler processes share one Redis frontier per source.

scrapy-redis provides the shared request queue (a Redis sorted set by priority) and the
shared duplicate filter (a Redis set of request fingerprints). Three things it does not do
for us, added here as small subclasses rather than a fork:

* Seeds are enqueued once per round. Every process runs the same spiders, so every process
  yields the same feed or sitemap from ``start()``; the first to claim a seed in Redis
  enqueues it and the others drop it. (Seeds are ``dont_filter`` so that a redirect loop is
  reported, which is why the duplicate filter cannot do this.)
* A process stops only when the whole round is done. A process with nothing to do waits
  while the queue holds requests or another process still holds one (its callback may yield
  more); each request is moved from the queue to "held by worker W" in one atomic step, and
  W marks itself free only when Scrapy reports it idle (all its follow-up requests pushed).
  A worker that stops heart-beating (killed) is dropped after COOPWATCH_WORKER_TIMEOUT.
  The last worker out deletes the round's keys, so the next crawl starts a fresh round.
* The duplicate filter stores Scrapy's own 20-byte request fingerprints, not scrapy-redis's
  40-character hex digests: exact, and about 40% less memory per URL (see the README).

Compatibility with Scrapy 2.19 (checked with scrapy-redis 0.9.1): its Scheduler and
RFPDupeFilter work; its stats calls pass the deprecated ``spider=`` argument (overridden
here), and its spiders (RedisSpider: start_requests/next_requests) are not used at all.
Requests are pickled into Redis, as scrapy-redis does: Redis must be reachable only by the
crawlers (private network, password or ACL).
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from typing import Any, Optional

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from scrapy.spiders import Spider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.internet import task

from crawlers.pipelines import IngestPipeline
from pipeline.ingest.runtime import shared_engine
from pipeline.core.schema import Item

logger = logging.getLogger(__name__)


class RedisUnavailable(RuntimeError):
    """The shared frontier cannot be reached; a distributed crawl cannot start."""


def distributed_settings(settings: BaseSettings) -> dict[str, Any]:
    """Scrapy settings that put every spider's frontier in Redis under COOPWATCH_REDIS_PREFIX."""
    prefix = settings.get("COOPWATCH_REDIS_PREFIX", "coopwatch")
    return {
        "SCHEDULER": "crawlers.distributed.RoundScheduler",
        "DUPEFILTER_CLASS": "crawlers.distributed.FingerprintDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "crawlers.distributed.HoldingPriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{prefix}:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:%(spider)s:dupefilter",
        "SCHEDULER_PERSIST": True,  # other workers may still be using the queue
        "ITEM_PIPELINES": {"crawlers.distributed.DistributedIngestPipeline": 300},
    }


def check_redis(url: str) -> None:
    """Raise RedisUnavailable with the reason when the Redis server does not answer."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        raise RedisUnavailable(f"Redis at {url} is unreachable: {exc}") from exc


# Redis' own clock (TIME) is used for heartbeats, so machines with skewed clocks agree.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "

# KEYS: queue, workers. ARGV: worker. Pop the first request and mark the worker as holding it.
_POP_AND_HOLD = _NOW + """
local top = redis.call('ZRANGE', KEYS[1], 0, 0)
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
redis.call('ZADD', KEYS[2], now, ARGV[1])
return top[1]
"""

# KEYS: queue, workers, dupefilter, seeds. ARGV: worker, timeout, ttl.
# Mark the worker as holding work (busy) and keep the round's keys alive for ttl seconds.
_HEARTBEAT = _NOW + """
redis.call('ZADD', KEYS[2], now, ARGV[1])
for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, ARGV[3]) end
return 1
"""

# KEYS: queue, workers, dupefilter, seeds. ARGV: worker, timeout, cleanup (0/1).
# The worker holds nothing any more. Returns {queued, busy workers, dead workers dropped};
# with cleanup, a finished round (nothing queued, nobody busy) has its keys deleted.
_RELEASE = _NOW + """
redis.call('ZREM', KEYS[2], ARGV[1])
local dead = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - tonumber(ARGV[2])))
local queued = redis.call('ZCARD', KEYS[1])
local busy = redis.call('ZCARD', KEYS[2])
if ARGV[3] == '1' and queued == 0 and busy == 0 then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
end
return {queued, busy, dead}
"""


class HoldingPriorityQueue(PriorityQueue):
    """scrapy-redis' priority queue whose pop also records which worker holds the request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pop = self.server.register_script(_POP_AND_HOLD)

    def pop_and_hold(self, workers_key: str, worker: str) -> Optional[Request]:
        data = self._pop(keys=[self.key, workers_key], args=[worker])
        return self._decode_request(data) if data else None


class RoundScheduler(Scheduler):
    """scrapy-redis' scheduler with one-time seeds and round-wide termination (module doc)."""

    def __init__(self, server: Any, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.timeout = 60.0
        self.ttl = 86400
        self.holding = False
        self.crawler: Optional[Crawler] = None
        self._heartbeat: Optional[task.LoopingCall] = None
        self._beat_script = server.register_script(_HEARTBEAT)
        self._release_script = server.register_script(_RELEASE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "RoundScheduler":
        scheduler: RoundScheduler = super().from_crawler(crawler)
        scheduler.crawler = crawler
        settings = crawler.settings
        scheduler.timeout = settings.getfloat("COOPWATCH_WORKER_TIMEOUT", 60.0)
        scheduler.ttl = settings.getint("COOPWATCH_ROUND_TTL", 86400)
        # An idle worker learns of new requests (pushed by others) only when the engine
        # polls the scheduler, every 5 s by default; poll faster so it joins in sooner.
        if hasattr(crawler.engine, "_SLOT_HEARTBEAT_INTERVAL"):
            crawler.engine._SLOT_HEARTBEAT_INTERVAL = settings.getfloat("COOPWATCH_REDIS_POLL", 0.5)
        return scheduler

    def _keys(self) -> list[str]:
        prefix = self.queue.key.rsplit(":requests", 1)[0]
        return [self.queue.key, f"{prefix}:workers", self.df.key, f"{prefix}:seeds"]

    def open(self, spider: Spider) -> None:  # type: ignore[override]
        super().open(spider)
        # Held from the start, so others wait for the seeds this worker may enqueue.
        self.holding = True
        self._beat()
        self._heartbeat = task.LoopingCall(self._beat_if_holding)
        self._heartbeat.start(max(1.0, self.timeout / 6), now=False)

    def _beat(self) -> None:
        self._beat_script(keys=self._keys(), args=[self.worker, self.timeout, self.ttl])

    def _beat_if_holding(self) -> None:
        if self.holding:
            try:
                self._beat()
            except redis.RedisError as exc:
                logger.warning("heartbeat to Redis failed: %s", exc)

    def _release(self, cleanup: bool) -> tuple[int, int]:
        self.holding = False
        queued, busy, dead = self._release_script(
            keys=self._keys(), args=[self.worker, self.timeout, int(cleanup)])
        if dead:
            logger.warning("%s: %d crawler process(es) stopped heart-beating; their requests "
                           "in progress are left to the next round", self.spider.name, dead)
        return int(queued), int(busy)

    def close(self, reason: str) -> None:  # type: ignore[override]
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        queued, busy = self._release(cleanup=reason == "finished")
        if reason == "finished" and not queued and not busy:
            logger.info("%s: distributed round finished; its Redis keys are removed", self.spider.name)
        else:
            logger.info("%s: leaving the round (%s); %d request(s) queued, %d worker(s) busy",
                        self.spider.name, reason, queued, busy)

    def enqueue_request(self, request: Request) -> bool:
        meta = request.meta
        if meta.get("is_start_request") and not meta.get("retry_times") and not meta.get("redirect_times"):
            if not self._claim_seed(request):
                self._count("coopwatch/distributed/seed_taken_elsewhere")
                return False
        elif not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self._count("scheduler/enqueued/redis")
        return True

    def _claim_seed(self, request: Request) -> bool:
        """True for the first worker of the round to enqueue this seed."""
        fingerprint = self.df.request_fingerprint(request)
        return bool(self.server.sadd(self._keys()[3], fingerprint))

    def next_request(self) -> Optional[Request]:
        request = self.queue.pop_and_hold(self._keys()[1], self.worker)
        if request is None:
            return None
        self.holding = True
        self._count("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        # Scrapy asks only when this process is idle (nothing downloading or being parsed,
        # start requests done), so every request it held has had its follow-ups pushed.
        queued, busy = self._release(cleanup=False)
        return queued + busy > 0

    def _count(self, key: str) -> None:
        if self.stats:
            self.stats.inc_value(key)


class FingerprintDupeFilter(RFPDupeFilter):
    """scrapy-redis' Redis-set duplicate filter storing Scrapy's 20-byte fingerprints."""

    fingerprinter: Any = None

    @classmethod
    def from_spider(cls, spider: Spider) -> "FingerprintDupeFilter":
        dupefilter: FingerprintDupeFilter = super().from_spider(spider)
        dupefilter.fingerprinter = spider.crawler.request_fingerprinter
        return dupefilter

    def request_fingerprint(self, request: Request) -> bytes:  # type: ignore[override]
        return bytes(self.fingerprinter.fingerprint(request))


class DistributedIngestPipeline(IngestPipeline):
    """The ingest pipeline, first learning the stories other crawler processes stored.

    Each process keeps its own story index (pipeline.ingest.dedupe.StoryIndex). Before each batch
    it adds the items stored since it last looked, so a copy of a story stored by another
    process joins that story's cluster. Two copies ingested in the same instant by two
    processes can still start two clusters; storage itself stays exact (unique canonical URL).
    """

    # Highest item id this pipeline has had the story index learn (None: not known yet).
    seen_up_to: Optional[int] = None

    def open_spider(self) -> None:
        # Read before the process's ingestor loads its index, so no item falls in between.
        try:
            self.seen_up_to = _max_item_id(shared_engine())
        except SQLAlchemyError:
            self.seen_up_to = None  # learnt at the first batch the database answers for
        super().open_spider()

    def _flush(self) -> None:
        if self.buffer and self.ingestor is not None:
            try:
                self._learn_stories()
            except SQLAlchemyError as exc:  # ingest itself decides what to do without a database
                logger.warning("cannot read the stories other crawlers stored: %s", str(exc).splitlines()[0])
        super()._flush()

    def _learn_stories(self) -> None:
        assert self.ingestor is not None
        if self.seen_up_to is None:
            self.seen_up_to = _max_item_id(self.ingestor.engine)
            return
        with Session(self.ingestor.engine) as session:
            rows = session.execute(
                select(Item.id, Item.cluster_id, Item.minhash)
                .where(Item.id > self.seen_up_to, Item.minhash.is_not(None), Item.cluster_id.is_not(None))
                .order_by(Item.id)
            ).all()
        if rows:
            # Rows this process stored itself are skipped by the index (known keys).
            self.ingestor.index.load((r.id, r.cluster_id, r.minhash) for r in rows)
            self.seen_up_to = rows[-1].id


def _max_item_id(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.max(Item.id))) or 0
