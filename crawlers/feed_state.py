"""Conditional GET state per feed URL (ETag, Last-Modified)."""
from __future__ import annotations

import logging
from typing import Optional

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from pipeline.core.schema import FeedState, utcnow

logger = logging.getLogger(__name__)


def conditional_headers(engine: Engine, url: str) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a feed fetched before, else nothing."""
    try:
        with Session(engine) as session:
            state = session.get(FeedState, url)
    except SQLAlchemyError as exc:  # the database is unreachable: fetch the whole feed
        logger.warning("no conditional GET for %s: %s", url, str(exc).splitlines()[0])
        return {}
    headers: dict[str, str] = {}
    if state and state.etag:
        headers["If-None-Match"] = state.etag
    if state and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def remember(engine: Engine, url: str, etag: Optional[str], last_modified: Optional[str]) -> None:
    """Store a feed's validators after a full (200) response."""
    if not etag and not last_modified:
        return
    try:
        with Session(engine) as session, session.begin():
            state = session.get(FeedState, url) or FeedState(url=url)
            state.etag, state.last_modified, state.updated_at = etag, last_modified, utcnow()
            session.add(state)
    except SQLAlchemyError as exc:  # not remembered: the next crawl fetches the whole feed
        logger.warning("feed validators of %s not saved: %s", url, str(exc).splitlines()[0])
