"""Engine creation and schema migration (Alembic) for any SQLAlchemy URL."""
from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from pipeline.core.config import REPO_ROOT, get_settings

logger = logging.getLogger(__name__)

ALEMBIC_DIR = REPO_ROOT / "pipeline" / "core" / "migrations"


def make_engine(url: str | None = None) -> Engine:
    """Create an engine; SQLite files get their folder and sane concurrency pragmas."""
    url = url or get_settings().database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets the dashboard read while the crawler writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the project's migrations for the given database."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str | None = None) -> None:
    """Apply every migration up to head."""
    url = url or get_settings().database_url
    if make_url(url).get_backend_name() == "sqlite":
        make_engine(url).dispose()  # creates the folder of the file
    logger.info("applying migrations to %s", make_url(url).render_as_string(hide_password=True))
    command.upgrade(alembic_config(url), "head")
