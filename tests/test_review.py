"""Monitors' reviews: queue order, audit trail, roles, conflicts, responses, double review, kappa."""
from __future__ import annotations

import threading
import time
from typing import Optional

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

from models.corpus import load_corpus
from models.train import train
from pipeline.core.config import REPO_ROOT
from pipeline.core.db import make_engine, migrate
from pipeline.review.agreement import (
    DISMISSED,
    NOT_RELEVANT,
    agreement_report,
    kappa,
    pending_double_reviews,
    sample_for_double_review,
)
from pipeline.review.workflow import (
    ReviewConflict,
    ReviewError,
    ReviewPermissionError,
    item_state,
    latest_review_id,
    lock_item,
    record_review,
    review_queue,
    reviewed_examples,
)
from pipeline.core.schema import Item, Review, StoryCluster, User, utcnow


def add_item(session: Session, n: int, label: Optional[str], confidence: float, needs_review: bool = True,
             cluster_size: int = 1, shares: int = 0) -> Item:
    cluster = StoryCluster(first_outlet="o", first_url=f"https://o.vn/{n}", first_seen_at=utcnow(), size=cluster_size)
    session.add(cluster)
    session.flush()
    item = Item(url=f"https://o.vn/{n}", canonical_url=f"https://o.vn/{n}", source="s", outlet="o", kind="social",
                title="", text=f"Bài đăng số {n} về hợp tác xã", text_folded=f"bai dang so {n} ve hop tac xa",
                fetched_at=utcnow(), content_hash=str(n), relevant=label is not None, label=label,
                confidence=confidence, needs_review=needs_review, cluster_id=cluster.id, shares=shares)
    session.add(item)
    session.flush()
    return item


def add_accounts(engine: Engine) -> None:
    # Rows written directly: bcrypt hashing is not what these tests are about, and it is slow.
    with Session(engine) as session, session.begin():
        for name, role in (("lan", "monitor"), ("minh", "monitor"), ("hoa", "monitor"),
                           ("quantri", "admin"), ("bientap", "editor"), ("lanhdao", "leader")):
            session.add(User(name=name, role=role, password_hash="-"))


@pytest.fixture
def accounts(engine: Engine) -> Engine:
    add_accounts(engine)
    return engine


def act(engine: Engine, item_id: int, reviewer: str, action: str, **kwargs) -> int:
    """Record an action having seen the item's current state (no concurrent writer)."""
    with Session(engine) as session:
        seen = latest_review_id(session, item_id)
    return record_review(engine, item_id, reviewer, action, expected_previous=seen, **kwargs)


def count_reviews(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count(Review.id))) or 0


def test_queue_puts_misleading_first_then_uncertain_then_reach(accounts) -> None:
    engine = accounts
    with Session(engine) as session, session.begin():
        ids = {
            "sure_misleading": add_item(session, 1, "misleading", 0.9).id,
            "unsure_critical": add_item(session, 2, "critical", 0.4).id,
            "unsure_wide": add_item(session, 3, "positive", 0.4, cluster_size=6).id,
            "unsure_shared": add_item(session, 6, "positive", 0.4, shares=500).id,
            "less_unsure": add_item(session, 4, "neutral", 0.55).id,
            "not_flagged": add_item(session, 5, "neutral", 0.99, needs_review=False).id,
        }
    with Session(engine) as session:
        order = [item.id for item in review_queue(session)]
    assert order == [ids["sure_misleading"], ids["unsure_wide"], ids["unsure_shared"], ids["unsure_critical"],
                     ids["less_unsure"]]
    act(engine, ids["sure_misleading"], "lan", "confirm")
    act(engine, ids["unsure_wide"], "lan", "note", note="cần hỏi thêm nguồn")
    act(engine, ids["unsure_shared"], "lan", "assign", assignee="minh")
    with Session(engine) as session:
        order = [item.id for item in review_queue(session)]
    assert ids["sure_misleading"] not in order  # settled
    assert order[:2] == [ids["unsure_wide"], ids["unsure_shared"]]  # a note or an assignment does not settle


def test_every_action_is_kept_with_who_and_when(accounts) -> None:
    engine = accounts
    with Session(engine) as session, session.begin():
        item_id = add_item(session, 1, "misleading", 0.7).id
    first = act(engine, item_id, "lan", "relabel", label="critical")
    act(engine, item_id, "minh", "confirm")
    with Session(engine) as session:
        history = session.scalars(select(Review).where(Review.item_id == item_id).order_by(Review.id)).all()
        # "confirm" confirms what the page shows: lan's relabel, not the model's label again.
        assert [(r.reviewer, r.action, r.label) for r in history] == [
            ("lan", "relabel", "critical"), ("minh", "confirm", "critical")]
        assert all(r.created_at is not None for r in history)
        assert [r.expected_previous for r in history] == [None, first]
        state = item_state(session, item_id)
    assert (state.decision, state.label, state.decided_by) == ("confirm", "critical", "minh")
    bad_calls = [
        ({"action": "delete"}, "action must be"),
        ({"action": "relabel", "label": "fake"}, "unknown label"),
        ({"action": "confirm", "label": "critical"}, "only with relabel"),
        ({"action": "note", "note": "   "}, "needs text"),
        ({"action": "assign"}, "needs the monitor"),
        ({"action": "note", "note": "x" * 5001}, "longer than"),
    ]
    for kwargs, message in bad_calls:
        with pytest.raises(ReviewError, match=message):
            act(engine, item_id, "lan", **kwargs)
    with pytest.raises(ReviewError, match="no item"):
        record_review(engine, 999, "lan", "confirm", expected_previous=None)
    assert count_reviews(engine) == 2


def test_only_monitors_and_admins_may_review(accounts) -> None:
    engine = accounts
    with Session(engine) as session, session.begin():
        item_id = add_item(session, 1, "misleading", 0.7).id
    for name in ("bientap", "lanhdao", "nobody"):
        with pytest.raises(ReviewPermissionError):
            act(engine, item_id, name, "confirm")
    with pytest.raises(ReviewPermissionError, match="editor"):
        sample_for_double_review(engine, "bientap", n=1)
    assert count_reviews(engine) == 0
    act(engine, item_id, "quantri", "note", note="quản trị xem qua")
    act(engine, item_id, "lan", "confirm")
    assert count_reviews(engine) == 2


def test_a_stale_screen_gets_a_conflict_and_writes_nothing(accounts) -> None:
    engine = accounts
    with Session(engine) as session, session.begin():
        item_id = add_item(session, 1, "misleading", 0.7).id
    # Both monitors open the item while it has no review.
    lan_first = record_review(engine, item_id, "lan", "relabel", label="critical", expected_previous=None)
    with pytest.raises(ReviewConflict) as caught:
        record_review(engine, item_id, "minh", "confirm", expected_previous=None)
    assert caught.value.latest_reviewer == "lan" and caught.value.latest_id == lan_first
    assert "reload" in str(caught.value)
    assert count_reviews(engine) == 1
    with pytest.raises(ReviewError, match="has no review"):
        record_review(engine, item_id, "minh", "confirm", expected_previous=lan_first + 100)
    # After reloading, minh sees lan's relabel and may act on it.
    record_review(engine, item_id, "minh", "note", note="đồng ý", expected_previous=lan_first)
    assert count_reviews(engine) == 2


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    url = request.getfixturevalue("postgres_url")
    migrate(url)
    return url


def wait_for_a_blocked_backend(engine: Engine, attempts: int = 300) -> bool:
    """True once another PostgreSQL backend waits on a lock (polled, at most ~30 s)."""
    with engine.connect() as connection:
        for _ in range(attempts):
            waiting = connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()")).scalar()
            connection.rollback()  # a fresh snapshot of pg_stat_activity on each poll
            if waiting:
                return True
            time.sleep(0.1)
    return False


def test_a_writer_waiting_for_the_item_lock_sees_the_first_writers_review(database_url) -> None:
    """Two engines, two threads: B reads the item's latest review only after A has committed."""
    engine_a, engine_b = make_engine(database_url), make_engine(database_url)
    try:
        add_accounts(engine_a)
        with Session(engine_a) as session, session.begin():
            item_id = add_item(session, 1, "misleading", 0.7).id
        b_waits = threading.Event()

        @event.listens_for(engine_b, "before_cursor_execute")
        def _flag(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
            if "BEGIN IMMEDIATE" in statement or "FOR UPDATE" in statement:
                b_waits.set()

        outcome: dict[str, object] = {}

        def monitor_b() -> None:
            try:
                outcome["id"] = record_review(engine_b, item_id, "minh", "relabel", label="critical",
                                              expected_previous=None)
            except ReviewError as exc:
                outcome["error"] = exc

        with Session(engine_a) as session, session.begin():
            lock_item(session, item_id)
            thread = threading.Thread(target=monitor_b)
            thread.start()
            assert b_waits.wait(30), "monitor B never asked for the lock"
            if engine_a.dialect.name == "postgresql":
                assert wait_for_a_blocked_backend(engine_a), "monitor B is not waiting on the row lock"
            else:
                # SQLite shows no lock waits; this pause gives an unguarded B time to read and
                # write before A commits, so the test fails without the lock. With the lock the
                # outcome does not depend on it.
                time.sleep(0.5)
            session.add(Review(item_id=item_id, reviewer="lan", action="confirm", label="misleading"))
        thread.join(60)
        assert isinstance(outcome.get("error"), ReviewConflict), outcome
        with Session(engine_a) as session:
            assert [r.reviewer for r in session.scalars(select(Review))] == ["lan"]
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_simultaneous_writers_on_their_own_engines_one_wins(database_url) -> None:
    engines = [make_engine(database_url) for _ in range(4)]
    try:
        add_accounts(engines[0])
        with Session(engines[0]) as session, session.begin():
            item_id = add_item(session, 1, "misleading", 0.7).id
        start = threading.Barrier(len(engines))
        results: list[object] = []

        def monitor(engine: Engine, name: str) -> None:
            start.wait()
            try:
                results.append(record_review(engine, item_id, name, "confirm", expected_previous=None))
            except ReviewConflict as exc:
                results.append(exc)

        names = ["lan", "minh", "hoa", "quantri"]
        threads = [threading.Thread(target=monitor, args=(e, n)) for e, n in zip(engines, names)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(results) == 4
        assert sum(isinstance(r, int) for r in results) == 1
        assert sum(isinstance(r, ReviewConflict) for r in results) == 3
        assert count_reviews(engines[0]) == 1
    finally:
        for engine in engines:
            engine.dispose()


def test_assignment_goes_to_monitors_only(accounts) -> None:
    engine = accounts
    with Session(engine) as session, session.begin():
        item_id = add_item(session, 1, "critical", 0.5).id
    act(engine, item_id, "lan", "assign", assignee="minh", note="nhờ anh xem")
    with pytest.raises(ReviewError, match="not a monitor"):
        act(engine, item_id, "lan", "assign", assignee="bientap")
    with pytest.raises(ReviewError, match="only with assign"):
        act(engine, item_id, "lan", "note", note="x", assignee="minh")
    act(engine, item_id, "minh", "assign", assignee="hoa")
    with Session(engine) as session:
        assert item_state(session, item_id).assignee == "hoa"


def test_response_status_only_for_confirmed_misleading_items(accounts) -> None:
    engine = accounts
    with Session(engine) as session, session.begin():
        item_id = add_item(session, 1, "misleading", 0.8).id
    with pytest.raises(ReviewError, match="confirmed as misleading"):
        act(engine, item_id, "lan", "response", response_status="drafted")  # not settled yet
    act(engine, item_id, "lan", "confirm")
    with pytest.raises(ReviewError, match="needs the link"):
        act(engine, item_id, "lan", "response", response_status="published")
    with pytest.raises(ReviewError, match="http"):
        act(engine, item_id, "lan", "response", response_status="published", response_link="javascript:alert(1)")
    with pytest.raises(ReviewError, match="status must be"):
        act(engine, item_id, "lan", "response", response_status="sent")
    act(engine, item_id, "lan", "response", response_status="drafted")
    act(engine, item_id, "minh", "response", response_status="published",
        response_link="https://lienminhhtx.example.vn/bai-phan-hoi")
    with Session(engine) as session:
        state = item_state(session, item_id)
    assert (state.response_status, state.response_link) == ("published", "https://lienminhhtx.example.vn/bai-phan-hoi")
    act(engine, item_id, "hoa", "relabel", label="critical")  # criticism, not misinformation
    with pytest.raises(ReviewError, match="confirmed as misleading"):
        act(engine, item_id, "lan", "response", response_status="none")


def test_train_with_reviews_adds_the_monitors_settled_labels(accounts, tmp_path) -> None:
    engine = accounts
    with Session(engine) as session, session.begin():
        relabelled = add_item(session, 1, "misleading", 0.6).id
        confirmed = add_item(session, 2, "critical", 0.8).id
        add_item(session, 3, "neutral", 0.5)  # never reviewed
        dismissed_later = add_item(session, 4, "positive", 0.5).id
    act(engine, relabelled, "lan", "relabel", label="critical")
    act(engine, confirmed, "lan", "confirm")
    act(engine, dismissed_later, "lan", "confirm")
    act(engine, dismissed_later, "minh", "dismiss", note="trang lỗi, không đọc được nội dung")
    sample_for_double_review(engine, "lan", n=1, seed=1)
    with Session(engine) as session:
        [sampled] = pending_double_reviews(session, "hoa")
    act(engine, sampled, "hoa", "relabel", label="neutral", second_review=True)  # never training data
    examples = {e.id: e.label for e in reviewed_examples(engine)}
    assert examples == {f"review-{relabelled}": "critical", f"review-{confirmed}": "critical"}
    card = train(REPO_ROOT / "data" / "training", tmp_path / "model", extra=reviewed_examples(engine))
    assert card["reviewed_items"] == 2
    assert card["training_items"] == len(load_corpus(REPO_ROOT / "data" / "training")) + 2


def test_double_review_sample_is_reproducible_and_blind_to_the_first_monitor(accounts) -> None:
    engine = accounts
    with Session(engine) as session, session.begin():
        ids = [add_item(session, n, "critical", 0.5).id for n in range(1, 11)]
        unsettled = add_item(session, 11, "critical", 0.5).id
    for item_id in ids:
        act(engine, item_id, "lan", "confirm")
    for bad, message in (({}, "either"), ({"n": 0}, "at least one"), ({"fraction": 1.5}, "fraction")):
        with pytest.raises(ReviewError, match=message):
            sample_for_double_review(engine, "lan", **bad)
    first = sample_for_double_review(engine, "lan", fraction=0.3, seed=7)
    assert len(first) == 3 and set(first) <= set(ids)
    second = sample_for_double_review(engine, "lan", n=100, seed=7)
    assert sorted(first + second) == ids  # the rest, never the same item twice, never unsettled ones
    assert sample_for_double_review(engine, "lan", n=1) == []
    with Session(engine) as session:
        assert pending_double_reviews(session, "lan") == []  # lan decided them all
        assert pending_double_reviews(session, "minh") == ids
    # The same candidates and seed pick the same items.
    with Session(engine) as session, session.begin():
        session.execute(Review.__table__.delete().where(Review.action == "sample"))
    assert sample_for_double_review(engine, "lan", fraction=0.3, seed=7) == first

    target = first[0]
    with pytest.raises(ReviewError, match="not decided"):
        act(engine, target, "lan", "relabel", label="neutral", second_review=True)
    with pytest.raises(ReviewError, match="not in the double-review sample"):
        act(engine, unsettled, "minh", "confirm", second_review=True)
    with pytest.raises(ReviewError, match="second review is a"):
        act(engine, target, "minh", "note", note="x", second_review=True)
    act(engine, target, "minh", "relabel", label="neutral", second_review=True)
    with pytest.raises(ReviewError, match="already has"):
        act(engine, target, "hoa", "confirm", second_review=True)
    with Session(engine) as session:
        state = item_state(session, target)
        assert (state.label, state.decided_by) == ("critical", "lan")  # the second review settles nothing
        assert target not in pending_double_reviews(session, "hoa")


def test_kappa_matches_hand_computed_values() -> None:
    # 10 items: A says misleading 4, critical 4, neutral 2; B moves one misleading to critical.
    a = ["misleading"] * 4 + ["critical"] * 4 + ["neutral"] * 2
    b = ["misleading"] * 3 + ["critical"] * 5 + ["neutral"] * 2
    # p_o = 9/10; p_e = (4*3 + 4*5 + 2*2) / 100 = 0.36; kappa = 0.54 / 0.64
    assert kappa(a, b) == pytest.approx(0.84375)
    assert kappa(["x", "y"], ["y", "x"]) == pytest.approx(-1.0)  # p_o = 0, p_e = 0.5
    assert kappa(["x", "x"], ["x", "x"]) is None  # one category only: undefined
    assert kappa([], []) is None
    with pytest.raises(ValueError):
        kappa(["x"], ["x", "y"])


def test_agreement_between_monitors_and_with_the_model_per_label(accounts) -> None:
    engine = accounts
    model = ["misleading"] * 5 + ["critical"] * 3 + ["neutral"] * 2
    first = ["misleading"] * 4 + ["critical"] * 4 + ["neutral"] * 2
    second = ["misleading"] * 3 + ["critical"] * 5 + ["neutral"] * 2
    with Session(engine) as session, session.begin():
        ids = [add_item(session, n, label, 0.5).id for n, label in enumerate(model, 1)]
        dismissed = add_item(session, 99, "critical", 0.5).id
    for item_id, mine, theirs in zip(ids, first, model):
        if mine == theirs:
            act(engine, item_id, "lan", "confirm")
        else:
            act(engine, item_id, "lan", "relabel", label=mine)
    act(engine, dismissed, "lan", "dismiss")
    assert len(sample_for_double_review(engine, "lan", fraction=1.0)) == 11
    for item_id, label in zip(ids, second):
        act(engine, item_id, "minh", "relabel", label=label, second_review=True)
    with Session(engine) as session:
        report = agreement_report(session)

    monitors = {row.category: row for row in report.monitors.per_label}
    assert report.monitors.pairs == 10 and report.monitors.observed == pytest.approx(0.9)
    assert report.monitors.kappa == pytest.approx(0.84375)
    # misleading vs rest: A 4, B 3, 3 both + 6 neither; p_e = .4*.3 + .6*.7 = .54; (.9-.54)/.46
    assert monitors["misleading"].kappa == pytest.approx(0.36 / 0.46)
    assert (monitors["misleading"].first_count, monitors["misleading"].second_count) == (4, 3)
    # critical vs rest: A 4, B 5; p_e = .4*.5 + .6*.5 = .5; (.9-.5)/.5
    assert monitors["critical"].kappa == pytest.approx(0.8)
    assert monitors["neutral"].kappa == pytest.approx(1.0)
    assert monitors["model_story"].kappa is None and monitors[DISMISSED].kappa is None

    versus_model = {row.category: row for row in report.model.per_label}
    assert report.model.pairs == 10 and report.dismissed_excluded == 1
    assert report.model.kappa == pytest.approx(0.84375)  # p_e = (4*5 + 4*3 + 2*2)/100
    assert versus_model["misleading"].kappa == pytest.approx(0.8)  # monitors 4, model 5
    assert versus_model["critical"].kappa == pytest.approx(0.36 / 0.46)  # monitors 4, model 3
    assert versus_model[NOT_RELEVANT].first_count == 0


def test_the_export_shows_what_the_monitor_decided_and_the_model_beside_it(accounts, tmp_path) -> None:
    import json

    from pipeline.core.schema import Cooperative, CooperativeMention
    from pipeline.report.export import EXPORT_FIELDS, export_items

    engine = accounts
    with Session(engine) as session, session.begin():
        relabelled = add_item(session, 1, "misleading", 0.6)
        relabelled.province, relabelled.sector = "Vĩnh Long", "credit"
        untouched_id = add_item(session, 2, "positive", 0.9, needs_review=False).id
        coop = Cooperative(key="quy tan hung phu", name="Quỹ TDND Tân Hưng Phú", kind="credit_fund",
                           province="Vĩnh Long", first_seen_at=utcnow())
        session.add(coop)
        session.flush()
        session.add(CooperativeMention(cooperative_id=coop.id, item_id=relabelled.id, mentioned_at=utcnow()))
        relabelled_id = relabelled.id
    act(engine, relabelled_id, "lan", "relabel", label="neutral")
    target = tmp_path / "export.jsonl"
    assert export_items(engine, target) == 2
    rows = {row["id"]: row for row in map(json.loads, target.read_text(encoding="utf-8").splitlines())}
    decided, model_only = rows[relabelled_id], rows[untouched_id]
    assert list(decided) == list(EXPORT_FIELDS)
    assert (decided["label"], decided["model_label"], decided["decided_label"]) == ("neutral", "misleading", "neutral")
    assert (decided["decision"], decided["decided_by"], decided["needs_review"]) == ("relabel", "lan", False)
    assert decided["decided_at"] and decided["province"] == "Vĩnh Long" and decided["sector"] == "credit"
    assert decided["cooperatives"] == ["Quỹ TDND Tân Hưng Phú"]
    assert (model_only["label"], model_only["decided_label"], model_only["decision"]) == ("positive", None, None)
