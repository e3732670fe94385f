"""Bad sources never stop a crawl: each failure is recorded against its source with a reason."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from pipeline.core.schema import CrawlRun, Item
from tests.fault_site import start_fault_site
from tests.helpers import crawl

SOURCES = """
sources:
  - {name: good, outlet: Báo Tốt, kind: rss, url: "${base}/good/rss.xml"}
  - {name: limited, outlet: Báo Bận, kind: rss, url: "${base}/limited/rss.xml"}
  - {name: html-feed, outlet: Báo A, kind: rss, url: "${base}/htmlfeed.xml"}
  - {name: broken-xml, outlet: Báo B, kind: rss, url: "${base}/broken.xml"}
  - {name: missing, outlet: Báo C, kind: rss, url: "${base}/gone.xml"}
  - {name: server-error, outlet: Báo D, kind: rss, url: "${base}/500.xml"}
  - {name: slow, outlet: Báo E, kind: rss, url: "${base}/slow.xml"}
  - {name: redirect-loop, outlet: Báo F, kind: sitemap, url: "${base}/loop.xml"}
  - {name: huge, outlet: Báo G, kind: rss, url: "${base}/huge.xml"}
  - {name: legacy, outlet: Báo Cũ, kind: rss, url: "${base}/legacy/rss.xml"}
"""


def test_each_failing_source_is_recorded_and_the_others_carry_on(tmp_path: Path, model_dir: Path, db_url: str) -> None:
    server, base = start_fault_site()
    try:
        sources = tmp_path / "sources.yaml"
        sources.write_text(SOURCES.replace("${base}", base), encoding="utf-8")
        crawl(sources, db_url, model_dir, COOPWATCH_DOWNLOAD_TIMEOUT="1", COOPWATCH_RETRY_BASE_DELAY="0.1")
        engine = create_engine(db_url)
        with Session(engine) as session:
            runs = {r.source: r for r in session.scalars(select(CrawlRun))}
            stored = {i.outlet for i in session.scalars(select(Item))}
            legacy = {i.url.rsplit("/", 1)[1]: i for i in session.scalars(select(Item).where(Item.outlet == "Báo Cũ"))}
        assert set(runs) == {"good", "limited", "html-feed", "broken-xml", "missing", "server-error",
                             "slow", "redirect-loop", "huge", "legacy"}
        assert stored == {"Báo Tốt", "Báo Bận", "Báo Cũ"}
        # windows-1258 pages, declared in the header or only in a meta tag, read as Vietnamese.
        assert "Quỹ tín dụng nhân dân thị trấn" in legacy["header.html"].text
        assert "Tổ hợp tác đan lát ở thôn Phú Lễ" in legacy["meta.html"].text
        assert legacy["meta.html"].title == "Hội nghị tổng kết kinh tế tập thể năm 2026"
        # A TCVN3 page with no charset at all is converted to Unicode.
        assert "hợp tác xã chăn nuôi bò sữa Hòa Bình" in legacy["tcvn3.html"].text
        assert legacy["tcvn3.html"].title == "Hội nghị tổng kết kinh tế tập thể năm 2026"
        assert runs["good"].new == 2 and runs["good"].errors == []
        assert runs["limited"].new == 1 and runs["limited"].errors == []
        expectations = {
            "html-feed": "unusable", "broken-xml": "unusable", "missing": "HTTP 404",
            "server-error": "HTTP 500", "slow": "TimeoutError", "redirect-loop": "loop.xml",
            "huge": "huge.xml",
        }
        for source, reason in expectations.items():
            assert runs[source].new == 0 and any(reason in e for e in runs[source].errors), (source, runs[source].errors)
        # The 429 asked for one second; the retry waited for it.
        first, second = server.requests["/limited/rss.xml"][:2]
        assert second - first >= 0.95
        assert len(server.requests["/500.xml"]) == 3  # one try and two retries, then recorded
        table = subprocess.run([sys.executable, "-m", "pipeline.cli", "sources"], capture_output=True, text=True,
                               env={**os.environ, "COOPWATCH_DATABASE_URL": db_url}, timeout=120)
        assert "server-error" in table.stdout and "good" in table.stdout
    finally:
        server.shutdown()


def test_an_unchanged_feed_costs_one_304(tmp_path: Path, model_dir: Path, db_url: str) -> None:
    server, base = start_fault_site()
    try:
        sources = tmp_path / "sources.yaml"
        sources.write_text(f'sources:\n  - {{name: etag, outlet: Báo E, kind: rss, url: "{base}/etag/rss.xml"}}\n',
                           encoding="utf-8")
        for _ in range(2):
            crawl(sources, db_url, model_dir)
        assert [st for path, st in server.statuses if path == "/etag/rss.xml"] == [200, 304]
        assert len(server.requests["/good/a1.html"]) == 1
        engine = create_engine(db_url)
        with Session(engine) as session:
            runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [r.new for r in runs] == [1, 0] and runs[1].errors == []
    finally:
        server.shutdown()


def test_redirects_off_the_source_host_are_refused_and_video_feeds_become_posts(tmp_path: Path, model_dir: Path, db_url: str) -> None:
    server, base = start_fault_site()
    try:
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            "sources:\n"
            f'  - {{name: jumpy, outlet: Báo G, kind: rss, url: "{base}/offsite/rss.xml"}}\n'
            # The feed URL itself redirects away: feed requests skip Scrapy's offsite filter.
            f'  - {{name: jumpy-feed, outlet: Báo H, kind: rss, url: "{base}/offsite/jump.html"}}\n'
            f'  - {{name: channel, outlet: Kênh Nông nghiệp Xanh, kind: youtube, url: "{base}/channel.atom"}}\n',
            encoding="utf-8",
        )
        crawl(sources, db_url, model_dir)
        assert "/good/a1.html" not in server.requests  # localhost is another host than 127.0.0.1
        engine = create_engine(db_url)
        with Session(engine) as session:
            runs = {r.source: r for r in session.scalars(select(CrawlRun))}
            video = session.scalars(select(Item)).one()
        assert runs["jumpy"].new == 0 and any("localhost" in e or "other hosts" in e for e in runs["jumpy"].errors)
        assert any("outside the source's domain" in e for e in runs["jumpy-feed"].errors), runs["jumpy-feed"].errors
        assert video.kind == "social" and video.outlet == "Kênh Nông nghiệp Xanh"
        assert "46 thành viên" in video.text and video.title == "Thăm HTX nuôi ong Đồng Tiến"
    finally:
        server.shutdown()
