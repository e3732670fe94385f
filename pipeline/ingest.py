"""The one path for every item: extract, normalise, dedupe, check relevance, classify, store."""
from __future__ import annotations

import logging
import multiprocessing
import threading
from collections import deque
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Iterator, Optional, Sequence, Union

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from models.classifier import CoopClassifier
from models.contract import ClassifyInput, ClassifyResult
from pipeline import dedupe, store
from pipeline.config import get_settings
from pipeline.prepare import PreparedItem, prepare
from pipeline.records import RawRecord, RecordError
from pipeline.schema import IngestError
from pipeline.spool import FAILURE, ITEM, Spool, SpoolEntry, SpoolError, decode_item, encode_item

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class RecordFailure:
    """An input that could not be ingested, with where it came from and why."""

    reason: str
    position: Optional[int] = None
    url: Optional[str] = None
    source: str = "ingest"


@dataclass
class IngestReport:
    """What happened to every input of one ingest run."""

    received: int = 0
    stored: int = 0
    already_stored: int = 0
    updated: int = 0
    exact_duplicates: int = 0
    joined_story: int = 0
    relevant: int = 0
    unclassified: int = 0
    # Kept in the local spool while the database was unreachable, and written from it later.
    spooled: int = 0
    from_spool: int = 0
    failures: list[RecordFailure] = field(default_factory=list)

    def add(self, other: "IngestReport") -> None:
        """Accumulate another report into this one."""
        for name in ("received", "stored", "already_stored", "updated", "exact_duplicates",
                     "joined_story", "relevant", "unclassified", "spooled", "from_spool"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures)

    def add_replay(self, replay: "IngestReport") -> None:
        """Note what a spool replay wrote without counting it as this run's own records.

        Replayed records may come from other sources; a crawl's counts stay its own.
        """
        self.from_spool += replay.from_spool
        self.failures.extend(replay.failures)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        return (
            f"received {self.received}, stored {self.stored} ({self.relevant} relevant, "
            f"{self.joined_story} copies of known stories), already stored {self.already_stored}, "
            f"updated {self.updated}, "
            f"exact duplicates {self.exact_duplicates}, unclassified {self.unclassified}, "
            f"failed {len(self.failures)}"
            + (f", waiting in the spool {self.spooled}" if self.spooled else "")
            + (f", written from the spool {self.from_spool}" if self.from_spool else "")
        )


Input = Union[RawRecord, RecordFailure]
# Spooled entries replayed per transaction; small enough that removing them from a full disk
# fits in the spool's reserve.
SPOOL_CHUNK = 50


class DatabaseUnavailable(Exception):
    """The database did not take a batch for a reason a later retry may not meet."""


def is_transient(exc: BaseException) -> bool:
    """Connection refused or lost, server shutting down, database locked or busy."""
    return isinstance(exc, (OperationalError, InterfaceError)) or bool(
        getattr(exc, "connection_invalidated", False))


class Ingestor:
    """Holds what ingest needs across batches: the database, the model and the story index.

    With a spool, batches the database cannot take (it is unreachable) wait there and are
    written, oldest first, as soon as it answers again; without one they are failures.
    """

    def __init__(self, engine: Engine, classifier: Optional[CoopClassifier] = None,
                 spool: Optional[Spool] = None, retry_seconds: float = 30.0) -> None:
        self.engine = engine
        self.classifier = classifier
        self.spool = spool
        self.retry_seconds = retry_seconds
        self._retry_at = 0.0  # time.monotonic() before which the database is not tried again
        self._spool_stuck_until = 0.0  # the spool failed: batches go straight to the database
        self.index = dedupe.StoryIndex(get_settings().story_index_size)
        self._index_stale = True
        try:
            self._load_index()
        except SQLAlchemyError as exc:
            if spool is None or not is_transient(exc):
                raise
            self._database_down(exc)

    def ingest(self, inputs: Iterable[Input], batch_size: int = 200, workers: int = 1) -> IngestReport:
        """Ingest a stream of records in batches; failures are recorded, never raised.

        With workers > 1, extraction, normalisation and classification (nearly all the work)
        run in that many processes while this one dedupes and writes. The next batch is
        prepared while the current one is written; at most IN_FLIGHT_BATCHES + 1 batches are
        in memory, whatever the input size.
        """
        report = IngestReport()
        if workers <= 1:
            for batch in _batches(inputs, batch_size):
                report.add(self.ingest_batch(batch))
            report.add_replay(self.flush_spool())
            return report
        global _WORKER_CLASSIFIER
        # Forked workers share the loaded model's memory; with other threads alive a fork
        # could copy a held lock, so then workers start fresh and this process classifies.
        forking = threading.active_count() == 1
        _WORKER_CLASSIFIER = self.classifier if forking else None
        context = multiprocessing.get_context("fork" if forking else "forkserver")
        try:
            with context.Pool(workers) as pool:
                pending: deque[Any] = deque()
                for batch in _batches(inputs, batch_size):
                    # Small chunks balance the load: one real news page costs as much as 30 brief ones.
                    size = max(1, len(batch) // (4 * workers))
                    chunks = [batch[n : n + size] for n in range(0, len(batch), size)]
                    pending.append(pool.map_async(_prepare_and_classify, chunks, chunksize=1))
                    # Workers keep preparing the batches queued behind the one being written.
                    if len(pending) > IN_FLIGHT_BATCHES:
                        report.add(self._ingest_prepared(_flatten(pending.popleft().get())))
                while pending:
                    report.add(self._ingest_prepared(_flatten(pending.popleft().get())))
        finally:
            _WORKER_CLASSIFIER = None
        report.add_replay(self.flush_spool())
        return report

    def ingest_batch(self, batch: Sequence[Input]) -> IngestReport:
        """Ingest one batch inside one transaction."""
        return self._ingest_prepared([(prepare_entry(entry), False, None) for entry in batch])

    def _ingest_prepared(self, entries: Sequence[Outcome]) -> IngestReport:
        """Dedupe, classify what workers did not, and write one batch of prepared inputs."""
        report = IngestReport(received=len(entries))
        prepared: list[PreparedItem] = []
        done: dict[int, Optional[ClassifyResult]] = {}
        for entry, classified, result in entries:
            if isinstance(entry, RecordFailure):
                report.failures.append(entry)
                continue
            prepared.append(entry)
            if classified:
                done[id(entry)] = result
        if self.spool is None:
            self._store(prepared, done, report)
            return report
        flushed = self.flush_spool()  # older records first, so a page's versions keep their order
        if self._waiting():
            self._to_spool(prepared, report.failures, report)
        else:
            attempt = IngestReport(received=report.received, failures=list(report.failures))
            try:
                self._store(prepared, done, attempt)
                report = attempt
            except DatabaseUnavailable as exc:
                self._database_down(exc)
                self._to_spool(prepared, report.failures, report)
        report.add_replay(flushed)
        return report

    def _store(self, prepared: list[PreparedItem], done: dict[int, Optional[ClassifyResult]],
               report: IngestReport, logged: Sequence[RecordFailure] = ()) -> None:
        """Dedupe, classify what workers did not, write, and log the failures (plus `logged`).

        Raises DatabaseUnavailable, with nothing written, when there is a spool to fall back on.
        """
        try:
            self._load_index()
            fresh, updates, copies = self._drop_known(prepared, report)
        except SQLAlchemyError as exc:
            if self.spool is None or not is_transient(exc):
                raise
            raise DatabaseUnavailable(str(exc)) from exc
        if all(id(item) in done for item in fresh):
            results = [done[id(item)] for item in fresh]
            report.unclassified += sum(r is None for r in results)
        else:
            results = self._classify(fresh, report)
        self._write(fresh, results, updates, report)
        self._credit_exact_copies(copies)
        failures = [*report.failures, *logged]
        try:
            store.log_errors(self.engine, [_error_row(f) for f in failures])
        except SQLAlchemyError as exc:
            if self.spool is None or not is_transient(exc):
                raise
            # The items are stored; only the record of the rejected inputs has to wait.
            self._database_down(exc)
            self._to_spool([], failures, IngestReport())

    def flush_spool(self, force: bool = False) -> IngestReport:
        """Write what waits in the spool, oldest first, until it is empty or the database fails.

        Between failures the database is tried at most every `retry_seconds` unless forced.
        Replaying is idempotent: an item already stored counts as already stored.
        """
        report = IngestReport()
        now = time.monotonic()
        if self.spool is None or (not force and (now < self._retry_at or now < self._spool_stuck_until)):
            return report
        try:
            while self.spool.pending():
                with self.spool.claim(SPOOL_CHUNK) as entries:
                    if not entries:
                        break
                    self._replay(entries, report)
        except DatabaseUnavailable as exc:
            self._database_down(exc)
        except SpoolError as exc:
            logger.error("%s", exc)
            self._spool_stuck_until = time.monotonic() + self.retry_seconds
        if report.from_spool:
            logger.info("written from the spool: %s", report.summary())
        return report

    def _replay(self, entries: Sequence[SpoolEntry], report: IngestReport) -> None:
        items: list[PreparedItem] = []
        logged: list[RecordFailure] = []
        part = IngestReport()
        for entry in entries:
            try:
                if entry.kind == ITEM:
                    items.append(decode_item(entry.payload))
                else:
                    logged.append(RecordFailure(**entry.payload))
            except (KeyError, TypeError, ValueError) as exc:  # never block the spool on one entry
                part.failures.append(RecordFailure(f"unreadable spool entry {entry.id}: {exc!r}",
                                                   source="spool"))
        self._store(items, {}, part, logged)
        part.from_spool = len(items)
        report.add(part)

    def _waiting(self) -> bool:
        """True while the database is not to be tried, or older records wait in the spool."""
        if time.monotonic() < self._retry_at:
            return True
        if time.monotonic() < self._spool_stuck_until:
            return False
        try:
            return self.spool is not None and self.spool.pending() > 0
        except SpoolError as exc:
            logger.error("%s", exc)
            return False

    def _database_down(self, exc: BaseException) -> None:
        if time.monotonic() >= self._retry_at:
            logger.warning("database unreachable (%s); records wait in the spool %s, next try in "
                           "%.0f s", str(exc).splitlines()[0], getattr(self.spool, "path", "-"),
                           self.retry_seconds)
        self._retry_at = time.monotonic() + self.retry_seconds
        self._index_stale = True

    def _to_spool(self, items: Sequence[PreparedItem], failures: Sequence[RecordFailure],
                  report: IngestReport) -> None:
        """Keep a batch in the spool; when even that fails, the items become failures."""
        assert self.spool is not None
        entries = [(ITEM, encode_item(i)) for i in items] + [(FAILURE, asdict(f)) for f in failures]
        try:
            self.spool.append(entries)
        except SpoolError as exc:
            logger.error("the database is unreachable and %s", exc)
            report.failures.extend(
                RecordFailure(f"not stored: the database is unreachable and {exc}", i.record.position,
                              url=i.record.url, source=i.record.source) for i in items
            )
            return
        report.spooled += len(items)

    def _load_index(self) -> None:
        """(Re)build the story index from the database after a start or a failed batch."""
        if self._index_stale:
            size = get_settings().story_index_size
            self.index = dedupe.StoryIndex(size)
            self.index.load(store.signature_rows(self.engine, limit=size))
            self._index_stale = False

    def _drop_known(self, items: list[PreparedItem],
                    report: IngestReport) -> tuple[list[PreparedItem], set[str], list[PreparedItem]]:
        """Keep new items and changed versions of stored ones (upsert by canonical URL).

        The same page again is a no-op, so ingest can be re-run safely; the same text under
        another URL is an exact duplicate and stored once.
        """
        with Session(self.engine) as session:
            stored = store.stored_hashes_by_url(session, (i.canonical_url for i in items))
            known_hashes = store.existing_content_hashes(session, (i.content_hash for i in items))
        fresh: list[PreparedItem] = []
        updates: set[str] = set()
        copies: list[PreparedItem] = []
        seen_urls: set[str] = set()
        for item in items:
            url = item.canonical_url
            if url in seen_urls or stored.get(url) == item.content_hash:
                report.already_stored += 1
            elif url in stored:
                fresh.append(item)
                updates.add(url)
            elif item.content_hash in known_hashes:
                report.exact_duplicates += 1
                copies.append(item)
            else:
                fresh.append(item)
            seen_urls.add(url)
            known_hashes.add(item.content_hash)
        return fresh, updates, copies

    def _credit_exact_copies(self, copies: list[PreparedItem]) -> None:
        """An exact copy is not stored again, but if it was published first its outlet is the story's first."""
        if not copies:
            return
        try:
            with Session(self.engine) as session, session.begin():
                for copy in copies:
                    store.credit_earlier_copy(session, copy)
        except SQLAlchemyError:
            # Only the first-outlet credit is lost; every item is stored.
            logger.exception("could not update the first outlet of %d stories", len(copies))

    def _classify(self, items: list[PreparedItem], report: IngestReport) -> list[Optional[ClassifyResult]]:
        results = classify_prepared(self.classifier, items)
        report.unclassified += sum(r is None for r in results)
        return results

    def _write(self, items: list[PreparedItem], results: list[Optional[ClassifyResult]],
               updates: set[str], report: IngestReport) -> None:
        version = self.classifier.version if self.classifier else None
        try:
            with Session(self.engine) as session, session.begin():
                store.lock_for_writing(session)
                new: list[tuple[PreparedItem, Optional[ClassifyResult]]] = []
                for item, result in zip(items, results):
                    if item.canonical_url in updates:
                        self._update_one(session, item, result, version, report)
                    else:
                        new.append((item, result))
                self._write_new(session, new, version, report)
        except SQLAlchemyError as exc:
            self._index_stale = True  # it holds items of the transaction that did not commit
            if self.spool is not None and is_transient(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            logger.exception("batch transaction failed")
            report.stored = 0
            report.failures.extend(
                RecordFailure(f"database error: {exc.__class__.__name__}", url=i.record.url,
                              source=i.record.source) for i in items
            )

    def _record_failed(self, exc: SQLAlchemyError, what: str, item: PreparedItem,
                       report: IngestReport) -> None:
        """One record's write failed: a failure of its own, or the whole batch to the spool."""
        if self.spool is not None and is_transient(exc):
            raise exc  # the whole batch waits in the spool
        reason = f"{what}: {getattr(exc, 'orig', None) or exc}"
        report.failures.append(RecordFailure(reason, item.record.position, url=item.record.url,
                                             source=item.record.source))

    def _update_one(self, session: Session, item: PreparedItem, result: Optional[ClassifyResult],
                    version: Optional[str], report: IngestReport) -> None:
        try:
            with session.begin_nested():
                row = store.update_item(session, item, result, version)
                session.flush()
                if _analysed(result):
                    store.record_mentions(session, row, item)
        except SQLAlchemyError as exc:
            self._record_failed(exc, "could not update", item, report)
            return
        report.updated += 1
        report.relevant += bool(result and result.relevant)

    def _write_new(self, session: Session, new: Sequence[tuple[PreparedItem, Optional[ClassifyResult]]],
                   version: Optional[str], report: IngestReport) -> None:
        """Write a batch's new items in a few statements; one by one if any of them fails.

        One by one, each item takes a savepoint and several statements (3.4 ms of CPU per
        item on SQLite against about 1 ms in bulk). The bulk write is all or nothing, so
        after an error each item is tried alone and only the bad ones fail.
        """
        if not new:
            return
        keys: list[str] = []
        try:
            with session.begin_nested():
                joined = self._write_bulk(session, new, version, keys)
        except SQLAlchemyError as exc:
            self.index.discard(keys)
            if self.spool is not None and is_transient(exc):
                raise
            logger.info("bulk write of %d items failed (%s); writing them one by one", len(new),
                        str(exc).splitlines()[0])
            for item, result in new:
                self._write_one(session, item, result, version, report)
            return
        report.stored += len(new)
        report.joined_story += joined
        report.relevant += sum(bool(result and result.relevant) for _, result in new)

    def _write_bulk(self, session: Session, new: Sequence[tuple[PreparedItem, Optional[ClassifyResult]]],
                    version: Optional[str], keys: list[str]) -> int:
        """Cluster, insert and index new items; returns how many joined a known story.

        Every item is indexed as it is placed, so a copy later in the batch finds a story
        first seen earlier in it; such stories carry a provisional (negative) cluster id
        until they are inserted. `keys` collects the indexed items, for undoing on failure.
        """
        stories: list[list[PreparedItem]] = []  # stories first seen in this batch
        joined: dict[int, list[PreparedItem]] = {}  # new copies of stored stories
        placed: list[int] = []
        for item, _ in new:
            minhash = dedupe.from_bytes(item.minhash)
            cluster_id = self.index.find_cluster(minhash)
            if cluster_id is None:
                stories.append([item])
                cluster_id = -len(stories)
            elif cluster_id < 0:
                stories[-cluster_id - 1].append(item)
            else:
                joined.setdefault(cluster_id, []).append(item)
            placed.append(cluster_id)
            # Keyed by canonical URL, as the row id is not known yet; any key unique to the item will do.
            self.index.add(item.canonical_url, minhash, cluster_id)
            keys.append(item.canonical_url)
        provisional = {-n: cluster_id for n, cluster_id in enumerate(store.insert_clusters(session, stories), 1)}
        store.grow_clusters(session, joined)
        rows = []
        for (item, result), cluster_id in zip(new, placed):
            row = store.item_fields(item, result, version)
            row["cluster_id"] = provisional.get(cluster_id, cluster_id)
            rows.append(row)
        item_ids = store.insert_items(session, rows)
        store.insert_mentions(session, [(item_id, item) for item_id, (item, result) in zip(item_ids, new)
                                        if _analysed(result)])
        session.flush()
        self.index.settle(keys, provisional)
        return len(new) - len(stories)

    def _write_one(self, session: Session, item: PreparedItem, result: Optional[ClassifyResult],
                   version: Optional[str], report: IngestReport) -> None:
        minhash = dedupe.from_bytes(item.minhash)
        try:
            with session.begin_nested():
                cluster_id = self.index.find_cluster(minhash)
                joined = cluster_id is not None
                if cluster_id is None:
                    cluster_id = store.new_cluster(session, item).id
                store.add_to_cluster(session, cluster_id, item)
                row = store.item_row(item, result, version)
                row.cluster_id = cluster_id
                session.add(row)
                session.flush()
                if _analysed(result):
                    store.record_mentions(session, row, item)
        except SQLAlchemyError as exc:
            if isinstance(exc, IntegrityError) and store.existing_canonical_urls(session, [item.canonical_url]):
                # Another crawler process stored this canonical URL after _drop_known looked.
                report.already_stored += 1
                return
            self._record_failed(exc, "could not store", item, report)
            return
        # Indexed at once so that copies later in the same batch find this story.
        self.index.add(str(row.id), minhash, cluster_id)
        report.stored += 1
        report.joined_story += joined
        report.relevant += bool(result and result.relevant)


# Batches being prepared by workers while the parent writes an earlier one.
IN_FLIGHT_BATCHES = 2
Prepared = Union[PreparedItem, RecordFailure]
# A prepared input, whether a worker classified it, and the result (None: the model failed).
Outcome = tuple[Prepared, bool, Optional[ClassifyResult]]
# Set in the parent just before the worker pool forks, so workers use the loaded model.
_WORKER_CLASSIFIER: Optional[CoopClassifier] = None


def classify_prepared(classifier: Optional[CoopClassifier],
                      items: Sequence[PreparedItem]) -> list[Optional[ClassifyResult]]:
    """Classify prepared items; None for each when there is no model or it fails."""
    if classifier is None or not items:
        return [None] * len(items)
    inputs = [ClassifyInput(id=str(n), title=i.title, text=i.text, kind=i.record.kind)
              for n, i in enumerate(items)]
    try:
        return list(classifier.classify(inputs))
    except Exception:  # items are stored unclassified and classified later
        logger.exception("classifier failed; storing %d items unclassified", len(items))
        return [None] * len(items)


def _prepare_and_classify(batch: Sequence[Input]) -> list[Outcome]:
    """Worker task: prepare a chunk and, when the model was inherited, classify it too."""
    entries = [prepare_entry(entry) for entry in batch]
    if _WORKER_CLASSIFIER is None:
        return [(entry, False, None) for entry in entries]
    prepared = [e for e in entries if isinstance(e, PreparedItem)]
    results = dict(zip(map(id, prepared), classify_prepared(_WORKER_CLASSIFIER, prepared)))
    return [(entry, isinstance(entry, PreparedItem), results.get(id(entry))) for entry in entries]


def _flatten(chunks: Sequence[list[Outcome]]) -> list[Outcome]:
    return [entry for chunk in chunks for entry in chunk]


def prepare_entry(entry: Input) -> Union[PreparedItem, RecordFailure]:
    """Prepare one input, turning every error into a failure record (also in a worker)."""
    if isinstance(entry, RecordFailure):
        return entry
    try:
        prepared = prepare(entry)
    except RecordError as exc:
        return RecordFailure(str(exc), entry.position, url=entry.url, source=entry.source)
    except Exception as exc:  # a bug on one page must not lose the rest of the batch
        logger.exception("unexpected error preparing %s", entry.url)
        return RecordFailure(f"internal error: {exc!r}", entry.position, url=entry.url,
                             source=entry.source)
    # The page has been read; sending it back between processes would only cost time.
    prepared.record.html = None
    return prepared


def _analysed(result: Optional[ClassifyResult]) -> bool:
    """Irrelevant items are counted but not analysed further (no cooperative mentions)."""
    return result is None or result.relevant


def _batches(inputs: Iterable[Input], size: int) -> Iterator[list[Input]]:
    batch: list[Input] = []
    for entry in inputs:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _error_row(failure: RecordFailure) -> IngestError:
    return IngestError(source=failure.source, url=failure.url, position=failure.position,
                       reason=failure.reason[:2000])
