"""Dashboard pages run with Streamlit's AppTest on a seeded database."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import pytest
import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from tests.helpers import signed_in_as
from pipeline.core.health import record_run
from pipeline.core.schema import CrawlRun, Item, StoryCluster, utcnow
from pipeline.core.users import add_user

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"
APP = str(DASHBOARD / "app.py")
OVERVIEW = str(DASHBOARD / "views" / "overview.py")
SOURCES = str(DASHBOARD / "views" / "sources.py")
SCRIPT_TITLE = "<script>alert('x')</script> HTX rau sạch mở rộng vùng trồng"
UTC = timezone.utc


def utc(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


# (outlet, kind, label, sentiment, province, sector, published_at UTC, story, needs_review, title)
ITEMS: list[tuple[str, str, Optional[str], Optional[str], Optional[str], Optional[str],
                  Optional[datetime], Optional[str], bool, str]] = [
    ("tuoitre", "news", "positive", "positive", "Hà Nội", "agriculture", utc(18, 2), "A", False, SCRIPT_TITLE),
    ("vnexpress", "news", "positive", "positive", "Hà Nội", "agriculture", utc(18, 5), "A", False, "HTX rau sạch mở rộng"),
    ("dantri", "news", "neutral", "neutral", "Hà Nội", "agriculture", utc(18, 8), "A", False, "Rau sạch Hà Nội"),
    ("nhandan", "news", "critical", "negative", "Cà Mau", "aquaculture", utc(19, 3), "B", False, "HTX tôm nợ lương"),
    ("nhandan", "news", "critical", "negative", "Cà Mau", "aquaculture", utc(19, 4), "B", False, "HTX tôm nợ lương (tiếp)"),
    # 23:30 UTC on the 19th is 06:30 on the 20th in Hà Nội: it counts for the 20th.
    ("facebook:cho-que", "social", "misleading", "negative", "Cà Mau", "credit",
     datetime(2026, 11, 19, 23, 30, tzinfo=UTC), None, True, "Quỹ tín dụng sắp vỡ"),
    ("vov", "news", None, None, None, None, utc(20, 1), None, False, "Giá vàng hôm nay"),
    # No publication time: it counts at its fetch time (02:00 UTC on the 20th).
    ("facebook:nong-dan", "social", "neutral", "neutral", "Hà Nội", None, None, None, True, "Hỏi về HTX"),
    # Two months earlier: outside the default 30-day period.
    ("tuoitre", "news", "model_story", "positive", "Hà Nội", "agriculture", utc(1, 2, month=9), None, False,
     "HTX kiểu mới điển hình"),
]


def seed_items(engine) -> None:
    with Session(engine) as session, session.begin():
        stories = {
            "A": StoryCluster(first_outlet="tuoitre", first_url="https://tuoitre.example.vn/0.html",
                              first_seen_at=utc(18, 2), size=3),
            "B": StoryCluster(first_outlet="nhandan", first_url="https://nhandan.example.vn/3.html",
                              first_seen_at=utc(19, 3), size=2),
        }
        for n, (outlet, kind, label, sentiment, province, sector, published, story, review, title) in enumerate(ITEMS):
            url = f"https://{outlet.replace(':', '-')}.example.vn/{n}.html"
            session.add(Item(
                url=url, canonical_url=url, source=f"{outlet}_feed", outlet=outlet, kind=kind,
                title=title, text=title, text_folded=title.lower(), published_at=published,
                fetched_at=published + timedelta(minutes=20) if published else utc(20, 2),
                content_hash=f"{n:064d}", cluster=stories[story] if story else None,
                relevant=label is not None, label=label, sentiment=sentiment,
                confidence=0.4 if review else 0.9, needs_review=review, province=province, sector=sector,
            ))


def seed_runs(engine) -> None:
    now = utcnow()
    for hours in (3, 2, 1):
        started = now - timedelta(hours=hours)
        record_run(engine, CrawlRun(source="bao_loi_rss", outlet="Báo Lỗi", started_at=started,
                                    finished_at=started, fetched=1, new=0, duplicate=0, failed=1,
                                    errors=["HTTP 500 for https://baoloi.example.vn/rss"]))
    started = now - timedelta(hours=1)
    record_run(engine, CrawlRun(source="bao_tot_rss", outlet="Báo Tốt", started_at=started,
                                finished_at=started, fetched=6, new=5, duplicate=1, failed=0, errors=[]))


@pytest.fixture
def seeded(monkeypatch, sqlite_url, engine) -> str:
    seed_items(engine)
    seed_runs(engine)
    monkeypatch.setenv("COOPWATCH_DATABASE_URL", sqlite_url)
    # Streamlit's caches (the engine included) live in this process across tests; each test
    # has its own database.
    st.cache_data.clear()
    st.cache_resource.clear()
    return sqlite_url


def signed_in(script: str = APP, role: str = "editor", lang: Optional[str] = None) -> AppTest:
    """The app (or one page) as a signed-in user, without the password round trip."""
    app = AppTest.from_file(script, default_timeout=60)
    signed_in_as(app, "lan", role)
    if lang is not None:
        app.session_state["lang"] = lang
    return app.run()


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_login_is_required_and_wrong_passwords_are_refused(seeded, engine) -> None:
    add_user(engine, "lan", "monitor", "mat-khau-dai")
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    assert app.text_input[0].label == "Tên đăng nhập"
    assert not app.metric  # nothing of the data before signing in
    app.text_input[0].input("lan")
    app.text_input[1].input("sai-mat-khau")
    app.button[0].click().run()
    assert any("Sai tên đăng nhập" in e.value for e in app.error)
    assert "role" not in app.session_state
    app.text_input[1].input("mat-khau-dai")
    app.button[0].click().run()
    assert app.session_state["role"] == "monitor"
    assert app.header[0].value == "Rà soát"  # a monitor lands on the review queue


def test_overview_totals_of_the_default_period_by_vietnamese_day(seeded) -> None:
    app = signed_in()
    assert not app.exception
    assert app.header[0].value == "Tổng quan"
    # Default period: the 30 days up to the newest item, so the September item is left out.
    assert app.date_input(key="ov_period").value == (date(2026, 10, 22), date(2026, 11, 20))
    assert metrics(app) == {"Tổng số tin, bài": "8", "Liên quan đến KTTT, HTX": "7",
                            "Cần rà soát": "2", "Sai lệch": "1"}
    table = app.dataframe[0].value
    per_day = table.sum(axis=1).to_dict()
    # The post at 23:30 UTC on the 19th belongs to the 20th in Vietnam.
    assert per_day == {"18/11/2026": 3, "19/11/2026": 2, "20/11/2026": 3}
    assert table.loc["18/11/2026", "Tích cực"] == 2
    assert table.loc["20/11/2026", "Không liên quan"] == 1


def test_filters_change_the_figures(seeded) -> None:
    app = signed_in()
    app.multiselect(key="ov_provinces").set_value(["Cà Mau"]).run()
    assert metrics(app) == {"Tổng số tin, bài": "3", "Liên quan đến KTTT, HTX": "3",
                            "Cần rà soát": "1", "Sai lệch": "1"}
    app.multiselect(key="ov_provinces").set_value([]).run()
    app.multiselect(key="ov_kinds").set_value(["social"]).run()
    assert metrics(app)["Tổng số tin, bài"] == "2"
    app.multiselect(key="ov_kinds").set_value([]).run()
    app.multiselect(key="ov_labels").set_value(["not_relevant", "critical"]).run()
    assert metrics(app)["Tổng số tin, bài"] == "3"
    app.multiselect(key="ov_labels").set_value([]).run()
    app.date_input(key="ov_period").set_value((date(2026, 9, 1), date(2026, 11, 20))).run()
    assert metrics(app)["Tổng số tin, bài"] == "9"
    app.multiselect(key="ov_sectors").set_value(["agriculture"]).run()
    assert metrics(app)["Tổng số tin, bài"] == "4"
    app.multiselect(key="ov_sectors").set_value([]).run()
    # Half-picked range: only the first day chosen so far.
    app.date_input(key="ov_period").set_value((date(2026, 11, 19),)).run()
    assert metrics(app)["Tổng số tin, bài"] == "2"
    assert not app.exception


def test_weekly_volume_by_sentiment(seeded) -> None:
    app = signed_in()
    app.radio(key="ov_per").set_value("week").run()
    app.radio(key="ov_split").set_value("sentiment").run()
    table = app.dataframe[0].value
    assert list(table.index) == ["16/11/2026"]  # the Monday of the week of 18–20 November
    assert table.loc["16/11/2026"].to_dict() == {"Tích cực": 2, "Trung tính": 2, "Tiêu cực": 3,
                                                 "Không liên quan": 1}


def test_top_stories_count_outlets_and_show_titles_literally(seeded) -> None:
    app = signed_in()
    assert app.subheader[0].value == "Tin nổi bật trong kỳ"
    stories = app.dataframe[1].value
    first = stories.iloc[0]
    # Shown as typed, in a dataframe cell (plain text), never as markup on the page.
    assert first["Tiêu đề"] == SCRIPT_TITLE
    assert first["Số cơ quan đăng"] == 3 and first["Số bản"] == 3
    assert first["Đăng đầu tiên"] == "tuoitre"
    assert first["Thời điểm đầu tiên"] == "18/11/2026 09:00"
    second = stories.iloc[1]
    assert (second["Tiêu đề"], second["Số cơ quan đăng"], second["Số bản"]) == ("HTX tôm nợ lương", 1, 2)
    assert len(stories) == 2
    page_markdown = " ".join(str(e.value) for e in (*app.markdown, *app.caption, *app.warning, *app.info))
    assert "<script>" not in page_markdown
    # One outlet's stories still count every outlet that carried them.
    app.multiselect(key="ov_outlets").set_value(["vnexpress"]).run()
    stories = app.dataframe[1].value
    assert list(stories["Tiêu đề"]) == [SCRIPT_TITLE] and stories.iloc[0]["Số cơ quan đăng"] == 3


def test_banner_names_the_unhealthy_source_on_the_overview(seeded) -> None:
    app = signed_in()
    warnings = [w.value for w in app.warning]
    assert len(warnings) == 1
    assert "bao\\_loi\\_rss" in warnings[0] and "lỗi 3 lần thu thập liên tiếp" in warnings[0]
    assert "bao\\_tot\\_rss" not in warnings[0]


def test_overview_in_english(seeded) -> None:
    app = AppTest.from_file(APP, default_timeout=60)
    signed_in_as(app, "lan", "editor")  # editors land on the overview
    app.run()
    app.radio(key="lang_choice").set_value("en").run()
    assert app.header[0].value == "Overview"
    assert metrics(app)["Items"] == "8"
    assert "failed 3 crawls in a row" in app.warning[0].value


def test_sources_page_shows_health_figures(seeded) -> None:
    app = signed_in(SOURCES, role="editor")
    assert not app.exception
    assert app.header[0].value == "Nguồn"
    assert metrics(app) == {"Số nguồn": "2", "Nguồn gặp sự cố": "1"}
    table = app.dataframe[0].value.set_index("Nguồn")
    broken, fine = table.loc["bao_loi_rss"], table.loc["bao_tot_rss"]
    assert list(table.index) == ["bao_loi_rss", "bao_tot_rss"]  # unhealthy first
    assert broken["Tình trạng"] == "Gặp sự cố" and broken["Lỗi liên tiếp"] == 3
    assert broken["Nhận định"] == "lỗi 3 lần thu thập liên tiếp"
    assert broken["Lỗi (28 ngày)"] == 3 and broken["Số lần chạy (28 ngày)"] == 3
    assert "HTTP 500" in broken["Lỗi gần nhất"]
    assert fine["Tình trạng"] == "Bình thường" and fine["Tin mới 24 giờ"] == 5
    assert fine["Tin trùng (28 ngày)"] == 1 and fine["Trang đã tải (28 ngày)"] == 6
    assert "bao\\_loi\\_rss" in app.warning[0].value


def test_sources_page_is_in_the_navigation(seeded) -> None:
    app = signed_in()
    app.switch_page("views/sources.py").run()
    assert not app.exception
    assert app.header[0].value == "Nguồn"


@pytest.mark.parametrize("page", [OVERVIEW, SOURCES])
@pytest.mark.parametrize("role", [None, "guest"])
def test_pages_refuse_a_signed_out_session_or_unknown_role(seeded, page, role) -> None:
    app = AppTest.from_file(page, default_timeout=60)
    if role is not None:
        app.session_state["role"] = role
    app.run()
    assert [e.value for e in app.error] == ["Tài khoản của bạn không có quyền xem trang này."]
    assert not app.metric and not app.dataframe and not app.warning


def test_migrations_create_the_period_index(engine) -> None:
    # Alembic cannot reflect expression indexes on SQLite, so a later migration that recreates
    # the items table could drop it silently; the period queries depend on it.
    query = {"sqlite": "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'ix_items_seen_at'",
             "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_items_seen_at'"}
    with engine.connect() as connection:
        sql = connection.exec_driver_sql(query[engine.dialect.name]).scalar()
    assert sql is not None and "coalesce(published_at, fetched_at)" in sql.lower()


def test_wide_periods_scan_and_narrow_ones_use_the_index_with_the_same_figures(seeded, engine, monkeypatch) -> None:
    from dashboard import queries

    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner only: PostgreSQL chooses between index and scan itself")

    filters = queries.Filters(start=date(2026, 11, 19), end=date(2026, 11, 20))
    results = {}
    for share in (0.0, 1.0):  # 0.0: every period counts as wide (scan); 1.0: none does (index)
        monkeypatch.setattr(queries, "WIDE_PERIOD_SHARE", share)
        plan = queries._where(select(Item.id), filters, queries._period_column(engine, filters))
        sql = str(plan.compile(engine, compile_kwargs={"literal_binds": True}))
        with engine.connect() as connection:
            steps = " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        assert ("ix_items_seen_at" in steps) == (share == 1.0)
        results[share] = (queries._volume(engine, filters), queries._top_stories(engine, filters))
    (wide_volume, wide_top), (narrow_volume, narrow_top) = results[0.0], results[1.0]
    assert wide_volume.equals(narrow_volume) and wide_top.equals(narrow_top)
    assert int(wide_volume["count"].sum()) == 5


def test_overview_queries_on_postgresql(postgres_url) -> None:
    from dashboard import queries
    from pipeline.core.db import make_engine, migrate

    migrate(postgres_url)
    pg = make_engine(postgres_url)
    try:
        seed_items(pg)
        assert queries._date_bounds(pg) == (date(2026, 9, 1), date(2026, 11, 20))
        filters = queries.default_filters(queries._date_bounds(pg))
        volume = queries._volume(pg, filters)
        per_day = volume.groupby(volume["day"].dt.strftime("%d/%m"))["count"].sum().to_dict()
        assert per_day == {"18/11": 3, "19/11": 2, "20/11": 3}  # Vietnamese days, as on SQLite
        top = queries._top_stories(pg, filters)
        assert list(top["title"]) == [SCRIPT_TITLE, "HTX tôm nợ lương"] and list(top["outlets"]) == [3, 1]
        assert queries._filter_options(pg)["provinces"] == ["Cà Mau", "Hà Nội"]
    finally:
        pg.dispose()


def test_a_spike_alert_is_shown_once_on_the_overview(seeded, engine) -> None:
    from datetime import datetime, timedelta, timezone

    from sqlalchemy.orm import Session

    from pipeline.core.schema import Alert

    now = datetime.now(timezone.utc)
    with Session(engine) as session, session.begin():
        first = Alert(kind="negative", subject="all", window_start=now - timedelta(hours=6),
                      window_end=now, count=22, total=25, norm_mean=2.5, norm_sd=1.0, threshold=10,
                      email_status="sent", webhook_status="off")
        session.add(first)
        session.flush()
        # The spike running on into the next window is recorded but is not a second alert.
        session.add(Alert(kind="negative", subject="all", window_start=now, window_end=now + timedelta(hours=6),
                          count=12, total=14, norm_mean=2.5, norm_sd=1.0, threshold=10,
                          continues_id=first.id, email_status="off", webhook_status="off"))
        # An old alert is no longer shown.
        session.add(Alert(kind="negative", subject="all", window_start=now - timedelta(days=9),
                          window_end=now - timedelta(days=9) + timedelta(hours=6), count=30, total=30,
                          norm_mean=2.0, norm_sd=1.0, threshold=10, email_status="sent",
                          webhook_status="off", created_at=now - timedelta(days=9)))
    app = signed_in()
    errors = [e.value for e in app.error]
    assert len(errors) == 1 and "22 tin tiêu cực" in errors[0]
