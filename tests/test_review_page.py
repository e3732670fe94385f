"""The review page (Rà soát) run with Streamlit's AppTest on a seeded SQLite database."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

import pytest
import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.helpers import signed_in_as
from pipeline.review.agreement import sample_for_double_review
from pipeline.core.users import set_role
from pipeline.review.workflow import record_review
from pipeline.core.schema import Item, Review, StoryCluster, User, utcnow

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"
APP = str(DASHBOARD / "app.py")
PAGE = str(DASHBOARD / "views" / "review.py")
SCRIPT = "<script>alert(1)</script>"
SCRIPT_TITLE = f"Vào HTX là mất đất {SCRIPT}"
SCRIPT_TEXT = f"Nghe nói ký đơn vào hợp tác xã là bị nhà nước thu sổ đỏ. <b>Chia sẻ ngay</b> {SCRIPT}"
NARRATIVE = "dat-dai-bi-thu-hoi"  # an id of data/narratives.yaml


def add_item(session: Session, key: str, label: Optional[str], confidence: float, cluster: StoryCluster,
             needs_review: bool = True, shares: int = 0, title: str = "", text: str = "",
             outlet: str = "facebook:nhom-nong-dan", narrative: Optional[str] = None) -> Item:
    url = f"https://{outlet.replace(':', '-')}.example.vn/{key}"
    item = Item(url=url, canonical_url=url, source="s", outlet=outlet, kind="social",
                title=title or f"Bài {key} về hợp tác xã", text=text or f"Nội dung bài {key} về hợp tác xã",
                text_folded=key, fetched_at=utcnow(), content_hash=key, relevant=label is not None,
                label=label, confidence=confidence, needs_review=needs_review, cluster=cluster,
                shares=shares, reasons=["thu sổ đỏ", "mất đất"] if label == "misleading" else ["hợp tác xã"],
                narrative=narrative)
    session.add(item)
    session.flush()
    return item


def story(session: Session, size: int) -> StoryCluster:
    cluster = StoryCluster(first_outlet="o", first_url="https://o.example.vn/", first_seen_at=utcnow(), size=size)
    session.add(cluster)
    return cluster


@pytest.fixture
def seeded(monkeypatch, sqlite_url, engine) -> Iterator[dict[str, int]]:
    with Session(engine) as session, session.begin():
        for name, role in (("lan", "monitor"), ("minh", "monitor"), ("bientap", "editor"),
                           ("lanhdao", "leader"), ("quantri", "admin")):
            session.add(User(name=name, role=role, password_hash="-"))
        rumour = story(session, 2)
        wide = story(session, 3)
        ids = {
            "misleading": add_item(session, "tin-don", "misleading", 0.9, rumour, title=SCRIPT_TITLE,
                                   text=SCRIPT_TEXT, narrative=NARRATIVE).id,
            "wide": add_item(session, "htx-no-luong", "critical", 0.4, wide).id,
            "shared": add_item(session, "htx-rau", "positive", 0.4, story(session, 1), shares=900).id,
            "less_unsure": add_item(session, "hoi-dap", "neutral", 0.55, story(session, 1)).id,
            "not_flagged": add_item(session, "hoi-nghi", "positive", 0.95, story(session, 1), needs_review=False).id,
        }
        add_item(session, "tin-don-ban-sao", "misleading", 0.9, rumour, needs_review=False,
                 outlet="baokhac", title="Bản chép lại tin đồn")
        for n in (1, 2):
            add_item(session, f"htx-no-luong-{n}", "critical", 0.8, wide, needs_review=False,
                     outlet=f"bao{n}", title=f"HTX nợ lương xã viên (bản {n})")
    monkeypatch.setenv("COOPWATCH_DATABASE_URL", sqlite_url)
    from pipeline.ingest import runtime

    runtime.shared_engine.cache_clear()
    # Streamlit's caches live in this process across tests; each test has its own database.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield ids
    st.cache_data.clear()
    st.cache_resource.clear()
    runtime.shared_engine.cache_clear()


def page(user: str = "lan", role: str = "monitor", lang: Optional[str] = None) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    signed_in_as(app, user, role)
    if lang is not None:
        app.session_state["lang"] = lang
    return app.run()


def texts(app: AppTest) -> list[str]:
    return [element.value for element in app.text]


def markup(app: AppTest) -> str:
    """Everything on the page that Streamlit renders as markdown."""
    return " ".join(str(e.value) for e in (*app.markdown, *app.caption, *app.header, *app.subheader,
                                           *app.success, *app.info, *app.warning, *app.error))


def reviews(engine, item_id: int) -> list[tuple[str, str, Optional[str]]]:
    with Session(engine) as session:
        return [(r.reviewer, r.action, r.label)
                for r in session.scalars(select(Review).where(Review.item_id == item_id).order_by(Review.id))]


def test_queue_is_shown_in_priority_order(seeded) -> None:
    app = page()
    assert not app.exception
    assert app.header[0].value == "Rà soát"
    queue = app.dataframe[0].value
    assert list(queue["Mã"]) == [seeded["misleading"], seeded["wide"], seeded["shared"], seeded["less_unsure"]]
    assert list(queue["Nhãn của mô hình"]) == ["Sai lệch", "Phản ánh, phê bình", "Tích cực", "Trung tính"]
    assert list(queue["Số bản đăng"]) == [2, 3, 1, 1]
    assert queue.iloc[0]["Tiêu đề"] == SCRIPT_TITLE  # a table cell: plain text


def test_item_detail_shows_text_literally_with_model_narrative_and_copies(seeded) -> None:
    app = page()
    assert app.selectbox(key="queue_pick").value == seeded["misleading"]  # first in the queue
    shown = texts(app)
    assert SCRIPT_TITLE in shown and SCRIPT_TEXT in shown
    assert "<script>" not in markup(app)
    assert not app.get("html")
    assert any("Sai lệch" in t and "90%" in t for t in shown)
    assert "thu sổ đỏ, mất đất" in shown
    assert "Vào HTX là bị nhà nước lấy đất" in shown  # narrative title from data/narratives.yaml
    assert any("Điều lệ" in t for t in shown)  # its rebuttal
    copies = app.dataframe[1].value
    assert list(copies["Nguồn đăng"]) == ["baokhac"]
    assert list(copies["Tiêu đề"]) == ["Bản chép lại tin đồn"]
    assert "Chưa có thao tác nào." in markup(app)


def test_relabel_through_the_page_is_recorded_with_the_user(seeded, engine) -> None:
    app = page()
    item_id = seeded["misleading"]
    app.text_area(key=f"note_{item_id}").input("Có nguồn chính thức, là phản ánh.")
    app.selectbox(key=f"relabel_{item_id}").set_value("critical")
    app.button(key=f"relabel_button_{item_id}").click().run()
    assert not app.exception
    assert reviews(engine, item_id) == [("lan", "relabel", "critical")]
    assert "Đã ghi: Sửa nhãn – tin #" in app.success[0].value
    # Settled: it leaves the queue; it shows under "Đã chốt" with its history.
    assert item_id not in list(app.dataframe[0].value["Mã"])
    app.radio(key="review_mode").set_value("settled").run()
    app.selectbox(key="settled_pick").set_value(item_id).run()
    history = app.dataframe[-1].value
    assert list(history["Người thao tác"]) == ["lan"]
    assert list(history["Thao tác"]) == ["Sửa nhãn"]
    assert list(history["Nhãn"]) == ["Phản ánh, phê bình"]
    assert list(history["Ghi chú"]) == ["Có nguồn chính thức, là phản ánh."]


def test_a_stale_screen_gets_the_conflict_message_and_writes_nothing(seeded, engine) -> None:
    app = page()
    item_id = seeded["misleading"]
    # Another monitor acts after lan's screen was drawn.
    record_review(engine, item_id, "minh", "confirm", expected_previous=None)
    app.button(key=f"confirm_{item_id}").click().run()
    assert not app.exception
    assert reviews(engine, item_id) == [("minh", "confirm", "misleading")]
    assert "Người khác (minh) vừa thao tác trên tin này (Xác nhận)" in app.warning[0].value
    assert "chưa được ghi" in app.warning[0].value


def test_assign_and_response_status_of_a_confirmed_misleading_item(seeded, engine) -> None:
    item_id = seeded["misleading"]
    app = page()
    app.selectbox(key=f"assignee_{item_id}").set_value("minh")
    app.button(key=f"assign_button_{item_id}").click().run()
    assert reviews(engine, item_id)[-1] == ("lan", "assign", None)
    assert list(app.dataframe[0].value["Người phụ trách"])[0] == "minh"
    assert not app.button(key=f"confirm_{item_id}").disabled
    assert f"response_button_{item_id}" not in [b.key for b in app.button]  # not confirmed yet
    app.button(key=f"confirm_{item_id}").click().run()
    app.radio(key="review_mode").set_value("settled").run()
    app.checkbox(key="misleading_only").check().run()
    assert list(app.dataframe[0].value["Mã"]) == [item_id]
    app.selectbox(key=f"response_status_{item_id}").set_value("published")
    app.button(key=f"response_button_{item_id}").click().run()
    assert "Cần đường dẫn" in app.error[0].value  # published needs its link; nothing written
    assert reviews(engine, item_id)[-1][1] == "confirm"
    app.selectbox(key=f"response_status_{item_id}").set_value("published")
    app.text_input(key=f"response_link_{item_id}").input("https://lienminhhtx.example.vn/phan-hoi")
    app.button(key=f"response_button_{item_id}").click().run()
    assert reviews(engine, item_id)[-1] == ("lan", "response", None)
    assert list(app.dataframe[0].value["Phản hồi"]) == ["Đã đăng"]
    assert list(app.dataframe[0].value["Liên kết"]) == ["https://lienminhhtx.example.vn/phan-hoi"]


def test_second_review_is_blind_and_agreement_is_reported(seeded, engine) -> None:
    for key, label in (("misleading", None), ("wide", None), ("shared", "neutral")):
        item_id = seeded[key]
        if label is None:
            record_review(engine, item_id, "lan", "confirm", expected_previous=None)
        else:
            record_review(engine, item_id, "lan", "relabel", label=label, expected_previous=None)
    sample_for_double_review(engine, "lan", fraction=1.0)
    app = page()
    app.radio(key="review_mode").set_value("double").run()
    assert "Không có tin nào chờ bạn rà soát lần hai." in markup(app)  # lan made the first decisions
    app = page(user="minh")
    app.radio(key="review_mode").set_value("double").run()
    options = app.selectbox(key="second_pick").options
    assert [int(o.split(" ")[0].lstrip("#")) for o in options] == [seeded[k] for k in ("misleading", "wide", "shared")]
    for key, label in (("misleading", "misleading"), ("wide", "critical"), ("shared", "positive")):
        item_id = seeded[key]
        app.selectbox(key="second_pick").set_value(item_id).run()
        assert "lan" not in " ".join(texts(app))  # the first decision is not shown
        assert not [d for d in app.dataframe if "Người thao tác" in d.value.columns]  # nor the history
        app.selectbox(key=f"second_relabel_{item_id}").set_value(label)
        app.button(key=f"second_relabel_button_{item_id}").click().run()
        assert not app.exception
    with Session(engine) as session:
        assert session.scalar(select(Review.reviewer).where(Review.second_review.is_(True))) == "minh"
    app.radio(key="review_mode").set_value("agreement").run()
    metrics = [(m.label, m.value) for m in app.metric]
    # Monitors: 2 of 3 agree (the third: neutral vs positive); p_e = (1*1 + 1*1 + 0*1 + 1*0 ...)/9 = 2/9.
    assert metrics[0] == ("Số tin so sánh", "3")
    assert metrics[1] == ("Tỷ lệ trùng khớp", "67%")
    assert metrics[2] == ("Kappa chung", "0,57")  # (2/3 - 2/9) / (1 - 2/9) = 4/7
    per_label = app.dataframe[0].value.set_index("Nhãn")
    assert per_label.loc["Sai lệch", "Kappa"] == "1,00"
    assert per_label.loc["Mô hình điển hình", "Kappa"] == "—"
    # Monitors against the model: lan changed one of three labels.
    assert metrics[3] == ("Số tin so sánh", "3") and metrics[5] == ("Kappa chung", "0,57")


@pytest.mark.parametrize("role", ["editor", "leader"])
def test_editors_and_leaders_are_refused_the_page(seeded, role) -> None:
    app = page(user="bientap", role=role)
    assert not app.exception
    assert [e.value for e in app.error] == ["Tài khoản của bạn không có quyền xem trang này."]
    assert not app.dataframe and not app.button


def test_an_action_from_a_role_that_lost_permission_is_refused(seeded, engine) -> None:
    app = page()
    item_id = seeded["misleading"]
    set_role(engine, "lan", "editor")  # the role changed after the page was drawn
    app.button(key=f"confirm_{item_id}").click().run()
    assert reviews(engine, item_id) == []
    assert any("không có quyền" in e.value or "không được" in e.value for e in app.error)


def test_the_router_offers_the_page_to_monitors_and_admins_only(seeded) -> None:
    for role, offered in (("monitor", True), ("admin", True), ("editor", False), ("leader", False)):
        app = AppTest.from_file(APP, default_timeout=60)
        signed_in_as(app, "lan", role)
        app.run()
        if offered:
            app.switch_page("views/review.py").run()
            assert app.header[0].value == "Rà soát"
        else:
            with pytest.raises(ValueError):
                app.switch_page("views/review.py")


def test_english_switch(seeded) -> None:
    app = page(lang="en")
    assert app.header[0].value == "Review"
    assert list(app.dataframe[0].value.columns)[:3] == ["Priority", "ID", "Title"]
    assert app.button(key=f"confirm_{seeded['misleading']}").label == "Confirm label"



def test_settled_list_mixes_misleading_with_a_response_and_other_labels(seeded, engine) -> None:
    """Items without a response status sit beside confirmed misleading ones (no 'nan' status)."""
    record_review(engine, seeded["misleading"], "lan", "confirm", expected_previous=None)
    record_review(engine, seeded["wide"], "lan", "confirm", expected_previous=None)
    app = page()
    app.radio(key="review_mode").set_value("settled").run()
    assert not app.exception
    table = app.dataframe[0].value
    assert len(table) == 2


def test_right_to_left_override_is_removed_for_display_and_flagged(seeded, engine) -> None:
    spoof = "Quỹ tín dụng \u202egnóđ 000.01\u202c được miễn thuế"
    with Session(engine) as session, session.begin():
        session.get_one(Item, seeded["misleading"]).title = spoof
    app = page()
    assert "\u202e" not in "".join(texts(app))
    assert "Quỹ tín dụng gnóđ 000.01 được miễn thuế" in texts(app)
    assert any("đảo chiều" in str(w.value) for w in app.warning)
