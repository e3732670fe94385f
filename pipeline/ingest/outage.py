"""What ingest does while the database does not answer: the one rule, the retry clock, the spool.

The rule, written once (`OutagePolicy.can_wait`): with a spool, a transient database error
(connection refused or lost, server shutting down, database locked) means the batch waits in
the spool and is written later; without a spool, or for any other error, the error stands.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import asdict
from typing import Iterator, Optional, Sequence

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from pipeline.ingest.prepare import PreparedItem
from pipeline.ingest.records import RecordFailure
from pipeline.ingest.spool import FAILURE, ITEM, Spool, SpoolError, encode_item
from pipeline.ingest.summary import IngestReport

logger = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database did not take a batch for a reason a later retry may not meet."""


def is_transient(exc: BaseException) -> bool:
    """Connection refused or lost, server shutting down, database locked or busy."""
    return isinstance(exc, (OperationalError, InterfaceError)) or bool(
        getattr(exc, "connection_invalidated", False))


class OutagePolicy:
    """Decides when the database is tried, and keeps in the spool what it cannot take now."""

    def __init__(self, spool: Optional[Spool], retry_seconds: float = 30.0) -> None:
        self.spool = spool
        self.retry_seconds = retry_seconds
        self._retry_at = 0.0  # time.monotonic() before which the database is not tried again
        self._spool_stuck_until = 0.0  # the spool failed: batches go straight to the database

    def can_wait(self, exc: BaseException) -> bool:
        """The rule: a transient database error with a spool to wait in."""
        return self.spool is not None and is_transient(exc)

    @contextmanager
    def database_call(self) -> Iterator[None]:
        """Run database work; an error the batch can wait out becomes DatabaseUnavailable."""
        try:
            yield
        except SQLAlchemyError as exc:
            if not self.can_wait(exc):
                raise
            raise DatabaseUnavailable(str(exc)) from exc

    def database_down(self, exc: BaseException) -> None:
        """Note a failed attempt: the database is not tried again for `retry_seconds`."""
        if time.monotonic() >= self._retry_at:
            logger.warning("database unreachable (%s); records wait in the spool %s, next try in "
                           "%.0f s", str(exc).splitlines()[0], getattr(self.spool, "path", "-"),
                           self.retry_seconds)
        self._retry_at = time.monotonic() + self.retry_seconds

    def spool_failed(self, exc: SpoolError) -> None:
        """The spool cannot give entries back: leave it alone for a while, batches go straight on."""
        logger.error("%s", exc)
        self._spool_stuck_until = time.monotonic() + self.retry_seconds

    def may_replay(self, force: bool = False) -> bool:
        """True when the spool may be replayed now (forced, or neither clock holds it back)."""
        now = time.monotonic()
        return self.spool is not None and (force or (now >= self._retry_at and now >= self._spool_stuck_until))

    def waiting(self) -> bool:
        """True while the database is not to be tried, or older records wait in the spool."""
        if time.monotonic() < self._retry_at:
            return True
        if time.monotonic() < self._spool_stuck_until or self.spool is None:
            return False
        try:
            return self.spool.pending() > 0
        except SpoolError as exc:
            logger.error("%s", exc)
            return False

    def keep(self, items: Sequence[PreparedItem], failures: Sequence[RecordFailure],
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
