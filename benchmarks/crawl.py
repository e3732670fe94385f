"""Crawl throughput: the rss spider against a minimal Scrapy spider on the same local site.

Run: .venv/bin/python benchmarks/crawl.py [--pages 5000] [--with-ingest]

A generated site on 127.0.0.1 serves one RSS feed listing N article pages. Both crawls use
the same Scrapy settings with politeness delays off (AutoThrottle and download delay would
measure our own waiting, not our code). Scrapy's reactor cannot be restarted, so each crawl
runs in a child process of this script, one after the other against the same server.
By default extraction and storage are excluded (the item pipeline is switched off) so the
ratio measures the spider and its middlewares; --with-ingest adds a run with the full
ingest path into a fresh SQLite database.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 32, "LOG_LEVEL": "WARNING", "RETRY_ENABLED": False,
}


def _page(i: int) -> bytes:
    from crawlers.demosite.content import load_articles
    from crawlers.demosite.render import article_page

    articles = load_articles()
    article = articles[i % len(articles)]
    return article_page(article, []).replace("</h1>", f" (bản {i})</h1>", 1).encode("utf-8")


class SiteHandler(BaseHTTPRequestHandler):
    pages: int = 0
    cache: dict[int, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nDisallow:\n", "text/plain"
        elif self.path == "/rss.xml":
            base = f"http://{self.headers['Host']}"
            items = "".join(f"<item><title>Bài {i}</title><link>{base}/a/{i}.html</link></item>"
                            for i in range(self.pages))
            body, ctype = f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode(), "application/rss+xml"
        elif self.path.startswith("/a/"):
            i = int(self.path[3:-5])
            body, ctype = self.cache.setdefault(i % 200, _page(i % 200)), "text/html; charset=utf-8"
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def child(mode: str, base: str, pages: int) -> None:
    """Run one crawl in this (child) process and print its figures as JSON."""
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from crawlers.sources import Source
    from crawlers.spiders.rss import RssSpider

    settings = get_project_settings()
    settings.setdict(BENCH_SETTINGS)
    if mode == "rss":
        settings.set("ITEM_PIPELINES", {})

    class MinimalSpider(Spider):
        name = "minimal"

        async def start(self):  # type: ignore[no-untyped-def]
            for i in range(pages):
                yield Request(f"{base}/a/{i}.html", callback=self.parse)

        def parse(self, response):  # type: ignore[no-untyped-def]
            yield {"url": response.url}

    process = CrawlerProcess(settings, install_root_handler=False)
    crawler = process.create_crawler(MinimalSpider if mode == "minimal" else RssSpider)
    kwargs = {} if mode == "minimal" else {"source": Source("bench", "Bench", "rss", f"{base}/rss.xml")}
    process.crawl(crawler, **kwargs)
    process.start()
    stats = crawler.stats.get_stats()
    fetched = stats.get("response_received_count", 0)
    print(json.dumps({"fetched": fetched, "seconds": stats["elapsed_time_seconds"]}))


def run_child(mode: str, base: str, pages: int, env: dict[str, str]) -> dict[str, float]:
    output = subprocess.run([sys.executable, __file__, "--child", mode, "--base", base, "--pages", str(pages)],
                            env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--with-ingest", action="store_true")
    parser.add_argument("--child")
    parser.add_argument("--base")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.base, args.pages)

    SiteHandler.pages = args.pages
    server = ThreadingHTTPServer(("127.0.0.1", 0), SiteHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    work = Path(tempfile.mkdtemp())
    from pipeline.core.db import migrate

    env = {**os.environ, "COOPWATCH_DATABASE_URL": f"sqlite:///{work / 'bench.db'}", "PYTHONPATH": str(ROOT)}
    migrate(env["COOPWATCH_DATABASE_URL"])
    minimal = run_child("minimal", base, args.pages, env)
    rss = run_child("rss", base, args.pages, env)
    rate_min = minimal["fetched"] / minimal["seconds"]
    rate_rss = rss["fetched"] / rss["seconds"]
    print(f"minimal spider: {minimal['fetched']} pages in {minimal['seconds']:.1f} s = {rate_min:.0f} pages/s")
    print(f"rss spider (extraction excluded): {rss['fetched']} responses in {rss['seconds']:.1f} s "
          f"= {rate_rss:.0f} pages/s; ratio {rate_rss / rate_min:.2f}")
    if args.with_ingest:
        env["COOPWATCH_DATABASE_URL"] = f"sqlite:///{work / 'ingest.db'}"
        migrate(env["COOPWATCH_DATABASE_URL"])
        output = subprocess.run([sys.executable, "-m", "pipeline.cli", "--log-level", "WARNING", "crawl",
                                 "--sources", str(_sources_file(work, base))], env=env,
                                capture_output=True, text=True, check=True)
        print(f"rss spider with ingest: {output.stdout.strip().splitlines()[-1]}")
    server.shutdown()


def _sources_file(work: Path, base: str) -> Path:
    path = work / "sources.yaml"
    path.write_text(f'sources:\n  - {{name: bench, outlet: Bench, kind: rss, url: "{base}/rss.xml"}}\n')
    return path


if __name__ == "__main__":
    main()
