"""HTML section (list) pages for outlets without feeds: follow article links and pagination."""
from __future__ import annotations

from typing import AsyncIterator, Iterator

from scrapy import Request
from scrapy.http import Response

from crawlers.spiders.base import SourceSpider

DEFAULT_LINKS = "article a::attr(href)"
DEFAULT_NEXT = "a[rel=next]::attr(href)"


class SectionSpider(SourceSpider):
    """Options: `link_selector`, `next_selector` (CSS) and `max_pages` (pagination depth)."""

    name = "section"

    async def start(self) -> AsyncIterator[Request]:
        yield self.request(self.source.url, self.parse_section, cb_kwargs={"page": 1}, dont_filter=True)

    def parse_section(self, response: Response, page: int) -> Iterator[Request]:
        """Request each linked article, then the next list page while depth allows."""
        options = self.source.options
        for href in response.css(options.get("link_selector", DEFAULT_LINKS)).getall():
            yield self.article_request(response.urljoin(href))
        next_href = response.css(options.get("next_selector", DEFAULT_NEXT)).get()
        if next_href and page < int(options.get("max_pages", 3)):
            yield self.request(response.urljoin(next_href), self.parse_section,
                               cb_kwargs={"page": page + 1})
