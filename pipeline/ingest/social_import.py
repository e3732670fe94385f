"""`coopwatch import`: CSV or JSONL exports of public social posts, into the one ingest path."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterator, Mapping, Union

from pipeline.ingest.records import RecordFailure
from pipeline.core.config import get_settings
from pipeline.core.jsonl import BadLine, read_jsonl
from pipeline.ingest.records import RawRecord, RecordError, record_from_dict

# Our field → the export's column name; `--map field=column` overrides one.
DEFAULT_COLUMNS = {
    "platform": "platform", "page": "page", "url": "url", "text": "text",
    "published_at": "published_at", "reactions": "reactions", "shares": "shares",
}


class MappingError(ValueError):
    """Raised for a column mapping that names an unknown field."""


def column_mapping(overrides: list[str]) -> dict[str, str]:
    """Default columns with `field=column` overrides applied."""
    mapping = dict(DEFAULT_COLUMNS)
    for override in overrides:
        field, _, column = override.partition("=")
        if field not in DEFAULT_COLUMNS or not column:
            raise MappingError(f"bad mapping {override!r}: use FIELD=COLUMN with FIELD in {', '.join(DEFAULT_COLUMNS)}")
        mapping[field] = column
    return mapping


def _rows(path: Path) -> Iterator[tuple[int, Union[Mapping[str, Any], BadLine]]]:
    max_bytes = get_settings().max_record_bytes
    if path.suffix.lower() != ".csv":
        yield from read_jsonl(path, max_bytes)
        return
    csv.field_size_limit(max_bytes)
    with path.open(encoding="utf-8-sig", errors="strict", newline="") as handle:
        rows = csv.DictReader(handle)
        number = 0
        while True:
            number += 1
            try:
                row = next(rows)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                # The reader cannot go on past a broken file: this row and the rest are reported.
                yield number, BadLine(number, f"line {number}: unreadable CSV ({exc}); the rows after it were not read")
                return
            yield number, row


def import_records(path: Path, mapping: Mapping[str, str]) -> Iterator[Union[RawRecord, RecordFailure]]:
    """Records for each row of an export; a malformed row becomes a failure naming its number."""
    for number, row in _rows(path):
        if isinstance(row, BadLine):
            yield RecordFailure(row.reason.replace("line", "row", 1), number, source=path.name)
            continue
        values = {field: row.get(column) for field, column in mapping.items()}
        platform = str(values["platform"] or "social").strip().lower()
        raw = {
            "url": values["url"], "text": values["text"], "kind": "social",
            "source": f"import:{platform}", "outlet": values["page"] or platform,
            "published_at": values["published_at"], "reactions": values["reactions"],
            "shares": values["shares"],
        }
        try:
            yield record_from_dict(raw, position=number)
        except RecordError as exc:
            url = values["url"] if isinstance(values["url"], str) else None
            yield RecordFailure(str(exc), number, url=url, source=path.name)
