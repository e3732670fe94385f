"""Monitor-confirmed versus model-only: each item's latest decision, as SQL for aggregates.

An item a monitor has settled (confirm, relabel or dismiss; a blind second review never
settles, see pipeline/review.py) counts with the label of its latest decision, None meaning
not relevant or dismissed; any other item counts with the model's label.
Aggregates count `decision.c.item_id` to say how many of the counted items are confirmed.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Subquery, case, func, select

from pipeline.review import DECISIONS
from pipeline.schema import Item, Review


def latest_decisions() -> Subquery:
    """One row per decided item: item_id and the label of its latest decision."""
    last = (
        select(Review.item_id, func.max(Review.id).label("review_id"))
        .where(Review.action.in_(DECISIONS), Review.second_review.is_(False))
        .group_by(Review.item_id)
        .subquery("last_decision")
    )
    return (
        select(Review.item_id, Review.label)
        .join(last, last.c.review_id == Review.id)
        .subquery("decision")
    )


def effective_label(decision: Subquery) -> ColumnElement[Any]:
    """The monitor's label where there is a decision, else the model's."""
    return case((decision.c.item_id.is_not(None), decision.c.label), else_=Item.label)


def confirmed_count(decision: Subquery) -> ColumnElement[Any]:
    """How many of the rows counted have a monitor decision."""
    return func.count(decision.c.item_id)


def item_time() -> ColumnElement[Any]:
    """When an item appeared: its publication time, else when it was fetched."""
    return func.coalesce(Item.published_at, Item.fetched_at)
