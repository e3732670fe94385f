"""First-stage relevance: passing mentions are rejected, stories about the sector are kept."""
from pathlib import Path

from models.contract import ClassifyInput
from models.relevance_eval import RealNewsItem, evaluate_real_news, score_relevance
from models.relevance import passing_mention, prominence
from tests.conftest import shared_path

EVAL_DIR = Path(__file__).resolve().parent.parent / "data" / "eval"

FILLER = (
    "Theo hướng dẫn mới của cơ quan thuế, người nộp thuế cần kê khai đúng hạn và lưu giữ chứng từ "
    "đầy đủ trong suốt kỳ tính thuế. Các khoản chi phí được trừ phải có hóa đơn hợp lệ và thanh toán "
    "không dùng tiền mặt với giao dịch từ hai mươi triệu đồng trở lên."
)
TAX_EXPLAINER = "\n".join(
    [FILLER] * 3
    + ["Đối tượng áp dụng gồm doanh nghiệp, hợp tác xã, hộ kinh doanh có phát sinh doanh thu."]
    + [FILLER] * 3
)
COOP_STORY = "\n".join([
    "Hợp tác xã Nông nghiệp Tân Phú vừa hoàn thành vụ lúa với năng suất cao nhất từ trước tới nay.",
    FILLER,
    "Giám đốc HTX cho biết nhờ liên kết với doanh nghiệp, giá bán của thành viên tăng 15%.",
    "Năm tới, HTX dự kiến mở rộng vùng nguyên liệu thêm 50 ha và đầu tư máy sấy.",
    FILLER,
])


def test_a_list_of_payers_is_a_passing_mention() -> None:
    assert prominence("", TAX_EXPLAINER).enumerations == 1
    reason = passing_mention("Hướng dẫn kê khai thuế năm nay", TAX_EXPLAINER)
    assert reason is not None


def test_a_story_about_a_cooperative_is_kept() -> None:
    assert passing_mention("Vụ lúa bội thu", COOP_STORY) is None
    # A headline that names the sector makes it the subject, however long the body.
    assert passing_mention("Hợp tác xã và nghĩa vụ thuế", TAX_EXPLAINER) is None


def test_a_short_post_that_names_a_cooperative_is_left_to_the_model() -> None:
    assert passing_mention("", "HTX Tân Phú bán lúa giá cao, bà con phấn khởi.") is None


def test_the_classifier_rejects_the_passing_mention_with_its_reason(classifier) -> None:
    result = classifier.classify([ClassifyInput(id="t", title="Hướng dẫn kê khai thuế",
                                                text=TAX_EXPLAINER, kind="news")])[0]
    assert not result.relevant and result.label is None
    assert result.reasons == [passing_mention("Hướng dẫn kê khai thuế", TAX_EXPLAINER)]


def test_score_counts() -> None:
    items = [RealNewsItem("f", str(n), "", "", truth) for n, truth in enumerate([True, True, False, False])]
    score = score_relevance("x", items, [True, False, True, False])
    assert (score.true_positive, score.false_positive, score.false_negative) == (1, 1, 1)
    assert score.precision == 0.5 and score.recall == 0.5


def test_relevance_on_labelled_real_news(classifier) -> None:
    """Our hand labels of the shared real news (hddtvn: mostly passing mentions)."""
    news_dir = shared_path("real-news")
    scores = {s.name: s for s in evaluate_real_news(classifier, news_dir, EVAL_DIR)}
    for score in scores.values():
        print(score.line())
    hard = scores["hddtvn_coop.jsonl"]
    negatives = hard.n - hard.true_positive - hard.false_negative
    # The tax and labour explainers that list "doanh nghiệp, hợp tác xã" are rejected.
    assert hard.false_positive <= 0.05 * negatives
    overall = scores["all real news"]
    assert overall.recall >= 0.85
    assert overall.precision >= 0.6
    # Articles that never name the sector are never kept.
    assert scores["vietnews_no_coop_sample.jsonl"].false_positive == 0
