"""Real-length pages built at run time: our items set inside real unrelated news.

Real articles run 2,700 characters at the median and digests, roundups and forum pages carry
several stories; our labelled items are brief. So pages are built by surrounding an item with
paragraphs of real news that names no cooperative (../shared/data/real-news, read at run
time, never copied into the repo): as a long article (the item first, unrelated text after),
a digest (the item somewhere among other stories) or a forum page. They are used to train
the passage units and to measure the model on long pages (codebook rule 6).
"""
from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from models.corpus import LabelledItem

logger = logging.getLogger(__name__)

FILLER_FILES = ("vietnews_no_coop_sample.jsonl", "hddtvn_noncoop_sample.jsonl")
SHAPES = ("article_tail", "digest", "forum")


@dataclass(frozen=True)
class Page:
    """A built page, the item it carries, and where the item's text stands in it."""

    item: LabelledItem
    title: str
    text: str
    story: tuple[int, int]
    shape: str

    def as_item(self) -> LabelledItem:
        """The page as a labelled item: it takes the carried item's labels (rule 6)."""
        return LabelledItem(id=f"{self.item.id}@{self.shape}", title=self.title, text=self.text,
                            kind=self.item.kind, relevant=self.item.relevant, label=self.item.label)


def load_fillers(news_dir: Path, limit: int = 3000) -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of real articles that name no cooperative; empty when absent."""
    articles: list[tuple[str, list[str]]] = []
    for name in FILLER_FILES:
        path = news_dir / name
        if not path.is_file():
            logger.warning("no real news at %s: long pages are not built", path)
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                paragraphs = [p.strip() for p in row.get("text", "").split("\n") if len(p.strip()) > 40]
                if paragraphs:
                    articles.append((row.get("title", ""), paragraphs))
                if len(articles) >= limit:
                    return articles
    return articles


def build_page(item: LabelledItem, fillers: Sequence[tuple[str, list[str]]], rng: random.Random,
               shape: Optional[str] = None, min_chars: int = 2500) -> Page:
    """One page of `shape` (random if None) carrying the item among real unrelated text."""
    shape = shape or rng.choice(SHAPES)
    if shape == "article_tail":  # the item is the article; unrelated text (a sidebar, more news) follows
        parts = [item.text]
        while sum(map(len, parts)) < min_chars:
            parts.extend(rng.choice(fillers)[1][: rng.randint(2, 5)])
        return Page(item, item.title, "\n".join(parts), (0, len(item.text)), shape)
    # A digest or a forum page: the item is one story among several, anywhere on the page.
    chunks: list[str] = []
    while sum(map(len, chunks)) + len(item.text) < min_chars:
        headline, paragraphs = rng.choice(fillers)
        chunks.append("\n".join([headline, *paragraphs[: rng.randint(2, 4)]]))
    story = "\n".join(p for p in (item.title, item.text) if p)
    chunks.insert(rng.randint(0, len(chunks)), story)
    if shape == "forum":
        chunks = [f"#{n} {chunk}" for n, chunk in enumerate(chunks, 1)]
    text = "\n".join(chunks)
    at = next(n for n, chunk in enumerate(chunks) if chunk.endswith(story))
    start = sum(len(c) + 1 for c in chunks[:at]) + len(chunks[at]) - len(story)
    title = rng.choice(fillers)[0] if shape == "digest" else "Diễn đàn nhà nông: chuyện làm ăn ở quê"
    return Page(item, title, text, (start, start + len(story)), shape)


def build_pages(items: Sequence[LabelledItem], fillers: Sequence[tuple[str, list[str]]],
                seed: int = 7) -> list[Page]:
    """One page per item, shapes in turn, reproducible for a seed."""
    if not fillers:
        return []
    rng = random.Random(seed)
    return [build_page(item, fillers, rng, SHAPES[n % len(SHAPES)]) for n, item in enumerate(items)]
