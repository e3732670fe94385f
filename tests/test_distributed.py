"""Distributed crawling: two crawler processes, one Redis frontier, one PostgreSQL database."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import redis
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

import crawlers.distributed
import crawlers.pipelines
from crawlers.distributed import DistributedIngestPipeline, RedisUnavailable, check_redis
from pipeline.core.db import make_engine, migrate
from pipeline.ingest.ingestor import Ingestor
from pipeline.ingest.records import RawRecord
from pipeline.core.schema import CrawlRun, IngestError, Item
from pipeline.ingest.store import lock_for_writing
from pipeline.core.urls import canonicalize
from tests.big_site import article_path, serve_big_site, sitemap_paths, sources_yaml
from tests.helpers import WIRE_BODY, article_html, make_article

PAGES = 2000
REDIS_URL = os.environ.get("COOPWATCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Politeness off for the local site only; without a model items are stored unclassified.
LOCAL_SITE = {"COOPWATCH_DOWNLOAD_DELAY": "0", "COOPWATCH_AUTOTHROTTLE": "0",
              "COOPWATCH_CONCURRENT_PER_DOMAIN": "8", "COOPWATCH_LOG_LEVEL": "WARNING"}


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of its own in the local Redis, deleted afterwards; skip without Redis."""
    try:
        check_redis(REDIS_URL)
    except RedisUnavailable as exc:
        pytest.skip(str(exc))
    prefix = f"coopwatch-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    server = redis.Redis.from_url(REDIS_URL)
    keys = list(server.scan_iter(f"{prefix}:*"))
    if keys:
        server.delete(*keys)


def test_two_processes_fetch_and_store_each_page_once(tmp_path: Path, postgres_url: str,
                                                      redis_prefix: str) -> None:
    migrate(postgres_url)
    site, base = serve_big_site(PAGES)
    sources = tmp_path / "sources.yaml"
    sources.write_text(sources_yaml(base), encoding="utf-8")
    env = {**os.environ, **LOCAL_SITE, "COOPWATCH_DATABASE_URL": postgres_url,
           "COOPWATCH_MODEL_DIR": str(tmp_path / "no-model"), "COOPWATCH_REDIS_URL": REDIS_URL,
           "COOPWATCH_REDIS_PREFIX": redis_prefix}
    command = [sys.executable, "-m", "pipeline.cli", "crawl", "--distributed", "--sources", str(sources)]
    try:
        crawlers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True) for _ in range(2)]
        outputs = [c.communicate(timeout=600) for c in crawlers]
    finally:
        site.shutdown()
        site.server_close()
    for crawler, (_, errors) in zip(crawlers, outputs):
        assert crawler.returncode == 0, errors[-3000:]

    articles = [article_path(n) for n in range(PAGES)]
    assert [p for p in articles if site.hits[p] != 1] == [], "every page fetched exactly once"
    assert all(site.hits[p] == 1 for p in ["/sitemap.xml", *sitemap_paths(PAGES)]), "seeds once"

    engine = create_engine(postgres_url)
    with Session(engine) as session:
        stored = session.scalars(select(Item.canonical_url)).all()
        runs = session.scalars(select(CrawlRun)).all()
        errors = session.scalars(select(IngestError.reason).limit(5)).all()
    engine.dispose()
    summaries = [out.strip().splitlines()[-1:] for out, _ in outputs]
    assert len(stored) == PAGES, (summaries, errors)
    assert set(stored) == {canonicalize(base + p) for p in articles}
    assert errors == []
    # One run record per process; both fetched and stored pages, together each page once.
    assert len(runs) == 2
    assert all(run.fetched > 0 and run.new > 0 for run in runs), [(r.fetched, r.new) for r in runs]
    assert sum(run.new for run in runs) == PAGES
    # The last process out removed the round's frontier, duplicate filter and seed claims.
    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}:*")) == []


def _page(slug: str) -> RawRecord:
    return RawRecord(url=f"https://kinhtehoptac.example/{slug}.html", source="s", outlet="Báo",
                     html=article_html(make_article(slug)))


def test_ingest_writes_wait_for_the_other_processes_batch(postgres_url: str) -> None:
    """Batches from several processes write one at a time on PostgreSQL (no deadlocks)."""
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    reports = []
    with Session(engine) as other, other.begin():
        lock_for_writing(other)  # another process's batch is being written
        writer = threading.Thread(target=lambda: reports.append(Ingestor(engine).ingest_batch([_page("cho")])))
        writer.start()
        waiting = 0
        deadline = time.monotonic() + 120
        while not waiting and writer.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
            with engine.connect() as connection:
                waiting = connection.scalar(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))
        assert waiting == 1, "the second batch must wait for the advisory lock"
        with Session(engine) as session:
            assert session.scalar(select(func.count(Item.id))) == 0
    writer.join(timeout=120)
    assert reports and reports[0].stored == 1
    engine.dispose()


@pytest.mark.parametrize("database", ["sqlite_url", "postgres_url"])
def test_page_stored_meanwhile_by_another_process_counts_as_already_stored(
        database: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    url = request.getfixturevalue(database)
    if database == "postgres_url":
        migrate(url)
    engine = make_engine(url)
    first, second = Ingestor(engine), Ingestor(engine)
    write = second._write

    def other_process_stores_it_first(split, report):  # type: ignore[no-untyped-def]
        # Between the second ingestor's "already stored?" look-up and its insert.
        assert first.ingest_batch([_page("bai-chung")]).stored == 1
        return write(split, report)

    monkeypatch.setattr(second, "_write", other_process_stores_it_first)
    report = second.ingest_batch([_page("bai-chung")])  # a record of its own: ingest consumes HTML
    assert (report.stored, report.already_stored, report.failures) == (0, 1, [])
    with Session(engine) as session:
        assert session.scalar(select(func.count(Item.id))) == 1
        assert session.scalar(select(func.count(IngestError.id))) == 0
    engine.dispose()


def test_distributed_crawl_without_redis_says_so(tmp_path: Path, sqlite_url: str) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(sources_yaml("http://127.0.0.1:9"), encoding="utf-8")
    env = {**os.environ, "COOPWATCH_DATABASE_URL": sqlite_url, "COOPWATCH_REDIS_URL": "redis://127.0.0.1:1/0"}
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "crawl", "--distributed",
                             "--sources", str(sources)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "Redis at redis://127.0.0.1:1/0 is unreachable" in result.stderr


def test_a_copy_joins_the_story_another_process_stored(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(sqlite_url)
    ours = Ingestor(engine)  # this process's story index, loaded before the other process stores
    monkeypatch.setattr(crawlers.pipelines, "shared_ingestor", lambda: ours)
    monkeypatch.setattr(crawlers.distributed, "shared_engine", lambda: engine)
    pipeline = DistributedIngestPipeline(batch_size=10)
    pipeline.open_spider()
    assert Ingestor(engine).ingest_batch([_page("goc")]).stored == 1  # the other process

    edited = WIRE_BODY[:-1] + ("Hội nghị cũng biểu dương các hợp tác xã tiêu biểu trong năm.",)
    copy = make_article("ban-sao", outlet="kinhtehoptac", body=edited)
    pipeline.process_item(RawRecord(url="https://kinhtehoptac.example/ban-sao.html", source="s",
                                    outlet="Báo", html=article_html(copy)))
    pipeline.close_spider()
    assert (pipeline.report.stored, pipeline.report.joined_story) == (1, 1)
    with Session(engine) as session:
        assert len(set(session.scalars(select(Item.cluster_id)))) == 1
    engine.dispose()
