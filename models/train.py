"""Training: fit both stages on the labelled corpus, measure on a held-out split, save."""
from __future__ import annotations

import logging
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import sklearn
import skops
from sklearn.model_selection import StratifiedKFold, train_test_split

from models.classifier import RANDOM_STATE, CoopClassifier, build_calibrated_svm, build_features, stage
from models.contract import ClassifyResult
from models.corpus import LabelledItem, corpus_hash, load_corpus
from models.evaluate import evaluate
from models.features import feature_frame
from models.persistence import save_model

logger = logging.getLogger(__name__)

HELD_OUT_SHARE = 0.2


def fit(items: Sequence[LabelledItem], version: str) -> CoopClassifier:
    """Fit the features on all items, the relevance stage on all and the label stage on the relevant ones."""
    features = build_features()
    x = features.fit_transform(feature_frame([i.as_input() for i in items]))
    relevance = build_calibrated_svm().fit(x, [i.relevant for i in items])
    relevant_rows = [n for n, item in enumerate(items) if item.relevant]
    label = build_calibrated_svm().fit(x[relevant_rows], [items[n].label for n in relevant_rows])
    return CoopClassifier(relevance=stage(features, relevance), label=stage(features, label),
                          version=version)


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


def cross_validate(
    items: Sequence[LabelledItem], folds: int = 5
) -> tuple[list[LabelledItem], list[ClassifyResult]]:
    """Out-of-fold predictions: every item classified by a model that never saw it."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    pooled_items: list[LabelledItem] = []
    pooled_results: list[ClassifyResult] = []
    for fold_no, (train_idx, test_idx) in enumerate(splitter.split(items, _strata(items)), 1):
        logger.info("cross-validation fold %d/%d", fold_no, folds)
        model = fit([items[i] for i in train_idx], version=f"cv{fold_no}")
        test = [items[i] for i in test_idx]
        pooled_items.extend(test)
        pooled_results.extend(model.classify([item.as_input() for item in test]))
    return pooled_items, pooled_results


def train(corpus_dir: Path, model_dir: Path, extra: Sequence[LabelledItem] = ()) -> dict[str, Any]:
    """Measure on a held-out split, refit on everything, save model and card."""
    items = load_corpus(corpus_dir) + list(extra)
    logger.info("training on %d labelled items from %s", len(items), corpus_dir)
    train_items, test_items = held_out_split(items)
    held_out = evaluate(fit(train_items, version="held-out"), test_items)
    version = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    model = fit(items, version=version)
    card = {
        "version": version,
        "trained_at": datetime.now(timezone.utc).isoformat(),
        "training_items": len(items),
        "reviewed_items": len(extra),
        "training_data_sha256": corpus_hash(corpus_dir),
        "libraries": {
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "skops": skops.__version__,
        },
        "held_out": held_out.as_dict(),
    }
    save_model(model, model_dir, card)
    return card
