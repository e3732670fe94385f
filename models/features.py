"""Vietnamese-aware feature preparation shared by training and prediction."""
from __future__ import annotations

import re
from typing import Sequence

import pandas as pd

from models.contract import ClassifyInput
from pipeline.core.normalize import fold, normalize_text

# The label is decided by the headline and lead first (LABELS.md rule 4); long bodies add
# little beyond their first part and cost time.
MAX_TEXT_CHARS = 4000
TOKEN_PATTERN = r"(?u)\b\w+\b"

# Terms without which an item cannot be about the collective economy (folded, no accents).
# Wide on purpose: "quỹ tín dụng ở xã mình" and English items are judged by the model, not
# turned away here; what this gate rejects is said with 0.99 confidence and never reviewed.
COOP_TERMS = re.compile(
    r"\b(hop tac xa|htx|lien hiep hop tac|to hop tac|quy tin dung|qtdnd|qtd|"
    r"kinh te tap the|lien minh hop tac|xa vien|luat hop tac|"
    r"cooperatives?|co-ops?|credit funds?|collective economy)\b"
)


def item_text(item: ClassifyInput) -> str:
    """Normalised, lower-cased headline and body as the model sees them."""
    return normalize_text(f"{item.title}\n{item.text[:MAX_TEXT_CHARS]}").lower()


def feature_frame(items: Sequence[ClassifyInput]) -> pd.DataFrame:
    """Columns the vectorisers read: the text, its folded form and the item kind."""
    texts = [item_text(item) for item in items]
    return pd.DataFrame(
        {
            "text": texts,
            "folded": [fold(text) for text in texts],
            "kind": [f"kind_{item.kind}" for item in items],
        }
    )


def mentions_cooperatives(folded_text: str) -> bool:
    """True when the folded text names a cooperative-sector term at all."""
    return COOP_TERMS.search(folded_text) is not None
