"""Relevance measured on real news: our hand labels of the shared real-news files.

The texts stay in `../shared/data/real-news/` (they belong to their publishers); the repo
holds only our labels (`data/eval/real_news_relevance_*.csv`: file, id, relevant, note).
Files without a labels CSV contain no cooperative term at all, so every item is a negative.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from models.classifier import CoopClassifier
from models.contract import ClassifyInput

LABELLED_FILES = ("vietnews_coop_mentions.jsonl", "hddtvn_coop.jsonl")
NEGATIVE_FILES = ("vietnews_no_coop_sample.jsonl", "hddtvn_noncoop_sample.jsonl")
LABEL_GLOB = "real_news_relevance_*.csv"


@dataclass(frozen=True)
class RealNewsItem:
    file: str
    id: str
    title: str
    text: str
    relevant: bool


@dataclass(frozen=True)
class RelevanceScore:
    """Confusion counts of the relevance decision on one set of items."""

    name: str
    n: int
    true_positive: int
    false_positive: int
    false_negative: int

    @property
    def precision(self) -> float:
        predicted = self.true_positive + self.false_positive
        return self.true_positive / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positive + self.false_negative
        return self.true_positive / actual if actual else 1.0

    def line(self) -> str:
        return (f"{self.name:32} n={self.n:5}  relevant={self.true_positive + self.false_negative:3}  "
                f"precision={self.precision:.3f}  recall={self.recall:.3f}  "
                f"false positives={self.false_positive}  missed={self.false_negative}")


def load_labels(eval_dir: Path) -> dict[tuple[str, str], bool]:
    """(file, id) → relevant, from every labels CSV in the eval folder."""
    labels: dict[tuple[str, str], bool] = {}
    for path in sorted(eval_dir.glob(LABEL_GLOB)):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                labels[(row["file"], row["id"])] = row["relevant"].strip() == "1"
    return labels


def real_news(news_dir: Path, eval_dir: Path) -> Iterator[RealNewsItem]:
    """Every labelled real-news item, read from the shared folder at run time."""
    labels = load_labels(eval_dir)
    for name in (*LABELLED_FILES, *NEGATIVE_FILES):
        path = news_dir / name
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                key = (name, row["id"])
                if name in LABELLED_FILES and key not in labels:
                    raise KeyError(f"{name}: item {row['id']} has no relevance label")
                yield RealNewsItem(file=name, id=row["id"], title=row.get("title", ""),
                                   text=row.get("text", ""), relevant=labels.get(key, False))


def score_relevance(name: str, items: Sequence[RealNewsItem], predicted: Sequence[bool]) -> RelevanceScore:
    pairs = list(zip((i.relevant for i in items), predicted))
    return RelevanceScore(
        name=name, n=len(pairs),
        true_positive=sum(t and p for t, p in pairs),
        false_positive=sum(p and not t for t, p in pairs),
        false_negative=sum(t and not p for t, p in pairs),
    )


def evaluate_real_news(model: CoopClassifier, news_dir: Path, eval_dir: Path,
                       batch_size: int = 500) -> list[RelevanceScore]:
    """Scores per file and for all files together."""
    items = list(real_news(news_dir, eval_dir))
    predicted: list[bool] = []
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        results = model.classify([ClassifyInput(id=i.id, title=i.title, text=i.text, kind="news")
                                  for i in batch])
        predicted.extend(r.relevant for r in results)
    scores = []
    for name in (*LABELLED_FILES, *NEGATIVE_FILES):
        chosen = [n for n, item in enumerate(items) if item.file == name]
        scores.append(score_relevance(name, [items[n] for n in chosen], [predicted[n] for n in chosen]))
    scores.append(score_relevance("all real news", items, predicted))
    return scores
