"""Running a crawl of every source in a sources file in one Scrapy process."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Sequence

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.project import get_project_settings
from sqlalchemy.exc import SQLAlchemyError

from crawlers.sources import Source
from crawlers.spiders.base import SourceSpider
from crawlers.spiders.rss import RssSpider
from crawlers.spiders.section import SectionSpider
from crawlers.spiders.sitemap import SitemapSpider
from crawlers.spiders.social_feeds import ForumSpider, YoutubeSpider
from pipeline.core.health import record_run
from pipeline.ingest.summary import IngestReport
from pipeline.ingest.runtime import shared_engine
from pipeline.core.schema import CrawlRun, utcnow

logger = logging.getLogger(__name__)

SPIDERS: dict[str, type[SourceSpider]] = {
    "rss": RssSpider,
    "forum": ForumSpider,
    "youtube": YoutubeSpider,
    "sitemap": SitemapSpider,
    "section": SectionSpider,
}


def crawl(sources: Sequence[Source], log_level: str = "INFO",
          distributed: bool = False) -> dict[str, IngestReport]:
    """Crawl all sources concurrently, record each source's run, return the ingest reports.

    With `distributed`, each source's frontier and duplicate filter live in Redis and are
    shared with every other process crawling the same sources (crawlers/distributed.py).
    """
    settings = get_project_settings()
    settings.set("LOG_LEVEL", log_level)
    if distributed:
        from crawlers.distributed import check_redis, distributed_settings

        check_redis(settings["REDIS_URL"])
        settings.setdict(distributed_settings(settings))
    process = CrawlerProcess(settings, install_root_handler=False)
    if logging.getLevelName(log_level.upper()) != logging.DEBUG:
        # Scrapy's INFO lines (component lists, stats dumps) drown the per-source summaries;
        # our own crawler and ingest logs stay at the chosen level.
        logging.getLogger("scrapy").setLevel(logging.WARNING)
    crawlers: dict[str, tuple[Source, Crawler]] = {}
    for source in sources:
        crawler = process.create_crawler(SPIDERS[source.kind])
        crawlers[source.name] = (source, crawler)
        process.crawl(crawler, source=source)
    started = utcnow()
    process.start()
    finished = utcnow()
    reports = {}
    for name, (source, crawler) in crawlers.items():
        reports[name] = getattr(crawler.spider, "ingest_report", None) or IngestReport()
        try:
            record_run(shared_engine(), run_record(source, crawler, reports[name], started, finished))
        except SQLAlchemyError as exc:  # the items themselves wait in the spool
            logger.error("%s: crawl not recorded in the health table, the database is unreachable: %s",
                         name, str(exc).splitlines()[0])
    return reports


def run_record(source: Source, crawler: Crawler, report: IngestReport,
               started: datetime, finished: datetime) -> CrawlRun:
    """The health record of one source's crawl, from Scrapy's stats and the ingest report."""
    stats = crawler.stats.get_stats() if crawler.stats else {}
    spider_errors = list(getattr(crawler.spider, "errors", []))
    if offsite := int(stats.get("offsite/filtered", 0)):
        # Scrapy drops these before any errback runs; count them so they are not silent.
        spider_errors.append(f"{offsite} request(s) to other hosts refused")
    ingest_errors = [f"{f.url or ''}: {f.reason}"[:500] for f in report.failures[:20]]
    return CrawlRun(
        source=source.name, outlet=source.outlet, started_at=started, finished_at=finished,
        fetched=int(stats.get("response_received_count", 0)),
        new=report.stored,
        duplicate=report.already_stored + report.exact_duplicates
        + int(stats.get("coopwatch/skipped_stored", 0)),
        failed=len(spider_errors) + len(report.failures),
        errors=spider_errors + ingest_errors,
    )
