"""Small builders for test input written by the team."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from crawlers.demosite.content import Article
from crawlers.demosite.render import article_page

VN = timezone(timedelta(hours=7))

WIRE_BODY = (
    "Sáng 12/11, Liên minh Hợp tác xã tỉnh tổ chức hội nghị tổng kết hoạt động kinh tế tập thể năm 2026 với sự tham dự của gần 300 đại biểu.",
    "Theo báo cáo, toàn tỉnh hiện có 1.240 hợp tác xã đang hoạt động, tăng 86 đơn vị so với cùng kỳ, trong đó hơn 70% là hợp tác xã nông nghiệp.",
    "Doanh thu bình quân của mỗi hợp tác xã đạt khoảng 3,1 tỷ đồng mỗi năm; thu nhập của thành viên tăng từ 8 đến 12% nhờ liên kết tiêu thụ nông sản.",
    "Phát biểu tại hội nghị, lãnh đạo tỉnh đề nghị các sở ngành tiếp tục tháo gỡ khó khăn về đất đai, vốn tín dụng và nguồn nhân lực cho khu vực kinh tế tập thể.",
    "Dịp này, 25 tập thể và 40 cá nhân có thành tích xuất sắc trong phong trào phát triển hợp tác xã được nhận bằng khen của Ủy ban nhân dân tỉnh.",
)

OTHER_BODY = (
    "Mưa lớn kéo dài nhiều ngày khiến nhiều tuyến đường liên xã ở huyện miền núi bị sạt lở, giao thông chia cắt.",
    "Lực lượng chức năng đã huy động máy xúc để thông tuyến, đồng thời cắm biển cảnh báo tại các điểm nguy hiểm.",
    "Cơ quan khí tượng dự báo mưa còn tiếp diễn đến cuối tuần, người dân cần theo dõi sát bản tin thời tiết.",
)


def make_article(slug: str, outlet: str = "nongthonmoi", body: tuple[str, ...] = WIRE_BODY,
                 title: str = "Hội nghị tổng kết kinh tế tập thể năm 2026",
                 published: datetime = datetime(2026, 11, 12, 9, 30, tzinfo=VN)) -> Article:
    """A demo-style article with the given text."""
    return Article(
        slug=slug, outlet=outlet, section="kinh-te", title=title,
        sapo="Kinh tế tập thể của tỉnh tiếp tục tăng trưởng, số hợp tác xã mới thành lập cao nhất 5 năm.",
        body=body, author="Minh Anh", published=published, relevant=True, label="positive", wire=None,
    )


def article_html(article: Article) -> str:
    """The article rendered as the demo site serves it (menus, ads, comments, footer)."""
    return article_page(article, related=[])


def crawl(sources: Path, db_url: str, model_dir: Path, **extra_env: str) -> subprocess.CompletedProcess:
    """Run `coopwatch crawl` in its own process (Scrapy's reactor runs once per process)."""
    env = {**os.environ, "COOPWATCH_DATABASE_URL": db_url, "COOPWATCH_MODEL_DIR": str(model_dir), **extra_env}
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "crawl", "--sources", str(sources)],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def signed_in_as(app, name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    """Put an AppTest in the state of a signed-in account, creating the account when needed.

    Pages read the role and state from the database on every run (COOPWATCH_DATABASE_URL), so
    the account must exist there; the password round trip is skipped.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from pipeline.core.db import make_engine
    from pipeline.core.schema import User

    engine = make_engine(os.environ["COOPWATCH_DATABASE_URL"])
    with Session(engine) as session, session.begin():
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            user = User(name=name, role=role, password_hash="-")
            session.add(user)
        user.role = role
        session.flush()
        epoch = user.session_epoch or 0
    engine.dispose()
    app.session_state["user"] = name
    app.session_state["role"] = role
    app.session_state["epoch"] = epoch
