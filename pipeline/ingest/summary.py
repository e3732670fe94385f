"""What happened to every input of one ingest run: the counts and the failures."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.ingest.records import RecordFailure

_COUNTS = ("received", "stored", "already_stored", "updated", "exact_duplicates", "joined_story",
           "relevant", "unclassified", "spooled", "from_spool")


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
        for name in _COUNTS:
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
