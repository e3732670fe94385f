"""Migrations on both backends: up to head, down to nothing, up again, always matching schema.py."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from pipeline.core.db import alembic_config, make_engine, migrate
from pipeline.core.schema import Base

# SQLite cannot reflect the expression index ix_items_seen_at, so autogenerate skips it there
# (tests/test_dashboard.py checks it); PostgreSQL compares it.
pytestmark = pytest.mark.filterwarnings("ignore:.*expression-based index")

def differences(url: str) -> list[object]:
    """What autogenerate would change to make the database match schema.py (nothing, we hope)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.mark.database
@pytest.mark.parametrize("database", ["empty_db_url", "postgres_url"])
def test_upgrade_downgrade_upgrade_matches_the_schema(request, database: str) -> None:
    url = request.getfixturevalue(database)
    config = alembic_config(url)
    migrate(url)
    assert tables(url) == set(Base.metadata.tables)
    assert differences(url) == []
    command.downgrade(config, "base")
    assert tables(url) == set()
    migrate(url)
    assert differences(url) == []


@pytest.mark.database
@pytest.mark.parametrize("database", ["empty_db_url", "postgres_url"])
def test_every_migration_steps_down_and_up_again(request, database: str) -> None:
    url = request.getfixturevalue(database)
    config = alembic_config(url)
    revisions = [r.revision for r in ScriptDirectory.from_config(config).walk_revisions("base", "head")]
    migrate(url)
    for _ in revisions:  # from head down to base, one revision at a time, each undone and redone
        command.downgrade(config, "-1")
        command.upgrade(config, "+1")
        command.downgrade(config, "-1")
    assert tables(url) == set()
    migrate(url)
    assert differences(url) == []
