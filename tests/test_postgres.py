"""Migrations and ingest against the PostgreSQL server of this machine."""
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from pipeline.core.db import make_engine, migrate
from pipeline.ingest.ingestor import Ingestor
from pipeline.core.schema import Item, StoryCluster
from tests.test_ingest import wire_copies


def test_migrations_and_ingest_on_postgresql(postgres_url: str, classifier) -> None:
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        assert {"items", "story_clusters", "ingest_errors", "users"} <= set(inspect(engine).get_table_names())
        report = Ingestor(engine, classifier).ingest(wire_copies())
        assert report.stored == 3 and report.joined_story == 2
        again = Ingestor(engine, classifier).ingest(wire_copies())
        assert again.already_stored == 3
        with Session(engine) as session:
            assert session.scalar(select(func.count(Item.id))) == 3
            cluster = session.scalars(select(StoryCluster)).one()
            assert cluster.size == 3
            item = session.scalars(select(Item)).first()
            assert item.published_at.utcoffset().total_seconds() == 0  # stored and returned as UTC
        migrate(postgres_url)  # applying again is a no-op
    finally:
        engine.dispose()
