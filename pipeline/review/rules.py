"""The named query rules over reviews: one place for each, used everywhere it applies.

Reviews are append-only rows. A *decision* is a confirm, relabel or dismiss made in the first
review; a blind second review (double review) never settles an item, so it is never a
decision. An item's *latest decision* is its newest decision row; it settles the item.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, exists, func, select

from pipeline.core.schema import Item, Review

ACTIONS = ("confirm", "relabel", "dismiss", "note", "assign", "response")
# Actions that settle an item: it leaves the queue and its label becomes ground truth.
# `dismiss` settles without a label (a false alarm not worth labelling: broken text, spam).
DECISIONS = ("confirm", "relabel", "dismiss")
# Written only by sample_for_double_review: marks a settled item for a second, blind review.
SAMPLE = "sample"


def is_decision() -> ColumnElement[bool]:
    """A review row that settles its item: a first-review confirm, relabel or dismiss."""
    return and_(Review.action.in_(DECISIONS), Review.second_review.is_(False))


def is_second_review() -> ColumnElement[bool]:
    """A review row of the blind second review."""
    return Review.second_review.is_(True)


def latest_decision_ids() -> Select[Any]:
    """The id of each decided item's latest decision (one row per item)."""
    return select(func.max(Review.id)).where(is_decision()).group_by(Review.item_id)


def latest_decision_rows() -> Subquery:
    """One row per decided item: item_id and review_id of its latest decision."""
    return (select(Review.item_id, func.max(Review.id).label("review_id"))
            .where(is_decision()).group_by(Review.item_id).subquery("last_decision"))


def latest_decisions() -> Subquery:
    """One row per decided item: item_id, and the label and action of its latest decision."""
    last = latest_decision_rows()
    return (
        select(Review.item_id, Review.label, Review.action, Review.reviewer, Review.created_at)
        .join(last, last.c.review_id == Review.id)
        .subquery("decision")
    )


def is_settled() -> ColumnElement[bool]:
    """The item (Item in the query) has a decision."""
    return exists().where(Review.item_id == Item.id, is_decision())
