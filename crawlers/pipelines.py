"""Item pipeline: a thin adapter that hands spider items to pipeline.ingest.ingestor in batches."""
from __future__ import annotations

import logging
from typing import Optional

from scrapy.crawler import Crawler

from pipeline.ingest.ingestor import Ingestor
from pipeline.ingest.records import RawRecord
from pipeline.ingest.summary import IngestReport
from pipeline.ingest.runtime import shared_ingestor

logger = logging.getLogger(__name__)


class IngestPipeline:
    """Buffers items and ingests them; the crawl's report is kept on the spider."""

    def __init__(self, batch_size: int, crawler: Optional[Crawler] = None) -> None:
        self.batch_size = batch_size
        self.crawler = crawler
        self.buffer: list[RawRecord] = []
        self.report = IngestReport()
        self.ingestor: Optional[Ingestor] = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "IngestPipeline":
        return cls(crawler.settings.getint("COOPWATCH_INGEST_BATCH", 50), crawler)

    def open_spider(self) -> None:
        self.ingestor = shared_ingestor()

    def process_item(self, item: RawRecord) -> RawRecord:
        self.buffer.append(item)
        if len(self.buffer) >= self.batch_size:
            self._flush()
        return item

    def close_spider(self) -> None:
        self._flush()
        if self.ingestor is not None:  # records spooled during a database outage, if it is back
            self.report.add_replay(self.ingestor.flush_spool())
        spider = self.crawler.spider if self.crawler else None
        if spider is not None:
            spider.ingest_report = self.report  # type: ignore[attr-defined]
        logger.info("%s ingest: %s", getattr(spider, "name", "?"), self.report.summary())

    def _flush(self) -> None:
        if not self.buffer or self.ingestor is None:
            return
        batch, self.buffer = self.buffer, []
        self.report.add(self.ingestor.ingest_batch(batch))
