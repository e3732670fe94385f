"""The weekly report's words: Vietnamese first, English as an option."""
from __future__ import annotations

from typing import Optional

LANGUAGES = ("vi", "en")

TEXT = {
    "vi": {
        "title": "Báo cáo tuần {week}",
        "period": "Từ {first} đến {last} (giờ Việt Nam). Lập lúc {generated}.",
        "confirmed_note": (
            "Mỗi con số ghi rõ bao nhiêu tin, bài đã được giám sát viên xác nhận; phần còn lại "
            "là kết quả phân loại tự động, chưa ai kiểm tra."
        ),
        "headline": "Điểm chính",
        "total": "Tin, bài liên quan",
        "outlets": "Số nguồn đăng tải",
        "misleading_total": "Tin sai lệch",
        "critical_total": "Phản ánh, phê bình",
        "by_sentiment": "Theo sắc thái, so với tuần trước",
        "by_label": "Theo nhãn, so với tuần trước",
        "key": "Nhóm",
        "this_week": "Tuần này",
        "last_week": "Tuần trước",
        "change": "Chênh lệch",
        "confirmed": "Đã xác nhận",
        "model_only": "Chỉ do máy",
        "model_stories": "Mô hình điển hình nổi bật",
        "critical_issues": "Vấn đề được phản ánh nhiều",
        "story": "Tin, bài",
        "outlet": "Nguồn",
        "carried_by": "Số nguồn đăng",
        "items": "Số tin, bài",
        "none": "Không có trong tuần.",
        "narratives": "Luận điệu sai lệch đang lan truyền",
        "narrative": "Luận điệu",
        "rebuttal": "Phản bác",
        "legal_reference": "Căn cứ pháp lý",
        "unmatched": "Tin sai lệch chưa khớp luận điệu đã biết",
        "caveats": "Lưu ý về độ phủ",
        "caveats_none": "Mọi nguồn đều thu thập bình thường trong tuần.",
        "caveats_no_runs": "Không có lượt thu thập nào trong tuần: không thể nói các nguồn có thu thập đủ hay không.",
        "status_no_data": ("Tuần này không có dữ liệu: không có lượt thu thập nào và không có tin, bài nào. "
                           "Các con số bằng 0 vì thiếu dữ liệu, không phải vì không có tin."),
        "status_provisional": "Tuần chưa kết thúc: số liệu tạm tính đến {generated}, sẽ còn thay đổi.",
        "coverage": "Thu thập từng ngày",
        "day": "Ngày",
        "sources_run": "Số nguồn đã chạy",
        "fetched": "Trang đã tải",
        "caveats_intro": "Các nguồn dưới đây gặp sự cố nên số liệu có thể thiếu:",
        "source": "Nguồn thu thập",
        "runs": "Lượt thu thập",
        "failed_runs": "Lượt lỗi",
        "unhealthy_days": "Số ngày có sự cố",
        "problem": "Sự cố gần nhất",
        "status_end": "Cuối tuần",
        "healthy": "bình thường",
        "unhealthy": "có sự cố",
        "reason_failures": "lỗi {count} lượt liên tiếp",
        "reason_low": "chỉ {new} tin mới trong 24 giờ, thấp xa mức thường {norm} tin/ngày",
        "figure": "{count} ({confirmed} đã xác nhận, {model_only} chỉ do máy)",
        "chart_labels": "Số tin, bài theo nhãn",
        "chart_confirmed": "Tuần này: đã xác nhận và chỉ do máy",
        "positive": "Tích cực", "neutral": "Trung tính", "negative": "Tiêu cực",
    },
    "en": {
        "title": "Weekly report {week}",
        "period": "{first} to {last} (Vietnam time). Generated {generated}.",
        "confirmed_note": (
            "Every figure says how many items a monitor has confirmed; the rest are the "
            "classifier's labels that nobody has checked yet."
        ),
        "headline": "Headlines",
        "total": "Relevant items",
        "outlets": "Outlets",
        "misleading_total": "Misleading items",
        "critical_total": "Critical items",
        "by_sentiment": "By sentiment, against last week",
        "by_label": "By label, against last week",
        "key": "Group",
        "this_week": "This week",
        "last_week": "Last week",
        "change": "Change",
        "confirmed": "Confirmed",
        "model_only": "Model only",
        "model_stories": "Top model stories",
        "critical_issues": "Main critical issues",
        "story": "Story",
        "outlet": "Outlet",
        "carried_by": "Outlets carrying",
        "items": "Items",
        "none": "None this week.",
        "narratives": "Active misleading narratives",
        "narrative": "Narrative",
        "rebuttal": "Rebuttal",
        "legal_reference": "Legal reference",
        "unmatched": "Misleading items matching no known narrative",
        "caveats": "Coverage caveats",
        "caveats_none": "Every source was crawled normally this week.",
        "caveats_no_runs": "No crawl ran this week: nothing can be said about whether sources were collected in full.",
        "status_no_data": ("No data for this week: no crawl ran and no item was stored. The figures are "
                           "zero for lack of data, not for lack of news."),
        "status_provisional": "The week is not over: figures are provisional as of {generated} and will change.",
        "coverage": "Collection day by day",
        "day": "Day",
        "sources_run": "Sources run",
        "fetched": "Pages fetched",
        "caveats_intro": "These sources had trouble, so figures may be missing items:",
        "source": "Source",
        "runs": "Crawl runs",
        "failed_runs": "Failed runs",
        "unhealthy_days": "Days unhealthy",
        "problem": "Latest problem",
        "status_end": "At week end",
        "healthy": "healthy",
        "unhealthy": "unhealthy",
        "reason_failures": "failed {count} runs in a row",
        "reason_low": "only {new} new items in 24 hours, far below its usual {norm}/day",
        "figure": "{count} ({confirmed} confirmed, {model_only} model only)",
        "chart_labels": "Items per label",
        "chart_confirmed": "This week: confirmed and model only",
        "positive": "Positive", "neutral": "Neutral", "negative": "Negative",
    },
}

LABEL_NAMES = {
    "vi": {"model_story": "Mô hình điển hình", "positive": "Tích cực", "neutral": "Trung tính",
           "critical": "Phản ánh, phê bình", "misleading": "Sai lệch"},
    "en": {"model_story": "Model story", "positive": "Positive", "neutral": "Neutral",
           "critical": "Critical", "misleading": "Misleading"},
}


def check_language(lang: str) -> str:
    """The language if the report speaks it, else a clear error."""
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    return lang


def rt(key: str, lang: str = "vi", **values: object) -> str:
    """Report text for a key, with values filled in."""
    text = TEXT.get(lang, TEXT["vi"]).get(key) or TEXT["vi"][key]
    return text.format(**values) if values else text


def label_text(label: Optional[str], lang: str = "vi") -> str:
    """Display name of a label (the dashboard's names, kept here so reports need no UI code)."""
    return LABEL_NAMES.get(lang, LABEL_NAMES["vi"]).get(label or "", str(label))
