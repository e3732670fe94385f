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
from models.passages import Unit, units
from models.relevance import passing_mention
from pipeline.core.normalize import fold

logger = logging.getLogger(__name__)

RANDOM_STATE = 13
# A misleading label needs this much calibrated probability; below it the next label is
# used and the item goes to review. Wrongly flagging honest reporting is the worst error.
MISLEADING_MIN_PROBA = 0.6
MAX_REASONS = 6
NO_COOP_TERM_REASON = "không nhắc tới HTX / kinh tế tập thể"
PASSING_MENTION_CONFIDENCE = 0.75
# A passage that names the sector once must be surely about it to make a page relevant.
LONE_MENTION_MIN_PROBA = 0.9
PASSING_MENTION_REASON = "quy tắc nhắc thoáng qua: ngành chỉ được nhắc thoáng qua, không có đoạn nào nói về HTX"


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
        """Classify items in order; one result per input.

        An item that names no sector term is irrelevant without further work. Any other item
        is cut into units (passages.units: a short item whole, a long page's headline with its
        lead and each story-sized passage that names the sector); each unit is judged, and the
        deciding unit (the headline and lead first, else the most relevant passage) gives the
        item its label, its reasons and its `passage`.
        """
        results: list[Optional[ClassifyResult]] = [None] * len(items)
        plans: list[tuple[int, list[Unit]]] = []
        for n, item in enumerate(items):
            folded = fold(item.text)
            if not (mentions_cooperatives(folded) or mentions_cooperatives(fold(item.title))):
                results[n] = self._no_term(item)
            else:
                plans.append((n, units(item.title, item.text, folded)))
        if plans:
            self._judge_units(items, plans, results)
        return [r for r in results if r is not None]

    def _judge_units(self, items: Sequence[ClassifyInput], plans: list[tuple[int, list[Unit]]],
                     results: list[Optional[ClassifyResult]]) -> None:
        inputs = [ClassifyInput(id=str(n), title=u.title, text=u.text, kind=items[n].kind)
                  for n, found in plans for u in found]
        if not inputs:
            for n, _ in plans:
                results[n] = self._passing(items[n])
            return
        frame = feature_frame(inputs)
        features = self.relevance.named_steps["features"]
        relevance_x = features.transform(frame)
        label_features = self.label.named_steps["features"]
        # Models saved before the stages shared their features have one set each.
        label_x = relevance_x if label_features is features else label_features.transform(frame)
        relevance_x, label_x = relevance_x.tocsr(), label_x.tocsr()
        relevance_proba = self.relevance.named_steps["classifier"].predict_proba(relevance_x)
        relevance_proba = relevance_proba[:, _true_column(self.relevance)]
        label_proba = self.label.named_steps["classifier"].predict_proba(label_x)
        row = 0
        for n, found in plans:
            rows = list(range(row, row + len(found)))
            row += len(found)
            item = items[n]
            if not found:
                results[n] = self._passing(item)
                continue
            p_relevant = [float(relevance_proba[r]) for r in rows]
            decisive = _deciding_unit(found, p_relevant)
            if decisive is None:
                best = rows[int(np.argmax(p_relevant))]
                results[n] = self._irrelevant(item, relevance_proba[best], _row(relevance_x, best))
                continue
            unit = found[decisive]
            passage = None if (unit.start, unit.end) == (0, len(item.text)) else (unit.start, unit.end)
            proba = _page_label_proba(found, p_relevant, label_proba[rows])
            results[n] = self._labelled(item, proba, _row(label_x, rows[decisive]), passage)

    def _explainer(self, stage: str) -> "_Explainer":
        if stage not in self._explainers:
            self._explainers[stage] = _Explainer(getattr(self, stage))
        return self._explainers[stage]

    def _no_term(self, item: ClassifyInput) -> ClassifyResult:
        """The keyword gate: no sector term at all, so nothing to review."""
        return ClassifyResult(id=item.id, relevant=False, label=None, confidence=0.99, sentiment=None,
                              reasons=[NO_COOP_TERM_REASON])

    def _irrelevant(self, item, p_relevant, vector) -> ClassifyResult:  # type: ignore[no-untyped-def]
        confidence = 1.0 - float(p_relevant)
        return ClassifyResult(
            id=item.id, relevant=False, label=None, confidence=confidence, sentiment=None,
            reasons=self._explainer("relevance").reasons(vector, 0),
            needs_review=confidence < self.review_threshold,
        )

    def _passing(self, item: ClassifyInput) -> ClassifyResult:
        """The passing-mention rule: a long page names the sector, but neither in its headline
        and lead nor in any story-sized passage. Never a silent rejection:

        It goes to the low-priority review lane (irrelevant items needing review) with the
        rule's name, so a monitor can see what the rule turned away.
        """
        reason = passing_mention(item.title, item.text) or PASSING_MENTION_REASON
        return ClassifyResult(
            id=item.id, relevant=False, label=None, confidence=PASSING_MENTION_CONFIDENCE, sentiment=None,
            reasons=[reason], needs_review=True,
        )

    def _labelled(self, item, proba: np.ndarray, vector, passage) -> ClassifyResult:  # type: ignore[no-untyped-def]
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
            claim = item.text if passage is None else item.text[passage[0]:passage[1]]
            narrative = self.narratives.match(item.title, claim)
            if narrative is not None:
                reasons.insert(0, f"khớp luận điệu sai: {narrative.title}")
        return ClassifyResult(
            id=item.id, relevant=True, label=label, confidence=confidence,
            sentiment=sentiment_of(label), reasons=reasons,
            narrative=narrative.as_output() if narrative else None, passage=passage,
            needs_review=bool(guarded or label == "misleading" or confidence < self.review_threshold),
        )


def _deciding_unit(found: Sequence[Unit], p_relevant: Sequence[float]) -> Optional[int]:
    """The unit that decides: the headline and lead when relevant (rule 4), else the most
    relevant story passage (rule 6); None when no unit is relevant."""
    if found[0].head and p_relevant[0] >= 0.5:
        return 0
    eligible = [n for n in range(len(found)) if p_relevant[n] >= (0.5 if found[n].strong else LONE_MENTION_MIN_PROBA)]
    return max(eligible, key=lambda n: p_relevant[n]) if eligible else None


def _page_label_proba(found: Sequence[Unit], p_relevant: Sequence[float], proba: np.ndarray) -> np.ndarray:
    """Label probabilities of a page: its relevant units' together, weighted by how surely each
    is about the sector, the headline and lead counting double (rule 4)."""
    weights = np.array([p * (2.0 if unit.head else 1.0) if p >= 0.5 else 0.0
                        for unit, p in zip(found, p_relevant)])
    if weights.sum() == 0:
        return proba[int(np.argmax(p_relevant))]
    return (weights[:, None] * proba).sum(axis=0) / weights.sum()


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
