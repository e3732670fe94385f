"""Downloader middlewares: stay on the source's host; never refetch a stored article."""
from __future__ import annotations

import logging
from typing import Optional

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pipeline.ingest.runtime import shared_engine
from pipeline.core.schema import Item
from pipeline.core.urls import InvalidURL, canonicalize
from scrapy.utils.httpobj import urlparse_cached

logger = logging.getLogger(__name__)


class OffHost(IgnoreRequest):
    """A request (often a redirect) to a host outside its source's domain."""


class SourceHostMiddleware:
    """Refuses every request outside the spider's allowed domains, `dont_filter` or not.

    Scrapy's offsite filter skips requests marked `dont_filter`, and a redirect inherits that
    mark from the feed request; this check has no such exception.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "SourceHostMiddleware":
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        allowed = getattr(self.crawler.spider, "allowed_domains", None) or []
        host = urlparse_cached(request).hostname or ""
        if allowed and not any(host == d or host.endswith(f".{d}") for d in allowed):
            raise OffHost(f"refused {request.url}: {host} is outside the source's domain")
        return None


class AlreadyStored(IgnoreRequest):
    """A request dropped on purpose because its page is stored; not a failure."""


class SkipStoredMiddleware:
    """Drops requests marked `meta['article']` whose canonical URL is already in the database."""

    def __init__(self, engine: Engine, crawler: Optional[Crawler] = None) -> None:
        self.engine = engine
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "SkipStoredMiddleware":
        return cls(shared_engine(), crawler)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("article"):
            return None
        try:
            canonical = canonicalize(request.url)
        except InvalidURL:
            return None
        try:
            with Session(self.engine) as session:
                stored = session.scalar(select(Item.id).where(Item.canonical_url == canonical))
        except SQLAlchemyError as exc:
            # The database is unreachable: fetch the page anyway; ingest spools it and dedupes.
            logger.warning("cannot check whether %s is stored (%s); fetching it", canonical,
                           str(exc).splitlines()[0])
            return None
        if stored is not None:
            if self.crawler and self.crawler.stats:
                self.crawler.stats.inc_value("coopwatch/skipped_stored")
            raise AlreadyStored(f"already stored: {canonical}")
        return None
