"""Distributed crawling: two crawler processes, one Redis frontier, one PostgreSQL database."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import redis
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from crawlers.distributed import RedisUnavailable, check_redis
from pipeline.db import make_engine, migrate
from pipeline.ingest import Ingestor
from pipeline.records import RawRecord
from pipeline.schema import CrawlRun, IngestError, Item
from pipeline.urls import canonicalize
from tests.big_site import article_path, serve_big_site, sitemap_paths, sources_yaml
from tests.helpers import article_html, make_article

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
        errors = session.scalar(select(func.count(IngestError.id)))
    engine.dispose()
    assert len(stored) == PAGES
    assert set(stored) == {canonicalize(base + p) for p in articles}
    assert errors == 0
    # One run record per process; both fetched and stored pages, together each page once.
    assert len(runs) == 2
    assert all(run.fetched > 0 and run.new > 0 for run in runs), [(r.fetched, r.new) for r in runs]
    assert sum(run.new for run in runs) == PAGES
    # The last process out removed the round's frontier, duplicate filter and seed claims.
    assert list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}:*")) == []


@pytest.mark.parametrize("database", ["sqlite_url", "postgres_url"])
def test_page_stored_meanwhile_by_another_process_counts_as_already_stored(
        database: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    url = request.getfixturevalue(database)
    if database == "postgres_url":
        migrate(url)
    engine = make_engine(url)
    html = article_html(make_article("bai-chung"))

    def page() -> RawRecord:  # one record per process (ingest consumes a record's HTML)
        return RawRecord(url="https://kinhtehoptac.example/bai-chung.html", source="s",
                         outlet="Báo", html=html)

    first, second = Ingestor(engine), Ingestor(engine)
    classify = second._classify

    def other_process_stores_it_first(items, report):  # type: ignore[no-untyped-def]
        # Between the second ingestor's "already stored?" look-up and its insert.
        assert first.ingest_batch([page()]).stored == 1
        return classify(items, report)

    monkeypatch.setattr(second, "_classify", other_process_stores_it_first)
    report = second.ingest_batch([page()])
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
