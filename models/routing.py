"""Review routing chosen by measurement: which confidence threshold sends most wrong labels
to a monitor while keeping the queue small (goal: 80% of errors at 30% of items or less)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from models.classifier import CoopClassifier
from models.contract import ClassifyResult
from models.corpus import LabelledItem

ERROR_SHARE_GOAL = 0.80
ITEM_SHARE_LIMIT = 0.30
THRESHOLDS = tuple(round(0.40 + 0.025 * n, 3) for n in range(21))  # 0.40 … 0.90


@dataclass(frozen=True)
class Routing:
    """What one threshold sends to review, on items whose truth is known."""

    threshold: float
    items: int
    errors: int
    routed_items: int
    routed_errors: int

    @property
    def item_share(self) -> float:
        return self.routed_items / self.items if self.items else 0.0

    @property
    def error_share(self) -> float:
        return self.routed_errors / self.errors if self.errors else 1.0

    def line(self) -> str:
        return (f"threshold {self.threshold:.3f}: {self.error_share:6.1%} of {self.errors} wrong labels "
                f"routed, {self.item_share:6.1%} of {self.items} items routed")


def is_wrong(item: LabelledItem, result: ClassifyResult) -> bool:
    """The model's answer differs from the truth (relevance or label)."""
    return (item.label if item.relevant else None) != (result.label if result.relevant else None)


def routing_at(threshold: float, items: Sequence[LabelledItem], always: Sequence[bool],
               results: Sequence[ClassifyResult]) -> Routing:
    """Routing at one threshold; `always` marks items routed whatever the confidence
    (a misleading flag, a guarded label, the passing-mention rule)."""
    routed = [a or r.confidence < threshold for a, r in zip(always, results)]
    wrong = [is_wrong(i, r) for i, r in zip(items, results)]
    return Routing(threshold, len(items), sum(wrong), sum(routed),
                   sum(w and r for w, r in zip(wrong, routed)))


def routing_table(items: Sequence[LabelledItem], always: Sequence[bool],
                  results: Sequence[ClassifyResult]) -> list[Routing]:
    """Routing at every candidate threshold."""
    return [routing_at(t, items, always, results) for t in THRESHOLDS]


def choose_threshold(table: Sequence[Routing]) -> Routing:
    """The lowest threshold that routes 80% of wrong labels within 30% of items; failing that,
    the one routing the most wrong labels within 30% of items (the lowest if none fits)."""
    fitting = [r for r in table if r.item_share <= ITEM_SHARE_LIMIT]
    meeting = [r for r in fitting if r.error_share >= ERROR_SHARE_GOAL]
    if meeting:
        return min(meeting, key=lambda r: r.threshold)
    if fitting:
        return max(fitting, key=lambda r: (r.error_share, -r.threshold))
    return min(table, key=lambda r: r.threshold)


def measure_routing(model: CoopClassifier, items: Sequence[LabelledItem]) -> list[Routing]:
    """The routing table of a model on labelled items it was not trained on."""
    kept = model.review_threshold
    model.review_threshold = 0.0  # so needs_review says what is routed whatever the confidence
    try:
        results = model.classify([item.as_input() for item in items])
    finally:
        model.review_threshold = kept
    return routing_table(items, [r.needs_review for r in results], results)
