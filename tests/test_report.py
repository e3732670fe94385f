"""Weekly report: ISO weeks in Vietnam time, figures on a seeded database, the three formats."""
from __future__ import annotations

import base64
import io
import re
from datetime import date, datetime, timezone

import pytest
import streamlit as st
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import update
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from models.narratives import load_library
from tests.helpers import signed_in_as
from pipeline.ingest import runtime
from pipeline.cli import main
from pipeline.core.config import REPO_ROOT
from pipeline.core.db import make_engine, migrate
from pipeline.core.health import source_health
from pipeline.report.build import Figure, build_report
from pipeline.report.render import to_html, to_markdown
from pipeline.core.schema import Item, utcnow
from pipeline.core.weeks import Week, WeekError
from tests.report_seed import NARRATIVE, SCRIPT_TITLE, seed_report_data

W47 = Week(2026, 47)
LIBRARY = REPO_ROOT / "data" / "narratives.yaml"


@pytest.fixture
def seeded(engine):
    seed_report_data(engine)
    return engine


@pytest.fixture
def cli_env(monkeypatch, sqlite_url, seeded):
    monkeypatch.setenv("COOPWATCH_DATABASE_URL", sqlite_url)
    runtime.shared_engine.cache_clear()
    yield
    runtime.shared_engine.cache_clear()


def test_weeks_are_iso_weeks_in_vietnam_time() -> None:
    week = Week.parse("2026-W47")
    assert week == W47 and str(week) == "2026-W47"
    assert week.start == datetime(2026, 11, 15, 17, 0, tzinfo=timezone.utc)  # Monday 00:00 UTC+7
    assert week.end == datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)
    assert Week.containing(datetime(2026, 11, 22, 16, 59, tzinfo=timezone.utc)) == W47
    assert Week.containing(datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)) == Week(2026, 48)
    assert str(Week.parse("2026-W01").previous()) == "2025-W52"
    assert str(Week.parse("2021-W01").previous()) == "2020-W53"


@pytest.mark.parametrize("text, message", [
    ("2026-47", "YYYY-Www"), ("2026W47", "YYYY-Www"), ("47", "YYYY-Www"), ("", "YYYY-Www"),
    ("2026-W00", "has no week 0"), ("2025-W53", "has no week 53"), ("2026-W99", "has no week 99"),
])
def test_bad_weeks_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(WeekError, match=message):
        Week.parse(text)


def test_figures_this_week_against_last_week_with_confirmed_counts(seeded) -> None:
    report = build_report(seeded, W47, load_library(LIBRARY))
    assert report.total.this_week == Figure(12, 4) and report.total.last_week == Figure(4, 1)
    assert report.total.this_week.model_only == 8 and report.total.change == 8
    assert report.outlets == 5
    counts = {row.key: (row.this_week, row.last_week) for row in report.labels}
    assert counts == {
        "model_story": (Figure(3, 1), Figure(1, 0)),
        "positive": (Figure(2, 0), Figure(1, 0)),  # dismissed p3 left out; p1's blind second review ignored
        "neutral": (Figure(1, 0), Figure(0, 0)),  # Sunday 23:30 in Vietnam is still this week
        "critical": (Figure(3, 2), Figure(1, 0)),  # c3 relabelled from misleading by a monitor
        "misleading": (Figure(3, 1), Figure(1, 1)),
    }
    sentiments = {row.key: (row.this_week, row.last_week.count) for row in report.sentiments}
    assert sentiments == {"positive": (Figure(5, 1), 2), "neutral": (Figure(1, 0), 0),
                          "negative": (Figure(6, 3), 2)}


def test_top_stories_are_one_row_per_story_by_outlets_carrying_it(seeded) -> None:
    report = build_report(seeded, W47)
    first = report.model_stories[0]
    assert (first.title, first.outlets, first.items) == ("HTX Tân Phú làm giàu từ sầu riêng", 2, Figure(2, 1))
    assert len(report.model_stories) == 2
    [issue] = report.critical_issues
    assert (issue.title, issue.outlets, issue.items) == (SCRIPT_TITLE, 3, Figure(3, 2))


def test_narratives_with_rebuttals_and_confirmed_counts(seeded) -> None:
    report = build_report(seeded, W47, load_library(LIBRARY))
    known, unmatched = report.narratives
    assert known.narrative_id == NARRATIVE and known.items == Figure(2, 1) and known.outlets == 2
    assert known.title == "Vào HTX là bị nhà nước lấy đất" and "Luật Hợp tác xã" in known.legal_reference
    assert unmatched.narrative_id is None and unmatched.items == Figure(1, 0)


def test_caveats_are_the_sources_in_trouble_during_that_week(seeded) -> None:
    caveats = {c.source: c for c in build_report(seeded, W47).caveats}
    assert set(caveats) == {"baoB-rss", "baoC-rss", "baoD-rss"}
    summary = {name: (c.runs, c.failed_runs, c.unhealthy_days, c.healthy_at_end) for name, c in caveats.items()}
    assert summary == {"baoB-rss": (7, 3, 3, False), "baoC-rss": (7, 1, 1, True), "baoD-rss": (7, 0, 1, True)}
    assert caveats["baoB-rss"].problem.failures_in_a_row == 3
    assert caveats["baoD-rss"].problem.new_last_day == 0  # silent, not failing: caught by volume
    # mxh-feed broke only the week after: unhealthy now, but not a caveat for 2026-W47.
    later = {h.source: h.healthy for h in source_health(seeded, now=Week(2026, 48).end)}
    assert later["mxh-feed"] is False
    assert {h.source: h.healthy for h in source_health(seeded, now=W47.end)}["mxh-feed"] is True


def test_an_empty_week_still_makes_a_report(seeded) -> None:
    report = build_report(seeded, Week(2026, 30))
    assert report.total.this_week == Figure() and not report.model_stories and not report.caveats
    assert "Không có trong tuần." in to_markdown(report)


def test_item_text_is_escaped_in_markdown_and_html(seeded) -> None:
    report = build_report(seeded, W47)
    page = to_html(report)
    markdown = to_markdown(report)
    assert "<script" not in page and "<script" not in markdown
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Thành viên HTX" in page
    assert "&lt;script&gt;alert('x')&lt;/script&gt; Thành viên HTX" in markdown


def test_only_plain_web_links_are_rendered(seeded) -> None:
    with Session(seeded) as session, session.begin():
        session.execute(update(Item).where(Item.title.startswith("<script>")).values(url="javascript:alert(1)"))
    report = build_report(seeded, W47)
    assert report.critical_issues[0].url == "javascript:alert(1)"
    page, markdown = to_html(report), to_markdown(report)
    assert "javascript:" not in page and "javascript:" not in markdown
    assert '<a href="https://baoA.example.vn/bai-1.html">' in page


def test_report_and_coverage_queries_on_postgresql(postgres_url: str) -> None:
    from dashboard import coverage_queries

    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        seed_report_data(engine)
        report = build_report(engine, W47, load_library(LIBRARY))
        assert report.total.this_week == Figure(12, 4) and report.total.last_week == Figure(4, 1)
        assert report.label("critical").this_week == Figure(3, 2)
        assert (report.critical_issues[0].outlets, report.narratives[0].items) == (3, Figure(2, 1))
        assert {c.source for c in report.caveats} == {"baoB-rss", "baoC-rss", "baoD-rss"}
        period = (date(2026, 10, 25), date(2026, 11, 23))
        assert coverage_queries._data_window(engine) == period
        stories = coverage_queries._syndication(engine, *period)
        assert list(stories["carried_by"]) == ["baoA, baoB, baoC", "baoA, baoB"]
        provinces = coverage_queries._group_counts(engine, *period, "province", lambda _: Item.province)
        assert provinces["province"].isna().tolist() == [False, False, False, True]  # unknown last
        assert provinces["items"].sum() == 17
        assert coverage_queries._share_of_voice(engine, *period)["items"].sum() == 17
        assert coverage_queries._top_cooperatives(engine, *period)["items"].tolist() == [3, 1]
        assert coverage_queries._pickups(engine, *period).values.tolist() == [["baoA", "baoB", 2], ["baoA", "baoC", 1]]
    finally:
        engine.dispose()


def test_cli_writes_markdown_with_the_headline_figures(cli_env, tmp_path) -> None:
    path = tmp_path / "bao-cao.md"
    result = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--format", "md", "--output", str(path)])
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Báo cáo tuần 2026-W47")
    assert "Tin, bài liên quan: 12 (4 đã xác nhận, 8 chỉ do máy); tuần trước 4 (+8)" in text
    assert "| Sai lệch | 3 | 1 | 2 | 1 | +2 |" in text
    assert "| Tiêu cực | 6 | 3 | 3 | 2 | +4 |" in text
    assert "| baoB-rss | baoB | 7 | 3 | 3/7 | lỗi 3 lượt liên tiếp | có sự cố |" in text
    assert "| baoD-rss | baoD | 7 | 0 | 1/7 | chỉ 0 tin mới trong 24 giờ, thấp xa mức thường 2,0 tin/ngày | bình thường |" in text


def test_cli_writes_english_on_request(cli_env, tmp_path) -> None:
    path = tmp_path / "report.md"
    result = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--lang", "en", "--output", str(path)])
    assert result.exit_code == 0, result.output
    assert "Relevant items: 12 (4 confirmed, 8 model only); last week 4 (+8)" in path.read_text(encoding="utf-8")


def test_cli_writes_self_contained_html_with_embedded_charts(cli_env, tmp_path) -> None:
    path = tmp_path / "bao-cao.html"
    result = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--format", "html", "--output", str(path)])
    assert result.exit_code == 0, result.output
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert not re.search(r"""(src|href)=["'](?!data:|https?://\w+\.example\.vn/)""", page)
    assert "<link" not in page and "<script" not in page
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2 and all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "12 (4 đã xác nhận, 8 chỉ do máy)" in page


def test_cli_writes_pdf_with_vietnamese_text_and_charts(cli_env, tmp_path) -> None:
    path = tmp_path / "bao-cao.pdf"
    result = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--format", "pdf", "--output", str(path)])
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for phrase in ("Báo cáo tuần 2026-W47", "Tin, bài liên quan: 12 (4 đã xác nhận, 8 chỉ do máy)",
                   "Phản ánh, phê bình", "Luận điệu sai lệch đang lan truyền", "Vào HTX là bị nhà nước lấy đất",
                   "Lưu ý về độ phủ"):
        assert phrase in text
    assert sum(len(page.images) for page in reader.pages) == 2


def test_cli_refuses_a_bad_week_and_writes_nothing(cli_env, tmp_path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "bao-cao.md"
    path.write_text("báo cáo cũ", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--week", "2026-47", "--output", str(path)])
    assert result.exit_code != 0
    assert "week '2026-47' must be written as YYYY-Www, e.g. 2026-W47" in result.output
    assert path.read_text(encoding="utf-8") == "báo cáo cũ"
    missing = CliRunner().invoke(main, ["report", "--week", "2026-W47", "--output", str(folder / "no" / "x.md")])
    assert missing.exit_code != 0 and "does not exist" in missing.output
    assert list(folder.iterdir()) == [path]


# --- the dashboard page (Báo cáo tuần) ---------------------------------------------------------

PAGE = str(REPO_ROOT / "dashboard" / "views" / "weekly_report.py")


@pytest.fixture
def page_env(cli_env):
    # Streamlit's caches live as long as the process: another test's database must not leak in.
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(role: str, lang: str = "vi", week: str | None = "2026-W47") -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=60)
    signed_in_as(app, "test", role)
    app.session_state["lang"] = lang
    app.run()
    if week and app.selectbox:
        app.selectbox[0].set_value(week).run()
    return app


def test_page_shows_the_week_with_confirmed_counts_and_three_downloads(page_env) -> None:
    app = open_page("leader")
    assert not app.exception and not app.error
    assert app.header[0].value == "Báo cáo tuần"
    # From the oldest item's week to the current one (weeks after the data are offered and say so).
    assert app.selectbox[0].options[-3:] == ["2026-W48", "2026-W47", "2026-W46"]
    assert app.selectbox[0].options[0] == str(Week.containing(utcnow()))
    assert any("Dữ liệu hiện có đến ngày" in c.value for c in app.caption)
    metrics = {m.label: (m.value, m.proto.delta, m.proto.help) for m in app.metric}
    assert metrics["Tin, bài liên quan"] == ("12", "8", "12 (4 đã xác nhận, 8 chỉ do máy)")
    assert metrics["Tin sai lệch"] == ("3", "2", "3 (1 đã xác nhận, 2 chỉ do máy)")
    assert metrics["Số nguồn đăng tải"][0] == "5"
    assert [d.proto.label for d in app.get("download_button")] == ["Tải Markdown", "Tải HTML", "Tải PDF"]
    tables = dict(zip([h.value for h in app.subheader if h.value != "Điểm chính"], app.dataframe))
    labels = tables["Theo nhãn, so với tuần trước"].value.set_index("Nhóm")
    assert labels.loc["Sai lệch"].tolist() == ["3", "1", "2", "1", "+2"]
    issues = tables["Vấn đề được phản ánh nhiều"].value
    assert issues["Tin, bài"].iloc[0] == SCRIPT_TITLE  # shown as text, not run
    assert not any("<script" in m.value for m in app.markdown)
    assert len(app.get("image")) == 2


def test_page_switches_week_and_language(page_env) -> None:
    app = open_page("editor", lang="en", week="2026-W46")
    assert not app.exception
    assert app.header[0].value == "Weekly report"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Relevant items"] == "4" and metrics["Misleading items"] == "1"
    assert [d.proto.label for d in app.get("download_button")] == [
        "Download Markdown", "Download HTML", "Download PDF"]


def test_page_refuses_monitors(page_env) -> None:
    app = open_page("monitor", week=None)
    assert [e.value for e in app.error] == ["Tài khoản của bạn không có quyền xem trang này."]
    assert any("giám sát viên không xem được" in c.value for c in app.caption)
    assert not app.metric and not app.get("download_button") and not app.selectbox


def test_a_week_without_data_says_so_and_draws_no_chart(page_env) -> None:
    from pipeline.report.build import NO_DATA
    from pipeline.report.render import to_markdown

    engine = runtime.shared_engine()
    report = build_report(engine, Week.parse("2030-W01"))
    assert report.status == NO_DATA and not report.has_data
    text = to_markdown(report)
    assert "không có dữ liệu" in text and "bình thường" not in text
    assert "Thu thập từng ngày" in text
    assert "![" not in text  # no chart of zeros


def test_the_unfinished_week_is_marked_provisional_with_its_daily_collection(page_env) -> None:
    from pipeline.report.build import PROVISIONAL
    from pipeline.report.render import to_markdown

    week = Week.parse("2026-W47")
    report = build_report(runtime.shared_engine(), week, now=week.start + (week.end - week.start) / 2)
    assert report.status == PROVISIONAL
    assert "Tuần chưa kết thúc" in to_markdown(report)
    assert len(report.coverage) == 7 and sum(d.items for d in report.coverage) > 0
