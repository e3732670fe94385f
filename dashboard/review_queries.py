"""Read queries of the review page (Rà soát), cached; writes go through pipeline.review.workflow.

Each query is a plain function taking an engine, with a cached wrapper of the same name
without the leading underscore that the page calls. The cache is short and cleared after
every action of this session; a stale screen is harmless because every write names the
review it last saw and is refused when someone acted since (pipeline.review.workflow.ReviewConflict).
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Optional

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from dashboard.queries import engine
from models.narratives import Narrative, NarrativeError, NarrativeLibrary
from pipeline.core.config import get_settings
from pipeline.core.safe_text import display_text, has_bidi_controls
from pipeline.review.agreement import (
    AgreementReport,
    agreement_report,
    double_review_progress,
    pending_double_reviews,
)
from pipeline.review.workflow import (
    REVIEWER_ROLES,
    current_assignees,
    item_state,
    review_queue,
    settled_items,
)
from pipeline.core.schema import Item, Review, StoryCluster, User

logger = logging.getLogger(__name__)

TTL = 30
QUEUE_LIMIT = 200


@dataclass(frozen=True)
class ItemDetail:
    """Everything the page shows about one item (plain data, so it can be cached)."""

    id: int
    title: str
    text: str
    url: str
    outlet: str
    kind: str
    published_at: Optional[datetime]
    relevant: Optional[bool]
    label: Optional[str]
    confidence: Optional[float]
    reasons: list[str]
    narrative_id: Optional[str]
    state: dict[str, Any]  # pipeline.review.workflow.ItemState as a dict
    copies: list[dict[str, Any]]  # other items of the same story
    history: list[dict[str, Any]]  # every review of the item, oldest first
    # The passage of a long page that decided its label (codebook rules 4 and 6), if any.
    passage: Optional[str] = None
    # The title, text or outlet carried right-to-left override characters (removed for display).
    bidi: bool = False
    title_derived: bool = False  # a post without a headline: its first words stand in


@st.cache_resource
def narratives() -> dict[str, Narrative]:
    """The narrative library by id (empty, with a log line, when the file cannot be read)."""
    try:
        library = NarrativeLibrary.load(get_settings().narratives_path)
    except NarrativeError as exc:
        logger.error("narratives not shown: %s", exc)
        return {}
    return {narrative.id: narrative for narrative in library.narratives}


def _queue(eng: Engine, limit: int = QUEUE_LIMIT) -> pd.DataFrame:
    with Session(eng) as session:
        items = review_queue(session, limit)
        assignees = current_assignees(session, [item.id for item in items])
        sizes = dict(session.execute(
            select(StoryCluster.id, StoryCluster.size)
            .where(StoryCluster.id.in_([i.cluster_id for i in items if i.cluster_id is not None]))
        ).tuples().all())
    rows = [
        {"rank": rank, "id": item.id, "title": display_text(item.title or item.text[:120]), "outlet": item.outlet,
         "label": item.label, "confidence": item.confidence,
         "copies": sizes.get(item.cluster_id, 1) if item.cluster_id else 1,
         "shares": item.shares or 0, "assignee": assignees.get(item.id)}
        for rank, item in enumerate(items, 1)
    ]
    columns = ["rank", "id", "title", "outlet", "label", "confidence", "copies", "shares", "assignee"]
    return pd.DataFrame(rows, columns=columns)


@st.cache_data(ttl=TTL)
def queue() -> pd.DataFrame:
    """Unsettled flagged items in priority order."""
    return _queue(engine())


def _detail(eng: Engine, item_id: int) -> Optional[ItemDetail]:
    with Session(eng) as session:
        item = session.get(Item, item_id)
        if item is None:
            return None
        copies = []
        if item.cluster_id is not None:
            copies = [
                {"outlet": c.outlet, "title": display_text(c.title), "url": c.url, "published_at": c.published_at}
                for c in session.scalars(
                    select(Item).where(Item.cluster_id == item.cluster_id, Item.id != item.id)
                    .order_by(Item.published_at, Item.id))
            ]
        history = [
            {"id": r.id, "created_at": r.created_at, "reviewer": r.reviewer, "action": r.action,
             "label": r.label, "note": r.note, "assignee": r.assignee,
             "response_status": r.response_status, "response_link": r.response_link,
             "second_review": r.second_review}
            for r in session.scalars(select(Review).where(Review.item_id == item_id).order_by(Review.id))
        ]
        state = asdict(item_state(session, item_id))
        state["deciders"] = sorted(state["deciders"])
        return ItemDetail(
            id=item.id, title=display_text(item.title), text=display_text(item.text), url=item.url,
            outlet=item.outlet, bidi=has_bidi_controls(f"{item.title}{item.text}{item.outlet}"),
            title_derived=bool(item.title_derived),
            kind=item.kind, published_at=item.published_at, relevant=item.relevant, label=item.label,
            confidence=item.confidence, reasons=list(item.reasons or []), narrative_id=item.narrative,
            state=state, copies=copies, history=history, passage=_passage(item),
        )


def _passage(item: Item) -> Optional[str]:
    """The deciding passage's text, when the model decided on a part of a long page."""
    start, end = item.passage_start, item.passage_end
    if start is None or end is None or not 0 <= start < end <= len(item.text):
        return None
    return display_text(item.text[start:end])


@st.cache_data(ttl=TTL)
def detail(item_id: int) -> Optional[ItemDetail]:
    """One item with its model output, story copies, review history and state."""
    return _detail(engine(), item_id)


def _settled(eng: Engine, misleading_only: bool) -> pd.DataFrame:
    with Session(eng) as session:
        rows = [
            {"id": item.id, "title": display_text(item.title or item.text[:120]), "outlet": item.outlet,
             "label": state.label, "decision": state.decision, "decided_by": state.decided_by,
             "response_status": state.response_status if state.confirmed_misleading else None,
             "response_link": state.response_link if state.confirmed_misleading else None}
            for item, state in settled_items(session, QUEUE_LIMIT)
            if state.confirmed_misleading or not misleading_only
        ]
    columns = ["id", "title", "outlet", "label", "decision", "decided_by", "response_status", "response_link"]
    return pd.DataFrame(rows, columns=columns)


@st.cache_data(ttl=TTL)
def settled(misleading_only: bool) -> pd.DataFrame:
    """Recently settled items (or only those confirmed misleading, with their response)."""
    return _settled(engine(), misleading_only)


def _pending_second(eng: Engine, reviewer: str) -> list[tuple[int, str]]:
    with Session(eng) as session:
        ids = pending_double_reviews(session, reviewer)
        titles = dict(session.execute(select(Item.id, Item.title).where(Item.id.in_(ids))).tuples().all())
    return [(item_id, display_text(titles.get(item_id) or "")) for item_id in ids]


@st.cache_data(ttl=TTL)
def pending_second(reviewer: str) -> list[tuple[int, str]]:
    """(id, title) of sampled items waiting for this reviewer's blind second review."""
    return _pending_second(engine(), reviewer)


@st.cache_data(ttl=TTL)
def double_progress() -> tuple[int, int]:
    """(items sampled for double review, of which done)."""
    with Session(engine()) as session:
        return double_review_progress(session)


@st.cache_data(ttl=TTL)
def agreement() -> AgreementReport:
    """Kappa between monitors and between monitors and the model."""
    with Session(engine()) as session:
        return agreement_report(session)


@st.cache_data(ttl=TTL)
def reviewer_accounts() -> list[str]:
    """Names of the accounts an item can be assigned to."""
    with Session(engine()) as session:
        return list(session.scalars(select(User.name).where(User.role.in_(REVIEWER_ROLES)).order_by(User.name)))


def clear() -> None:
    """Forget cached answers after this session wrote something."""
    for query in (queue, detail, settled, pending_second, double_progress, agreement, reviewer_accounts):
        query.clear()
