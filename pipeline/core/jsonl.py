"""Streaming JSON Lines input and output: one line at a time, whatever the file size."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Union


@dataclass(slots=True)
class BadLine:
    """A line that is not a JSON object."""

    number: int
    reason: str


def read_jsonl(path: Path) -> Iterator[tuple[int, Union[dict[str, Any], BadLine]]]:
    """Yield (line number, object or BadLine) for every non-empty line."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, BadLine(number, f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(value, dict):
                yield number, BadLine(number, f"line {number}: expected a JSON object")
            else:
                yield number, value


def write_jsonl_row(handle: IO[str], row: dict[str, Any]) -> None:
    """Write one row as a UTF-8 JSON line."""
    handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
