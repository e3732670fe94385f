"""Real saved outlet pages (shared/data/html) served on 127.0.0.1, crawled and extracted."""
from __future__ import annotations

import functools
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import lxml.html
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from pipeline.ingest.extract import extract_article
from pipeline.core.schema import Item
from tests.conftest import shared_path
from tests.helpers import crawl



def real_article_pages() -> list[Path]:
    return sorted(shared_path("html").glob("*_article*.html")) + [shared_path("html", "VnExpress_2025_10_22.html")]


def own_title(html: str) -> str:
    tree = lxml.html.fromstring(html)
    og = tree.xpath("//meta[@property='og:title']/@content")
    return (og[0] if og else tree.findtext(".//title") or "").strip()


@pytest.mark.parametrize("page", real_article_pages(), ids=lambda p: p.stem)
def test_each_real_article_yields_title_date_and_first_sentence(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    extracted = extract_article(html)
    assert extracted.title and extracted.title in own_title(html)
    assert extracted.published_at is not None and extracted.published_at.year >= 2025
    # The footer (licence line "…/GP-BTTTT cấp ngày …") stays out of the body.
    assert "GP-BTTTT" not in extracted.text
    first_sentence = " ".join(re.split(r"(?<=[.!?…])\s", extracted.text, maxsplit=1)[0].split())
    tree = lxml.html.fromstring(html)
    page_text = " ".join(tree.text_content().split()) + " ".join(tree.xpath("//meta/@content"))
    assert len(first_sentence) > 30 and first_sentence in page_text


def test_real_pages_crawled_from_a_local_sitemap(tmp_path: Path, model_dir: Path, db_url: str) -> None:
    pages = real_article_pages()
    directory = tmp_path / "site"
    directory.mkdir()
    for page in pages:
        (directory / page.name).write_bytes(page.read_bytes())
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        urls = "".join(f"<url><loc>{base}/{p.name}</loc></url>" for p in pages)
        (directory / "sitemap.xml").write_text(
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>')
        (directory / "robots.txt").write_text("User-agent: *\nDisallow:\n")
        sources = tmp_path / "sources.yaml"
        sources.write_text(f'sources:\n  - {{name: real, outlet: Real, kind: sitemap, url: "{base}/sitemap.xml"}}\n')
        crawl(sources, db_url, model_dir)
        with Session(create_engine(db_url)) as session:
            items = session.scalars(select(Item)).all()
        assert len(items) == len(pages)
        assert all(item.published_at is not None and item.title for item in items)
        # None of these pages (gold, stocks, tax, energy, health) is about cooperatives.
        assert [item.relevant for item in items] == [False] * len(items)
    finally:
        server.shutdown()
