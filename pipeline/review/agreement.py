"""Double review and agreement: a blind second review of a sample of settled items, and
Cohen's kappa between monitors and between monitors and the model."""
from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Hashable, Optional, Sequence

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from models.contract import LABELS
from pipeline.core.schema import Item, Review
from pipeline.review.rules import DECISIONS, SAMPLE, is_decision, is_second_review, latest_decision_ids
from pipeline.review.workflow import ReviewError, latest_review_id, reviewer_role

logger = logging.getLogger(__name__)

# Categories used when comparing decisions, besides the five labels.
NOT_RELEVANT = "not_relevant"
DISMISSED = "dismissed"


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
            .where(is_decision(),
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
    done = select(Review.item_id).where(is_second_review())
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
    done = session.scalar(select(func.count(Review.id)).where(is_second_review()))
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
    seconds = list(session.scalars(select(Review).where(is_second_review()).order_by(Review.item_id)))
    pairs = []
    for second in seconds:
        first = session.scalars(
            select(Review)
            .where(Review.item_id == second.item_id, Review.id < second.id,
                   is_decision())
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
    latest = latest_decision_ids()
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
