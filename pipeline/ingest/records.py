"""Raw records as crawlers and importers hand them to the pipeline, with validation."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Optional, Union
from urllib.parse import urlsplit

from dateutil import parser as dateparser

from pipeline.core.schema import utcnow
from pipeline.core.urls import InvalidURL, canonicalize

KINDS = ("news", "social")
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
    url = row.get("url")
    if not url or not isinstance(url, str):
        raise RecordError("missing url")
    try:
        canonicalize(url)
    except InvalidURL as exc:
        raise RecordError(str(exc)) from exc
    html, text = row.get("html"), row.get("text")
    if not (isinstance(html, str) and html.strip()) and not (isinstance(text, str) and text.strip()):
        raise RecordError("record has neither html nor text (or both are empty)")
    kind = row.get("kind") or "news"
    if kind not in KINDS:
        raise RecordError(f"kind must be news or social, not {kind!r}")
    for name, value in (("html", html), ("text", text)):
        if isinstance(value, str) and looks_binary(value):
            raise RecordError(f"{name} is binary data, not text")
    source = str(row.get("source") or urlsplit(url).hostname or "unknown")
    return RawRecord(
        url=url, source=source, outlet=str(row.get("outlet") or source), kind=kind,
        html=html if isinstance(html, str) and html.strip() else None,
        text=text if isinstance(text, str) and text.strip() else None,
        title=str(row.get("title") or ""),
        published_at=parse_time(row.get("published_at"), "published_at"),
        fetched_at=parse_time(row.get("fetched_at"), "fetched_at") or utcnow(),
        reactions=_optional_int(row.get("reactions")), shares=_optional_int(row.get("shares")),
        position=position,
    )


def looks_binary(value: str) -> bool:
    """True for text full of NULs or control characters, as binary bodies decode."""
    sample = value[:4096]
    if "\x00" in sample:
        return True
    controls = len(_CONTROL.findall(sample))  # a regex: a loop over characters costs ~0.5 ms a page
    return bool(sample) and controls / len(sample) > _BINARY_SHARE


def parse_time(value: Any, name: str) -> Optional[datetime]:
    """ISO-8601 text to an aware datetime (UTC when no zone is given)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        parsed = dateparser.isoparse(str(value))
    except (ValueError, OverflowError) as exc:
        raise RecordError(f"{name} is not an ISO-8601 time: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _optional_int(value: Any) -> Optional[int]:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
