"""Monitors' reviews: the queue order, the audit trail, and learning from confirmed labels."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.corpus import load_corpus
from models.train import train
from pipeline.config import REPO_ROOT
from pipeline.review import ReviewError, record_review, review_queue, reviewed_examples
from pipeline.schema import Item, Review, StoryCluster, utcnow


def add_item(session: Session, n: int, label: str, confidence: float, needs_review: bool = True,
             cluster_size: int = 1, shares: int = 0) -> Item:
    cluster = StoryCluster(first_outlet="o", first_url=f"https://o.vn/{n}", first_seen_at=utcnow(), size=cluster_size)
    session.add(cluster)
    session.flush()
    item = Item(url=f"https://o.vn/{n}", canonical_url=f"https://o.vn/{n}", source="s", outlet="o", kind="social",
                title="", text=f"Bài đăng số {n} về hợp tác xã", text_folded=f"bai dang so {n} ve hop tac xa",
                fetched_at=utcnow(), content_hash=str(n), relevant=True, label=label, confidence=confidence,
                needs_review=needs_review, cluster_id=cluster.id, shares=shares)
    session.add(item)
    session.flush()
    return item


def test_queue_puts_misleading_first_then_uncertain_then_reach(engine) -> None:
    with Session(engine) as session, session.begin():
        ids = {
            "sure_misleading": add_item(session, 1, "misleading", 0.9).id,
            "unsure_critical": add_item(session, 2, "critical", 0.4).id,
            "unsure_wide": add_item(session, 3, "positive", 0.4, cluster_size=6).id,
            "less_unsure": add_item(session, 4, "neutral", 0.55).id,
            "not_flagged": add_item(session, 5, "neutral", 0.99, needs_review=False).id,
        }
    with Session(engine) as session:
        order = [item.id for item in review_queue(session)]
    assert order == [ids["sure_misleading"], ids["unsure_wide"], ids["unsure_critical"], ids["less_unsure"]]
    record_review(engine, ids["sure_misleading"], "lan", "confirm")
    record_review(engine, ids["unsure_wide"], "lan", "note", note="cần hỏi thêm nguồn")
    with Session(engine) as session:
        order = [item.id for item in review_queue(session)]
    assert ids["sure_misleading"] not in order  # settled
    assert order[0] == ids["unsure_wide"]  # a note alone does not settle an item


def test_every_action_is_kept_with_who_and_when(engine) -> None:
    with Session(engine) as session, session.begin():
        item_id = add_item(session, 1, "misleading", 0.7).id
    record_review(engine, item_id, "lan", "relabel", label="critical")
    record_review(engine, item_id, "minh", "confirm")
    with Session(engine) as session:
        history = session.scalars(select(Review).where(Review.item_id == item_id).order_by(Review.id)).all()
        assert [(r.reviewer, r.action) for r in history] == [("lan", "relabel"), ("minh", "confirm")]
        assert all(r.created_at is not None for r in history)
    with pytest.raises(ReviewError, match="action must be"):
        record_review(engine, item_id, "lan", "delete")
    with pytest.raises(ReviewError, match="unknown label"):
        record_review(engine, item_id, "lan", "relabel", label="fake")
    with pytest.raises(ReviewError, match="no item"):
        record_review(engine, 999, "lan", "confirm")


def test_train_with_reviews_adds_the_monitors_latest_labels(engine, tmp_path) -> None:
    with Session(engine) as session, session.begin():
        relabelled = add_item(session, 1, "misleading", 0.6).id
        confirmed = add_item(session, 2, "critical", 0.8).id
        add_item(session, 3, "neutral", 0.5)  # never reviewed
    record_review(engine, relabelled, "lan", "relabel", label="critical")
    record_review(engine, confirmed, "lan", "confirm")
    examples = {e.id: e.label for e in reviewed_examples(engine)}
    assert examples == {f"review-{relabelled}": "critical", f"review-{confirmed}": "critical"}
    card = train(REPO_ROOT / "data" / "training", tmp_path / "model", extra=reviewed_examples(engine))
    assert card["reviewed_items"] == 2
    assert card["training_items"] == len(load_corpus(REPO_ROOT / "data" / "training")) + 2
