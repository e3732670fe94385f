"""Text made safe where it leaves the system: spreadsheet cells and screens.

- A CSV cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to
  Excel and LibreOffice (`=HYPERLINK(...)`, `+cmd|...`): OWASP's rule is to prefix it with a
  single quote so it is shown as text.
- Bidirectional control characters (right-to-left override and friends) can make a title
  read backwards on screen; they are removed for display and reported as a spoofing signal.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def safe_cell(value: Any) -> Any:
    """A value that a spreadsheet shows as written (text starting a formula gets a quote)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A UTF-8 CSV (with the BOM Excel needs for Vietnamese) whose every cell is safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def has_bidi_controls(text: str) -> bool:
    """True when text carries characters that reorder what a reader sees."""
    return BIDI_CONTROLS.search(text) is not None


def display_text(text: str) -> str:
    """Text for the screen: bidirectional control characters removed."""
    return BIDI_CONTROLS.sub("", text)
