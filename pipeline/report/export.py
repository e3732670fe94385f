"""`coopwatch export`: every stored item with its fields, in a stable JSONL format."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipeline.core.jsonl import write_jsonl_row
from pipeline.core.schema import Item

# The analysts' format: add fields at the end, never rename or remove one.
EXPORT_FIELDS = (
    "id", "url", "canonical_url", "outlet", "source", "kind", "title", "text",
    "published_at", "fetched_at", "story_cluster", "relevant", "label", "confidence",
    "sentiment", "reasons", "needs_review", "model_version", "narrative",
)


def export_row(item: Item) -> dict[str, Any]:
    """One item as an export row."""
    def iso(value: Optional[Any]) -> Optional[str]:
        return value.isoformat() if value else None

    return {
        "id": item.id, "url": item.url, "canonical_url": item.canonical_url,
        "outlet": item.outlet, "source": item.source, "kind": item.kind, "title": item.title,
        "text": item.text, "published_at": iso(item.published_at), "fetched_at": iso(item.fetched_at),
        "story_cluster": item.cluster_id, "relevant": item.relevant, "label": item.label,
        "confidence": item.confidence, "sentiment": item.sentiment, "reasons": item.reasons,
        "needs_review": item.needs_review, "model_version": item.model_version,
        "narrative": item.narrative,
    }


def export_items(engine: Engine, target: Path) -> int:
    """Stream all items, oldest first, into a JSONL file; returns the count."""
    count = 0
    with Session(engine) as session, target.open("w", encoding="utf-8") as out:
        query = select(Item).order_by(Item.id).execution_options(yield_per=1000)
        for item in session.scalars(query):
            write_jsonl_row(out, export_row(item))
            count += 1
    return count
