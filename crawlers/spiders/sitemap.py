"""XML sitemaps and Google News sitemaps, following sitemap index files."""
from __future__ import annotations

from typing import AsyncIterator, Iterator

from scrapy import Request
from scrapy.http import Response
from scrapy.utils.sitemap import Sitemap

from crawlers.spiders.base import SourceSpider


class SitemapSpider(SourceSpider):
    """Fetches every article listed by a sitemap (or the sitemaps an index lists)."""

    name = "sitemap"

    async def start(self) -> AsyncIterator[Request]:
        yield self.request(self.source.url, self.parse_sitemap, dont_filter=True)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """Follow index entries; request article URLs with their news:publication_date."""
        try:
            sitemap = Sitemap(response.body)
        except Exception as exc:  # lxml raises several kinds on broken XML
            self.note_error(f"sitemap {response.url} unusable: {exc}")
            return
        if sitemap.type not in ("urlset", "sitemapindex"):
            self.note_error(f"sitemap {response.url} unusable: root element is {sitemap.type!r}")
            return
        for entry in sitemap:
            url = response.urljoin(entry["loc"])
            if sitemap.type == "sitemapindex":
                yield self.request(url, self.parse_sitemap)
            else:
                news = entry.get("news") or {}
                published = entry.get("publication_date") or news.get("publication_date")
                yield self.article_request(url, {"published_at": published or entry.get("lastmod")})
