"""The classify contract: stable input and output records the model is evaluated through."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

LABELS = ("model_story", "positive", "neutral", "critical", "misleading")
KINDS = ("news", "social")
# LABELS.md, "Sentiment for summaries".
SENTIMENT = {
    "model_story": "positive",
    "positive": "positive",
    "neutral": "neutral",
    "critical": "negative",
    "misleading": "negative",
}


@dataclass(slots=True)
class ClassifyInput:
    """One item to classify."""

    id: str
    title: str
    text: str
    kind: str = "news"


@dataclass(slots=True)
class ClassifyResult:
    """The model's decision on one item; label is None when the item is not relevant."""

    id: str
    relevant: bool
    label: Optional[str]
    confidence: float
    sentiment: Optional[str]
    reasons: list[str] = field(default_factory=list)
    # {id, title, rebuttal, legal_reference} of the matched false narrative, else None.
    narrative: Optional[dict[str, str]] = None
    needs_review: bool = False
    # [start, end) of the passage of `text` that decided (codebook rules 4 and 6); None: the whole item.
    passage: Optional[tuple[int, int]] = None

    def as_row(self) -> dict[str, Any]:
        """The JSON row written by `coopwatch classify`."""
        row = asdict(self)
        row["confidence"] = round(self.confidence, 4)
        return row


def sentiment_of(label: Optional[str]) -> Optional[str]:
    """Summary sentiment of a label (None for irrelevant items)."""
    return SENTIMENT.get(label) if label else None
