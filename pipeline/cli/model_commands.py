"""Commands of the classifier: train, evaluate, classify a file, reclassify stored items."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import click

from pipeline.cli.group import main
from pipeline.core.config import REPO_ROOT, get_settings


@main.command()
@click.option("--input", "input_file", required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--output", "output_file", required=True, type=click.Path(path_type=Path))
def classify(input_file: Path, output_file: Path) -> None:
    """Classify JSONL rows {id, title, text, kind}; one output row per input line."""
    from models.persistence import ModelError
    from pipeline.ingest.runtime import load_configured_model
    from pipeline.cli.classify_file import classify_file

    try:
        model = load_configured_model()
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    written, errors = classify_file(model, input_file, output_file)
    click.echo(f"{written} rows written to {output_file}")
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        sys.exit(1)


@main.command()
def reclassify() -> None:
    """Classify the stored items that were stored unclassified (no usable model at the time)."""
    from models.persistence import ModelError
    from pipeline.ingest.runtime import load_configured_model
    from pipeline.review.reclassify import reclassify as run_reclassify
    from pipeline.ingest.runtime import shared_engine

    try:
        model = load_configured_model()
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(run_reclassify(shared_engine(), model).summary() + f" with model {model.version}")


@main.command()
@click.option("--with-reviews", is_flag=True, help="Add monitors' confirmed labels from the database.")
def train(with_reviews: bool) -> None:
    """Train the classifier from the labelled corpus and save it with its model card."""
    from models.train import train as run_training

    settings = get_settings()
    extra = []
    if with_reviews:
        from pipeline.review.workflow import reviewed_examples
        from pipeline.ingest.runtime import shared_engine

        extra = reviewed_examples(shared_engine())
        click.echo(f"adding {len(extra)} reviewed items")
    card = run_training(settings.training_dir, settings.model_dir, extra)
    held = card["held_out"]
    click.echo(
        f"model {card['version']}: {card['training_items']} items, held-out macro-F1 "
        f"{held['macro_f1']:.3f}, relevance-F1 {held['relevance_f1']:.3f}, critical→misleading "
        f"{held['critical_as_misleading']:.1%}"
    )


@main.command()
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds (0 skips).")
@click.option("--real-news", is_flag=True,
              help="Instead: relevance of the trained model on the labelled real news in the shared folder.")
def evaluate(folds: int, real_news: bool) -> None:
    """Print held-out and cross-validated scores, for news and social separately."""
    from models.corpus import load_corpus
    from models.train import cross_validate, fit, held_out_split

    if real_news:
        _evaluate_real_news()
        return
    items = load_corpus(get_settings().training_dir)
    train_items, test_items = held_out_split(items)
    model = fit(train_items, version="held-out")
    _print_by_kind("held-out", test_items, model.classify([i.as_input() for i in test_items]))
    if folds:
        pooled, results = cross_validate(items, folds)
        _print_by_kind(f"{folds}-fold cross-validation", pooled, results)


def _evaluate_real_news() -> None:
    from models.persistence import load_model
    from models.relevance_eval import evaluate_real_news

    settings = get_settings()
    news_dir = settings.shared_dir / "data" / "real-news"
    if not news_dir.is_dir():
        raise click.ClickException(f"no real news at {news_dir}; set COOPWATCH_SHARED_DIR")
    model = load_model(settings.model_dir, narratives_path=settings.narratives_path)
    eval_dir = REPO_ROOT / "data" / "eval"
    for line in (s.line() for s in evaluate_real_news(model, news_dir, eval_dir)):
        click.echo(line)


def _print_by_kind(title: str, items: Sequence[object], results: Sequence[object]) -> None:
    from models.evaluate import format_evaluation, score

    click.echo(format_evaluation(f"{title}, all", score(items, results)))  # type: ignore[arg-type]
    for kind in ("news", "social"):
        pairs = [(i, r) for i, r in zip(items, results) if i.kind == kind]  # type: ignore[attr-defined]
        if pairs:
            subset, subset_results = zip(*pairs)
            click.echo(format_evaluation(f"{title}, {kind}", score(subset, subset_results)))
