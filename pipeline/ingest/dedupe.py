"""Duplicates and story placement, decided in one place.

Exact copies (the same text) are stored once; near copies (one wire story republished with
small edits by many outlets) are stored each, grouped into one story cluster. `sort_known`
sorts a batch against what is stored; `plan_stories` places each new item in a story.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Generic, Iterable, Optional, Protocol, Sequence, TypeVar

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


class Signed(Protocol):
    """What dedupe needs of an item (prepare.PreparedItem has it): its URL key and signatures."""

    canonical_url: str
    content_hash: str
    minhash: bytes


Item = TypeVar("Item", bound=Signed)


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


@dataclass
class KnownSplit(Generic[Item]):
    """A batch sorted against what is stored: new items, newer versions, and copies."""

    fresh: list[Item] = field(default_factory=list)  # new items and new versions of stored pages
    updates: set[str] = field(default_factory=set)  # canonical URLs among `fresh` that are stored already
    copies: list[Item] = field(default_factory=list)  # exact copies of stored text under another URL
    already_stored: int = 0  # the same page again, or twice in the batch


def sort_known(items: Sequence[Item], stored: dict[str, str], known_hashes: set[str]) -> KnownSplit[Item]:
    """Sort a batch given the stored content hash per canonical URL and the stored text hashes.

    The same page again is a no-op, so ingest can be re-run safely; a page whose text changed
    is a new version of the stored item (upsert by canonical URL); the same text under another
    URL is an exact duplicate and stored once.
    """
    split: KnownSplit[Item] = KnownSplit()
    hashes = set(known_hashes)
    seen_urls: set[str] = set()
    for item in items:
        url = item.canonical_url
        if url in seen_urls or stored.get(url) == item.content_hash:
            split.already_stored += 1
        elif url in stored:
            split.fresh.append(item)
            split.updates.add(url)
        elif item.content_hash in hashes:
            split.copies.append(item)
        else:
            split.fresh.append(item)
        seen_urls.add(url)
        hashes.add(item.content_hash)
    return split


@dataclass
class StoryPlan(Generic[Item]):
    """Where each new item goes: a stored story (its cluster id) or a story first seen here.

    `placed[n]` is a stored cluster id, or -k for the k-th story of `new_stories`, which gets
    its real id when it is inserted (StoryIndex.settle). `keys` are the index keys added.
    """

    items: list[Item]
    placed: list[int] = field(default_factory=list)
    new_stories: list[list[Item]] = field(default_factory=list)
    joined: dict[int, list[Item]] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)

    @property
    def joined_count(self) -> int:
        """How many items are copies of a story stored before or earlier in the plan."""
        return len(self.items) - len(self.new_stories)


def plan_stories(index: StoryIndex, items: Sequence[Item]) -> StoryPlan[Item]:
    """Place each item in a story, indexing it at once so that a copy later in the same batch
    finds a story first seen earlier in it. Undo with index.discard(plan.keys) if not stored."""
    plan = StoryPlan(items=list(items))
    for item in items:
        minhash = from_bytes(item.minhash)
        cluster_id = index.find_cluster(minhash)
        if cluster_id is None:
            plan.new_stories.append([item])
            cluster_id = -len(plan.new_stories)
        elif cluster_id < 0:
            plan.new_stories[-cluster_id - 1].append(item)
        else:
            plan.joined.setdefault(cluster_id, []).append(item)
        plan.placed.append(cluster_id)
        # Keyed by canonical URL, as the row id is not known yet; any key unique to the item will do.
        index.add(item.canonical_url, minhash, cluster_id)
        plan.keys.append(item.canonical_url)
    return plan
