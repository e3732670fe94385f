"""The walking skeleton: demo site → Scrapy crawl → pipeline → database, twice."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from crawlers.demosite.content import OUTLETS, load_articles, load_posts
from pipeline.core.config import REPO_ROOT
from pipeline.core.schema import Item, StoryCluster
from models.contract import LABELS
from tests.helpers import crawl

DEMO_SOURCES = REPO_ROOT / "data" / "sources.demo.yaml"


def article_hits(hits: Counter) -> int:
    return sum(n for path, n in hits.items() if path.endswith(".html") and not path.startswith("/social/"))


def test_demo_site_is_crawled_stored_and_not_fetched_twice(tmp_path: Path, demo_site, model_dir: Path, db_url: str) -> None:
    server, base_url = demo_site
    crawl(DEMO_SOURCES, db_url, model_dir, COOPWATCH_DEMO_URL=base_url)

    articles, posts = load_articles(), load_posts()
    engine = create_engine(db_url)
    with Session(engine) as session:
        per_outlet = dict(session.execute(
            select(Item.outlet, func.count(Item.id)).where(Item.kind == "news").group_by(Item.outlet)).all())
        expected = Counter(OUTLETS[a.outlet].name for a in articles)
        assert per_outlet == dict(expected)
        assert session.scalar(select(func.count(Item.id)).where(Item.kind == "social")) == len(posts)

        # The wire story: one cluster holding the three outlets' copies.
        wire_slugs = {a.slug for a in articles if a.wire}
        wire_items = [i for i in session.scalars(select(Item)) if i.url.rsplit("/", 1)[-1][:-5] in wire_slugs]
        assert len(wire_items) == 3 and len({i.cluster_id for i in wire_items}) == 1
        cluster = session.get(StoryCluster, wire_items[0].cluster_id)
        assert cluster.size == 3
        first_copy = min((a for a in articles if a.wire), key=lambda a: a.published)
        assert cluster.first_outlet == OUTLETS[first_copy.outlet].name
        assert session.scalar(select(func.count(StoryCluster.id)).where(StoryCluster.size > 1)) == 1

        # Every item went through the classifier; labels of several kinds came out.
        assert session.scalar(select(func.count(Item.id)).where(Item.relevant.is_(None))) == 0
        labels = set(session.scalars(select(Item.label).where(Item.label.is_not(None))))
        assert labels <= set(LABELS) and len(labels) >= 4
        assert session.scalar(select(func.count(Item.id)).where(Item.published_at.is_(None))) == 0
        stored_before = session.scalar(select(func.count(Item.id)))

    fetched_before = article_hits(server.hits)
    assert fetched_before == len(articles)
    crawl(DEMO_SOURCES, db_url, model_dir, COOPWATCH_DEMO_URL=base_url)
    assert article_hits(server.hits) == fetched_before  # no article page fetched again
    with Session(engine) as session:
        assert session.scalar(select(func.count(Item.id))) == stored_before
