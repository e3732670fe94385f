"""Collects every failed fetch of a source's crawl, with a reason a person can act on."""
from __future__ import annotations

from typing import Optional

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response



class HealthMiddleware:
    """Records HTTP errors and download exceptions on the spider (`spider.note_error`)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "HealthMiddleware":
        return cls(crawler)

    def _note(self, reason: str) -> None:
        spider = self.crawler.spider
        if spider is not None and hasattr(spider, "note_error"):
            spider.note_error(reason)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status >= 400:
            self._note(f"HTTP {response.status} for {request.url}")
        return response

    def process_exception(self, request: Request, exception: Exception) -> Optional[Response]:
        if not isinstance(exception, IgnoreRequest):  # skipped on purpose, not a failure
            self._note(f"{type(exception).__name__} for {request.url}: {exception}"[:500])
        return None
