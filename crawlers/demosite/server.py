"""A threaded HTTP server for the demo site, bound to 127.0.0.1 only."""
from __future__ import annotations

import logging
import threading
from collections import Counter
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from crawlers.demosite import render
from crawlers.demosite.content import OUTLETS, load_articles, load_posts

logger = logging.getLogger(__name__)

PAGE_SIZE = 10
ROBOTS = "User-agent: *\nDisallow: /admin/\n"


class DemoHandler(BaseHTTPRequestHandler):
    """Routes the demo site's URLs to rendered documents."""

    server_version = "CoopWatchDemo/1.0"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        parts = urlsplit(self.path)
        hits = getattr(self.server, "hits", None)
        if hits is not None:
            hits[parts.path] += 1  # lets tests see what a crawl fetched
        found = self._route(parts.path, parse_qs(parts.query))
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", "Không tìm thấy trang")
        else:
            self._send(HTTPStatus.OK, *found)

    def _base(self) -> str:
        return f"http://{self.headers.get('Host', '127.0.0.1')}"

    def _route(self, path: str, query: dict[str, list[str]]) -> Optional[tuple[str, str]]:
        articles, base = load_articles(), self._base()
        if path == "/robots.txt":
            return "text/plain; charset=utf-8", ROBOTS
        if path == "/sitemap.xml":
            return "application/xml", render.sitemap_index([f"{base}/{o}/sitemap.xml" for o in OUTLETS])
        if path == "/social/rss.xml":
            return "application/rss+xml; charset=utf-8", render.social_rss(load_posts(), base)
        segments = [s for s in path.split("/") if s]
        if len(segments) == 2 and segments[0] == "social":
            post = next((p for p in load_posts() if f"{p.slug}.html" == segments[1]), None)
            return ("text/html; charset=utf-8", render.social_page(post)) if post else None
        if not segments or segments[0] not in OUTLETS:
            return ("text/html; charset=utf-8", _home()) if not segments else None
        outlet = OUTLETS[segments[0]]
        own = [a for a in articles if a.outlet == outlet.slug]
        if len(segments) == 1:
            page = max(1, int((query.get("page") or ["1"])[0] or 1))
            chunk = own[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            has_next = page * PAGE_SIZE < len(own)
            return "text/html; charset=utf-8", render.section_page(outlet, chunk, page, has_next)
        name = segments[1]
        if name == "rss.xml":
            return "application/rss+xml; charset=utf-8", render.outlet_rss(outlet, own, base)
        if name == "sitemap.xml":
            urls = [(f"{base}/{a.outlet}/{a.slug}.html", a.published) for a in own]
            return "application/xml", render.urlset(urls)
        article = next((a for a in own if f"{a.slug}.html" == name), None)
        if article is None:
            return None
        related = [a for a in own if a.slug != article.slug][:3]
        return "text/html; charset=utf-8", render.article_page(article, related)

    def _send(self, status: HTTPStatus, content_type: str, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        logger.debug("demo site: " + format, *args)


def _home() -> str:
    links = "".join(f"<li><a href=\"/{o.slug}/\">{o.name}</a></li>" for o in OUTLETS.values())
    return f"<!DOCTYPE html><html lang=\"vi\"><meta charset=\"utf-8\"><body><ul>{links}</ul></body></html>"


def make_server(port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """A server on host:port (port 0 picks a free one); call serve_forever to run it."""
    server = ThreadingHTTPServer((host, port), DemoHandler)
    server.daemon_threads = True
    server.hits = Counter()  # type: ignore[attr-defined]
    return server


def serve_in_background(port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Start the demo site in a daemon thread; returns the server and its base URL."""
    server = make_server(port)
    threading.Thread(target=server.serve_forever, name="demo-site", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
