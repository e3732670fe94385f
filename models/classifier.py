"""Two-stage classifier: relevance, then label, each a calibrated scikit-learn pipeline."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import LinearSVC

from models.contract import ClassifyInput, ClassifyResult, sentiment_of
from models.features import TOKEN_PATTERN, feature_frame, mentions_cooperatives

logger = logging.getLogger(__name__)

RANDOM_STATE = 13
# A misleading label needs this much calibrated probability; below it the next label is
# used and the item goes to review. Wrongly flagging honest reporting is the worst error.
MISLEADING_MIN_PROBA = 0.5
MAX_REASONS = 6
NO_COOP_TERM_REASON = "không nhắc tới HTX / kinh tế tập thể"


def build_pipeline(calibration_folds: int = 5) -> Pipeline:
    """Vectorisers over words, folded character n-grams and kind, then a calibrated SVM."""
    features = ColumnTransformer(
        [
            (
                "words",
                TfidfVectorizer(
                    token_pattern=TOKEN_PATTERN, ngram_range=(1, 3), min_df=2,
                    sublinear_tf=True, max_features=60_000,
                ),
                "text",
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(3, 5), min_df=2,
                    sublinear_tf=True, max_features=60_000,
                ),
                "folded",
            ),
            ("kind", OneHotEncoder(handle_unknown="ignore"), ["kind"]),
        ]
    )
    svm = LinearSVC(C=0.5, class_weight="balanced", random_state=RANDOM_STATE)
    classifier = CalibratedClassifierCV(svm, method="sigmoid", cv=calibration_folds)
    return Pipeline([("features", features), ("classifier", classifier)])


@dataclass
class CoopClassifier:
    """Fitted relevance and label pipelines plus the version they were trained as."""

    relevance: Pipeline
    label: Pipeline
    version: str
    review_threshold: float = 0.6

    def classify(self, items: Sequence[ClassifyInput]) -> list[ClassifyResult]:
        """Classify items in order; one result per input."""
        if not items:
            return []
        frame = feature_frame(items)
        relevance_proba = self.relevance.predict_proba(frame)[:, _true_column(self.relevance)]
        label_proba = self.label.predict_proba(frame)
        results = []
        for row, item in enumerate(items):
            has_term = mentions_cooperatives(frame.at[row, "folded"])
            if not has_term or relevance_proba[row] < 0.5:
                results.append(self._irrelevant(item, relevance_proba[row], has_term, frame, row))
            else:
                results.append(self._labelled(item, label_proba[row], frame, row))
        return results

    def _irrelevant(self, item, p_relevant, has_term, frame, row) -> ClassifyResult:  # type: ignore[no-untyped-def]
        reasons = [NO_COOP_TERM_REASON] if not has_term else _reasons(self.relevance, frame, row, 0)
        confidence = float(max(1.0 - float(p_relevant), 0.99 if not has_term else 0.0))
        return ClassifyResult(
            id=item.id, relevant=False, label=None, confidence=confidence, sentiment=None,
            reasons=reasons, needs_review=confidence < self.review_threshold,
        )

    def _labelled(self, item, proba: np.ndarray, frame, row) -> ClassifyResult:  # type: ignore[no-untyped-def]
        classes = list(self.label.classes_)
        order = np.argsort(proba)[::-1]
        best = int(order[0])
        guarded = classes[best] == "misleading" and proba[best] < MISLEADING_MIN_PROBA
        if guarded:
            best = int(order[1])
        label = classes[best]
        confidence = float(proba[best])
        reasons = _reasons(self.label, frame, row, best)
        if guarded:
            reasons.append("có dấu hiệu sai lệch nhưng chưa đủ chắc chắn")
        return ClassifyResult(
            id=item.id, relevant=True, label=label, confidence=confidence,
            sentiment=sentiment_of(label), reasons=reasons,
            needs_review=bool(guarded or label == "misleading" or confidence < self.review_threshold),
        )


def _true_column(pipeline: Pipeline) -> int:
    return list(pipeline.classes_).index(True)


def _reasons(pipeline: Pipeline, frame, row: int, class_index: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Readable terms with the largest contribution towards the chosen class."""
    features = pipeline.named_steps["features"]
    vector = features.transform(frame.iloc[[row]]).tocsr()
    coef = _mean_coef(pipeline.named_steps["classifier"])
    weights = coef[0] if coef.shape[0] == 1 else coef[class_index]
    if coef.shape[0] == 1 and class_index == 0:
        weights = -weights  # binary: coef points towards the second class
    contributions = vector.multiply(weights).tocsr()
    names = features.get_feature_names_out()
    terms = [
        (str(names[index]).removeprefix("words__"), float(value))
        for index, value in zip(contributions.indices, contributions.data)
        if value > 0 and str(names[index]).startswith("words__")
    ]
    # Vietnamese words are mostly two syllables: multi-syllable terms read as reasons,
    # single syllables ("nhập", "viên") do not, so they only fill remaining places.
    terms.sort(key=lambda term: (" " not in term[0], -term[1]))
    return [term for term, _ in terms[:MAX_REASONS]]


def _mean_coef(calibrated: CalibratedClassifierCV) -> np.ndarray:
    """Average linear weights of the calibrated folds, used to explain decisions."""
    return np.mean([c.estimator.coef_ for c in calibrated.calibrated_classifiers_], axis=0)
