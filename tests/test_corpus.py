"""The labelled corpus follows the codebook and holds no template near-copies."""
from __future__ import annotations

from collections import Counter

import pytest

from models.contract import LABELS
from models.corpus import CorpusError, load_corpus
from pipeline.ingest import dedupe
from pipeline.core.config import REPO_ROOT
from pipeline.core.normalize import fold, normalize_text

CORPUS = REPO_ROOT / "data" / "training"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(CORPUS)


def test_corpus_size_and_every_label_well_represented(corpus) -> None:
    assert len(corpus) >= 1500
    labels = Counter(item.label for item in corpus)
    for label in LABELS:
        assert labels[label] >= 150, label
    assert labels[None] >= 150  # irrelevant look-alikes


def test_social_posts_typed_without_diacritics_are_at_least_15_percent(corpus) -> None:
    social = [item for item in corpus if item.kind == "social"]
    plain = [item for item in social if fold(item.text) == item.text.lower()]
    assert len(social) >= 300 and len(plain) / len(social) >= 0.15


def test_near_duplicate_rate_stays_under_two_percent(corpus) -> None:
    """Twins (a fabrication and its honest version, same facts) are near-copies on purpose."""
    index = dedupe.StoryIndex()
    duplicates = 0
    for number, item in enumerate(corpus):
        signature = dedupe.signature(normalize_text(f"{item.title} {item.text}"))
        found = index.find_cluster(signature)
        if found is not None and corpus[found].id != item.twin:
            duplicates += 1
        index.add(str(number), signature, number)
    assert duplicates / len(corpus) < 0.02, f"{duplicates} near-duplicates"


def test_every_twin_names_an_item_that_names_it_back_with_another_label(corpus) -> None:
    by_id = {item.id: item for item in corpus}
    twins = [item for item in corpus if item.twin]
    assert len(twins) >= 200
    for item in twins:
        other = by_id[item.twin]
        assert other.twin == item.id
        assert {item.label, other.label} & {"misleading"} and item.label != other.label


def test_the_near_duplicate_check_does_catch_template_copies() -> None:
    text = ("Hợp tác xã nông nghiệp {} ở tỉnh {} vừa tổ chức đại hội thành viên thường niên, "
            "thông qua kế hoạch sản xuất kinh doanh năm tới với doanh thu dự kiến tăng mạnh.")
    signatures = [dedupe.signature(text.format(a, b)) for a, b in (("Tân Phú", "Đồng Nai"), ("Hòa An", "Cao Bằng"))]
    index = dedupe.StoryIndex()
    index.add("0", signatures[0], 0)
    assert index.find_cluster(signatures[1]) == 0


def test_malformed_rows_are_refused_with_their_place(tmp_path) -> None:
    (tmp_path / "a.jsonl").write_text(
        '{"id": "1", "title": "", "text": "HTX", "kind": "news", "relevant": false, "label": "positive"}\n',
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match="a.jsonl:1"):
        load_corpus(tmp_path)
