"""Shared fixtures: throw-away databases, a trained model, the demo site on a free port."""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from crawlers.demosite.server import serve_in_background
from models.classifier import CoopClassifier
from models.persistence import load_model
from models.train import train
from pipeline.config import REPO_ROOT, get_settings
from pipeline.db import make_engine, migrate

SHARED = get_settings().shared_dir
POSTGRES_ADMIN_URL = os.environ.get(
    "COOPWATCH_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database of its own for one test."""
    url = f"sqlite:///{tmp_path / 'coopwatch.db'}"
    migrate(url)
    return url


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained once per session from data/training/."""
    directory = tmp_path_factory.mktemp("model")
    train(REPO_ROOT / "data" / "training", directory)
    return directory


@pytest.fixture(scope="session")
def classifier(model_dir: Path) -> CoopClassifier:
    return load_model(model_dir)


@pytest.fixture
def demo_site() -> Iterator[tuple[object, str]]:
    """The demo site on a free port; yields (server, base URL)."""
    server, base_url = serve_in_background(0)
    yield server, base_url
    server.shutdown()
    server.server_close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; skipped when no server answers."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"coopwatch_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no PostgreSQL server reachable at {POSTGRES_ADMIN_URL}: {exc.orig}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def shared_path(*parts: str) -> Path:
    """A file in ../shared/data, or skip the test with a clear message when it is absent."""
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"shared data not present: {path}")
    return path
