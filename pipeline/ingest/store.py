"""The store stage: database reads and writes of ingest, one place for each query rule.

New items are written in bulk, a handful of statements a batch, following the story plan of
dedupe.plan_stories; any error rolls the bulk write back and ingest writes the items one by
one (each with a plan of its own), so one bad record still fails alone.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Iterable, Iterator, Mapping, Optional, Sequence

from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.ingest.dedupe import StoryPlan
from pipeline.ingest.enrich import CooperativeName
from pipeline.ingest.prepare import PreparedItem
from pipeline.core.normalize import strip_marks
from pipeline.core.schema import Cooperative, CooperativeMention, IngestError, Item, StoryCluster

logger = logging.getLogger(__name__)


# Any constant; every CoopWatch process writing to the same PostgreSQL database uses it.
WRITE_LOCK_KEY = 0x436F6F70


def lock_for_writing(session: Session) -> None:
    """One ingest batch writes at a time across processes (crawlers, imports) on PostgreSQL.

    Concurrent batches otherwise deadlock on rows both touch (a story cluster's counts, a new
    cooperative's registry entry) and lose items. The lock is released at commit; extraction
    and classification, most of the work, stay parallel. SQLite serialises writers itself.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})


def existing_canonical_urls(session: Session, urls: Iterable[str]) -> set[str]:
    """Which of these canonical URLs are already stored."""
    wanted = list(set(urls))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(session.scalars(select(Item.canonical_url).where(Item.canonical_url.in_(chunk))))
    return found


def stored_hashes_by_url(session: Session, urls: Iterable[str]) -> dict[str, str]:
    """Content hash of each of these canonical URLs that is already stored."""
    wanted = list(set(urls))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(Item.canonical_url, Item.content_hash).where(Item.canonical_url.in_(chunk))
        found.update((row.canonical_url, row.content_hash) for row in session.execute(query))
    return found


def existing_content_hashes(session: Session, hashes: Iterable[str]) -> set[str]:
    """Which of these exact-text hashes are already stored."""
    wanted = list(set(hashes))
    return set(session.scalars(select(Item.content_hash).where(Item.content_hash.in_(wanted))))


def signature_rows(engine: Engine, limit: Optional[int] = None) -> Iterator[tuple[int, int, bytes]]:
    """(item id, cluster id, signature) of clustered items, oldest first; the newest `limit` only."""
    with Session(engine) as session:
        newest = select(Item.id).where(Item.minhash.is_not(None), Item.cluster_id.is_not(None))
        if limit is not None:
            newest = newest.order_by(Item.id.desc()).limit(limit)
        query = (select(Item.id, Item.cluster_id, Item.minhash)
                 .where(Item.id.in_(newest.scalar_subquery())).order_by(Item.id))
        for row in session.execute(query.execution_options(yield_per=2000)):
            yield row.id, row.cluster_id, row.minhash


def credit_earlier_copy(session: Session, copy: PreparedItem) -> None:
    """Make an exact copy's outlet the story's first when it was published before the stored one."""
    cluster = session.scalars(
        select(StoryCluster).join(Item, Item.cluster_id == StoryCluster.id)
        .where(Item.content_hash == copy.content_hash).limit(1)
    ).first()
    seen = seen_at(copy)
    if cluster is not None and seen < cluster.first_seen_at:
        cluster.first_seen_at, cluster.first_outlet = seen, copy.record.outlet
        cluster.first_url = copy.canonical_url


def item_fields(prepared: PreparedItem, model_version: Optional[str]) -> dict[str, object]:
    """Every stored column of an item, from a prepared record and its (optional) classification."""
    record, result = prepared.record, prepared.result
    return dict(
        url=record.url, canonical_url=prepared.canonical_url, source=record.source,
        outlet=record.outlet, kind=record.kind, title=prepared.title, title_derived=prepared.title_derived,
        lead=prepared.lead,
        text=prepared.text, text_folded=prepared.text_folded, author=prepared.author,
        language=prepared.language, published_at=prepared.published_at,
        fetched_at=record.fetched_at, content_hash=prepared.content_hash,
        minhash=prepared.minhash, reactions=record.reactions, shares=record.shares,
        province=prepared.enrichment.province, sector=prepared.enrichment.sector,
        relevant=result.relevant if result else None,
        label=result.label if result else None,
        confidence=result.confidence if result else None,
        sentiment=result.sentiment if result else None,
        reasons=list(result.reasons) if result else [],
        needs_review=result.needs_review if result else False,
        model_version=model_version if result else None,
        narrative=result.narrative["id"] if result and result.narrative else None,
        passage_start=result.passage[0] if result and result.passage else None,
        passage_end=result.passage[1] if result and result.passage else None,
    )


def update_item(session: Session, prepared: PreparedItem, model_version: Optional[str]) -> Item:
    """Overwrite the stored item of this canonical URL with a newer version of its page.

    The story cluster, the reviews and the first fetch time stay: they belong to the item,
    not to one version of its text.
    """
    row = session.scalars(select(Item).where(Item.canonical_url == prepared.canonical_url)).one()
    fields = item_fields(prepared, model_version)
    fields.pop("fetched_at")
    for name, value in fields.items():
        setattr(row, name, value)
    session.execute(delete(CooperativeMention).where(CooperativeMention.item_id == row.id))
    return row


def cooperative_id(session: Session, named: CooperativeName, province: Optional[str],
                   when: datetime) -> int:
    """The registry id of a named cooperative, adding it on first sight."""
    found = session.scalar(select(Cooperative).where(Cooperative.key == named.key))
    if found is None:
        try:
            with session.begin_nested():
                found = _registry_entry(named, province, when)
                session.add(found)
        except IntegrityError:  # another ingest process added it a moment ago
            found = session.scalars(select(Cooperative).where(Cooperative.key == named.key)).one()
    else:
        _note_sighting(found, named, when)
    return found.id


def _registry_entry(named: CooperativeName, province: Optional[str], when: datetime) -> Cooperative:
    return Cooperative(key=named.key, name=named.name, kind=named.kind, province=province,
                       first_seen_at=when)


def _note_sighting(found: Cooperative, named: CooperativeName, when: datetime) -> None:
    """Keep the earliest sighting and the best spelling of a registered cooperative."""
    if when < found.first_seen_at:
        found.first_seen_at = when
    # Prefer a spelling with diacritics over one typed without them.
    if found.name == strip_marks(found.name) and named.name != strip_marks(named.name):
        found.name = named.name


def record_mentions(session: Session, item: Item, prepared: PreparedItem) -> int:
    """Add the item's named cooperatives to the registry with one mention each."""
    when = seen_at(prepared)
    for named in prepared.enrichment.cooperatives:
        coop_id = cooperative_id(session, named, prepared.enrichment.province, when)
        session.add(CooperativeMention(cooperative_id=coop_id, item_id=item.id, mentioned_at=when))
    return len(prepared.enrichment.cooperatives)


def write_new(session: Session, plan: StoryPlan[PreparedItem], model_version: Optional[str]) -> dict[int, int]:
    """Insert a plan's new stories and items, count copies of stored stories, register mentions.

    Returns the real cluster id of each provisional one (for StoryIndex.settle).
    """
    provisional = {-n: cluster_id for n, cluster_id in enumerate(insert_clusters(session, plan.new_stories), 1)}
    grow_clusters(session, plan.joined)
    rows = []
    for item, cluster_id in zip(plan.items, plan.placed):
        row = item_fields(item, model_version)
        row["cluster_id"] = provisional.get(cluster_id, cluster_id)
        rows.append(row)
    item_ids = insert_items(session, rows)
    insert_mentions(session, [(item_id, item) for item_id, item in zip(item_ids, plan.items) if analysed(item)])
    session.flush()
    return provisional


def analysed(item: PreparedItem) -> bool:
    """Irrelevant items are counted but not analysed further (no cooperative mentions)."""
    return item.result is None or item.result.relevant


def insert_clusters(session: Session, stories: Sequence[Sequence[PreparedItem]]) -> list[int]:
    """Create one story cluster per group of copies first seen in this batch; their ids in order."""
    if not stories:
        return []
    rows = []
    for copies in stories:
        first = min(copies, key=seen_at)  # the earliest copy, the first of equals
        rows.append(dict(first_outlet=first.record.outlet, first_url=first.canonical_url,
                         first_seen_at=seen_at(first), size=len(copies)))
    statement = insert(StoryCluster).returning(StoryCluster.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def grow_clusters(session: Session, joined: Mapping[int, Sequence[PreparedItem]]) -> None:
    """Count new copies of stored stories, keeping the earliest outlet as the first one."""
    if not joined:
        return
    for cluster in session.scalars(select(StoryCluster).where(StoryCluster.id.in_(list(joined)))):
        copies = joined[cluster.id]
        cluster.size += len(copies)
        first = min(copies, key=seen_at)
        if seen_at(first) < cluster.first_seen_at:
            cluster.first_seen_at, cluster.first_outlet = seen_at(first), first.record.outlet
            cluster.first_url = first.canonical_url


def insert_items(session: Session, rows: Sequence[dict[str, object]]) -> list[int]:
    """Insert item rows (item_fields plus cluster_id); their ids in order."""
    if not rows:
        return []
    statement = insert(Item).returning(Item.id, sort_by_parameter_order=True)
    return list(session.scalars(statement, list(rows)))


def insert_mentions(session: Session, items: Sequence[tuple[int, PreparedItem]]) -> int:
    """Register the named cooperatives of stored (item id, prepared) pairs, one mention each."""
    keys = {named.key for _, prepared in items for named in prepared.enrichment.cooperatives}
    if not keys:
        return 0
    registry = {c.key: c for c in session.scalars(select(Cooperative).where(Cooperative.key.in_(keys)))}
    mentions: list[tuple[Cooperative, int, datetime]] = []
    for item_id, prepared in items:
        when = seen_at(prepared)
        for named in prepared.enrichment.cooperatives:
            found = registry.get(named.key)
            if found is None:
                found = registry[named.key] = _registry_entry(named, prepared.enrichment.province, when)
                session.add(found)
            else:
                _note_sighting(found, named, when)
            mentions.append((found, item_id, when))
    session.flush()  # new registry entries get their ids
    session.execute(insert(CooperativeMention), [
        dict(cooperative_id=found.id, item_id=item_id, mentioned_at=when)
        for found, item_id, when in mentions
    ])
    return len(mentions)


def seen_at(prepared: PreparedItem) -> datetime:
    """When an item appeared: its publication time, else when it was fetched."""
    return prepared.published_at or prepared.record.fetched_at


def log_errors(engine: Engine, errors: Sequence[IngestError]) -> None:
    """Record rejected inputs in their own transaction so they never block good ones."""
    if not errors:
        return
    with Session(engine) as session, session.begin():
        session.add_all(errors)
