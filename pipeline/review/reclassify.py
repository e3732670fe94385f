"""Classifying items that were stored unclassified (no model then, or the model failed)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Engine, delete, func, select
from sqlalchemy.orm import Session

from models.classifier import CoopClassifier
from models.contract import ClassifyInput
from pipeline.core.schema import CooperativeMention, Item

logger = logging.getLogger(__name__)


@dataclass
class ReclassifyReport:
    """What `coopwatch reclassify` did."""

    classified: int = 0
    relevant: int = 0
    needs_review: int = 0

    def summary(self) -> str:
        return (f"classified {self.classified} stored items ({self.relevant} relevant, "
                f"{self.needs_review} for review)")


def unclassified_count(engine: Engine) -> int:
    """Stored items the model has not classified yet."""
    with Session(engine) as session:
        return session.scalar(select(func.count(Item.id)).where(_unclassified())) or 0


def reclassify(engine: Engine, classifier: CoopClassifier, batch_size: int = 200) -> ReclassifyReport:
    """Classify every stored unclassified item, one transaction per batch.

    The fields are those ingest would have written. An item found irrelevant loses the
    cooperative mentions ingest recorded while it was unclassified, as if it had been
    classified on arrival. Safe to interrupt and re-run: each batch is committed alone.
    """
    report = ReclassifyReport()
    last_id = 0
    while True:
        with Session(engine) as session, session.begin():
            rows = session.scalars(
                select(Item).where(_unclassified(), Item.id > last_id).order_by(Item.id).limit(batch_size)
            ).all()
            if not rows:
                break
            last_id = rows[-1].id
            results = classifier.classify(
                [ClassifyInput(id=str(row.id), title="" if row.title_derived else row.title, text=row.text,
                               kind=row.kind) for row in rows]
            )
            for row, result in zip(rows, results):
                row.relevant, row.label = result.relevant, result.label
                row.confidence, row.sentiment = result.confidence, result.sentiment
                row.reasons = list(result.reasons)
                row.needs_review = result.needs_review
                row.model_version = classifier.version
                row.narrative = result.narrative["id"] if result.narrative else None
                row.passage_start, row.passage_end = result.passage or (None, None)
                if not result.relevant:
                    session.execute(delete(CooperativeMention).where(CooperativeMention.item_id == row.id))
                report.classified += 1
                report.relevant += result.relevant
                report.needs_review += result.needs_review
        logger.info("reclassify: %s so far", report.summary())
    return report


def _unclassified() -> ColumnElement[bool]:
    return Item.relevant.is_(None) & Item.label.is_(None)
