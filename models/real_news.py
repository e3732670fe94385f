"""Real articles labelled with the codebook, read from ../shared at run time.

The repo holds only ids and labels (`data/eval/real_news_labels_*.csv`: id, relevant, label,
note); the texts stay in `../shared/data/real-news/`, which belongs to its publishers.
"""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

from models.contract import LABELS
from models.corpus import CorpusError, LabelledItem

logger = logging.getLogger(__name__)

# Labels file → the shared file whose articles it labels.
REAL_PREFIX = "real-"
LABELLED = {"real_news_labels_vietnews.csv": "vietnews_coop_mentions.jsonl"}


def load_real_news(news_dir: Path, eval_dir: Path) -> list[LabelledItem]:
    """Every labelled real article as a labelled item; empty (with a warning) without the texts."""
    items: list[LabelledItem] = []
    for labels_name, news_name in LABELLED.items():
        path = news_dir / news_name
        if not path.is_file():
            logger.warning("no real news at %s; training and evaluation go on without it", path)
            continue
        labels = _labels(eval_dir / labels_name)
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row["id"] not in labels:
                    raise CorpusError(f"{labels_name}: article {row['id']} has no label")
                relevant, label = labels[row["id"]]
                items.append(LabelledItem(id=f"{REAL_PREFIX}{row['id']}", title=row.get("title", ""),
                                          text=row.get("text", ""), kind="news", relevant=relevant,
                                          label=label))
    return items


def _labels(path: Path) -> dict[str, tuple[bool, str | None]]:
    labels: dict[str, tuple[bool, str | None]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            relevant = row["relevant"].strip() == "1"
            label = row["label"].strip() or None
            if relevant != (label is not None) or (label is not None and label not in LABELS):
                raise CorpusError(f"{path.name}:{number}: label {label!r} does not fit relevant={relevant}")
            labels[row["id"]] = (relevant, label)
    return labels
