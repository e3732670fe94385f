"""`coopwatch classify`: JSONL in, exactly one JSONL row out per input line, same order."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterator, Union

from models.classifier import CoopClassifier
from models.contract import KINDS, ClassifyInput
from pipeline.core.jsonl import BadLine, read_jsonl, write_jsonl_row

logger = logging.getLogger(__name__)

CHUNK = 500
ERROR_ROW: dict[str, Any] = {"relevant": None, "label": None, "confidence": None, "sentiment": None,
             "reasons": [], "narrative": None, "needs_review": None}


def _to_input(number: int, row: Union[dict[str, Any], BadLine]) -> Union[ClassifyInput, BadLine]:
    if isinstance(row, BadLine):
        return row
    text, kind = row.get("text"), row.get("kind") or "news"
    if not isinstance(text, str) or not text.strip():
        return BadLine(number, f"line {number}: missing or empty 'text'")
    if kind not in KINDS:
        return BadLine(number, f"line {number}: kind must be news or social, not {kind!r}")
    item_id = row.get("id", number)
    return ClassifyInput(id=str(item_id), title=str(row.get("title") or ""), text=text, kind=kind)


def _chunks(path: Path) -> Iterator[list[Union[ClassifyInput, BadLine]]]:
    chunk: list[Union[ClassifyInput, BadLine]] = []
    for number, row in read_jsonl(path):
        chunk.append(_to_input(number, row))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def classify_file(model: CoopClassifier, source: Path, target: Path) -> tuple[int, list[str]]:
    """Classify every line; returns (rows written, error messages)."""
    written, errors = 0, []
    with target.open("w", encoding="utf-8") as out:
        for chunk in _chunks(source):
            good = [entry for entry in chunk if isinstance(entry, ClassifyInput)]
            results = iter(model.classify(good))
            for entry in chunk:
                if isinstance(entry, BadLine):
                    errors.append(entry.reason)
                    write_jsonl_row(out, {"id": None, **ERROR_ROW, "error": entry.reason})
                else:
                    write_jsonl_row(out, next(results).as_row())
                written += 1
    return written, errors
