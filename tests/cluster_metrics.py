"""Pairwise precision and recall of a clustering against labelled groups."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Hashable, Mapping


@dataclass(frozen=True)
class PairScores:
    """Counts of item pairs: put together by the clustering, labelled together, and both."""

    predicted_pairs: int
    true_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        """Share of pairs the clustering joined that belong to one labelled group."""
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        """Share of labelled same-group pairs that the clustering joined."""
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pair_scores(labels: Mapping[Hashable, Hashable], clusters: Mapping[Hashable, Hashable]) -> PairScores:
    """Score `clusters` (item → cluster) against `labels` (item → true group) by pairs.

    Counting pairs per group, per cluster and per (group, cluster) cell gives the same
    figures as comparing every pair of items, without the quadratic loop."""
    if labels.keys() != clusters.keys():
        raise ValueError("labels and clusters must cover the same items")
    cells = Counter((labels[k], clusters[k]) for k in labels)
    return PairScores(
        predicted_pairs=sum(_pairs(n) for n in Counter(clusters.values()).values()),
        true_pairs=sum(_pairs(n) for n in Counter(labels.values()).values()),
        correct_pairs=sum(_pairs(n) for n in cells.values()),
    )
