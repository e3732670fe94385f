"""`coopwatch export`: every stored item with its fields, in a stable JSONL format.

What a monitor decided is what the export shows: `relevant`, `label` and `needs_review` are
the monitor's where an item is settled; the model's label stays in `model_label`.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Optional

from sqlalchemy import Engine, Row, select
from sqlalchemy.orm import Session

from pipeline.core.jsonl import write_jsonl_row
from pipeline.core.schema import Cooperative, CooperativeMention, Item
from pipeline.review.rules import latest_decisions

# The analysts' format: add fields at the end, never rename or remove one.
EXPORT_FIELDS = (
    "id", "url", "canonical_url", "outlet", "source", "kind", "title", "text",
    "published_at", "fetched_at", "story_cluster", "relevant", "label", "confidence",
    "sentiment", "reasons", "needs_review", "model_version", "narrative",
    "model_label", "decided_label", "decision", "decided_by", "decided_at",
    "province", "sector", "cooperatives",
)
CHUNK = 1000


def _iso(value: Optional[Any]) -> Optional[str]:
    return value.isoformat() if value else None


def export_row(item: Item, decision: Optional[Row[Any]] = None, cooperatives: Iterable[str] = ()) -> dict[str, Any]:
    """One item as an export row, with the monitor's decision when there is one."""
    model_label = item.label if item.relevant else None
    settled = decision if decision is not None and decision.action is not None else None
    decided = settled is not None
    label = settled.label if settled is not None else model_label
    return {
        "id": item.id, "url": item.url, "canonical_url": item.canonical_url,
        "outlet": item.outlet, "source": item.source, "kind": item.kind, "title": item.title,
        "text": item.text, "published_at": _iso(item.published_at), "fetched_at": _iso(item.fetched_at),
        "story_cluster": item.cluster_id,
        "relevant": (label is not None) if decided else item.relevant, "label": label,
        "confidence": item.confidence, "sentiment": item.sentiment, "reasons": item.reasons,
        "needs_review": item.needs_review and not decided, "model_version": item.model_version,
        "narrative": item.narrative,
        "model_label": model_label,
        "decided_label": settled.label if settled is not None else None,
        "decision": settled.action if settled is not None else None,
        "decided_by": settled.reviewer if settled is not None else None,
        "decided_at": _iso(settled.created_at) if settled is not None else None,
        "province": item.province, "sector": item.sector, "cooperatives": sorted(set(cooperatives)),
    }


def export_items(engine: Engine, target: Path) -> int:
    """Stream all items, oldest first, into a JSONL file; returns the count."""
    decision = latest_decisions()
    query = (select(Item, decision.c.label, decision.c.action, decision.c.reviewer, decision.c.created_at)
             .outerjoin(decision, decision.c.item_id == Item.id).order_by(Item.id))
    count = 0
    with Session(engine) as session, target.open("w", encoding="utf-8") as out:
        rows = session.execute(query.execution_options(yield_per=CHUNK))
        for chunk in rows.partitions(CHUNK):
            names = _cooperatives(session, [row[0].id for row in chunk])
            for row in chunk:
                write_jsonl_row(out, export_row(row[0], row, names.get(row[0].id, ())))
                count += 1
    return count


def _cooperatives(session: Session, item_ids: list[int]) -> dict[int, list[str]]:
    names: dict[int, list[str]] = defaultdict(list)
    query = (select(CooperativeMention.item_id, Cooperative.name)
             .join(Cooperative, Cooperative.id == CooperativeMention.cooperative_id)
             .where(CooperativeMention.item_id.in_(item_ids)))
    for item_id, name in session.execute(query):
        names[item_id].append(name)
    return names
