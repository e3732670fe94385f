"""A durable local spool: what ingest could not write while the database was unreachable.

Entries are kept in a small SQLite file on local disk (var/spool by default), each append
one transaction with a synchronous commit, so a crash or a full disk never leaves half an
entry behind. Ingest replays them oldest first once the database answers again; replay is
safe to repeat because items are upserted by canonical URL.
"""
from __future__ import annotations

import base64
import errno
import json
import logging
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from pipeline.ingest.enrich import CooperativeName, Enrichment
from pipeline.ingest.prepare import PreparedItem
from pipeline.ingest.records import RawRecord
from pipeline.core.schema import utcnow

logger = logging.getLogger(__name__)

ITEM = "item"  # a prepared item waiting to be classified and stored
FAILURE = "failure"  # a rejected input waiting to be logged in ingest_errors

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so id order is arrival order
    kind TEXT NOT NULL,
    spooled_at TEXT NOT NULL,
    payload TEXT NOT NULL
)
"""


class SpoolError(RuntimeError):
    """The spool cannot take or give back entries; the message says where and why."""


class SpoolFull(SpoolError):
    """The spool's disk, or its configured size limit, is full; nothing already spooled is lost."""


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One spooled entry in arrival order."""

    id: int
    kind: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SpoolStatus:
    """What waits in the spool, for `coopwatch spool status` and logs."""

    path: Path
    entries: int
    items: int
    oldest: Optional[datetime]
    size_bytes: int


class Spool:
    """Entries in a SQLite file; appends are atomic and survive crashes and power loss.

    Removing replayed entries needs a little disk too (SQLite journals the pages it changes),
    so the spool keeps `reserve_bytes` of it in a file of its own and refuses new entries
    rather than give that up: a spool that filled its disk can always be emptied.
    """

    def __init__(self, path: Path, max_bytes: Optional[int] = None, busy_timeout: float = 30.0,
                 reserve_bytes: int = 8 * 1024 * 1024) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.busy_timeout = busy_timeout
        self.reserve_bytes = reserve_bytes
        self.reserve_path = path.with_name(path.name + ".reserve")

    # Connections are opened per operation: cheap for a local file, and ingest workers
    # forked from this process never inherit an open one.
    @contextmanager
    def _connect(self, create: bool) -> Iterator[sqlite3.Connection]:
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SpoolError(f"cannot create the spool folder {self.path.parent}: {exc.strerror}") from exc
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            # A rollback journal, not WAL: no shared-memory file to grow on a full disk.
            connection.execute("PRAGMA journal_mode=DELETE")
            connection.execute("PRAGMA synchronous=FULL")
            if self.max_bytes:
                page_size = connection.execute("PRAGMA page_size").fetchone()[0]
                connection.execute(f"PRAGMA max_page_count={max(8, self.max_bytes // page_size)}")
            if create:
                # Takes effect only in a new file: removed entries then give their disk back.
                connection.execute("PRAGMA auto_vacuum=FULL")
                connection.execute(_SCHEMA)
            yield connection
        finally:
            connection.close()

    def append(self, entries: Sequence[tuple[str, dict[str, Any]]]) -> int:
        """Add (kind, payload) entries in one transaction: all of them are kept or none."""
        if not entries:
            return 0
        rows = [(kind, utcnow().isoformat(), json.dumps(payload, ensure_ascii=False))
                for kind, payload in entries]
        doing = f"could not save {len(rows)} entries"
        try:
            with self._connect(create=True) as connection:
                self._keep_reserve(doing)
                connection.execute("BEGIN IMMEDIATE")
                try:
                    connection.executemany(
                        "INSERT INTO entries (kind, spooled_at, payload) VALUES (?, ?, ?)", rows)
                    connection.execute("COMMIT")
                except BaseException:
                    _rollback(connection)
                    raise
        except sqlite3.Error as exc:
            raise self._error(exc, doing) from exc
        logger.warning("%d entries saved in the spool %s; they are written when the database "
                       "is back", len(rows), self.path)
        return len(rows)

    def pending(self) -> int:
        """How many entries wait; 0 when the spool file does not exist yet."""
        if not self.path.exists():
            return 0
        try:
            with self._connect(create=True) as connection:
                return int(connection.execute("SELECT count(*) FROM entries").fetchone()[0])
        except sqlite3.Error as exc:
            raise self._error(exc, "could not count entries") from exc

    def status(self) -> SpoolStatus:
        """Counts, the oldest entry's time and the file size."""
        if not self.path.exists():
            return SpoolStatus(self.path, 0, 0, None, 0)
        try:
            with self._connect(create=True) as connection:
                entries, items, oldest = connection.execute(
                    "SELECT count(*), sum(kind = ?), min(spooled_at) FROM entries", (ITEM,)
                ).fetchone()
        except sqlite3.Error as exc:
            raise self._error(exc, "could not read the status") from exc
        return SpoolStatus(self.path, int(entries), int(items or 0),
                           datetime.fromisoformat(oldest) if oldest else None,
                           self.path.stat().st_size)

    @contextmanager
    def claim(self, limit: int) -> Iterator[list[SpoolEntry]]:
        """The oldest entries, removed only when the block completes.

        The spool stays locked meanwhile, so two processes never replay the same entries at
        once; when the block raises, the entries stay for the next attempt.
        """
        if not self.path.exists():
            yield []
            return
        try:
            with self._connect(create=True) as connection:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    rows = connection.execute(
                        "SELECT id, kind, payload FROM entries ORDER BY id LIMIT ?", (limit,)
                    ).fetchall()
                    yield [SpoolEntry(row[0], row[1], json.loads(row[2])) for row in rows]
                except BaseException:
                    _rollback(connection)
                    raise
                ids = [(row[0],) for row in rows]
                try:
                    _delete(connection, ids)
                except sqlite3.Error as exc:
                    if not (_is_full(exc) and self._release_reserve()):
                        raise
                    connection.execute("BEGIN IMMEDIATE")
                    _delete(connection, ids)
        except sqlite3.Error as exc:
            raise self._error(exc, "could not remove replayed entries") from exc

    def check(self) -> list[str]:
        """SQLite's integrity check of the spool file: ['ok'] when it is sound."""
        with self._connect(create=False) as connection:
            return [row[0] for row in connection.execute("PRAGMA integrity_check")]

    def _keep_reserve(self, doing: str) -> None:
        """Make sure the reserve exists before taking more disk; refuse when it cannot."""
        if not self.reserve_bytes or (self.reserve_path.exists()
                                      and self.reserve_path.stat().st_size >= self.reserve_bytes):
            return
        try:
            with open(self.reserve_path, "wb") as reserve:
                reserve.write(bytes(self.reserve_bytes))  # written, so the blocks are really taken
                reserve.flush()
                os.fsync(reserve.fileno())
        except OSError as exc:
            self.reserve_path.unlink(missing_ok=True)
            if exc.errno == errno.ENOSPC:
                raise self._full(doing) from exc
            raise SpoolError(f"spool {self.path}: {doing}: cannot write {self.reserve_path}: "
                             f"{exc.strerror}") from exc

    def _release_reserve(self) -> bool:
        if not self.reserve_path.exists():
            return False
        logger.warning("spool disk full: using the reserve %s to remove replayed entries", self.reserve_path)
        self.reserve_path.unlink()
        return True

    def _full(self, doing: str) -> SpoolFull:
        limit = f" or its limit of {self.max_bytes:,} bytes (COOPWATCH_SPOOL_MAX_MB)" if self.max_bytes else ""
        return SpoolFull(
            f"spool {self.path} is full: {doing}; the disk{limit} has no room left. "
            "Entries already in the spool are intact; free space, then run `coopwatch spool flush`"
        )

    def _error(self, exc: sqlite3.Error, doing: str) -> SpoolError:
        if _is_full(exc):
            return self._full(doing)
        return SpoolError(f"spool {self.path}: {doing}: {exc}")


def _is_full(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _rollback(connection: sqlite3.Connection) -> None:
    if connection.in_transaction:  # SQLite has ended it itself after a full disk
        connection.execute("ROLLBACK")


def _delete(connection: sqlite3.Connection, ids: list[tuple[int]]) -> None:
    """Remove replayed entries in the open transaction and commit it."""
    try:
        connection.executemany("DELETE FROM entries WHERE id = ?", ids)
        connection.execute("COMMIT")
    except BaseException:
        _rollback(connection)
        raise


def encode_item(item: PreparedItem) -> dict[str, Any]:
    """A prepared item as JSON (the page's HTML is not needed any more and is left out)."""
    record = item.record
    return {
        "record": {
            "url": record.url, "source": record.source, "outlet": record.outlet, "kind": record.kind,
            "text": record.text, "title": record.title, "published_at": _time(record.published_at),
            "fetched_at": _time(record.fetched_at), "reactions": record.reactions,
            "shares": record.shares, "position": record.position,
        },
        "canonical_url": item.canonical_url, "title": item.title, "lead": item.lead,
        "title_derived": item.title_derived,
        "text": item.text, "text_folded": item.text_folded, "author": item.author,
        "language": item.language, "published_at": _time(item.published_at),
        "content_hash": item.content_hash,
        "minhash": base64.b64encode(item.minhash).decode("ascii"),
        "enrichment": {
            "province": item.enrichment.province, "sector": item.enrichment.sector,
            "cooperatives": [[c.kind, c.name, c.key] for c in item.enrichment.cooperatives],
        },
    }


def decode_item(payload: dict[str, Any]) -> PreparedItem:
    """The prepared item encode_item wrote."""
    raw = dict(payload["record"])
    raw["published_at"] = _parse(raw["published_at"])
    raw["fetched_at"] = _parse(raw["fetched_at"])
    enrichment = payload["enrichment"]
    return PreparedItem(
        record=RawRecord(**raw),
        canonical_url=payload["canonical_url"], title=payload["title"], lead=payload["lead"],
        title_derived=bool(payload.get("title_derived", False)),
        text=payload["text"], text_folded=payload["text_folded"], author=payload["author"],
        language=payload["language"], published_at=_parse(payload["published_at"]),
        content_hash=payload["content_hash"], minhash=base64.b64decode(payload["minhash"]),
        enrichment=Enrichment(
            province=enrichment["province"], sector=enrichment["sector"],
            cooperatives=[CooperativeName(kind, name, key) for kind, name, key in enrichment["cooperatives"]],
        ),
    )


def _time(value: Optional[datetime]) -> Optional[str]:
    return value.isoformat() if value else None


def _parse(value: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(value) if value else None
