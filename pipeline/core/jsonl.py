"""Streaming JSON Lines input and output: one line at a time, whatever the file size.

Lines come from outside and are hostile by default: each is checked for size, UTF-8,
JSON nesting depth and numbers a float or integer cannot hold, and a bad one becomes a
BadLine with its reason; the lines after it are read as usual.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Optional, Union

# Python's own guard against quadratic int parsing (sys.int_max_str_digits) is 4,300 digits;
# a count or a time never needs more than this.
MAX_INT_DIGITS = 30


@dataclass(slots=True)
class BadLine:
    """A line that is not a JSON object."""

    number: int
    reason: str


def read_jsonl(path: Path, max_bytes: Optional[int] = None) -> Iterator[tuple[int, Union[dict[str, Any], BadLine]]]:
    """Yield (line number, object or BadLine) for every non-empty line."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            if max_bytes is not None and len(raw) > max_bytes:
                yield number, BadLine(number, f"line {number}: record of {len(raw) / 2**20:.1f} MB is over the "
                                              f"limit of {max_bytes / 2**20:.0f} MB (COOPWATCH_MAX_RECORD_MB)")
                continue
            yield number, parse_line(raw, number)


def parse_line(raw: bytes, number: int) -> Union[dict[str, Any], BadLine]:
    """One line as a JSON object, or why it is not one."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadLine(number, f"line {number}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start})")
    try:
        value = json.loads(line, parse_float=_finite_float, parse_int=_bounded_int, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        return BadLine(number, f"line {number}: invalid JSON ({exc.msg} at column {exc.colno})")
    except RecursionError:
        return BadLine(number, f"line {number}: invalid JSON (nested too deeply)")
    except ValueError as exc:  # a number out of range
        return BadLine(number, f"line {number}: invalid JSON ({exc})")
    if not isinstance(value, dict):
        return BadLine(number, f"line {number}: expected a JSON object")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"number of {len(text)} digits is out of range")
    return int(text)


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a number")


def write_jsonl_row(handle: IO[str], row: dict[str, Any]) -> None:
    """Write one row as a UTF-8 JSON line."""
    handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
