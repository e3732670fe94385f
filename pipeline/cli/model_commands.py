"""Commands of the classifier: train, evaluate, classify a file, reclassify stored items."""
from __future__ import annotations

import sys
from pathlib import Path

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
    card = run_training(settings.training_dir, settings.model_dir, extra,
                        real_news_dir=settings.real_news_dir, eval_dir=settings.eval_dir)
    held = card["held_out"]
    click.echo(
        f"model {card['version']}: {card['training_items']} items, held-out macro-F1 "
        f"{held['macro_f1']:.3f}, relevance-F1 {held['relevance_f1']:.3f}, critical→misleading "
        f"{held['critical_as_misleading']:.1%}"
    )


@main.command()
@click.option("--folds", default=5, show_default=True, type=click.IntRange(min=2),
              help="Cross-validation folds of the real-news section.")
@click.option("--real-news", is_flag=True,
              help="Instead: relevance of the trained model on the labelled real news in the shared folder.")
def evaluate(folds: int, real_news: bool) -> None:
    """Print the model's scores: held-out split, long pages and digests, no diacritics,
    English, real news by cross-validation, and review routing (a few minutes)."""
    from models.suite import run_suite

    if real_news:
        _evaluate_real_news()
        return
    settings = get_settings()
    run_suite(settings.training_dir, settings.real_news_dir, settings.eval_dir, click.echo, folds)


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
