"""Exact and near-duplicate detection: one story carried by many outlets becomes one cluster."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np
from datasketch import MinHash, MinHashLSH

NUM_PERM = 128
# Stored signatures carry no trace of their permutation scheme; pin it so they stay comparable.
SCHEME = "affine32"
# Measured on Vietnamese wire copies (shared/VIETNAMESE.md): LSH at 0.5 finds candidates,
# a Jaccard check on each candidate keeps precision; 0.7 alone misses edited copies.
LSH_THRESHOLD = 0.5
JACCARD_MIN = 0.5
# Items the in-memory story index holds: the most recently stored ones.
DEFAULT_INDEX_SIZE = 30_000
_WORD = re.compile(r"\w+")


def content_hash(text: str) -> str:
    """SHA-256 of the whitespace- and case-insensitive text: equal for exact copies."""
    return hashlib.sha256(" ".join(text.lower().split()).encode("utf-8")).hexdigest()


def shingles(text: str, size: int = 3) -> set[str]:
    """Word n-gram shingles of normalised, lower-cased text."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


# The permutations depend only on the seed; computing them once saves ~0.5 ms per signature.
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, scheme=SCHEME).permutations


def signature(text: str) -> MinHash:
    """MinHash signature of a text's shingles."""
    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME, permutations=_PERMUTATIONS)
    minhash.update_batch([s.encode("utf-8") for s in shingles(text)])
    return minhash


def to_bytes(minhash: MinHash) -> bytes:
    """Serialise a signature for the database."""
    return np.asarray(minhash.hashvalues, dtype=np.uint64).tobytes()


def from_bytes(data: bytes) -> MinHash:
    """Restore a signature stored by to_bytes."""
    return MinHash(num_perm=NUM_PERM, scheme=SCHEME, permutations=_PERMUTATIONS,
                   hashvalues=np.frombuffer(data, dtype=np.uint64).copy())


@dataclass(slots=True)
class _Entry:
    minhash: MinHash
    cluster_id: int


class StoryIndex:
    """An LSH index of stored items' signatures that answers 'which story is this a copy of?'."""

    def __init__(self, max_entries: int = DEFAULT_INDEX_SIZE) -> None:
        self._lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        self._entries: dict[str, _Entry] = {}
        self.max_entries = max_entries

    def __len__(self) -> int:
        return len(self._entries)

    def load(self, rows: Iterable[tuple[int, int, bytes]]) -> None:
        """Add stored (item id, cluster id, signature bytes) rows."""
        for item_id, cluster_id, data in rows:
            self.add(str(item_id), from_bytes(data), cluster_id)

    def add(self, key: str, minhash: MinHash, cluster_id: int) -> None:
        """Index one item under its cluster."""
        if key in self._entries:
            return
        self._entries[key] = _Entry(minhash, cluster_id)
        self._lsh.insert(key, minhash)
        # Bounded memory (~8 KB an entry): the oldest indexed copy goes first. Wire copies
        # appear within days, so only a copy of a story older than the window starts anew.
        while len(self._entries) > self.max_entries:
            oldest = next(iter(self._entries))
            del self._entries[oldest]
            self._lsh.remove(oldest)

    def discard(self, keys: Iterable[str]) -> None:
        """Forget items that were indexed but, in the end, not stored."""
        for key in keys:
            if self._entries.pop(key, None) is not None:
                self._lsh.remove(key)

    def settle(self, keys: Iterable[str], cluster_ids: dict[int, int]) -> None:
        """Give items indexed under a provisional cluster id (a story not yet stored) its real one."""
        for key in keys:
            entry = self._entries.get(key)
            if entry is not None and entry.cluster_id in cluster_ids:
                entry.cluster_id = cluster_ids[entry.cluster_id]

    def find_cluster(self, minhash: MinHash) -> Optional[int]:
        """Cluster of the most similar indexed item above the Jaccard check, if any."""
        best: tuple[float, Optional[int]] = (JACCARD_MIN, None)
        for key in self._lsh.query(minhash):
            entry = self._entries[key]
            similarity = minhash.jaccard(entry.minhash)
            if similarity >= best[0]:
                best = (similarity, entry.cluster_id)
        return best[1]
