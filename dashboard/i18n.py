"""User-facing text: Vietnamese first, English as an option."""
from __future__ import annotations

TEXT = {
    "vi": {
        "app_title": "CoopWatch – Giám sát thông tin kinh tế tập thể",
        "login": "Đăng nhập",
        "username": "Tên đăng nhập",
        "password": "Mật khẩu",
        "login_failed": "Sai tên đăng nhập hoặc mật khẩu.",
        "logout": "Đăng xuất",
        "overview": "Tổng quan",
        "overview_caption": "Số tin, bài theo nhãn và theo ngày đăng",
        "no_items": "Chưa có tin, bài nào trong cơ sở dữ liệu.",
        "total_items": "Tổng số tin, bài",
        "relevant_items": "Liên quan đến KTTT, HTX",
        "flagged_items": "Cần rà soát",
        "day": "Ngày",
        "label": "Nhãn",
        "count": "Số lượng",
        "not_allowed": "Tài khoản của bạn không có quyền xem trang này.",
        "language": "Ngôn ngữ",
        "signed_in_as": "Đang đăng nhập",
        # Unhealthy-sources banner (dashboard/banner.py)
        "unhealthy_banner": "Nguồn đang gặp sự cố: {sources}. Số tin thấp từ các nguồn này có thể do lỗi thu thập, không phải do không có tin.",
        "health_ok": "bình thường",
        "health_failures": "lỗi {n} lần thu thập liên tiếp",
        "health_low_volume": "{new} tin mới trong 24 giờ qua, thấp hơn nhiều so với mức thường ngày {norm:.1f} tin/ngày",
    },
    "en": {
        "app_title": "CoopWatch – collective economy media monitor",
        "login": "Sign in",
        "username": "Username",
        "password": "Password",
        "login_failed": "Wrong username or password.",
        "logout": "Sign out",
        "overview": "Overview",
        "overview_caption": "Items per label and publication day",
        "no_items": "No items in the database yet.",
        "total_items": "Items",
        "relevant_items": "About cooperatives",
        "flagged_items": "To review",
        "day": "Day",
        "label": "Label",
        "count": "Count",
        "not_allowed": "Your account may not open this page.",
        "language": "Language",
        "signed_in_as": "Signed in as",
        # Unhealthy-sources banner (dashboard/banner.py)
        "unhealthy_banner": "Sources with problems: {sources}. Low volume from these sources may be a crawl failure, not a quiet day.",
        "health_ok": "ok",
        "health_failures": "failed {n} crawls in a row",
        "health_low_volume": "{new} new items in the last 24 hours, far below its usual {norm:.1f} a day",
    },
}

LABEL_NAMES = {
    "vi": {
        "model_story": "Mô hình điển hình", "positive": "Tích cực", "neutral": "Trung tính",
        "critical": "Phản ánh, phê bình", "misleading": "Sai lệch", None: "Không liên quan",
    },
    "en": {
        "model_story": "Model story", "positive": "Positive", "neutral": "Neutral",
        "critical": "Critical", "misleading": "Misleading", None: "Not relevant",
    },
}


def t(key: str, lang: str = "vi") -> str:
    """Translated text for a key."""
    return TEXT.get(lang, TEXT["vi"]).get(key, TEXT["vi"][key])


def label_name(label: str | None, lang: str = "vi") -> str:
    """Display name of a label."""
    return LABEL_NAMES.get(lang, LABEL_NAMES["vi"]).get(label, str(label))
