"""RSS and Atom feeds: Scrapy downloads, feedparser parses, article pages are fetched."""
from __future__ import annotations

import calendar
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterator, Optional, Union

import feedparser
from scrapy import Request
from scrapy.http import Response

from crawlers.spiders.base import SourceSpider, feed_time
from crawlers.feed_state import conditional_headers, remember
from pipeline.ingest.records import RawRecord
from pipeline.ingest.runtime import shared_engine


class RssSpider(SourceSpider):
    """Reads one feed; with `fetch_articles: false` the entries themselves are the items."""

    name = "rss"
    # News feeds link to the article page; social feeds carry the whole post.
    fetches_articles = True

    async def start(self) -> AsyncIterator[Request]:
        # dont_filter: a redirect loop then runs into REDIRECT_MAX_TIMES and is reported,
        # instead of being dropped in silence by the duplicate filter.
        yield self.request(
            self.source.url, self.parse_feed, dont_filter=True,
            headers=conditional_headers(shared_engine(), self.source.url),
            meta={"handle_httpstatus_list": [304]},
        )

    def parse_feed(self, response: Response) -> Iterator[Union[Request, RawRecord]]:
        """Turn feed entries into article requests (or items, for social feeds)."""
        if response.status == 304:
            self.logger.info("%s not modified since the last crawl", self.source.url)
            if self.crawler.stats:
                self.crawler.stats.inc_value("coopwatch/feed_not_modified")
            return
        feed = feedparser.parse(response.body)
        if not feed.entries:
            reason = getattr(feed, "bozo_exception", None) or "no entries"
            self.note_error(f"feed {response.url} unusable: {reason}")
            return
        self.validators = (_header(response, b"ETag"), _header(response, b"Last-Modified"))
        fetch_articles = bool(self.source.options.get("fetch_articles", self.fetches_articles))
        for entry in feed.entries:
            fallback = entry_fields(entry)
            link = entry.get("link")
            if not link:
                continue
            if fetch_articles:
                yield self.article_request(response.urljoin(link), fallback)
            else:
                yield self.entry_item(response.urljoin(link), fallback)

    def closed(self, reason: str) -> None:
        """Keep the feed's validators only after a finished crawl.

        Saved earlier, a crawl killed half-way would get a 304 next time and never fetch
        the articles it had not stored yet.
        """
        if reason == "finished" and getattr(self, "validators", None):
            remember(shared_engine(), self.source.url, *self.validators)

    def entry_item(self, url: str, fallback: dict[str, Any]) -> RawRecord:
        """A social post (or feed-only item) carried whole by its feed entry."""
        title = fallback["title"]
        if fallback["summary"].startswith(title.rstrip(".… ")):
            title = ""  # post feeds often repeat the post's first words as a title
        return RawRecord(
            url=url, source=self.source.name, outlet=fallback.get("page") or self.source.outlet,
            kind=self.source.item_kind, text=fallback["summary"], title=title,
            published_at=feed_time(fallback["published_at"]),
            reactions=fallback.get("reactions"), shares=fallback.get("shares"),
        )


def entry_fields(entry: Any) -> dict[str, Any]:
    """The fields of a feed entry kept as fallbacks for the article page."""
    return {
        "title": entry.get("title", ""),
        "summary": _plain(entry.get("summary") or entry.get("media_description") or ""),
        "published_at": _entry_time(entry),
        # Reach and page name of social posts, in the feed namespace our exporters write.
        "page": entry.get("cw_page"),
        "reactions": _int(entry.get("cw_reactions")),
        "shares": _int(entry.get("cw_shares")),
    }


def _header(response: Response, name: bytes) -> Optional[str]:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _entry_time(entry: Any) -> Optional[str]:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc).isoformat()


def _plain(summary: str) -> str:
    import lxml.html

    if "<" not in summary:
        return summary
    return lxml.html.fromstring(f"<div>{summary}</div>").text_content()


def _int(value: Any) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
