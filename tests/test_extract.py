import json
from datetime import datetime

import pytest

from crawlers.demosite.content import OUTLETS
from pipeline.ingest.extract import ExtractionError, extract_article
from tests.conftest import shared_path
from tests.helpers import VN, WIRE_BODY, article_html, make_article


@pytest.mark.parametrize("outlet", sorted(OUTLETS))
def test_demo_pages_give_title_date_lead_and_body_without_clutter(outlet: str) -> None:
    article = make_article("hoi-nghi", outlet=outlet)
    page = extract_article(article_html(article))
    assert page.title == article.title
    # Every outlet style (meta, JSON-LD, two byline formats) yields the publication time,
    # never the licence date printed in the footer.
    assert page.published_at == datetime(2026, 11, 12, 9, 30, tzinfo=VN)
    assert page.lead == article.sapo
    assert WIRE_BODY[0] in page.text
    assert "Ý kiến bạn đọc" not in page.text and "Bài viết rất hữu ích" not in page.text
    assert "Giấy phép" not in page.text
    assert page.language == "vi"


def test_licence_line_date_is_never_taken_as_publication_date() -> None:
    html = article_html(make_article("x", outlet="baotinhbinhminh")).replace(
        '<span class="date">', '<span class="date-hidden">'
    ).replace("Thứ năm, 12/11/2026, 09:30 (GMT+7)", "")
    assert extract_article(html).published_at is None


@pytest.mark.parametrize("html", ["", "   ", "<html><body><nav>Menu</nav></body></html>"])
def test_pages_without_article_text_raise_a_clear_error(html: str) -> None:
    with pytest.raises(ExtractionError):
        extract_article(html)


def test_real_vnexpress_page_matches_its_reference() -> None:
    html = shared_path("html", "VnExpress_2025_10_22.html").read_text(encoding="utf-8")
    expected = json.loads(shared_path("html", "VnExpress.expected.json").read_text(encoding="utf-8"))["V1"]
    page = extract_article(html)
    assert page.title == expected["title"]
    assert page.lead == expected["body"]["summary"][0]
    first_paragraph = expected["body"]["sections"][0]["paragraphs"][0]
    assert first_paragraph in page.text
    assert page.published_at is not None
    assert page.published_at.date().isoformat() == expected["publishing_date"][:10]
