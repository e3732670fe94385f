"""Saving and loading the classifier with skops (never pickle) plus its model card."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Optional

import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.compose import ColumnTransformer

from models.classifier import CoopClassifier, stage
from models.narratives import load_library

logger = logging.getLogger(__name__)

MODEL_FILE = "classifier.skops"
DEFAULT_REVIEW_THRESHOLD = 0.6
CARD_FILE = "model_card.json"
# Only these module prefixes may appear in a model file; anything else is refused.
TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


class ModelError(RuntimeError):
    """Raised when no usable model can be loaded."""


def _compact(features: ColumnTransformer) -> None:
    """Shrink fitted vectorisers before saving.

    A vocabulary maps each term to a numpy integer, which skops stores as one array file
    per term (minutes to save 100k terms); plain ints are stored inline. `stop_words_` only
    documents pruned terms and may be dropped (scikit-learn says so).
    """
    for _, transformer, _ in features.transformers_:
        if isinstance(transformer, TfidfVectorizer):
            transformer.vocabulary_ = {t: int(i) for t, i in transformer.vocabulary_.items()}
            if hasattr(transformer, "stop_words_"):
                del transformer.stop_words_


def save_model(model: CoopClassifier, directory: Path, card: dict[str, Any]) -> Path:
    """Write the model and its card into a directory; returns the model path."""
    directory.mkdir(parents=True, exist_ok=True)
    features = model.relevance.named_steps["features"]
    if model.label.named_steps["features"] is not features:
        raise ModelError("the relevance and label stages must share one fitted feature step")
    _compact(features)
    path = directory / MODEL_FILE
    # The shared feature step is stored once; load_model gives it back to both stages.
    payload = {"features": features, "relevance": model.relevance.named_steps["classifier"],
               "label": model.label.named_steps["classifier"], "version": model.version}
    tmp = path.with_suffix(".tmp")
    sio.dump(payload, tmp)
    tmp.replace(path)  # a crash mid-write never leaves a half model behind
    (directory / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2), "utf-8")
    logger.info("model %s saved to %s", model.version, path)
    return path


def model_exists(directory: Path) -> bool:
    """True when a model file is present."""
    return (directory / MODEL_FILE).is_file()


def load_model(directory: Path, review_threshold: Optional[float] = None,
               narratives_path: Optional[Path] = None) -> CoopClassifier:
    """Load a model saved by save_model, refusing types outside the trusted libraries.

    Without a `review_threshold`, the one measured at training (model card) is used.

    The narrative library is data edited by people, kept outside the model file: the caller
    passes its path (from the configuration); without one, misleading items get no narrative.
    """
    path = directory / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"no model at {path}; run `coopwatch train` first")
    try:
        untrusted = sio.get_untrusted_types(file=path)
        refused = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
        if refused:
            raise ModelError(f"model file {path} contains untrusted types: {refused}")
        payload = sio.load(path, trusted=untrusted)
    except ModelError:
        raise
    except Exception as exc:  # skops raises many kinds of errors on a corrupt file
        raise ModelError(f"model file {path} is unreadable: {exc}") from exc
    library = load_library(narratives_path) if narratives_path is not None else None
    if "features" in payload:
        relevance = stage(payload["features"], payload["relevance"])
        label = stage(payload["features"], payload["label"])
    else:  # saved before the stages shared one feature step: each stage is a whole pipeline
        relevance, label = payload["relevance"], payload["label"]
    return CoopClassifier(
        relevance=relevance, label=label,
        version=str(payload["version"]), review_threshold=review_threshold if review_threshold is not None
        else _card_threshold(directory), narratives=library,
    )


def _card_threshold(directory: Path) -> float:
    """The review threshold chosen by measurement at training; 0.6 for older models."""
    try:
        return float(load_card(directory).get("review_threshold", DEFAULT_REVIEW_THRESHOLD))
    except (OSError, ValueError, TypeError):
        return DEFAULT_REVIEW_THRESHOLD


def load_card(directory: Path) -> dict[str, Any]:
    """The model card saved beside the model."""
    return json.loads((directory / CARD_FILE).read_text("utf-8"))
