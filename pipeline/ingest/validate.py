"""One schema for every input: ingest records, import rows and crawled pages.

Inputs are hostile by default. Each field has a type and bounds; text is cleaned of what no
database or reader should get (NUL characters, lone surrogates); a record over the size
limit is refused before any work. A bad field is an error naming the field and the reason,
never a silent coercion (a list as a title, "lots" as a count, a number as a URL).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Literal, Optional

from dateutil import parser as dateparser
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

# Counts above this are not reach figures but junk (and would overflow a 64-bit column).
MAX_COUNT = 10**12
MAX_URL_CHARS = 4096
MAX_NAME_CHARS = 300
MAX_TITLE_CHARS = 2000
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class InputError(ValueError):
    """An input that does not fit the schema; the message names the field and the reason."""


def clean_text(value: str) -> str:
    """Text without NUL characters or lone surrogates (no database or reader takes them)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _LONE_SURROGATE.search(value):
        value = _LONE_SURROGATE.sub("\ufffd", value)
    return value


def parse_time(value: Any, name: str) -> Optional[datetime]:
    """ISO-8601 text to an aware datetime (UTC when no zone is given)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        raise InputError(f"{name} is not an ISO-8601 time: {type(value).__name__} {str(value)[:40]!r}")
    try:
        parsed = dateparser.isoparse(value)
    except (ValueError, OverflowError) as exc:
        raise InputError(f"{name} is not an ISO-8601 time: {value[:60]!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class RecordIn(BaseModel):
    """A raw record as `coopwatch ingest` reads it (and `import` builds it from a row)."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)

    url: StrictStr = Field(min_length=1, max_length=MAX_URL_CHARS)
    html: Optional[StrictStr] = None
    text: Optional[StrictStr] = None
    title: StrictStr = Field(default="", max_length=MAX_TITLE_CHARS)
    source: Optional[StrictStr] = Field(default=None, max_length=MAX_NAME_CHARS)
    outlet: Optional[StrictStr] = Field(default=None, max_length=MAX_NAME_CHARS)
    kind: Literal["news", "social"] = "news"
    published_at: Optional[datetime] = None
    fetched_at: Optional[datetime] = None
    reactions: Optional[int] = Field(default=None, ge=0, le=MAX_COUNT)
    shares: Optional[int] = Field(default=None, ge=0, le=MAX_COUNT)

    @field_validator("url", "html", "text", "title", "source", "outlet", mode="after")
    @classmethod
    def _clean(cls, value: Optional[str]) -> Optional[str]:
        return clean_text(value) if value is not None else None

    @field_validator("title", "kind", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any, info: Any) -> Any:
        return {"title": "", "kind": "news"}[info.field_name] if value is None else value

    @field_validator("published_at", "fetched_at", mode="before")
    @classmethod
    def _time(cls, value: Any, info: Any) -> Optional[datetime]:
        return parse_time(value, info.field_name)

    @field_validator("reactions", "shares", mode="before")
    @classmethod
    def _count(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise InputError("must be a whole number")
        return value


def validate_record(row: Any) -> RecordIn:
    """The record checked against the schema; InputError names the first bad field."""
    if not isinstance(row, dict):
        raise InputError("record is not a JSON object")
    if row.get("url") in (None, ""):
        raise InputError("missing url")
    try:
        return RecordIn.model_validate(row)
    except ValidationError as exc:
        raise InputError(_first_error(exc)) from None


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in error["loc"]) or "record"
    if error["type"] == "literal_error" and field == "kind":
        return "kind must be news or social"
    message = str(error["msg"]).removeprefix("Value error, ")
    if field in ("published_at", "fetched_at") and "ISO-8601" in message:
        return message
    return f"{field}: {message}"
