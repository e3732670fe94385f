"""Monitor-confirmed versus model-only: each item's latest decision, as SQL for aggregates.

An item a monitor has settled (confirm, relabel or dismiss; a blind second review never
settles, see review/rules.py) counts with the label of its latest decision, None meaning
not relevant or dismissed; any other item counts with the model's label.
Aggregates count `decision.c.item_id` to say how many of the counted items are confirmed.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Subquery, case, func

from pipeline.core.schema import Item
from pipeline.review.rules import latest_decisions

__all__ = ["latest_decisions", "effective_label", "confirmed_count", "item_time"]


def effective_label(decision: Subquery) -> ColumnElement[Any]:
    """The monitor's label where there is a decision, else the model's."""
    return case((decision.c.item_id.is_not(None), decision.c.label), else_=Item.label)


def confirmed_count(decision: Subquery) -> ColumnElement[Any]:
    """How many of the rows counted have a monitor decision."""
    return func.count(decision.c.item_id)


def item_time() -> ColumnElement[Any]:
    """When an item appeared: its publication time, else when it was fetched."""
    return func.coalesce(Item.published_at, Item.fetched_at)
