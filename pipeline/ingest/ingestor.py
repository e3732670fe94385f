"""The one path for every item, in stage order: prepare → sort out known pages → classify →
place in stories → store; with a spool, what the database cannot take now waits and is
written later (outage.py holds that policy).

Each stage lives in its own module: prepare.py, classify.py, dedupe.py, store.py, outage.py.
This module only runs them in order, batch after batch, and counts what happened.
"""
from __future__ import annotations

import logging
from typing import Iterable, Optional, Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from models.classifier import CoopClassifier
from pipeline.core.config import get_settings
from pipeline.core.schema import IngestError
from pipeline.ingest import dedupe, store
from pipeline.ingest.classify import batches, classify_items, prepared_batches, worker_pool
from pipeline.ingest.outage import DatabaseUnavailable, OutagePolicy
from pipeline.ingest.prepare import Prepared, PreparedItem, prepare_entry
from pipeline.ingest.records import Input, RecordFailure
from pipeline.ingest.spool import ITEM, Spool, SpoolEntry, SpoolError, decode_item
from pipeline.ingest.summary import IngestReport
from pipeline.ingest.validate import clean_text

logger = logging.getLogger(__name__)

# Spooled entries replayed per transaction; small enough that removing them from a full disk
# fits in the spool's reserve.
SPOOL_CHUNK = 50


class Ingestor:
    """Holds what ingest needs across batches: the database, the model and the story index.

    With a spool, batches the database cannot take (it is unreachable) wait there and are
    written, oldest first, as soon as it answers again; without one they are failures.
    """

    def __init__(self, engine: Engine, classifier: Optional[CoopClassifier] = None,
                 spool: Optional[Spool] = None, retry_seconds: float = 30.0) -> None:
        self.engine = engine
        self.classifier = classifier
        self.outage = OutagePolicy(spool, retry_seconds)
        self.index = dedupe.StoryIndex(get_settings().story_index_size)
        self._index_stale = True
        try:
            with self.outage.database_call():
                self._load_index()
        except DatabaseUnavailable as exc:
            self._database_down(exc)

    @property
    def spool(self) -> Optional[Spool]:
        """Where batches wait while the database is unreachable (None: they fail instead)."""
        return self.outage.spool

    def ingest(self, inputs: Iterable[Input], batch_size: int = 200, workers: int = 1) -> IngestReport:
        """Ingest a stream of records in batches; failures are recorded, never raised.

        With workers > 1, extraction, normalisation and classification (nearly all the work)
        run in that many processes while this one dedupes and writes; the next batches are
        prepared while the current one is written.
        """
        report = IngestReport()
        if workers <= 1:
            for batch in batches(inputs, batch_size):
                report.add(self.ingest_batch(batch))
        else:
            with worker_pool(workers, self.classifier) as pool:
                for prepared in prepared_batches(pool, inputs, batch_size, workers):
                    report.add(self._ingest_prepared(prepared))
        report.add_replay(self.flush_spool())
        return report

    def ingest_batch(self, batch: Sequence[Input]) -> IngestReport:
        """Ingest one batch inside one transaction."""
        return self._ingest_prepared([prepare_entry(entry) for entry in batch])

    def _ingest_prepared(self, entries: Sequence[Prepared]) -> IngestReport:
        """Store one prepared batch, or keep it in the spool while the database is down."""
        report = IngestReport(received=len(entries))
        items = [e for e in entries if isinstance(e, PreparedItem)]
        report.failures.extend(e for e in entries if isinstance(e, RecordFailure))
        if self.spool is None:
            self._store(items, report)
            return report
        replayed = self.flush_spool()  # older records first, so a page's versions keep their order
        if self.outage.waiting():
            self.outage.keep(items, report.failures, report)
        else:
            attempt = IngestReport(received=report.received, failures=list(report.failures))
            try:
                self._store(items, attempt)
                report = attempt
            except DatabaseUnavailable as exc:
                self._database_down(exc)
                self.outage.keep(items, report.failures, report)
        report.add_replay(replayed)
        return report

    def _store(self, items: list[PreparedItem], report: IngestReport,
               logged: Sequence[RecordFailure] = ()) -> None:
        """Sort out known pages, classify, place and write; log the failures (plus `logged`).

        Raises DatabaseUnavailable, with nothing written, when the batch can wait in the spool.
        """
        with self.outage.database_call():
            self._load_index()
            split = self._sort_known(items)
        report.already_stored += split.already_stored
        report.exact_duplicates += len(split.copies)
        classify_items(self.classifier, split.fresh)
        report.unclassified += sum(item.result is None for item in split.fresh)
        self._write(split, report)
        self._credit_exact_copies(split.copies)
        self._log_failures([*report.failures, *logged])

    def _sort_known(self, items: list[PreparedItem]) -> dedupe.KnownSplit[PreparedItem]:
        with Session(self.engine) as session:
            stored = store.stored_hashes_by_url(session, (i.canonical_url for i in items))
            known = store.existing_content_hashes(session, (i.content_hash for i in items))
        return dedupe.sort_known(items, stored, known)

    def _write(self, split: dedupe.KnownSplit[PreparedItem], report: IngestReport) -> None:
        """Write new versions and new items in one transaction, under the cross-process lock."""
        try:
            with Session(self.engine) as session, session.begin():
                store.lock_for_writing(session)
                for item in split.fresh:
                    if item.canonical_url in split.updates:
                        self._update_one(session, item, report)
                self._write_new(session, [i for i in split.fresh if i.canonical_url not in split.updates], report)
        except SQLAlchemyError as exc:
            self._index_stale = True  # it holds items of the transaction that did not commit
            if self.outage.can_wait(exc):
                raise DatabaseUnavailable(str(exc)) from exc
            logger.exception("batch transaction failed")
            report.stored = 0
            report.failures.extend(
                RecordFailure(f"database error: {exc.__class__.__name__}", url=i.record.url,
                              source=i.record.source) for i in split.fresh
            )

    def _update_one(self, session: Session, item: PreparedItem, report: IngestReport) -> None:
        try:
            with session.begin_nested():
                row = store.update_item(session, item, self._model_version)
                session.flush()
                if store.analysed(item):
                    store.record_mentions(session, row, item)
        except SQLAlchemyError as exc:
            self._record_failed(exc, "could not update", item, report)
            return
        report.updated += 1
        report.relevant += bool(item.result and item.result.relevant)

    def _write_new(self, session: Session, new: list[PreparedItem], report: IngestReport) -> None:
        """Write a batch's new items in a few statements; one by one if any of them fails.

        One by one, each item takes a savepoint and several statements (3.4 ms of CPU per
        item on SQLite against about 1 ms in bulk). The bulk write is all or nothing, so
        after an error each item is tried alone and only the bad ones fail.
        """
        if not new:
            return
        try:
            self._write_planned(session, new, report)
        except SQLAlchemyError as exc:
            if self.outage.can_wait(exc):
                raise
            logger.info("bulk write of %d items failed (%s); writing them one by one", len(new),
                        str(exc).splitlines()[0])
            for item in new:
                self._write_one(session, item, report)

    def _write_one(self, session: Session, item: PreparedItem, report: IngestReport) -> None:
        try:
            self._write_planned(session, [item], report)
        except SQLAlchemyError as exc:
            if isinstance(exc, IntegrityError) and store.existing_canonical_urls(session, [item.canonical_url]):
                # Another crawler process stored this canonical URL after _sort_known looked.
                report.already_stored += 1
                return
            self._record_failed(exc, "could not store", item, report)

    def _write_planned(self, session: Session, items: list[PreparedItem], report: IngestReport) -> None:
        """Place items in stories and write them in one savepoint; undone from the index on error."""
        plan = dedupe.plan_stories(self.index, items)
        try:
            with session.begin_nested():
                provisional = store.write_new(session, plan, self._model_version)
        except SQLAlchemyError:
            self.index.discard(plan.keys)
            raise
        self.index.settle(plan.keys, provisional)
        report.stored += len(items)
        report.joined_story += plan.joined_count
        report.relevant += sum(bool(item.result and item.result.relevant) for item in items)

    def _record_failed(self, exc: SQLAlchemyError, what: str, item: PreparedItem,
                       report: IngestReport) -> None:
        """One record's write failed: a failure of its own, or the whole batch to the spool."""
        if self.outage.can_wait(exc):
            raise exc
        reason = f"{what}: {getattr(exc, 'orig', None) or exc}"
        report.failures.append(RecordFailure(reason, item.record.position, url=item.record.url,
                                             source=item.record.source))

    @property
    def _model_version(self) -> Optional[str]:
        return self.classifier.version if self.classifier else None

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

    def _log_failures(self, failures: list[RecordFailure]) -> None:
        try:
            store.log_errors(self.engine, [_error_row(f) for f in failures])
        except SQLAlchemyError as exc:
            if not self.outage.can_wait(exc):
                raise
            # The items are stored; only the record of the rejected inputs has to wait.
            self._database_down(exc)
            self.outage.keep([], failures, IngestReport())

    def flush_spool(self, force: bool = False) -> IngestReport:
        """Write what waits in the spool, oldest first, until it is empty or the database fails.

        Between failures the database is tried at most every `retry_seconds` unless forced.
        Replaying is idempotent: an item already stored counts as already stored.
        """
        report = IngestReport()
        if self.spool is None or not self.outage.may_replay(force):
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
            self.outage.spool_failed(exc)
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
        self._store(items, part, logged)
        part.from_spool = len(items)
        report.add(part)

    def _database_down(self, exc: BaseException) -> None:
        self.outage.database_down(exc)
        self._index_stale = True

    def _load_index(self) -> None:
        """(Re)build the story index from the database after a start or a failed batch."""
        if self._index_stale:
            size = get_settings().story_index_size
            self.index = dedupe.StoryIndex(size)
            self.index.load(store.signature_rows(self.engine, limit=size))
            self._index_stale = False


def _error_row(failure: RecordFailure) -> IngestError:
    """The failure as a row any database takes: clean text, bounded lengths and position."""
    position = failure.position if failure.position is not None and 0 <= failure.position < 2**31 else None
    return IngestError(source=clean_text(failure.source)[:200], position=position,
                       url=clean_text(failure.url)[:4000] if failure.url else None,
                       reason=clean_text(failure.reason)[:2000])
