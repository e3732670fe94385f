"""Alembic environment: runs migrations on the URL given by pipeline.core.db.migrate."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pipeline.core.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations inside one connection and transaction."""
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
