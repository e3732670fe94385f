"""Classify throughput on 10,000 corpus items and on 10,000 real-length pages, and model load time.

Run: .venv/bin/python benchmarks/classify.py   (trains into a temporary folder if needed)
Items are the labelled corpus repeated to 10,000 rows; the baseline is the bare vectorise +
predict_proba of the label pipeline on the same rows, in the same process.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.corpus import load_corpus  # noqa: E402
from models.features import feature_frame  # noqa: E402
from models.pages import build_pages, load_fillers  # noqa: E402
from models.persistence import load_model, model_exists  # noqa: E402
from models.train import train  # noqa: E402
from pipeline.core.config import get_settings  # noqa: E402

BATCH = 10_000


def main() -> None:
    settings = get_settings()
    model_dir = settings.model_dir
    if not model_exists(model_dir):
        model_dir = Path(tempfile.mkdtemp()) / "model"
        train(settings.training_dir, model_dir, real_news_dir=settings.real_news_dir, eval_dir=settings.eval_dir)
    started = time.perf_counter()
    model = load_model(model_dir, narratives_path=settings.narratives_path)
    load_seconds = time.perf_counter() - started

    corpus = load_corpus(settings.training_dir)
    items = [corpus[i % len(corpus)].as_input() for i in range(BATCH)]
    started = time.perf_counter()
    model.classify(items)
    full = time.perf_counter() - started

    started = time.perf_counter()
    model.label.predict_proba(feature_frame(items))
    bare = time.perf_counter() - started
    print(f"model load: {load_seconds:.2f} s")
    print(f"classify {BATCH} items: {full:.2f} s = {BATCH / full:,.0f} items/s "
          f"(both stages, reasons included)")
    print(f"baseline label stage only: {BATCH / bare:,.0f} items/s; ratio {bare / full:.2f}")
    real_length_pages(model, corpus, settings.real_news_dir)


def real_length_pages(model, corpus, news_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """10,000 pages of 2,500 characters or more: our items inside real unrelated news."""
    fillers = load_fillers(news_dir)
    if not fillers:
        print(f"real-length pages: skipped, no real news at {news_dir}")
        return
    pages = build_pages([corpus[i % len(corpus)] for i in range(BATCH)], fillers, seed=3)
    inputs = [page.as_item().as_input() for page in pages]
    chars = sorted(len(i.text) for i in inputs)
    started = time.perf_counter()
    model.classify(inputs)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    model.label.predict_proba(feature_frame(inputs))  # each page as one bag of words, no passages
    bare = time.perf_counter() - started
    print(f"classify {BATCH} real-length pages (median {chars[len(chars) // 2]:,} characters, "
          f"shortest {chars[0]:,}): {seconds:.2f} s = {BATCH / seconds:,.0f} pages/s (target >= 600); "
          f"bare label stage on whole pages {BATCH / bare:,.0f} pages/s, ratio {bare / seconds:.2f}")


if __name__ == "__main__":
    main()
