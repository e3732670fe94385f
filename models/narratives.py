"""Known false narratives (data/narratives.yaml) and matching a misleading item to one."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

from pipeline.core.normalize import fold, normalize_text

logger = logging.getLogger(__name__)


class NarrativeError(ValueError):
    """Raised when the narrative library is malformed."""


@dataclass(frozen=True)
class Narrative:
    """One known false narrative, its rebuttal and the law that rebuts it."""

    id: str
    title: str
    claim: str
    keywords: tuple[str, ...]
    rebuttal: str
    legal_reference: str

    def as_output(self) -> dict[str, str]:
        """The `narrative` field of a classify row."""
        return {"id": self.id, "title": self.title, "rebuttal": self.rebuttal,
                "legal_reference": self.legal_reference}


class NarrativeLibrary:
    """Matches text to narratives by their signal phrases, with or without diacritics."""

    def __init__(self, narratives: list[Narrative]) -> None:
        self.narratives = narratives
        # Phrases are folded so that posts typed without accents match too.
        self._patterns = [
            [re.compile(rf"\b{re.escape(fold(k))}\b") for k in n.keywords] for n in narratives
        ]

    @classmethod
    def load(cls, path: Path) -> "NarrativeLibrary":
        """Read and validate a narratives YAML file."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise NarrativeError(f"cannot read {path}: {exc}") from exc
        rows = data.get("narratives") if isinstance(data, dict) else None
        if not isinstance(rows, list) or not rows:
            raise NarrativeError(f"{path}: expected a non-empty 'narratives' list")
        return cls([_narrative(row, n) for n, row in enumerate(rows, 1)])

    def match(self, title: str, text: str) -> Optional[Narrative]:
        """The narrative with the most distinct phrase hits, if any phrase occurs."""
        folded = fold(normalize_text(f"{title}\n{text}"))
        best, best_hits = None, 0
        for narrative, patterns in zip(self.narratives, self._patterns):
            hits = sum(1 for pattern in patterns if pattern.search(folded))
            if hits > best_hits:
                best, best_hits = narrative, hits
        return best


def _narrative(row: Any, number: int) -> Narrative:
    fields = ("id", "title", "claim", "keywords", "rebuttal", "legal_reference")
    if not isinstance(row, dict) or any(not row.get(f) for f in fields):
        raise NarrativeError(f"narrative #{number} lacks one of {', '.join(fields)}")
    return Narrative(
        id=str(row["id"]), title=str(row["title"]), claim=str(row["claim"]),
        keywords=tuple(str(k).lower() for k in row["keywords"]),
        rebuttal=str(row["rebuttal"]), legal_reference=str(row["legal_reference"]),
    )


def load_library(path: Path) -> Optional[NarrativeLibrary]:
    """The library at path, or None with a warning when the file is absent."""
    if not path.is_file():
        logger.warning("no narrative library at %s; misleading items get no narrative", path)
        return None
    return NarrativeLibrary.load(path)
