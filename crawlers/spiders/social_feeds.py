"""Social sources that publish feeds: video channels (Atom) and public forum threads (RSS).

Their entries carry the whole post, so no page is fetched: the item is the entry's title
and text (for videos, the description from media:description).
"""
from __future__ import annotations

from crawlers.spiders.rss import RssSpider


class YoutubeSpider(RssSpider):
    """A public channel's Atom feed; each video's title and description make one post."""

    name = "youtube"
    fetches_articles = False


class ForumSpider(RssSpider):
    """A public forum section's or thread's RSS; each entry is one post."""

    name = "forum"
    fetches_articles = False
