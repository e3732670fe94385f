"""The classify stage: the one place where prepared items meet the model.

The single process classifies a batch's new items after dedupe (copies already stored are
never classified); with worker processes, each worker classifies what it prepared, with the
model it was handed by the pool initializer, and the parent classifies only what is left.
"""
from __future__ import annotations

import logging
import multiprocessing
import threading
from collections import deque
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import Any, Iterable, Iterator, Optional, Sequence

from models.classifier import CoopClassifier
from models.contract import ClassifyInput, ClassifyResult
from pipeline.ingest.prepare import Prepared, PreparedItem, prepare_entry
from pipeline.ingest.records import Input

logger = logging.getLogger(__name__)

# Batches being prepared by workers while the parent writes an earlier one.
IN_FLIGHT_BATCHES = 2
# A worker's model, set only by the pool initializer (None: the parent classifies).
_worker_model: Optional[CoopClassifier] = None


def classify_items(classifier: Optional[CoopClassifier], items: Sequence[PreparedItem]) -> None:
    """Fill `result` of every item not classified yet; None for each without a usable model."""
    pending = [item for item in items if not item.classified]
    for item, result in zip(pending, _classify(classifier, pending)):
        item.result, item.classified = result, True


def _classify(classifier: Optional[CoopClassifier],
              items: Sequence[PreparedItem]) -> list[Optional[ClassifyResult]]:
    if classifier is None or not items:
        return [None] * len(items)
    # A derived title repeats the text's first words; the model judges the text as written.
    inputs = [ClassifyInput(id=str(n), title="" if i.title_derived else i.title, text=i.text, kind=i.record.kind)
              for n, i in enumerate(items)]
    try:
        return list(classifier.classify(inputs))
    except Exception:  # items are stored unclassified and classified later
        logger.exception("classifier failed; storing %d items unclassified", len(items))
        return [None] * len(items)


@contextmanager
def worker_pool(workers: int, classifier: Optional[CoopClassifier]) -> Iterator[Pool]:
    """Worker processes that prepare and, when they inherit the model, classify.

    Forked workers share the loaded model's memory; with other threads alive a fork could
    copy a held lock, so then workers start fresh without the model and the parent classifies.
    """
    forking = threading.active_count() == 1
    context = multiprocessing.get_context("fork" if forking else "forkserver")
    model = classifier if forking else None
    with context.Pool(workers, initializer=_init_worker, initargs=(model,)) as pool:
        yield pool


def prepared_batches(pool: Pool, inputs: Iterable[Input], batch_size: int,
                     workers: int) -> Iterator[list[Prepared]]:
    """Batches prepared by the pool, in input order, keeping IN_FLIGHT_BATCHES in preparation.

    At most IN_FLIGHT_BATCHES + 1 batches are in memory, whatever the input size.
    """
    pending: deque[Any] = deque()
    for batch in batches(inputs, batch_size):
        # Small chunks balance the load: one real news page costs as much as 30 brief ones.
        size = max(1, len(batch) // (4 * workers))
        chunks = [batch[n : n + size] for n in range(0, len(batch), size)]
        pending.append(pool.map_async(_prepare_and_classify, chunks, chunksize=1))
        if len(pending) > IN_FLIGHT_BATCHES:
            yield _flatten(pending.popleft().get())
    while pending:
        yield _flatten(pending.popleft().get())


def batches(inputs: Iterable[Input], size: int) -> Iterator[list[Input]]:
    """The inputs in lists of `size`."""
    batch: list[Input] = []
    for entry in inputs:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _init_worker(classifier: Optional[CoopClassifier]) -> None:
    global _worker_model
    _worker_model = classifier


def _prepare_and_classify(chunk: Sequence[Input]) -> list[Prepared]:
    """Worker task: prepare a chunk and, when the model was handed over, classify it too."""
    entries = [prepare_entry(entry) for entry in chunk]
    if _worker_model is not None:
        classify_items(_worker_model, [e for e in entries if isinstance(e, PreparedItem)])
    return entries


def _flatten(chunks: Sequence[list[Prepared]]) -> list[Prepared]:
    return [entry for chunk in chunks for entry in chunk]
