"""Monitors' reviews: recording actions, the review queue, and confirmed labels for training."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import Engine, case, exists, func, select
from sqlalchemy.orm import Session

from models.contract import LABELS
from models.corpus import LabelledItem
from pipeline.schema import Item, Review, StoryCluster

ACTIONS = ("confirm", "relabel", "dismiss", "note")
# Actions that settle an item: it leaves the queue and its label becomes ground truth.
DECISIONS = ("confirm", "relabel", "dismiss")


class ReviewError(ValueError):
    """Raised for an action that cannot be recorded."""


def record_review(engine: Engine, item_id: int, reviewer: str, action: str,
                  label: Optional[str] = None, note: Optional[str] = None) -> int:
    """Append one review action; returns its id. `relabel` needs a label (None = not relevant)."""
    if action not in ACTIONS:
        raise ReviewError(f"action must be one of {', '.join(ACTIONS)}")
    if label is not None and label not in LABELS:
        raise ReviewError(f"unknown label {label!r}")
    with Session(engine) as session, session.begin():
        item = session.get(Item, item_id)
        if item is None:
            raise ReviewError(f"no item {item_id}")
        if action == "confirm":
            label = item.label
        review = Review(item_id=item_id, reviewer=reviewer, action=action, label=label, note=note)
        session.add(review)
        session.flush()
        return review.id


def _settled():  # type: ignore[no-untyped-def]
    return exists().where(Review.item_id == Item.id, Review.action.in_(DECISIONS))


def review_queue(session: Session, limit: int = 100) -> list[Item]:
    """Unsettled flagged items, costliest mistakes first.

    A wrong or missed `misleading` costs most, so those come first; then the items the model
    is least sure of; then reach (how many outlets carried the story, social shares).
    """
    query = (
        select(Item)
        .outerjoin(StoryCluster, Item.cluster_id == StoryCluster.id)
        .where(Item.needs_review.is_(True), ~_settled())
        .order_by(
            case((Item.label == "misleading", 0), else_=1),
            func.coalesce(Item.confidence, 0.0),
            func.coalesce(StoryCluster.size, 1).desc(),
            func.coalesce(Item.shares, 0).desc(),
            Item.id,
        )
        .limit(limit)
    )
    return list(session.scalars(query))


def reviewed_examples(engine: Engine) -> list[LabelledItem]:
    """Items whose latest decision is confirm or relabel, labelled as the monitor decided."""
    latest = (
        select(Review.item_id, func.max(Review.id).label("review_id"))
        .where(Review.action.in_(("confirm", "relabel")))
        .group_by(Review.item_id)
        .subquery()
    )
    query = select(Item, Review).join(latest, latest.c.item_id == Item.id).join(
        Review, Review.id == latest.c.review_id
    )
    with Session(engine) as session:
        return [
            LabelledItem(id=f"review-{item.id}", title=item.title, text=item.text, kind=item.kind,
                         relevant=review.label is not None, label=review.label)
            for item, review in session.execute(query).all()
        ]
