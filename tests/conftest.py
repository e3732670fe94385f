"""Shared fixtures: throw-away databases, a trained model, the demo site on a free port.

COOPWATCH_TEST_DATABASE=postgresql (`make test-postgres`) gives every test that uses `db_url`
(or its older names `sqlite_url` and `engine`) a database of its own on the PostgreSQL server
instead of a SQLite file, and runs only the tests that touch a database.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator, Optional

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from crawlers.demosite.server import serve_in_background
from models.classifier import CoopClassifier
from models.persistence import load_model
from models.train import train
from pipeline.core.config import REPO_ROOT, get_settings
from pipeline.core.db import make_engine, migrate

SHARED = get_settings().shared_dir
POSTGRES_ADMIN_URL = os.environ.get(
    "COOPWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKEND = os.environ.get("COOPWATCH_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
# Tests asking for one of these fixtures (directly, or as the value of a parameter they pass
# to request.getfixturevalue) touch a database; on the PostgreSQL run only they and tests
# marked `database` are collected: the others do not depend on the backend.
# `database_url` is tests/test_review.py's fixture of both backends.
DATABASE_FIXTURES = {"db_url", "sqlite_url", "engine", "postgres_url", "empty_db_url", "database_url"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "database: touches a database without the db_url fixture")
    if BACKEND not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"COOPWATCH_TEST_DATABASE must be sqlite or postgresql, not {BACKEND!r}")


def pytest_report_header() -> str:
    return f"CoopWatch test database: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if BACKEND != "postgresql":
        return
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {}).values()
        names = set(getattr(item, "fixturenames", ())) | {p for p in params if isinstance(p, str)}
        (keep if names & DATABASE_FIXTURES or item.get_closest_marker("database") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _own_spool(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test (and every command it starts) gets an empty ingest spool of its own."""
    monkeypatch.setenv("COOPWATCH_SPOOL_DIR", str(tmp_path_factory.mktemp("spool")))


def _admin_engine() -> Engine:
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _database_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _create_database(name: str, template: Optional[str] = None) -> None:
    """CREATE DATABASE, or skip the test when no PostgreSQL server answers."""
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    except OperationalError as exc:
        pytest.skip(f"no PostgreSQL server reachable at {POSTGRES_ADMIN_URL}: {exc.orig}")
    finally:
        admin.dispose()


def _drop_database(name: str) -> None:
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def _migrated_template() -> Iterator[str]:
    """One migrated PostgreSQL database per session; each test gets a copy (a fast file copy)."""
    name = f"coopwatch_tmpl_{uuid.uuid4().hex[:10]}"
    _create_database(name)
    try:
        migrate(_database_url(name))
        yield name
    finally:
        _drop_database(name)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own for one test, on the backend COOPWATCH_TEST_DATABASE names."""
    if BACKEND == "sqlite":
        url = f"sqlite:///{tmp_path / 'coopwatch.db'}"
        migrate(url)
        yield url
        return
    template = request.getfixturevalue("_migrated_template")
    name = f"coopwatch_test_{uuid.uuid4().hex[:10]}"
    _create_database(name, template)
    yield _database_url(name)
    _drop_database(name)


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables) on the backend COOPWATCH_TEST_DATABASE names."""
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def sqlite_url(db_url: str) -> str:
    """The older name of db_url, from before the suite also ran on PostgreSQL."""
    return db_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained once per session from data/training/."""
    directory = tmp_path_factory.mktemp("model")
    train(REPO_ROOT / "data" / "training", directory, real_news_dir=get_settings().real_news_dir,
          eval_dir=get_settings().eval_dir)
    return directory


@pytest.fixture(scope="session")
def classifier(model_dir: Path) -> CoopClassifier:
    return load_model(model_dir, narratives_path=get_settings().narratives_path)


@pytest.fixture
def demo_site() -> Iterator[tuple[object, str]]:
    """The demo site on a free port; yields (server, base URL)."""
    server, base_url = serve_in_background(0)
    yield server, base_url
    server.shutdown()
    server.server_close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards; skipped when no server answers."""
    name = f"coopwatch_test_{uuid.uuid4().hex[:10]}"
    _create_database(name)
    yield _database_url(name)
    _drop_database(name)


def shared_path(*parts: str) -> Path:
    """A file in ../shared/data, or skip the test with a clear message when it is absent."""
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path
