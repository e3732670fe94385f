"""Raw records as crawlers and importers hand them to the pipeline, with validation."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Union
from urllib.parse import urlsplit

from pipeline.core.schema import utcnow
from pipeline.core.urls import InvalidURL, canonicalize
from pipeline.ingest import validate
from pipeline.core.jsonl import BadLine, read_jsonl
from pipeline.ingest.validate import InputError, validate_record

# Share of control characters above which a "page" is treated as binary junk.
_BINARY_SHARE = 0.01
# Control characters other than tab, newline and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


class RecordError(ValueError):
    """A raw record that cannot be ingested; the message says why."""


@dataclass(slots=True)
class RawRecord:
    """One fetched page or post before extraction."""

    url: str
    source: str
    outlet: str
    kind: str = "news"
    html: Optional[str] = None
    text: Optional[str] = None
    title: str = ""
    published_at: Optional[datetime] = None
    fetched_at: datetime = field(default_factory=utcnow)
    reactions: Optional[int] = None
    shares: Optional[int] = None
    # Line or row number in the input file, so a failure can say where the record was.
    position: Optional[int] = None

    @property
    def canonical_url(self) -> str:
        """The URL every dedupe step keys on."""
        return canonicalize(self.url)


@dataclass(slots=True)
class RecordFailure:
    """An input that could not be ingested, with where it came from and why."""

    reason: str
    position: Optional[int] = None
    url: Optional[str] = None
    source: str = "ingest"


# What readers hand to ingest: a record, or the reason a line could not become one.
Input = Union[RawRecord, RecordFailure]


def record_from_dict(row: Mapping[str, Any], position: Optional[int] = None) -> RawRecord:
    """Validate a raw JSON record (the `coopwatch ingest` format) into a RawRecord."""
    if not isinstance(row, Mapping):
        raise RecordError("record is not a JSON object")
    for name in ("html", "text"):  # before cleaning, which would remove the NULs that betray binary data
        value = row.get(name)
        if isinstance(value, str) and looks_binary(value):
            raise RecordError(f"{name} is binary data, not text")
    try:
        valid = validate_record(dict(row))
    except InputError as exc:
        raise RecordError(str(exc)) from None
    check_url(valid.url)
    html = valid.html if valid.html and valid.html.strip() else None
    text = valid.text if valid.text and valid.text.strip() else None
    if html is None and text is None:
        raise RecordError("record has neither html nor text (or both are empty)")
    source = valid.source or urlsplit(valid.url).hostname or "unknown"
    return RawRecord(
        url=valid.url, source=source, outlet=valid.outlet or source, kind=valid.kind,
        html=html, text=text, title=valid.title, published_at=valid.published_at,
        fetched_at=valid.fetched_at or utcnow(), reactions=valid.reactions, shares=valid.shares,
        position=position,
    )


def records_from_jsonl(path: Path, max_bytes: Optional[int] = None) -> Iterator[Input]:
    """Every line of a raw-records file as a record, or as the failure that says why not."""
    for number, row in read_jsonl(path, max_bytes):
        if isinstance(row, BadLine):
            yield RecordFailure(row.reason, number, source=path.name)
            continue
        try:
            yield record_from_dict(row, position=number)
        except RecordError as exc:
            url = row.get("url") if isinstance(row.get("url"), str) else None
            yield RecordFailure(str(exc), number, url=url, source=path.name)


def guard_record(record: RawRecord, max_chars: int) -> None:
    """The checks every record passes, crawled pages included: the input schema (types,
    bounds, clean text), the size limit and binary data."""
    for name in ("html", "text"):
        value = getattr(record, name)
        if value is None:
            continue
        if len(value) > max_chars:
            raise RecordError(f"{name} of {len(value) / 1e6:.1f} million characters is over the limit "
                              f"of {max_chars / 1e6:.1f} million (COOPWATCH_MAX_RECORD_MB)")
        if looks_binary(value):
            raise RecordError(f"{name} is binary data, not text")
    try:
        valid = validate_record({
            "url": record.url, "html": record.html, "text": record.text, "title": record.title,
            "source": record.source, "outlet": record.outlet, "kind": record.kind,
            "published_at": record.published_at, "fetched_at": record.fetched_at,
            "reactions": record.reactions, "shares": record.shares,
        })
    except InputError as exc:
        raise RecordError(str(exc)) from None
    record.url, record.html, record.text, record.title = valid.url, valid.html, valid.text, valid.title
    record.source, record.outlet = valid.source or record.source, valid.outlet or record.outlet


def check_url(url: str) -> str:
    """The canonical form of a URL; RecordError for one that cannot be used."""
    try:
        return canonicalize(url)
    except InvalidURL as exc:
        raise RecordError(str(exc)) from exc
    except (ValueError, TypeError) as exc:  # urllib's own errors, e.g. an unclosed IPv6 bracket
        raise RecordError(f"url is not a valid URL: {url[:200]!r} ({exc})") from exc


def looks_binary(value: str) -> bool:
    """True for text full of NULs or control characters, as binary bodies decode."""
    sample = value[:4096]
    if "\x00" in sample:
        return True
    controls = len(_CONTROL.findall(sample))  # a regex: a loop over characters costs ~0.5 ms a page
    return bool(sample) and controls / len(sample) > _BINARY_SHARE


def parse_time(value: Any, name: str) -> Optional[datetime]:
    """ISO-8601 text to an aware datetime (UTC when no zone is given)."""
    try:
        return validate.parse_time(value, name)
    except InputError as exc:
        raise RecordError(str(exc)) from None
