"""Training: fit both stages on the labelled corpus, measure on a held-out split, save."""
from __future__ import annotations

import logging
import platform
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional, Sequence

import sklearn
import skops
from sklearn.model_selection import train_test_split

from models.classifier import RANDOM_STATE, CoopClassifier, build_calibrated_svm, build_features, stage
from models.contract import ClassifyInput
from models.corpus import LabelledItem, corpus_hash, load_corpus
from models.evaluate import evaluate
from models.features import feature_frame
from models.pages import Page, build_pages, load_fillers
from models.passages import units
from models.persistence import save_model
from models.real_news import load_real_news
from models.routing import choose_threshold, measure_routing

logger = logging.getLogger(__name__)

HELD_OUT_SHARE = 0.2
# Long pages built around training items for each model (see models/pages.py).
PAGES_PER_MODEL = 700


def fit(items: Sequence[LabelledItem], version: str, pages: Sequence[Page] = ()) -> CoopClassifier:
    """Fit the features on every unit, the relevance stage on all and the label stage on the relevant ones.

    The model learns on the units it will judge (passages.units): short items whole, long
    articles and built pages as their headline-and-lead and story passages.
    """
    inputs, truth = training_units(items, pages)
    features = build_features()
    x = features.fit_transform(feature_frame(inputs))
    relevance = build_calibrated_svm().fit(x, [label is not None for label in truth])
    relevant_rows = [n for n, label in enumerate(truth) if label is not None]
    label = build_calibrated_svm().fit(x[relevant_rows], [truth[n] for n in relevant_rows])
    return CoopClassifier(relevance=stage(features, relevance), label=stage(features, label),
                          version=version)


def training_units(items: Sequence[LabelledItem],
                   pages: Sequence[Page] = ()) -> tuple[list[ClassifyInput], list[Optional[str]]]:
    """Each unit with its label (None: not relevant). An item's units take its labels; a built
    page's units take the carried item's labels where they overlap it, else none (rule 6)."""
    inputs: list[ClassifyInput] = []
    truth: list[Optional[str]] = []
    for item in items:
        for unit in units(item.title, item.text):
            inputs.append(ClassifyInput(id=item.id, title=unit.title, text=unit.text, kind=item.kind))
            truth.append(item.label if item.relevant else None)
    for page in pages:
        start, end = page.story
        for unit in units(page.title, page.text):
            overlap = min(end, unit.end) - max(start, unit.start)
            carried = page.item.relevant and overlap >= min(200, (end - start) // 2)
            inputs.append(ClassifyInput(id=page.item.id, title=unit.title, text=unit.text, kind=page.item.kind))
            truth.append(page.item.label if carried else None)
    return inputs, truth


def _strata(items: Sequence[LabelledItem]) -> list[str]:
    return [f"{item.kind}:{item.label or 'irrelevant'}" for item in items]


def held_out_split(
    items: Sequence[LabelledItem],
) -> tuple[list[LabelledItem], list[LabelledItem]]:
    """A fixed, stratified train / held-out split."""
    train, test = train_test_split(
        list(items), test_size=HELD_OUT_SHARE, random_state=RANDOM_STATE, stratify=_strata(items)
    )
    return train, test


def train(corpus_dir: Path, model_dir: Path, extra: Sequence[LabelledItem] = (),
          real_news_dir: Optional[Path] = None, eval_dir: Optional[Path] = None) -> dict[str, Any]:
    """Measure on a held-out split, refit on everything, save model and card.

    With the shared real news (`real_news_dir`, and our labels in `eval_dir`), the real
    articles we labelled are trained on too, and built long pages teach the passage units.
    """
    items = load_corpus(corpus_dir) + list(extra)
    real = load_real_news(real_news_dir, eval_dir) if real_news_dir and eval_dir else []
    fillers = load_fillers(real_news_dir) if real_news_dir else []
    logger.info("training on %d labelled items from %s and %d real articles", len(items), corpus_dir, len(real))
    train_items, test_items = held_out_split(items)
    held_out_model = fit([*train_items, *real], "held-out", training_pages(train_items, fillers))
    held_out = evaluate(held_out_model, test_items)
    routing = choose_threshold(measure_routing(held_out_model, test_items))
    version = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    pages = training_pages(items, fillers)
    model = fit([*items, *real], version=version, pages=pages)
    card = {
        "version": version,
        "trained_at": datetime.now(timezone.utc).isoformat(),
        "training_items": len(items),
        "reviewed_items": len(extra),
        "real_news_items": len(real),
        "built_pages": len(pages),
        "training_data_sha256": corpus_hash(corpus_dir),
        "libraries": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "skops": skops.__version__,
        },
        "held_out": held_out.as_dict(),
        # Chosen on the held-out split: see models/routing.py and `coopwatch evaluate`.
        "review_threshold": routing.threshold,
        "review_routing": {"wrong_labels_routed": round(routing.error_share, 3),
                           "items_routed": round(routing.item_share, 3)},
    }
    save_model(model, model_dir, card)
    return card


def training_pages(items: Sequence[LabelledItem], fillers: Sequence[tuple[str, list[str]]],
                   count: int = PAGES_PER_MODEL) -> list[Page]:
    """Long pages built around a fixed sample of the items (none without real news)."""
    if not fillers:
        return []
    chosen = random.Random(RANDOM_STATE).sample(list(items), min(count, len(items)))
    return build_pages(chosen, fillers, seed=RANDOM_STATE)
