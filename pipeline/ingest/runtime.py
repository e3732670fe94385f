"""Process-wide shared objects: one engine, one model and one story index per process."""
from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from typing import Optional

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from models.classifier import CoopClassifier
from models.persistence import ModelError, load_model
from pipeline.core.config import get_settings
from pipeline.core.db import make_engine
from pipeline.ingest.ingestor import Ingestor
from pipeline.ingest.spool import Spool

logger = logging.getLogger(__name__)


@lru_cache(maxsize=None)
def shared_engine(url: Optional[str] = None) -> Engine:
    """The engine for the configured (or given) database URL."""
    return make_engine(url or get_settings().database_url)


def load_configured_model() -> CoopClassifier:
    """The trained model with the configured threshold and narrative library; ModelError if none."""
    settings = get_settings()
    return load_model(settings.model_dir, settings.review_threshold, settings.narratives_path)


def load_classifier_or_none() -> Optional[CoopClassifier]:
    """The trained model, or None (items are then stored unclassified) with a clear log line."""
    try:
        return load_configured_model()
    except ModelError as exc:
        logger.error("%s; items will be stored unclassified", exc)
        return None


def configured_spool(database_url: Optional[str] = None) -> Spool:
    """The local spool where records wait while the database (the configured one, or the one
    given) is unreachable."""
    settings = get_settings()
    # One spool per database, so records never end up in another database than theirs.
    database = make_url(database_url or settings.database_url).render_as_string(hide_password=True)
    name = f"spool-{hashlib.sha256(database.encode('utf-8')).hexdigest()[:16]}.sqlite3"
    return Spool(settings.spool_dir / name, max_bytes=settings.spool_max_mb * 1024 * 1024)


def spool_ingestor(spool: Spool) -> Ingestor:
    """An ingestor of the configured database that replays the given spool."""
    return Ingestor(shared_engine(), load_classifier_or_none(), spool=spool,
                    retry_seconds=get_settings().spool_retry_seconds)


@lru_cache(maxsize=None)
def shared_ingestor() -> Ingestor:
    """One ingestor per process, so all spiders share the model and the story index."""
    return Ingestor(shared_engine(), load_classifier_or_none(), spool=configured_spool(),
                    retry_seconds=get_settings().spool_retry_seconds)
