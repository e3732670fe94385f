"""Two-stage classifier: relevance, then label, each a calibrated scikit-learn pipeline."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.svm import LinearSVC

from models.contract import ClassifyInput, ClassifyResult, sentiment_of
from models.features import TOKEN_PATTERN, feature_frame, mentions_cooperatives
from models.narratives import NarrativeLibrary
from models.relevance import passing_mention

logger = logging.getLogger(__name__)

RANDOM_STATE = 13
# A misleading label needs this much calibrated probability; below it the next label is
# used and the item goes to review. Wrongly flagging honest reporting is the worst error.
MISLEADING_MIN_PROBA = 0.5
MAX_REASONS = 6
NO_COOP_TERM_REASON = "không nhắc tới HTX / kinh tế tập thể"
PASSING_MENTION_CONFIDENCE = 0.75


def build_features() -> ColumnTransformer:
    """Vectorisers over words, folded character n-grams and the item kind.

    One fitted instance serves both stages: the text is vectorised once per item, which
    halves the cost of classifying (the character n-grams are most of it).
    """
    return ColumnTransformer(
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


def build_calibrated_svm(calibration_folds: int = 5) -> CalibratedClassifierCV:
    """A linear SVM with sigmoid-calibrated probabilities."""
    svm = LinearSVC(C=0.5, class_weight="balanced", random_state=RANDOM_STATE)
    return CalibratedClassifierCV(svm, method="sigmoid", cv=calibration_folds)


def stage(features: ColumnTransformer, classifier: CalibratedClassifierCV) -> Pipeline:
    """One stage as a pipeline over (possibly shared) fitted features."""
    return Pipeline([("features", features), ("classifier", classifier)])


@dataclass
class CoopClassifier:
    """Fitted relevance and label pipelines plus the version they were trained as."""

    relevance: Pipeline
    label: Pipeline
    version: str
    review_threshold: float = 0.6
    narratives: Optional[NarrativeLibrary] = None
    _explainers: dict[str, "_Explainer"] = field(default_factory=dict, init=False, repr=False)

    def classify(self, items: Sequence[ClassifyInput]) -> list[ClassifyResult]:
        """Classify items in order; one result per input."""
        if not items:
            return []
        frame = feature_frame(items)
        features = self.relevance.named_steps["features"]
        relevance_x = features.transform(frame)
        label_features = self.label.named_steps["features"]
        # Models saved before the stages shared their features have one set each.
        label_x = relevance_x if label_features is features else label_features.transform(frame)
        relevance_x, label_x = relevance_x.tocsr(), label_x.tocsr()
        relevance_proba = self.relevance.named_steps["classifier"].predict_proba(relevance_x)
        relevance_proba = relevance_proba[:, _true_column(self.relevance)]
        label_proba = self.label.named_steps["classifier"].predict_proba(label_x)
        results = []
        for row, item in enumerate(items):
            has_term = mentions_cooperatives(frame.at[row, "folded"])
            passing = passing_mention(item.title, item.text) if has_term else None
            if passing is not None:
                results.append(self._passing(item, relevance_proba[row], passing))
            elif not has_term or relevance_proba[row] < 0.5:
                results.append(self._irrelevant(item, relevance_proba[row], has_term, _row(relevance_x, row)))
            else:
                results.append(self._labelled(item, label_proba[row], _row(label_x, row)))
        return results

    def _explainer(self, stage: str) -> "_Explainer":
        if stage not in self._explainers:
            self._explainers[stage] = _Explainer(getattr(self, stage))
        return self._explainers[stage]

    def _irrelevant(self, item, p_relevant, has_term, vector) -> ClassifyResult:  # type: ignore[no-untyped-def]
        reasons = [NO_COOP_TERM_REASON] if not has_term else self._explainer("relevance").reasons(vector, 0)
        confidence = float(max(1.0 - float(p_relevant), 0.99 if not has_term else 0.0))
        return ClassifyResult(
            id=item.id, relevant=False, label=None, confidence=confidence, sentiment=None,
            reasons=reasons, needs_review=confidence < self.review_threshold,
        )

    def _passing(self, item, p_relevant, reason: str) -> ClassifyResult:  # type: ignore[no-untyped-def]
        # The rule is about structure, not words; it is sure unless the words strongly disagree.
        confidence = float(max(1.0 - float(p_relevant), PASSING_MENTION_CONFIDENCE))
        return ClassifyResult(
            id=item.id, relevant=False, label=None, confidence=confidence, sentiment=None,
            reasons=[reason], needs_review=confidence < self.review_threshold,
        )

    def _labelled(self, item, proba: np.ndarray, vector) -> ClassifyResult:  # type: ignore[no-untyped-def]
        classes = list(self.label.classes_)
        order = np.argsort(proba)[::-1]
        best = int(order[0])
        guarded = classes[best] == "misleading" and proba[best] < MISLEADING_MIN_PROBA
        if guarded:
            best = int(order[1])
        label = classes[best]
        confidence = float(proba[best])
        reasons = self._explainer("label").reasons(vector, best)
        if guarded:
            reasons.append("có dấu hiệu sai lệch nhưng chưa đủ chắc chắn")
        narrative = None
        if label == "misleading" and self.narratives is not None:
            narrative = self.narratives.match(item.title, item.text)
            if narrative is not None:
                reasons.insert(0, f"khớp luận điệu sai: {narrative.title}")
        return ClassifyResult(
            id=item.id, relevant=True, label=label, confidence=confidence,
            sentiment=sentiment_of(label), reasons=reasons,
            narrative=narrative.as_output() if narrative else None,
            needs_review=bool(guarded or label == "misleading" or confidence < self.review_threshold),
        )


def _true_column(pipeline: Pipeline) -> int:
    return list(pipeline.classes_).index(True)


class _Explainer:
    """Turns a linear model's weights into the readable terms behind one decision."""

    def __init__(self, pipeline: Pipeline) -> None:
        names = pipeline.named_steps["features"].get_feature_names_out()
        self.word_columns = np.array([n.startswith("words__") for n in names])
        self.names = [str(n).removeprefix("words__") for n in names]
        self.coef = _mean_coef(pipeline.named_steps["classifier"])

    def reasons(self, vector: "_SparseRow", class_index: int) -> list[str]:
        """Terms with the largest positive contribution towards the chosen class."""
        if self.coef.shape[0] == 1:  # binary: weights point towards the second class
            weights = self.coef[0] if class_index == 1 else -self.coef[0]
        else:
            weights = self.coef[class_index]
        indices, values = vector
        # Vectorised: a long article has thousands of non-zero features, mostly character n-grams.
        contributions = values * weights[indices]
        keep = self.word_columns[indices] & (contributions > 0)
        terms = [(self.names[index], float(value))
                 for index, value in zip(indices[keep], contributions[keep])]
        # Vietnamese words are mostly two syllables: multi-syllable terms read as reasons,
        # single syllables ("nhập", "viên") do not, so they only fill remaining places.
        terms.sort(key=lambda term: (" " not in term[0], -term[1]))
        return [term for term, _ in terms[:MAX_REASONS]]


# The column indices and values of one row of a CSR matrix.
_SparseRow = tuple[np.ndarray, np.ndarray]


def _row(matrix, row: int) -> _SparseRow:  # type: ignore[no-untyped-def]
    """One row of a CSR matrix without building a matrix object for it (~0.1 ms each)."""
    start, end = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:end], matrix.data[start:end]


def _mean_coef(calibrated: CalibratedClassifierCV) -> np.ndarray:
    """Average linear weights of the calibrated folds, used to explain decisions."""
    return np.mean([c.estimator.coef_ for c in calibrated.calibrated_classifiers_], axis=0)
