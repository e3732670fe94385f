"""`coopwatch evaluate`: the model measured separately where it is known to be weak.

Sections: the held-out split; real news by cross-validation (our labels of real articles);
long pages and digests built around held-out items; the held-out items typed without
diacritics; English and mixed-language items; and review routing (which threshold sends most
wrong labels to a monitor). Every model here is trained without the items it is scored on.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

from sklearn.model_selection import StratifiedKFold

from models.classifier import RANDOM_STATE, CoopClassifier
from models.contract import ClassifyResult
from models.corpus import LabelledItem, load_corpus
from models.evaluate import Evaluation, format_evaluation, score
from models.pages import Page, build_pages, load_fillers
from models.real_news import load_real_news
from models.routing import choose_threshold, measure_routing
from models.train import fit, held_out_split, training_pages
from pipeline.core.normalize import strip_marks

logger = logging.getLogger(__name__)

Print = Callable[[str], None]


@dataclass(frozen=True)
class PageScores:
    """The model on built pages: stories found, irrelevant pages kept out, right labels."""

    relevant_pages: int
    found: int
    right_label: int
    irrelevant_pages: int
    kept_out: int

    def line(self) -> str:
        return (f"relevant stories found {self.found / max(self.relevant_pages, 1):.1%} "
                f"({self.found}/{self.relevant_pages}), right label {self.right_label / max(self.relevant_pages, 1):.1%}, "
                f"irrelevant pages kept out {self.kept_out / max(self.irrelevant_pages, 1):.1%} "
                f"({self.kept_out}/{self.irrelevant_pages})")


def run_suite(corpus_dir: Path, real_news_dir: Path, eval_dir: Path, echo: Print, folds: int = 5) -> None:
    """Print every section of the evaluation."""
    items = load_corpus(corpus_dir)
    real = load_real_news(real_news_dir, eval_dir)
    fillers = load_fillers(real_news_dir)
    train_items, test_items = held_out_split(items)
    model = fit([*train_items, *real], "held-out", training_pages(train_items, fillers))
    echo(format_evaluation("held-out split", _score(model, test_items)))
    _pages_section(model, test_items, fillers, echo)
    _subset_section(model, "held-out, typed without diacritics",
                    [replace(i, title=strip_marks(i.title), text=strip_marks(i.text)) for i in test_items], echo)
    _subset_section(model, "held-out, English and mixed-language",
                    [i for i in test_items if i.genre in ("english", "mixed_language")], echo)
    if real:
        _real_news_section(items, real, fillers, folds, echo)
    _routing_section(model, test_items, echo)


def _score(model: CoopClassifier, items: Sequence[LabelledItem]) -> Evaluation:
    return score(items, _classify(model, items))


def _classify(model: CoopClassifier, items: Sequence[LabelledItem]) -> list[ClassifyResult]:
    return model.classify([item.as_input() for item in items])


def _subset_section(model: CoopClassifier, title: str, items: Sequence[LabelledItem], echo: Print) -> None:
    if items:
        echo(format_evaluation(title, _score(model, items)))


def score_pages(model: CoopClassifier, pages: Sequence[Page]) -> PageScores:
    """How the model does on pages carrying an item: found, right label, kept out."""
    results = model.classify([p.as_item().as_input() for p in pages])
    pairs = list(zip(pages, results))
    relevant = [(p, r) for p, r in pairs if p.item.relevant]
    irrelevant = [(p, r) for p, r in pairs if not p.item.relevant]
    return PageScores(
        relevant_pages=len(relevant), found=sum(r.relevant for _, r in relevant),
        right_label=sum(r.label == p.item.label for p, r in relevant),
        irrelevant_pages=len(irrelevant), kept_out=sum(not r.relevant for _, r in irrelevant),
    )


def _pages_section(model: CoopClassifier, test_items: Sequence[LabelledItem],
                   fillers: Sequence[tuple[str, list[str]]], echo: Print) -> None:
    if not fillers:
        echo("== long pages and digests: skipped (no real news in the shared folder) ==")
        return
    pages = build_pages(test_items, fillers, seed=RANDOM_STATE + 1)
    echo(f"== long pages and digests built around the held-out items (n={len(pages)}) ==")
    echo(f"all shapes: {score_pages(model, pages).line()}")
    for shape in ("article_tail", "digest", "forum"):
        echo(f"{shape:>12}: {score_pages(model, [p for p in pages if p.shape == shape]).line()}")
    long_pages = [p for p in pages if len(p.text) >= 2500]
    echo(format_evaluation("long pages, labels", score([p.as_item() for p in long_pages],
                                                         model.classify([p.as_item().as_input() for p in long_pages]))))


def _real_news_section(items: Sequence[LabelledItem], real: Sequence[LabelledItem],
                       fillers: Sequence[tuple[str, list[str]]], folds: int, echo: Print) -> None:
    """Each real article classified by a model trained on the corpus and the other folds."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    strata = [item.label or "irrelevant" for item in real]
    # Labels with fewer members than folds cannot be stratified: fold them into one stratum.
    rare = {s for s in strata if strata.count(s) < folds}
    strata = ["rare" if s in rare else s for s in strata]
    pooled: list[LabelledItem] = []
    results: list[ClassifyResult] = []
    pages = training_pages(items, fillers)
    for train_idx, test_idx in splitter.split(list(real), strata):
        model = fit([*items, *(real[i] for i in train_idx)], "real-cv", pages)
        test = [real[i] for i in test_idx]
        pooled.extend(test)
        results.extend(_classify(model, test))
    echo(format_evaluation(f"real news, {folds}-fold cross-validation", score(pooled, results)))
    flagged = [i.id for i, r in zip(pooled, results) if r.label == "misleading"]
    echo(f"real articles flagged misleading: {len(flagged)} {flagged[:10]}")


def _routing_section(model: CoopClassifier, test_items: Sequence[LabelledItem], echo: Print) -> None:
    table = measure_routing(model, test_items)
    echo(f"== review routing on the held-out split (n={len(test_items)}) ==")
    for row in table:
        echo(row.line())
    echo(f"chosen (written in the model card by `coopwatch train`): {choose_threshold(table).line()}")
