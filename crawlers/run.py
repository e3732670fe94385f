"""Running a crawl of every source in a sources file in one Scrapy process."""
from __future__ import annotations

import logging
from typing import Sequence

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from crawlers.sources import Source
from crawlers.spiders.base import SourceSpider
from crawlers.spiders.rss import RssSpider
from crawlers.spiders.section import SectionSpider
from crawlers.spiders.sitemap import SitemapSpider
from pipeline.ingest import IngestReport

logger = logging.getLogger(__name__)

SPIDERS: dict[str, type[SourceSpider]] = {
    "rss": RssSpider,
    "forum": RssSpider,  # public forum threads and sections publish RSS
    "youtube": RssSpider,  # channel feeds are Atom; title and description make the post
    "sitemap": SitemapSpider,
    "section": SectionSpider,
}


def crawl(sources: Sequence[Source], log_level: str = "INFO") -> dict[str, IngestReport]:
    """Crawl all sources concurrently and return each source's ingest report."""
    settings = get_project_settings()
    settings.set("LOG_LEVEL", log_level)
    process = CrawlerProcess(settings, install_root_handler=False)
    crawlers = {}
    for source in sources:
        crawler = process.create_crawler(SPIDERS[source.kind])
        crawlers[source.name] = crawler
        process.crawl(crawler, source=source)
    process.start()
    return {
        name: getattr(crawler.spider, "ingest_report", IngestReport())
        for name, crawler in crawlers.items()
    }
