"""Monitors' reviews: recording actions, the review queue, settled items and item states.

Double review and agreement live in agreement.py; the query rules they share in rules.py.

Reviews are append-only: every action is a new row with who and when, and an item's current
state (settled label, assignee, response status) is folded from its rows in order. Writes are
guarded against lost updates: the caller says which review it last saw, and the write is
refused when a newer one exists.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence
from urllib.parse import urlparse

from sqlalchemy import Engine, case, func, select, text
from sqlalchemy.orm import Session

from models.contract import LABELS
from models.corpus import LabelledItem
from pipeline.core.schema import Item, Review, StoryCluster, User
from pipeline.review.rules import ACTIONS, DECISIONS, SAMPLE, is_settled, latest_decision_rows

logger = logging.getLogger(__name__)

RESPONSE_STATUSES = ("none", "drafted", "published")
REVIEWER_ROLES = ("monitor", "admin")
MAX_NOTE = 5000
MAX_LINK = 2000


class ReviewError(ValueError):
    """Raised for an action that cannot be recorded."""


class ReviewPermissionError(ReviewError):
    """The acting account may not review items."""


class ReviewConflict(ReviewError):
    """Someone else acted on the item after the caller loaded it; nothing was written."""

    def __init__(self, item_id: int, expected: Optional[int], latest: Review) -> None:
        self.item_id, self.expected, self.latest_id = item_id, expected, latest.id
        self.latest_reviewer, self.latest_action = latest.reviewer, latest.action
        super().__init__(
            f"item {item_id} changed since it was loaded: {latest.reviewer} recorded "
            f"'{latest.action}' (review {latest.id}; last seen: {expected or 'none'}); "
            "reload the item and try again"
        )


@dataclass(frozen=True)
class ItemState:
    """An item's review state, folded from its review rows in order."""

    item_id: int
    latest_review_id: Optional[int] = None
    decision: Optional[str] = None  # action of the latest first-review decision
    label: Optional[str] = None  # its label; None = not relevant (or dismissed)
    decided_by: Optional[str] = None
    deciders: frozenset[str] = field(default_factory=frozenset)
    assignee: Optional[str] = None
    response_status: str = "none"
    response_link: Optional[str] = None
    sampled: bool = False
    second_review_id: Optional[int] = None

    @property
    def settled(self) -> bool:
        return self.decision is not None

    @property
    def confirmed_misleading(self) -> bool:
        return self.decision in ("confirm", "relabel") and self.label == "misleading"


def fold_state(item_id: int, reviews: Iterable[Review]) -> ItemState:
    """The state after applying reviews (in id order)."""
    values: dict = {"item_id": item_id}
    deciders: set[str] = set()
    for review in reviews:
        values["latest_review_id"] = review.id
        if review.second_review:
            values["second_review_id"] = review.id
        elif review.action in DECISIONS:
            values.update(decision=review.action, label=review.label, decided_by=review.reviewer)
            deciders.add(review.reviewer)
        elif review.action == "assign":
            values["assignee"] = review.assignee
        elif review.action == "response":
            values.update(response_status=review.response_status, response_link=review.response_link)
        elif review.action == SAMPLE:
            values["sampled"] = True
    return ItemState(deciders=frozenset(deciders), **values)


def item_states(session: Session, item_ids: Sequence[int]) -> dict[int, ItemState]:
    """Current state of each item (items without reviews get an empty state)."""
    grouped: dict[int, list[Review]] = {item_id: [] for item_id in item_ids}
    if item_ids:
        query = select(Review).where(Review.item_id.in_(list(item_ids))).order_by(Review.id)
        for review in session.scalars(query):
            grouped[review.item_id].append(review)
    return {item_id: fold_state(item_id, reviews) for item_id, reviews in grouped.items()}


def item_state(session: Session, item_id: int) -> ItemState:
    return item_states(session, [item_id])[item_id]


def reviewer_role(session: Session, name: str) -> str:
    """The account's role when it may review; raises ReviewPermissionError otherwise."""
    role = session.scalar(select(User.role).where(User.name == name))
    if role is None:
        raise ReviewPermissionError(f"no account named {name!r}")
    if role not in REVIEWER_ROLES:
        raise ReviewPermissionError(f"{name} ({role}) may not review items: only monitors and admins")
    return role


def lock_item(session: Session, item_id: int) -> Optional[Item]:
    """Take the item's write lock for the rest of the transaction.

    On PostgreSQL the row lock (FOR UPDATE) makes a second writer wait, then see the first
    writer's review. SQLite ignores FOR UPDATE and pysqlite begins a transaction only at the
    first write, so two writers could both read "no newer review" and both insert; BEGIN
    IMMEDIATE takes the database's write lock before anything is read.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("BEGIN IMMEDIATE"))
    return session.scalars(select(Item).where(Item.id == item_id).with_for_update()).first()


def _clean_note(note: Optional[str]) -> Optional[str]:
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise ReviewError(f"note longer than {MAX_NOTE} characters")
    return note


def _check_link(link: Optional[str]) -> Optional[str]:
    link = (link or "").strip() or None
    if link is None:
        return None
    parsed = urlparse(link)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or len(link) > MAX_LINK:
        raise ReviewError(f"response link must be an http(s) address, got {link[:100]!r}")
    return link


def _check_arguments(action: str, label: Optional[str], assignee: Optional[str],
                     response_status: Optional[str], response_link: Optional[str],
                     note: Optional[str], second_review: bool) -> None:
    if action not in ACTIONS:
        raise ReviewError(f"action must be one of {', '.join(ACTIONS)}")
    if label is not None and label not in LABELS:
        raise ReviewError(f"unknown label {label!r}")
    if label is not None and action != "relabel":
        raise ReviewError("a label goes only with relabel (confirm takes the model's label)")
    if second_review and action not in DECISIONS:
        raise ReviewError("a second review is a confirm, relabel or dismiss")
    if action == "note" and not note:
        raise ReviewError("a note needs text")
    if action == "assign" and not assignee:
        raise ReviewError("assign needs the monitor to assign to")
    if action != "assign" and assignee:
        raise ReviewError("an assignee goes only with assign")
    if action == "response":
        if response_status not in RESPONSE_STATUSES:
            raise ReviewError(f"response status must be one of {', '.join(RESPONSE_STATUSES)}")
        if response_status == "published" and not response_link:
            raise ReviewError("a published response needs the link to it")
    elif response_status or response_link:
        raise ReviewError("a response status or link goes only with response")


def _check_state(session: Session, state: ItemState, reviewer: str, action: str,
                 assignee: Optional[str], second_review: bool) -> None:
    if second_review:
        if not state.sampled:
            raise ReviewError(f"item {state.item_id} is not in the double-review sample")
        if state.second_review_id is not None:
            raise ReviewError(f"item {state.item_id} already has its second review")
        if reviewer in state.deciders:
            raise ReviewError("the second review must come from a monitor who has not decided this item")
    if action == "assign":
        role = session.scalar(select(User.role).where(User.name == assignee))
        if role not in REVIEWER_ROLES:
            raise ReviewError(f"{assignee!r} is not a monitor's account")
    if action == "response" and not state.confirmed_misleading:
        raise ReviewError("a response is tracked only for items confirmed as misleading")


def record_review(engine: Engine, item_id: int, reviewer: str, action: str, *,
                  expected_previous: Optional[int], label: Optional[str] = None,
                  note: Optional[str] = None, assignee: Optional[str] = None,
                  response_status: Optional[str] = None, response_link: Optional[str] = None,
                  second_review: bool = False) -> int:
    """Append one review action; returns its id.

    `expected_previous` is the id of the item's latest review when the caller loaded it (None
    when it had none); if a newer review exists, ReviewConflict is raised and nothing is
    written. `relabel` takes a label (None = not relevant); `assign` an assignee (a monitor);
    `response` a status, with a link when published. `second_review` marks a blind second
    decision on an item sampled for double review.
    """
    note = _clean_note(note)
    response_link = _check_link(response_link)
    _check_arguments(action, label, assignee, response_status, response_link, note, second_review)
    with Session(engine) as session, session.begin():
        item = lock_item(session, item_id)
        reviewer_role(session, reviewer)
        if item is None:
            raise ReviewError(f"no item {item_id}")
        state = item_state(session, item_id)
        if expected_previous is not None:
            seen = session.get(Review, expected_previous)
            if seen is None or seen.item_id != item_id:
                raise ReviewError(f"item {item_id} has no review {expected_previous}")
        if state.latest_review_id != expected_previous:
            raise ReviewConflict(item_id, expected_previous, session.get_one(Review, state.latest_review_id))
        _check_state(session, state, reviewer, action, assignee, second_review)
        if action == "confirm":
            label = shown_label(item, state, second_review)
        review = Review(item_id=item_id, reviewer=reviewer, action=action, label=label, note=note,
                        assignee=assignee, response_status=response_status,
                        response_link=response_link, expected_previous=expected_previous,
                        second_review=second_review)
        session.add(review)
        session.flush()
        logger.info("review %s: %s %s item %s", review.id, reviewer, action, item_id)
        return review.id


def shown_label(item: Item, state: ItemState, blind: bool = False) -> Optional[str]:
    """The label the review page shows, which is what "confirm" confirms: the latest monitor
    decision on a settled item, else (and always in a blind second review) the model's."""
    if state.decision is not None and not blind:
        return state.label
    return item.label if item.relevant else None


def latest_review_id(session: Session, item_id: int) -> Optional[int]:
    return session.scalar(select(func.max(Review.id)).where(Review.item_id == item_id))


def review_queue(session: Session, limit: int = 100) -> list[Item]:
    """Unsettled flagged items, costliest mistakes first.

    A wrong or missed `misleading` costs most, so those come first; then the items the model
    is least sure of; then reach (how many outlets carried the story, social shares). Items
    the model or a rule judged not relevant form the low-priority lane at the end.
    """
    query = (
        select(Item)
        .outerjoin(StoryCluster, Item.cluster_id == StoryCluster.id)
        .where(Item.needs_review.is_(True), ~is_settled())
        .order_by(
            case((Item.relevant.is_(False), 1), else_=0),
            case((Item.label == "misleading", 0), else_=1),
            func.coalesce(Item.confidence, 0.0),
            func.coalesce(StoryCluster.size, 1).desc(),
            func.coalesce(Item.shares, 0).desc(),
            Item.id,
        )
        .limit(limit)
    )
    return list(session.scalars(query))


def settled_items(session: Session, limit: int = 200) -> list[tuple[Item, ItemState]]:
    """Settled items, most recently decided first, with their states."""
    last = latest_decision_rows()
    query = select(last.c.item_id).order_by(last.c.review_id.desc()).limit(limit)
    ids = [row.item_id for row in session.execute(query)]
    states = item_states(session, ids)
    items = {item.id: item for item in session.scalars(select(Item).where(Item.id.in_(ids)))}
    return [(items[i], states[i]) for i in ids]


def reviewed_examples(engine: Engine) -> list[LabelledItem]:
    """Items whose settled decision is confirm or relabel, labelled as the monitor decided."""
    latest = latest_decision_rows()
    query = (
        select(Item, Review)
        .join(latest, latest.c.item_id == Item.id)
        .join(Review, Review.id == latest.c.review_id)
        .where(Review.action.in_(("confirm", "relabel")))
    )
    with Session(engine) as session:
        return [
            LabelledItem(id=f"review-{item.id}", title=item.title, text=item.text, kind=item.kind,
                         relevant=review.label is not None, label=review.label)
            for item, review in session.execute(query).all()
        ]


def current_assignees(session: Session, item_ids: Sequence[int]) -> dict[int, Optional[str]]:
    """The latest assignee of each item that has been assigned."""
    if not item_ids:
        return {}
    latest = (
        select(func.max(Review.id))
        .where(Review.action == "assign", Review.item_id.in_(list(item_ids)))
        .group_by(Review.item_id)
    )
    return dict(session.execute(select(Review.item_id, Review.assignee).where(Review.id.in_(latest))).tuples().all())
