"""The labelled corpus: JSON Lines files following shared/LABELS.md."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from models.contract import KINDS, LABELS, ClassifyInput


class CorpusError(ValueError):
    """Raised when a labelled row breaks the codebook's file format."""


@dataclass(slots=True)
class LabelledItem:
    """One labelled training or evaluation item."""

    id: str
    title: str
    text: str
    kind: str
    relevant: bool
    label: Optional[str]
    # Optional annotations of the row: its genre (e.g. "english", "debunk") and, for an item
    # written as the honest twin of a fabrication (or the reverse), the other one's id.
    genre: str = ""
    twin: str = ""

    def as_input(self) -> ClassifyInput:
        """The item as the classifier sees it."""
        return ClassifyInput(id=self.id, title=self.title, text=self.text, kind=self.kind)


def corpus_files(directory: Path) -> list[Path]:
    """The corpus files of a directory, in a stable order."""
    return sorted(directory.glob("*.jsonl"))


def load_corpus(directory: Path) -> list[LabelledItem]:
    """Read and validate every labelled item under a directory."""
    items: list[LabelledItem] = []
    seen: set[str] = set()
    for path in corpus_files(directory):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    item = _parse(line, f"{path.name}:{number}")
                    if item.id in seen:
                        raise CorpusError(f"{path.name}:{number}: duplicate id {item.id!r}")
                    seen.add(item.id)
                    items.append(item)
    if not items:
        raise CorpusError(f"no labelled items found in {directory}")
    return items


def _parse(line: str, where: str) -> LabelledItem:
    try:
        row = json.loads(line)
        item = LabelledItem(
            id=str(row["id"]), title=row.get("title") or "", text=row["text"],
            kind=row["kind"], relevant=bool(row["relevant"]), label=row.get("label"),
            genre=str(row.get("genre") or ""), twin=str(row.get("twin") or ""),
        )
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorpusError(f"{where}: malformed row ({exc})") from exc
    if item.kind not in KINDS:
        raise CorpusError(f"{where}: kind must be one of {KINDS}, not {item.kind!r}")
    if item.relevant != (item.label is not None) or (item.label and item.label not in LABELS):
        raise CorpusError(f"{where}: label {item.label!r} does not fit relevant={item.relevant}")
    return item


def corpus_hash(directory: Path) -> str:
    """SHA-256 over the corpus files, recorded in the model card."""
    digest = hashlib.sha256()
    for path in corpus_files(directory):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
