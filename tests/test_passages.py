"""Units of decision on long pages (codebook rules 4 and 6) and the pages built to test them."""
from __future__ import annotations

import random

from models.corpus import LabelledItem
from models.pages import build_page
from models.passages import PASSAGE_CHARS, WHOLE_ITEM_CHARS, is_story, passages, units
from models.routing import Routing, choose_threshold

FILLER = ("Giá xăng dầu trong nước được điều chỉnh tăng nhẹ từ chiều nay theo kỳ điều hành mới của "
          "liên bộ Công Thương và Tài chính, mức tăng khoảng vài trăm đồng mỗi lít. ") * 2
STORY = ("Hợp tác xã rau an toàn Tân Hòa vừa ký hợp đồng bao tiêu với hai chuỗi siêu thị. "
         "Giám đốc hợp tác xã cho biết thu nhập của thành viên tăng gần gấp rưỡi.")


def _page(*paragraphs: str) -> str:
    return "\n".join(paragraphs)


def test_a_short_item_is_one_unit_whole() -> None:
    found = units("Tiêu đề", STORY)
    assert len(found) == 1 and found[0].head and (found[0].start, found[0].end) == (0, len(STORY))


def test_passages_keep_their_offsets_and_size() -> None:
    text = _page(*([FILLER] * 8))
    found = passages(text)
    assert len(found) > 1
    for unit in found:
        assert text[unit.start:unit.end] == unit.text
        assert len(unit.text) <= PASSAGE_CHARS or "\n" not in unit.text


def test_a_story_deep_in_a_digest_is_a_unit_and_the_unrelated_headline_is_not() -> None:
    text = _page(*([FILLER] * 6), STORY, *([FILLER] * 6))
    assert len(text) > WHOLE_ITEM_CHARS
    found = units("Bản tin sáng: giá xăng tăng nhẹ", text)
    assert [u.head for u in found] == [False]
    assert STORY in found[0].text


def test_a_passing_line_is_not_a_story() -> None:
    aside = ("Vụ cháy xảy ra lúc nửa đêm tại một căn nhà trong hẻm, lực lượng chữa cháy có mặt kịp thời. "
             "Theo người dân, chủ nhà từng là xã viên hợp tác xã cũ, nay đã nghỉ hưu.")
    assert not is_story(aside)
    assert is_story(STORY)
    text = _page(*([FILLER] * 6), aside, *([FILLER] * 6))
    found = units("Cháy nhà trong hẻm", text)
    assert [(u.head, u.strong) for u in found] == [(False, False)]  # judged, but held to a higher bar
    enumeration = "Doanh nghiệp, hợp tác xã và hộ kinh doanh nộp tờ khai trước ngày 30 hằng tháng."
    assert units("Lịch nộp thuế", _page(*([FILLER] * 6), enumeration, *([FILLER] * 6))) == []


def test_a_built_page_carries_the_item_exactly_where_it_says() -> None:
    item = LabelledItem(id="x", title="HTX Tân Hòa ký bao tiêu", text=STORY, kind="news",
                        relevant=True, label="model_story")
    fillers = [(f"Tin {n}", [FILLER, FILLER + str(n), FILLER]) for n in range(5)]
    for shape in ("article_tail", "digest", "forum"):
        page = build_page(item, fillers, random.Random(3), shape)
        start, end = page.story
        assert STORY in page.text[start:end]
        assert len(page.text) >= 2500
        assert page.as_item().label == "model_story" and page.as_item().relevant


def test_the_review_threshold_is_the_lowest_that_meets_the_goal_within_the_item_limit() -> None:
    table = [Routing(0.5, 100, 10, 20, 6), Routing(0.6, 100, 10, 28, 8), Routing(0.7, 100, 10, 40, 9)]
    assert choose_threshold(table).threshold == 0.6
    short = [Routing(0.5, 100, 10, 20, 6), Routing(0.6, 100, 10, 35, 9)]
    assert choose_threshold(short).threshold == 0.5  # the goal cannot be met within 30% of items


def test_folding_by_table_equals_folding_by_decomposition() -> None:
    import unicodedata

    from pipeline.core.normalize import _strip_marks_slowly, strip_marks

    text = ("Hợp tác xã Đồng Tháp, Quỹ tín dụng nhân dân Phú Hòa, thủy sản, Ưu đãi, ỹ Ỹ, "
            "naïve façade Ærø, ǅ")
    for sample in (text, unicodedata.normalize("NFD", text), text.upper()):
        assert strip_marks(sample) == _strip_marks_slowly(sample)
    assert len(strip_marks(text)) == len(text)  # NFC text keeps its length, so offsets hold
