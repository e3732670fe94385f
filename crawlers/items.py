"""The item every spider yields: a raw page or post, as the ingest path expects it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

from pipeline.records import RawRecord, parse_time
from pipeline.schema import utcnow


@dataclass
class RawItem:
    """One fetched page or post; mirrors pipeline.records.RawRecord."""

    url: str
    source: str
    outlet: str
    kind: str = "news"
    html: Optional[str] = None
    text: Optional[str] = None
    title: str = ""
    published_at: Optional[str] = None
    fetched_at: str = field(default_factory=lambda: utcnow().isoformat())
    reactions: Optional[int] = None
    shares: Optional[int] = None

    def to_record(self) -> RawRecord:
        """The pipeline's record for this item."""
        values: dict[str, Any] = asdict(self)
        values["published_at"] = parse_time(self.published_at, "published_at")
        values["fetched_at"] = parse_time(self.fetched_at, "fetched_at") or utcnow()
        return RawRecord(**values)
