"""The coverage page (Độ phủ) run with Streamlit's AppTest on a seeded database."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import update
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard import coverage_queries
from tests.helpers import signed_in_as
from pipeline.ingest import runtime
from pipeline.core.schema import StoryCluster
from pipeline.core.users import add_user
from tests.report_seed import SCRIPT_TITLE, seed_report_data

PAGE = str(Path(__file__).resolve().parent.parent / "dashboard" / "views" / "coverage.py")
APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
SECTIONS = 8


@pytest.fixture
def seeded(monkeypatch, sqlite_url, engine) -> str:
    seed_report_data(engine)
    monkeypatch.setenv("COOPWATCH_DATABASE_URL", sqlite_url)
    runtime.shared_engine.cache_clear()
    # Streamlit's caches live as long as the process: another test's database must not leak in.
    st.cache_data.clear()
    st.cache_resource.clear()
    return sqlite_url


def open_page(role: str, lang: str = "vi") -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    signed_in_as(app, "test", role)
    app.session_state["lang"] = lang
    return app.run()


def tables(app: AppTest) -> dict[str, pd.DataFrame]:
    """Each table under the subheader it follows."""
    headers = [h.value for h in app.subheader]
    frames = [d.value for d in app.dataframe]
    assert len(headers) == len(frames) == SECTIONS
    return dict(zip(headers, frames))


def rows(frame: pd.DataFrame, key: str) -> dict[str, dict[str, object]]:
    return {str(row[key]): row for row in frame.to_dict("records")}


def test_editor_sees_every_table_with_its_csv_download(seeded) -> None:
    app = open_page("editor")
    assert not app.exception and not app.error
    assert app.header[0].value == "Độ phủ"
    shown = tables(app)
    outlets = rows(shown["Số tin, bài theo nguồn"], "Nguồn")
    assert outlets["baoA"] == {"Nguồn": "baoA", "Loại": "Báo chí", "Số tin, bài": 8, "Liên quan": 7,
                               "Đã xác nhận": 2}
    assert outlets["mxh1"]["Loại"] == "Mạng xã hội"
    share = rows(shown["Tỉ lệ theo nhãn"], "Nhãn")
    assert share["Phản ánh, phê bình"]["Số tin, bài"] == 4 and share["Phản ánh, phê bình"]["Tỉ lệ (%)"] == 23.5
    assert sum(r["Số tin, bài"] for r in share.values()) == 17
    per_outlet = rows(shown["Nhãn theo từng nguồn"], "Nguồn")
    assert per_outlet["mxh1"]["Sai lệch"] == 3 and per_outlet["baoA"]["Trung tính"] == 2
    provinces = shown["Theo tỉnh, thành phố"]
    assert list(provinces["Tỉnh, thành phố"]) == ["Cần Thơ", "Hà Nội", "Đắk Lắk", "Chưa xác định"]
    assert rows(provinces, "Tỉnh, thành phố")["Cần Thơ"] == {
        "Tỉnh, thành phố": "Cần Thơ", "Số tin, bài": 4, "Tiêu cực": 3, "Đã xác nhận": 2}
    assert rows(shown["Theo lĩnh vực"], "Lĩnh vực")["Tín dụng"]["Số tin, bài"] == 4
    cooperatives = rows(shown["HTX được nhắc đến nhiều nhất"], "Tên")
    assert cooperatives["HTX Tân Phú"]["Số tin, bài"] == 3 and cooperatives["HTX Tân Phú"]["Số nguồn"] == 2
    assert cooperatives["Quỹ tín dụng nhân dân An Bình"]["Loại hình"] == "Quỹ tín dụng nhân dân"
    stories = shown["Tin được nhiều nguồn cùng đăng"]
    assert list(stories["Số nguồn"]) == [3, 2]
    assert list(stories["Các nguồn đăng"]) == ["baoA, baoB, baoC", "baoA, baoB"]
    pickups = shown["Nguồn nào đăng lại tin của nguồn nào"]
    assert pickups.values.tolist() == [["baoA", "baoB", 2], ["baoA", "baoC", 1]]
    downloads = app.get("download_button")
    assert len(downloads) == SECTIONS and {d.proto.label for d in downloads} == {"Tải CSV"}


def test_item_text_is_shown_literally(seeded) -> None:
    app = open_page("leader")
    stories = tables(app)["Tin được nhiều nguồn cùng đăng"]
    assert stories["Tin, bài"].iloc[0] == SCRIPT_TITLE
    assert not any("<script" in m.value for m in app.markdown)


def test_a_narrower_period_changes_every_figure(seeded) -> None:
    app = open_page("editor")
    app.date_input[0].set_value((date(2026, 11, 16), date(2026, 11, 22))).run()
    assert not app.exception
    shown = tables(app)
    assert shown["Số tin, bài theo nguồn"]["Liên quan"].sum() == 12
    assert rows(shown["Tỉ lệ theo nhãn"], "Nhãn")["Sai lệch"]["Số tin, bài"] == 3
    assert list(rows(shown["HTX được nhắc đến nhiều nhất"], "Tên")) == ["HTX Tân Phú", "Quỹ tín dụng nhân dân An Bình"]
    assert rows(shown["HTX được nhắc đến nhiều nhất"], "Tên")["HTX Tân Phú"]["Số tin, bài"] == 2


def test_english_switch(seeded) -> None:
    app = open_page("admin", lang="en")
    assert not app.exception
    assert app.header[0].value == "Coverage"
    shown = tables(app)
    assert "Items per outlet" in shown and "Share of voice by label" in shown
    assert "Critical" in set(shown["Share of voice by label"]["Label"])
    assert {d.proto.label for d in app.get("download_button")} == {"Download CSV"}


def test_monitors_are_refused(seeded) -> None:
    app = open_page("monitor")
    assert [e.value for e in app.error] == ["Tài khoản của bạn không có quyền xem trang này."]
    assert any("giám sát viên không xem được" in c.value for c in app.caption)
    assert not app.dataframe and not app.get("download_button")


def test_only_plain_web_links_are_offered(seeded, engine) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(StoryCluster).where(StoryCluster.size == 3).values(first_url="javascript:alert(1)"))
    stories = coverage_queries._syndication(engine, date(2026, 11, 1), date(2026, 11, 30))
    assert stories["url"].isna().tolist() == [True, False]
    assert stories["url"].iloc[1] == "https://baoA.example.vn/"


def test_the_app_routes_leaders_to_both_pages_and_monitors_to_neither(seeded, engine) -> None:
    add_user(engine, "lanhdao", "leader", "mat-khau-dai")
    add_user(engine, "giamsat", "monitor", "mat-khau-dai")
    for user, allowed in (("lanhdao", True), ("giamsat", False)):
        app = AppTest.from_file(APP, default_timeout=60).run()
        app.text_input[0].input(user)
        app.text_input[1].input("mat-khau-dai")
        app.button[0].click().run()
        for page, header in (("views/coverage.py", "Độ phủ"), ("views/weekly_report.py", "Báo cáo tuần")):
            if allowed:
                app.switch_page(page).run()
                assert not app.exception and app.header[0].value == header
            else:
                with pytest.raises(ValueError, match="Could not find a navigation page"):
                    app.switch_page(page)
