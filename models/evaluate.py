"""Evaluation through the classify contract: per-label scores, confusions, calibration."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from models.classifier import CoopClassifier
from models.contract import LABELS, ClassifyResult
from models.corpus import LabelledItem

IRRELEVANT = "irrelevant"
CLASSES = (*LABELS, IRRELEVANT)


@dataclass
class Evaluation:
    """Scores of one model on one set of labelled items."""

    n: int
    per_label: dict[str, dict[str, float]]
    macro_f1: float
    relevance_f1: float
    critical_as_misleading: float
    calibration_error: float
    confusion: list[list[int]]
    classes: list[str] = field(default_factory=lambda: list(CLASSES))

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the model card and JSON output."""
        return self.__dict__.copy()


def evaluate(model: CoopClassifier, items: Sequence[LabelledItem]) -> Evaluation:
    """Classify items and compare with their labels."""
    return score(items, model.classify([item.as_input() for item in items]))


def score(items: Sequence[LabelledItem], results: Sequence[ClassifyResult]) -> Evaluation:
    """Compare results with the items' labels (same order)."""
    truth = [item.label or IRRELEVANT for item in items]
    predicted = [r.label or IRRELEVANT for r in results]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(LABELS), zero_division=0
    )
    per_label = {
        label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for label, p, r, f, s in zip(LABELS, precision, recall, f1, support)
    }
    critical = [p for t, p in zip(truth, predicted) if t == "critical"]
    correct = [t == p for t, p in zip(truth, predicted)]
    return Evaluation(
        n=len(items),
        per_label=per_label,
        macro_f1=float(np.mean([per_label[label]["f1"] for label in LABELS])),
        relevance_f1=float(
            f1_score([i.relevant for i in items], [r.relevant for r in results], zero_division=0)
        ),
        critical_as_misleading=(critical.count("misleading") / len(critical)) if critical else 0.0,
        calibration_error=expected_calibration_error([r.confidence for r in results], correct),
        confusion=confusion_matrix(truth, predicted, labels=list(CLASSES)).tolist(),
    )


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """Mean gap between stated confidence and observed accuracy, weighted per bin."""
    conf = np.asarray(confidence, dtype=float)
    hits = np.asarray(correct, dtype=float)
    if conf.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            error += mask.mean() * abs(conf[mask].mean() - hits[mask].mean())
    return float(error)


def format_evaluation(title: str, evaluation: Evaluation) -> str:
    """Human-readable report of one evaluation."""
    lines = [f"== {title} (n={evaluation.n}) =="]
    lines.append(f"{'label':<12} {'prec':>6} {'recall':>6} {'f1':>6} {'n':>5}")
    for label, scores in evaluation.per_label.items():
        lines.append(
            f"{label:<12} {scores['precision']:>6.3f} {scores['recall']:>6.3f} "
            f"{scores['f1']:>6.3f} {scores['support']:>5}"
        )
    lines.append(f"macro-F1 {evaluation.macro_f1:.3f}  relevance-F1 {evaluation.relevance_f1:.3f}")
    lines.append(
        f"critical predicted misleading {evaluation.critical_as_misleading:.1%}  "
        f"calibration error (ECE) {evaluation.calibration_error:.3f}"
    )
    short = [c[:5] for c in evaluation.classes]
    lines.append("confusion (rows = truth): " + " ".join(f"{s:>6}" for s in short))
    for name, row in zip(short, evaluation.confusion):
        lines.append(f"{name:>24} " + " ".join(f"{v:>6}" for v in row))
    return "\n".join(lines)
