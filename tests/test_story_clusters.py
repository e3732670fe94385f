"""Story clusters measured on a labelled set of syndicated copies (data/eval/syndication.jsonl).

The set holds 46 hand-written stories, each carried by 3-6 outlets with the edits outlets
make, plus distinct stories that share a topic or a template (see data/eval/README.md). It
goes through the real ingest path in shuffled order; the stored clusters are then scored by
pairs against the story labels."""
from __future__ import annotations

import importlib.util
import json
import logging
import random
import sys
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
from types import SimpleNamespace
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.core.config import REPO_ROOT
from pipeline.ingest.ingestor import Ingestor
from pipeline.core.normalize import normalize_text
from pipeline.ingest.prepare import prepare
from pipeline.ingest.records import RawRecord, record_from_dict
from pipeline.core.schema import Item, StoryCluster
from tests.cluster_metrics import pair_scores

logger = logging.getLogger(__name__)

EVAL_DIR = REPO_ROOT / "data" / "eval"
EVAL_SET = EVAL_DIR / "syndication.jsonl"
MIN_PRECISION = 0.98
MIN_RECALL = 0.95


def load_rows() -> list[dict]:
    with EVAL_SET.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def shuffled_records(rows: list[dict], seed: int) -> list[tuple[dict, RawRecord]]:
    """Records in an arrival order unrelated to publication time (crawls finish out of order)."""
    pairs = [(row, record_from_dict(row, position=n)) for n, row in enumerate(rows, 1)]
    random.Random(seed).shuffle(pairs)
    return pairs


def exact_key(text: str) -> str:
    """The text as an exact-duplicate check should see it: one Unicode form and tone
    placement, case and whitespace ignored."""
    return " ".join(normalize_text(text).lower().split())


# --- the metric itself, on cases small enough to count by hand ----------------------------

def test_pair_scores_on_a_hand_counted_case() -> None:
    labels = {"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B", "c1": "C"}
    # a3 split off on its own; b1 wrongly joined with a1 and a2.
    clusters = {"a1": 1, "a2": 1, "b1": 1, "a3": 2, "b2": 3, "c1": 4}
    scores = pair_scores(labels, clusters)
    # Joined pairs: (a1,a2) (a1,b1) (a2,b1); true pairs: (a1,a2) (a1,a3) (a2,a3) (b1,b2).
    assert (scores.predicted_pairs, scores.true_pairs, scores.correct_pairs) == (3, 4, 1)
    assert scores.precision == pytest.approx(1 / 3)
    assert scores.recall == pytest.approx(1 / 4)


def test_pair_scores_perfect_and_degenerate_clusterings() -> None:
    labels = {1: "x", 2: "x", 3: "y", 4: "y", 5: "z"}
    perfect = pair_scores(labels, {1: "p", 2: "p", 3: "q", 4: "q", 5: "r"})
    assert (perfect.precision, perfect.recall) == (1.0, 1.0)
    everything_apart = pair_scores(labels, {k: k for k in labels})
    assert (everything_apart.precision, everything_apart.recall) == (1.0, 0.0)
    all_together = pair_scores(labels, {k: 0 for k in labels})
    assert all_together.recall == 1.0 and all_together.precision == pytest.approx(2 / 10)
    with pytest.raises(ValueError):
        pair_scores(labels, {1: "p"})


# --- the labelled set --------------------------------------------------------------------

def test_the_labelled_set_is_the_generated_one_and_has_its_shape(monkeypatch) -> None:
    spec = importlib.util.spec_from_file_location("make_syndication", EVAL_DIR / "make_syndication.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    rows = load_rows()
    assert module.rows() == rows, "data/eval/syndication.jsonl differs from what make_syndication.py builds"

    copies = Counter(row["story"] for row in rows)
    assert len(copies) >= 40 and all(3 <= n <= 6 for n in copies.values())
    originals = [row for row in rows if row["variant"] == "original"]
    assert len(originals) == len(copies)
    assert all(150 <= len(row["text"].split()) <= 400 for row in originals)
    assert len({row["url"] for row in rows}) == len(rows)
    variants = Counter(part.split(" ")[0] for row in rows for part in row["variant"].split("; "))
    for edit in ("source", "byline", "paragraph", "last", "sentence", "typos", "Unicode", "old", "exact"):
        assert variants[edit] >= 3, f"too few copies with edit {edit!r}"


# --- clustering through the real ingest path ---------------------------------------------

@pytest.fixture
def ingested(engine):
    """The set ingested in shuffled order, in batches, as a crawl would hand it over."""
    rows = load_rows()
    arrivals = shuffled_records(rows, seed=20261123)
    report = Ingestor(engine, None).ingest([record for _, record in arrivals], batch_size=40)
    return rows, arrivals, report


def cluster_of_every_record(engine, arrivals: list[tuple[dict, RawRecord]]) -> dict[str, int]:
    """Record URL → stored cluster; an exact duplicate that was not stored takes the
    cluster of the stored item with its text."""
    with Session(engine) as session:
        by_url = dict(session.execute(select(Item.canonical_url, Item.cluster_id)).tuples().all())
        by_hash = dict(session.execute(select(Item.content_hash, Item.cluster_id)).tuples().all())
    clusters = {}
    for row, record in arrivals:
        cluster = by_url.get(record.canonical_url)
        if cluster is None:
            cluster = by_hash[prepare(record).content_hash]
        clusters[row["url"]] = cluster
    return clusters


def test_clusters_match_the_story_labels(engine, ingested) -> None:
    rows, arrivals, report = ingested
    assert not report.failures, report.failures[:3]
    scores = pair_scores({row["url"]: row["story"] for row in rows}, cluster_of_every_record(engine, arrivals))
    figures = (f"pairwise precision {scores.precision:.4f}, recall {scores.recall:.4f} "
               f"({scores.correct_pairs} correct of {scores.predicted_pairs} joined pairs, "
               f"{scores.true_pairs} true pairs; {len(rows)} records, {len({r['story'] for r in rows})} stories)")
    logger.info("story clusters: %s", figures)
    assert scores.precision >= MIN_PRECISION, figures
    assert scores.recall >= MIN_RECALL, figures


def test_exact_copies_are_stored_once(engine, ingested) -> None:
    rows, arrivals, report = ingested
    distinct = {exact_key(row["text"]) for row in rows}
    assert len(rows) - len(distinct) >= 5  # the set really holds exact copies
    assert report.exact_duplicates == len(rows) - len(distinct)
    assert report.stored == len(distinct)
    with Session(engine) as session:
        assert session.scalar(select(func.count(Item.id))) == len(distinct)


def test_first_outlet_is_the_earliest_copy_whatever_the_arrival_order(engine, ingested) -> None:
    rows, arrivals, report = ingested
    with Session(engine) as session:
        stored = session.execute(select(Item.cluster_id, Item.outlet, Item.published_at, Item.canonical_url,
                                        Item.content_hash)).all()
        clusters = {c.id: c for c in session.scalars(select(StoryCluster))}
    members: dict[int, list] = defaultdict(list)
    for item in stored:
        members[item.cluster_id].append(item)
    # Exact copies are stored once, but the earliest published one is the story's first.
    cluster_of_text = {item.content_hash: item.cluster_id for item in stored}
    stored_urls = {item.canonical_url for item in stored}
    copies: dict[int, list] = defaultdict(list)
    for _, record in arrivals:
        if record.canonical_url not in stored_urls:
            copy = prepare(record)
            copies[cluster_of_text[copy.content_hash]].append(
                SimpleNamespace(outlet=record.outlet, canonical_url=copy.canonical_url,
                                published_at=copy.published_at))
    arrival = {record.canonical_url: n for n, (_, record) in enumerate(arrivals)}
    out_of_order = 0
    for cluster_id, items in members.items():
        earliest = min([*items, *copies[cluster_id]], key=lambda i: i.published_at)
        cluster = clusters[cluster_id]
        assert (cluster.first_outlet, cluster.first_url, cluster.first_seen_at) == (
            earliest.outlet, earliest.canonical_url, earliest.published_at)
        assert cluster.size == len(items)
        out_of_order += min(items, key=lambda i: arrival[i.canonical_url]) is not earliest
    # The check means something only if many clusters saw a later copy first.
    assert out_of_order >= 10


def test_an_exact_copy_with_another_url_is_stored_once(engine) -> None:
    row = load_rows()[0]
    first = record_from_dict(row)
    mirror = record_from_dict({**row, "url": "https://mirror.example.vn/ban-sao.html", "outlet": "mirror"})
    ingestor = Ingestor(engine, None)
    assert ingestor.ingest([first]).stored == 1
    report = ingestor.ingest([mirror])
    assert (report.stored, report.exact_duplicates) == (0, 1)
    with Session(engine) as session:
        assert session.scalar(select(func.count(Item.id))) == 1


def test_an_earlier_exact_copy_arriving_late_still_becomes_first(engine) -> None:
    row = load_rows()[0]
    later = record_from_dict(row)
    earlier = record_from_dict({**row, "url": "https://wire.example.vn/goc.html", "outlet": "wire"})
    earlier.published_at = later.published_at - timedelta(hours=2)
    Ingestor(engine, None).ingest([later, earlier])
    with Session(engine) as session:
        cluster = session.scalars(select(StoryCluster)).one()
        assert cluster.first_outlet == "wire"


def test_the_story_index_keeps_only_the_newest_items() -> None:
    """Memory is bounded: past its size the oldest signatures leave the index."""
    from pipeline.ingest import dedupe

    index = dedupe.StoryIndex(max_entries=2)
    texts = [f"hợp tác xã số {n} " + " ".join(f"từ{n}x{k}" for k in range(30)) for n in range(3)]
    for n, text in enumerate(texts):
        index.add(str(n), dedupe.signature(text), cluster_id=n)
    assert len(index) == 2
    assert index.find_cluster(dedupe.signature(texts[0])) is None  # evicted
    assert index.find_cluster(dedupe.signature(texts[2])) == 2
