"""Conditional GET state per feed URL (ETag, Last-Modified)."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.schema import FeedState, utcnow


def conditional_headers(engine: Engine, url: str) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a feed fetched before, else nothing."""
    with Session(engine) as session:
        state = session.get(FeedState, url)
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
    with Session(engine) as session, session.begin():
        state = session.get(FeedState, url) or FeedState(url=url)
        state.etag, state.last_modified, state.updated_at = etag, last_modified, utcnow()
        session.add(state)
