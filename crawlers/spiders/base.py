"""What every source spider shares: its source, its allowed domain, article requests."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Iterator, Optional

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

from crawlers.middlewares import AlreadyStored

from crawlers.sources import Source
from pipeline.ingest.records import RawRecord, RecordError, parse_time

logger = logging.getLogger(__name__)


class SourceSpider(Spider):
    """A spider bound to one configured source; it never leaves the source's host."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(name=f"{self.name}:{source.name}", **kwargs)
        self.source = source
        self.allowed_domains = [source.domain]
        self.errors: list[str] = []

    def note_error(self, reason: str) -> None:
        """Remember a failure of this source's crawl for its health record."""
        self.logger.warning("%s: %s", self.source.name, reason)
        if len(self.errors) < 50:
            self.errors.append(reason)

    def on_error(self, failure: Failure) -> None:
        """Errback of every request: record why a fetch failed (HTTP status, time-out …)."""
        if failure.check(AlreadyStored):
            return
        url = getattr(getattr(failure, "request", None), "url", "?")
        if failure.check(HttpError):
            self.note_error(f"HTTP {failure.value.response.status} for {url}")
        else:
            self.note_error(f"{failure.type.__name__} for {url}: {failure.getErrorMessage()}"[:500])

    def request(self, url: str, callback: Any, **kwargs: Any) -> Request:
        """A request whose failure is recorded against this source."""
        return Request(url, callback=callback, errback=self.on_error, **kwargs)

    def article_request(self, url: str, fallback: Optional[dict[str, Any]] = None) -> Request:
        """Request an article page, skipped by middleware when it is already stored."""
        return self.request(
            url, self.parse_article, meta={"article": True}, cb_kwargs={"fallback": fallback or {}}
        )

    def parse_article(self, response: Response, fallback: dict[str, Any]) -> Iterator[RawRecord]:
        """Yield the fetched page; extraction happens in the ingest path."""
        if not hasattr(response, "text"):
            self.note_error(f"not a text page: {response.url}")
            return
        yield RawRecord(
            url=response.url, source=self.source.name, outlet=self.source.outlet,
            kind=self.source.item_kind, html=page_text(response),
            title=fallback.get("title", ""), published_at=feed_time(fallback.get("published_at")),
        )


def feed_time(value: Optional[str]) -> Optional[datetime]:
    """A feed's or sitemap's date as an aware datetime; None (the page's own date is used) when unreadable."""
    try:
        return parse_time(value, "published_at")
    except RecordError:
        logger.debug("unreadable feed date %r", value)
        return None


def page_text(response: Response) -> str:
    """The page as text; undeclared non-UTF-8 bytes are read as Windows-1252.

    Old Vietnamese pages in the TCVN3 or VNI font encodings declare no charset. Guessing a
    codec garbles them beyond repair; read as Windows-1252 they keep every letter, and
    pipeline.core.normalize converts them to Unicode.
    """
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    if http_content_type_encoding(content_type) or html_body_declared_encoding(response.body):
        return response.text  # type: ignore[attr-defined]
    try:
        return response.body.decode("utf-8")
    except UnicodeDecodeError:
        return response.body.decode("cp1252", errors="replace")
