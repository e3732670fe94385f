"""Retries with exponential backoff that honour the server's Retry-After on 429 and 503."""
from __future__ import annotations

import asyncio
import logging
from email.utils import parsedate_to_datetime
from typing import Optional, Union

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response

from pipeline.core.schema import utcnow

logger = logging.getLogger(__name__)


def retry_after_seconds(value: Optional[bytes]) -> Optional[float]:
    """Seconds asked for by a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        return max(0.0, (parsedate_to_datetime(text) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


class BackoffRetryMiddleware(RetryMiddleware):
    """Waits before each retry: Retry-After when given (capped), else base × 2^attempt."""

    def __init__(self, settings, crawler: Optional[Crawler] = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings)
        self.base_delay = settings.getfloat("COOPWATCH_RETRY_BASE_DELAY", 1.0)
        self.max_delay = settings.getfloat("COOPWATCH_RETRY_MAX_DELAY", 120.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "BackoffRetryMiddleware":
        middleware = cls(crawler.settings, crawler)
        middleware.crawler = crawler
        return middleware

    async def process_response(self, request: Request, response: Response) -> Union[Request, Response]:  # type: ignore[override]
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        attempt = request.meta.get("retry_times", 0)
        delay = min(self.max_delay, asked if asked is not None else self.base_delay * 2**attempt)
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        logger.info("HTTP %s from %s: retrying in %.1f s", response.status, request.url, delay)
        await asyncio.sleep(delay)  # only this request waits; the crawl goes on
        return retry
