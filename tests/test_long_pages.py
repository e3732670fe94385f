"""The trained model on real-length pages: a story anywhere on a page is found, passing
mentions go to the low-priority review lane, and the gate lets colloquial and English terms in."""
from __future__ import annotations

import json
from pathlib import Path

from models.contract import ClassifyInput
from models.persistence import CARD_FILE

UNRELATED = [
    "Chiều nay, giá xăng dầu trong nước được điều chỉnh theo kỳ điều hành mới, xăng sinh học tăng "
    "khoảng ba trăm đồng mỗi lít, dầu diesel giữ nguyên so với kỳ trước.",
    "Tại thành phố, mưa lớn kéo dài từ trưa khiến nhiều tuyến đường ngập sâu, giao thông ùn tắc "
    "đến tối; lực lượng chức năng đã bố trí người phân luồng tại các giao lộ.",
    "Đội tuyển bóng đá nữ quốc gia bước vào đợt tập trung chuẩn bị cho giải khu vực, ban huấn luyện "
    "triệu tập hai mươi lăm cầu thủ, trong đó có năm gương mặt mới.",
    "Ngành giáo dục công bố lịch thi tốt nghiệp năm nay, thí sinh làm bài trong hai ngày với bốn "
    "môn, kết quả dự kiến được công bố vào cuối tháng sau.",
]
STORY = ("Hợp tác xã Nông nghiệp Thuận Phát (Đồng Tháp) vừa ký hợp đồng bao tiêu 300 tấn lúa chất "
         "lượng cao với một doanh nghiệp xuất khẩu. Giám đốc hợp tác xã cho biết nhờ liên kết chuỗi, "
         "thu nhập bình quân của thành viên năm nay tăng gần 30% so với năm trước, hợp tác xã được "
         "tỉnh chọn làm mô hình điểm để nhân rộng.")


def _digest(story_at: int) -> str:
    paragraphs = UNRELATED * 3
    paragraphs.insert(story_at, STORY)
    return "\n".join(paragraphs)


def test_a_story_anywhere_in_a_digest_makes_the_page_relevant_and_is_the_passage_shown(classifier) -> None:
    for at in (0, 6, 12):
        text = _digest(at)
        result = classifier.classify([ClassifyInput("d", "Bản tin tổng hợp cuối ngày", text)])[0]
        assert result.relevant, at
        assert result.passage is not None
        start, end = result.passage
        assert STORY in text[start:end]


def test_the_same_page_without_the_story_stays_out_quietly(classifier) -> None:
    text = "\n".join(UNRELATED * 3)
    result = classifier.classify([ClassifyInput("d", "Bản tin tổng hợp cuối ngày", text)])[0]
    assert not result.relevant and not result.needs_review


def test_a_page_naming_a_cooperative_only_in_passing_is_never_a_silent_rejection(classifier) -> None:
    aside = ("Theo người dân địa phương, nạn nhân từng làm bảo vệ cho một hợp tác xã trong vùng, "
             "sống hiền lành và ít giao du.")
    text = "\n".join([*UNRELATED * 2, aside, *UNRELATED])
    result = classifier.classify([ClassifyInput("p", "Điều tra vụ việc tại thành phố", text)])[0]
    assert not result.relevant and result.reasons
    assert result.confidence < 0.99  # the model's own measure, not the gate's certainty


def test_a_page_the_passing_mention_rule_rejects_goes_to_the_low_review_lane(classifier) -> None:
    listing = "Doanh nghiệp, hợp tác xã và hộ kinh doanh nộp tờ khai trước ngày 30 hằng tháng."
    text = "\n".join([*UNRELATED * 2, listing, *UNRELATED])
    result = classifier.classify([ClassifyInput("p", "Lịch nộp thuế tháng này", text)])[0]
    assert not result.relevant and result.needs_review and result.confidence < 0.99
    assert "nhắc" in result.reasons[0]


def test_colloquial_credit_fund_and_english_items_pass_the_gate(classifier) -> None:
    items = [ClassifyInput("q", "", "Quỹ tín dụng ở xã mình bây giờ gửi tiết kiệm 12 tháng lãi bao nhiêu vậy mọi người?",
                           "social"),
             ClassifyInput("e", "Cooperatives in the Mekong Delta",
                           "A rice cooperative in Dong Thap signed a three-year contract with an exporter, "
                           "raising members' incomes, the Vietnam Cooperative Alliance said.")]
    for result in classifier.classify(items):
        assert result.confidence < 0.99 or result.relevant


def test_training_writes_the_review_threshold_it_measured(model_dir: Path, classifier) -> None:
    card = json.loads((model_dir / CARD_FILE).read_text(encoding="utf-8"))
    assert 0.4 <= card["review_threshold"] <= 0.9
    assert classifier.review_threshold == card["review_threshold"]
    assert 0 < card["review_routing"]["items_routed"] <= 1
