"""A large local news site for scale tests: a sitemap index over thousands of article pages.

Each page is generated from templates and a seed (its number), so every page has its own
title and text about a cooperative, rendered like the demo site's pages. The server counts
fetches per path, so a test can check that a crawl fetched each page exactly once.
"""
from __future__ import annotations

import random
import re
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

from crawlers.demosite.content import Article
from crawlers.demosite.render import article_page, sitemap_index, urlset

VN = timezone(timedelta(hours=7))
PER_SITEMAP = 100
OUTLET = "kinhtehoptac"

PROVINCES = (
    "Thái Bình", "Nam Định", "Nghệ An", "Hà Tĩnh", "Quảng Nam", "Bình Định", "Đắk Lắk", "Lâm Đồng",
    "Đồng Tháp", "An Giang", "Cà Mau", "Sóc Trăng", "Bến Tre", "Tiền Giang", "Sơn La", "Lào Cai",
    "Hà Giang", "Thanh Hóa", "Quảng Ngãi", "Phú Yên", "Gia Lai", "Kon Tum", "Long An", "Hậu Giang",
)
KINDS = (
    ("nông nghiệp", "lúa gạo"), ("rau an toàn", "rau xanh"), ("chăn nuôi", "thịt lợn sạch"),
    ("thủy sản", "tôm thẻ"), ("cà phê", "cà phê nhân"), ("chè", "chè búp khô"),
    ("dược liệu", "sâm và quế"), ("dệt thổ cẩm", "khăn thổ cẩm"), ("nấm", "nấm rơm"),
    ("mật ong", "mật ong rừng"), ("cây ăn quả", "bưởi da xanh"), ("muối", "muối sạch"),
)
VILLAGES = ("Tân Phú", "Hòa Bình", "Đông Hưng", "Phước Lộc", "An Thịnh", "Thuận Thành",
            "Vĩnh Lợi", "Quang Minh", "Bình An", "Hưng Đạo", "Xuân Lâm", "Tiến Thắng")
AUTHORS = ("Thu Hà", "Quốc Việt", "Lan Anh", "Đức Trung", "Minh Châu", "Hoàng Nam")
TITLES = (
    "HTX {kind} {village} mở rộng vùng nguyên liệu {product}",
    "{province}: HTX {kind} {village} ký hợp đồng bao tiêu {product}",
    "Thành viên HTX {kind} {village} tăng thu nhập nhờ {product}",
    "HTX {kind} {village} đón chứng nhận OCOP cho sản phẩm {product}",
    "Vốn vay ưu đãi giúp HTX {kind} {village} đổi mới công nghệ",
)
SENTENCES = (
    "Hợp tác xã {kind} {village} ở tỉnh {province} hiện có {members} thành viên, "
    "canh tác trên diện tích khoảng {area} héc-ta.",
    "Năm nay, sản lượng {product} của hợp tác xã đạt {tons} tấn, tăng {growth}% so với năm trước.",
    "Ban giám đốc cho biết doanh thu ước đạt {revenue} tỷ đồng, lợi nhuận được chia lại cho "
    "thành viên theo mức độ sử dụng dịch vụ.",
    "Nhờ liên kết với doanh nghiệp chế biến, giá bán {product} ổn định hơn, người trồng không "
    "còn cảnh được mùa mất giá.",
    "Hợp tác xã đã đầu tư {machines} máy móc mới, ứng dụng nhật ký điện tử để truy xuất nguồn gốc.",
    "Liên minh Hợp tác xã tỉnh {province} hỗ trợ đào tạo {trainees} cán bộ quản lý về kế toán "
    "và thương mại điện tử.",
    "Một số thành viên kiến nghị cần thêm vốn tín dụng ưu đãi và mặt bằng để xây kho sơ chế.",
    "Thu nhập bình quân của thành viên đạt {income} triệu đồng mỗi tháng, cao hơn lao động "
    "tự do trong vùng.",
    "Sản phẩm {product} của hợp tác xã đã có mặt tại {shops} cửa hàng và siêu thị ở các tỉnh lân cận.",
    "Theo Giám đốc hợp tác xã, mục tiêu năm tới là mở rộng thêm {more} héc-ta theo tiêu chuẩn VietGAP.",
    "Chính quyền xã {village} đánh giá mô hình kinh tế tập thể này góp phần giảm nghèo bền vững.",
    "Đại hội thành viên thường niên đã thông qua kế hoạch trích {fund}% lợi nhuận lập quỹ phát triển.",
    "Mùa mưa bão vừa qua, mương tưới ở {village} bị sạt, thành viên góp công nạo vét trong {days} ngày.",
    "Bà con kể rằng trước kia mỗi hộ tự bán cho thương lái, nay giá cả được thỏa thuận chung từ đầu vụ.",
    "Kho lạnh dung tích {tons} tấn vừa khánh thành giúp kéo dài thời gian bảo quản nông sản.",
    "Một kỹ sư trẻ về quê làm giám đốc đã đưa bán hàng trực tuyến vào nếp làm ăn của cả thôn.",
    "Phụ nữ chiếm {women}% số thành viên, nhiều chị đảm nhận khâu đóng gói và kiểm tra chất lượng.",
    "Hội đồng quản trị họp mỗi quý một lần, sổ sách thu chi được niêm yết công khai tại nhà văn hóa.",
    "Đoàn công tác của huyện đến khảo sát và ghi nhận những vướng mắc về thủ tục thuê đất dài hạn.",
    "Tổ kỹ thuật hướng dẫn bón phân hữu cơ vi sinh, giảm gần một nửa lượng thuốc bảo vệ thực vật.",
    "Đợt hạn mặn đầu năm làm thiệt hại chừng {loss} triệu đồng nhưng hợp tác xã đã kịp gieo bù.",
    "Ngân hàng chính sách xã hội giải ngân {loan} triệu đồng cho các hộ nghèo tham gia góp vốn.",
    "Lô hàng đầu tiên được xuất sang thị trường Nhật Bản sau {months} tháng hoàn thiện hồ sơ kiểm dịch.",
    "Ông trưởng thôn nhận xét đường bê tông nội đồng giúp xe tải vào tận ruộng, cước vận chuyển giảm hẳn.",
    "Học sinh nghèo trong xã được hợp tác xã trao {gifts} suất học bổng vào dịp khai giảng.",
    "Những năm đầu thành lập, hợp tác xã từng nợ đọng và phải tái cơ cấu lại toàn bộ bộ máy.",
    "Trạm bơm điện mới thay cho máy dầu cũ, mỗi vụ tiết kiệm khoảng {saving} triệu đồng tiền nhiên liệu.",
    "Tem truy xuất in mã QR được dán trên từng bao bì để khách hàng kiểm tra vùng trồng.",
    "Lớp tập huấn phòng cháy chữa cháy rừng được tổ chức cho các tổ đội bảo vệ trước mùa khô.",
    "Người lao động thời vụ được trả công theo ngày, cao điểm thu hoạch cần thêm {workers} người.",
    "Cán bộ khuyến nông khuyên nên luân canh cây họ đậu để cải tạo đất bạc màu sau nhiều vụ.",
    "Trang trại mẫu rộng {area} mét vuông trở thành điểm tham quan cho học viên các tỉnh bạn.",
    "Một phần diện tích được chuyển sang mô hình du lịch trải nghiệm, đón khách vào cuối tuần.",
    "Giá vật tư đầu vào tăng cao khiến lãi ròng vụ này chỉ bằng khoảng hai phần ba năm ngoái.",
    "Các thành viên lớn tuổi truyền nghề cho thanh niên để giữ bí quyết làm sản phẩm truyền thống.",
)


def article(number: int) -> Article:
    """Page `number` of the site, the same every time it is asked for."""
    rng = random.Random(number)
    kind, product = KINDS[rng.randrange(len(KINDS))]
    fields = {
        "kind": kind, "product": product, "village": rng.choice(VILLAGES),
        "province": rng.choice(PROVINCES), "members": rng.randint(12, 480),
        "area": rng.randint(5, 900), "tons": rng.randint(20, 5000), "growth": rng.randint(3, 40),
        "revenue": rng.randint(1, 60), "machines": rng.randint(2, 30), "trainees": rng.randint(10, 200),
        "income": rng.randint(5, 15), "shops": rng.randint(3, 120), "more": rng.randint(5, 300),
        "fund": rng.randint(5, 30), "days": rng.randint(2, 20), "women": rng.randint(20, 80),
        "loss": rng.randint(30, 900), "loan": rng.randint(50, 2000), "months": rng.randint(3, 18),
        "gifts": rng.randint(5, 60), "saving": rng.randint(5, 90), "workers": rng.randint(10, 150),
    }
    sentences = rng.sample(SENTENCES, 7)
    body = tuple(" ".join(s.format(**fields) for s in sentences[i : i + 2]) for i in range(0, 7, 2))
    title = f"{rng.choice(TITLES).format(**fields)} (kỳ {number})"
    return Article(
        slug=f"bai-{number}", outlet=OUTLET, section="kinh-te", title=title,
        sapo=f"Mô hình hợp tác xã {kind} ở {fields['province']} cho thấy hiệu quả của liên kết sản xuất.",
        body=body, author=rng.choice(AUTHORS),
        published=datetime(2026, 1, 1, 7, tzinfo=VN) + timedelta(hours=number),
        relevant=True, label="positive", wire=None,
    )


def article_path(number: int) -> str:
    return f"/bai/{number}.html"


def sitemap_paths(pages: int) -> list[str]:
    return [f"/sitemaps/{k}.xml" for k in range((pages + PER_SITEMAP - 1) // PER_SITEMAP)]


class BigSiteHandler(BaseHTTPRequestHandler):
    """Routes /sitemap.xml (an index), /sitemaps/K.xml and /bai/N.html; counts every hit."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        server: BigSiteServer = self.server  # type: ignore[assignment]
        with server.lock:
            server.hits[self.path] += 1
        found = self._route(server.pages, f"http://{self.headers.get('Host', '127.0.0.1')}")
        if found is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        content_type, text = found
        data = text.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, pages: int, base: str) -> Optional[tuple[str, str]]:
        if self.path == "/robots.txt":
            return "text/plain", "User-agent: *\nDisallow:\n"
        if self.path == "/sitemap.xml":
            return "application/xml", sitemap_index([base + p for p in sitemap_paths(pages)])
        if match := re.fullmatch(r"/sitemaps/(\d+)\.xml", self.path):
            first = int(match.group(1)) * PER_SITEMAP
            numbers = range(first, min(first + PER_SITEMAP, pages))
            return "application/xml", urlset([(base + article_path(n), article(n).published) for n in numbers])
        if (match := re.fullmatch(r"/bai/(\d+)\.html", self.path)) and int(match.group(1)) < pages:
            return "text/html; charset=utf-8", article_page(article(int(match.group(1))), related=[])
        return None

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


class BigSiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages: int, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), BigSiteHandler)
        self.pages = pages
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()


def serve_big_site(pages: int, port: int = 0) -> tuple[BigSiteServer, str]:
    """The site with `pages` articles in a daemon thread; returns the server and its base URL."""
    server = BigSiteServer(pages, port)
    threading.Thread(target=server.serve_forever, name="big-site", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def sources_yaml(base_url: str) -> str:
    """A sources file with the site's sitemap as its only source."""
    return ("sources:\n  - name: big-sitemap\n    outlet: Thời báo Kinh tế Hợp tác\n"
            f"    kind: sitemap\n    url: {base_url}/sitemap.xml\n")
