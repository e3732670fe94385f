"""Monitors' reviews: recording actions, the review queue, double review and agreement.

Reviews are append-only: every action is a new row with who and when, and an item's current
state (settled label, assignee, response status) is folded from its rows in order. Writes are
guarded against lost updates: the caller says which review it last saw, and the write is
refused when a newer one exists.
"""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Optional, Sequence
from urllib.parse import urlparse

from sqlalchemy import Engine, case, exists, func, select, text
from sqlalchemy.orm import Session

from models.contract import LABELS
from models.corpus import LabelledItem
from pipeline.schema import Item, Review, StoryCluster, User

logger = logging.getLogger(__name__)

ACTIONS = ("confirm", "relabel", "dismiss", "note", "assign", "response")
# Actions that settle an item: it leaves the queue and its label becomes ground truth.
# `dismiss` settles without a label (a false alarm not worth labelling: broken text, spam).
DECISIONS = ("confirm", "relabel", "dismiss")
# Written only by sample_for_double_review: marks a settled item for a second, blind review.
SAMPLE = "sample"
RESPONSE_STATUSES = ("none", "drafted", "published")
REVIEWER_ROLES = ("monitor", "admin")
# Categories used when comparing decisions, besides the five labels.
NOT_RELEVANT = "not_relevant"
DISMISSED = "dismissed"
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
            label = item.label if item.relevant else None
        review = Review(item_id=item_id, reviewer=reviewer, action=action, label=label, note=note,
                        assignee=assignee, response_status=response_status,
                        response_link=response_link, expected_previous=expected_previous,
                        second_review=second_review)
        session.add(review)
        session.flush()
        logger.info("review %s: %s %s item %s", review.id, reviewer, action, item_id)
        return review.id


def latest_review_id(session: Session, item_id: int) -> Optional[int]:
    return session.scalar(select(func.max(Review.id)).where(Review.item_id == item_id))


def _settled():  # type: ignore[no-untyped-def]
    return exists().where(Review.item_id == Item.id, Review.action.in_(DECISIONS),
                          Review.second_review.is_(False))


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


def settled_items(session: Session, limit: int = 200) -> list[tuple[Item, ItemState]]:
    """Settled items, most recently decided first, with their states."""
    last_decision = func.max(Review.id).label("last")
    query = (
        select(Review.item_id, last_decision)
        .where(Review.action.in_(DECISIONS), Review.second_review.is_(False))
        .group_by(Review.item_id)
        .order_by(last_decision.desc())
        .limit(limit)
    )
    ids = [row.item_id for row in session.execute(query)]
    states = item_states(session, ids)
    items = {item.id: item for item in session.scalars(select(Item).where(Item.id.in_(ids)))}
    return [(items[i], states[i]) for i in ids]


def reviewed_examples(engine: Engine) -> list[LabelledItem]:
    """Items whose settled decision is confirm or relabel, labelled as the monitor decided."""
    latest = (
        select(Review.item_id, func.max(Review.id).label("review_id"))
        .where(Review.action.in_(DECISIONS), Review.second_review.is_(False))
        .group_by(Review.item_id)
        .subquery()
    )
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


# --- double review ---------------------------------------------------------------------------

def sample_for_double_review(engine: Engine, requested_by: str, *, n: Optional[int] = None,
                             fraction: Optional[float] = None, seed: int = 0) -> list[int]:
    """Mark a random sample of settled, not yet sampled items for a second blind review.

    Give either `n` items or a `fraction` of the candidates (at least one); the same seed on
    the same candidates picks the same items. Returns the sampled item ids.
    """
    if (n is None) == (fraction is None):
        raise ReviewError("give either a number of items or a fraction")
    if n is not None and n < 1:
        raise ReviewError("the sample needs at least one item")
    if fraction is not None and not 0 < fraction <= 1:
        raise ReviewError("the fraction must be above 0 and at most 1")
    with Session(engine) as session, session.begin():
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE"))  # two samplers never pick the same item twice
        reviewer_role(session, requested_by)
        sampled = select(Review.item_id).where(Review.action == SAMPLE)
        candidates = sorted(session.scalars(
            select(Review.item_id).distinct()
            .where(Review.action.in_(DECISIONS), Review.second_review.is_(False),
                   Review.item_id.not_in(sampled))
        ))
        size = n if n is not None else max(1, round((fraction or 0) * len(candidates)))
        chosen = sorted(random.Random(seed).sample(candidates, min(size, len(candidates))))
        for item_id in chosen:
            session.add(Review(item_id=item_id, reviewer=requested_by, action=SAMPLE,
                               expected_previous=latest_review_id(session, item_id)))
    logger.info("%s sampled %d of %d items for double review", requested_by, len(chosen), len(candidates))
    return chosen


def pending_double_reviews(session: Session, reviewer: str) -> list[int]:
    """Sampled items still without a second review that this reviewer has not decided."""
    sampled = select(Review.item_id).where(Review.action == SAMPLE)
    done = select(Review.item_id).where(Review.second_review.is_(True))
    mine = select(Review.item_id).where(Review.reviewer == reviewer, Review.action.in_(DECISIONS))
    query = (
        select(Item.id)
        .where(Item.id.in_(sampled), Item.id.not_in(done), Item.id.not_in(mine))
        .order_by(Item.id)
    )
    return list(session.scalars(query))


def double_review_progress(session: Session) -> tuple[int, int]:
    """(sampled items, of which second-reviewed)."""
    sampled = session.scalar(select(func.count(func.distinct(Review.item_id))).where(Review.action == SAMPLE))
    done = session.scalar(select(func.count(Review.id)).where(Review.second_review.is_(True)))
    return sampled or 0, done or 0


# --- agreement -------------------------------------------------------------------------------

def decision_category(action: str, label: Optional[str]) -> str:
    """A decision as one category: a label, not relevant, or dismissed."""
    if action == "dismiss":
        return DISMISSED
    return label if label is not None else NOT_RELEVANT


def kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> Optional[float]:
    """Cohen's kappa, or None when undefined (no pairs, or both raters used one category only)."""
    from sklearn.metrics import cohen_kappa_score  # heavy import, only when agreement is asked

    if len(first) != len(second):
        raise ValueError("kappa needs two ratings of the same items")
    if not first or len(set(first) | set(second)) < 2:
        return None
    return float(cohen_kappa_score(list(first), list(second)))


@dataclass(frozen=True)
class LabelAgreement:
    """One category, one-versus-rest: how often each side used it, and kappa."""

    category: str
    first_count: int
    second_count: int
    kappa: Optional[float]


@dataclass(frozen=True)
class Agreement:
    """Agreement between two sides over the same items."""

    pairs: int
    observed: Optional[float]  # share of items with the same category
    kappa: Optional[float]
    per_label: list[LabelAgreement]


def agreement(first: Sequence[str], second: Sequence[str], categories: Sequence[str]) -> Agreement:
    """Overall kappa, and one-versus-rest kappa per category."""
    rows = [
        LabelAgreement(category, sum(c == category for c in first), sum(c == category for c in second),
                       kappa([c == category for c in first], [c == category for c in second]))
        for category in categories
    ]
    observed = sum(a == b for a, b in zip(first, second)) / len(first) if first else None
    return Agreement(len(first), observed, kappa(first, second), rows)


@dataclass(frozen=True)
class AgreementReport:
    monitors: Agreement  # first decision against the blind second review
    model: Agreement  # settled decision (first side) against the model's label (second side)
    dismissed_excluded: int  # settled by dismissal: no label to compare with the model


def double_review_pairs(session: Session) -> list[tuple[int, str, str]]:
    """(item id, first decision, second decision) for every second-reviewed item.

    The first decision is the latest first-review decision made before the second review, the
    one the sample was drawn on.
    """
    seconds = list(session.scalars(select(Review).where(Review.second_review.is_(True)).order_by(Review.item_id)))
    pairs = []
    for second in seconds:
        first = session.scalars(
            select(Review)
            .where(Review.item_id == second.item_id, Review.id < second.id,
                   Review.action.in_(DECISIONS), Review.second_review.is_(False))
            .order_by(Review.id.desc())
            .limit(1)
        ).first()
        if first is not None:
            pairs.append((second.item_id, decision_category(first.action, first.label),
                          decision_category(second.action, second.label)))
    return pairs


def model_pairs(session: Session) -> tuple[list[tuple[int, str, str]], int]:
    """(item id, settled decision, model label) for settled, classified items; and how many
    dismissed items were left out."""
    latest = (
        select(func.max(Review.id))
        .where(Review.action.in_(DECISIONS), Review.second_review.is_(False))
        .group_by(Review.item_id)
    )
    rows = session.execute(
        select(Review.item_id, Review.action, Review.label, Item.relevant, Item.label)
        .join(Item, Item.id == Review.item_id)
        .where(Review.id.in_(latest), Item.relevant.is_not(None))
        .order_by(Review.item_id)
    ).all()
    pairs, dismissed = [], 0
    for item_id, action, label, relevant, model_label in rows:
        if action == "dismiss":
            dismissed += 1
            continue
        model = model_label if relevant and model_label is not None else NOT_RELEVANT
        pairs.append((item_id, decision_category(action, label), model))
    return pairs, dismissed


def agreement_report(session: Session) -> AgreementReport:
    """Agreement between monitors (double review) and between monitors and the model."""
    categories = (*LABELS, NOT_RELEVANT)
    double = double_review_pairs(session)
    model, dismissed = model_pairs(session)
    return AgreementReport(
        monitors=agreement([p[1] for p in double], [p[2] for p in double], (*categories, DISMISSED)),
        model=agreement([p[1] for p in model], [p[2] for p in model], categories),
        dismissed_excluded=dismissed,
    )


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
