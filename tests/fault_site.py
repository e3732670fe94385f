"""A local site whose sources fail in every way a real outlet can, beside one good source."""
from __future__ import annotations

import threading
import time
import unicodedata
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers import OTHER_BODY, article_html, make_article


LIMITED_BODY = (
    "Hợp tác xã dịch vụ điện nước xã ven biển vừa hoàn thành tuyến ống cấp nước sạch dài 12 km cho 900 hộ.",
    "Ban giám đốc cho biết vốn đầu tư do thành viên góp một phần, phần còn lại vay từ quỹ hỗ trợ phát triển hợp tác xã.",
    "Người dân trong vùng trước đây phải mua nước bình giá cao vào mùa khô, nay đã có nước máy ổn định.",
)


YOUTUBE_ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
<title>Kênh Nông nghiệp Xanh</title>
<entry><title>Thăm HTX nuôi ong Đồng Tiến</title><link rel="alternate" href="BASE/watch/v1"/>
<published>2026-11-18T03:00:00+00:00</published>
<media:group><media:title>Thăm HTX nuôi ong Đồng Tiến</media:title>
<media:description>Hợp tác xã nuôi ong Đồng Tiến có 46 thành viên, mỗi năm bán ra thị trường 30 tấn mật ong đạt chứng nhận OCOP 4 sao.</media:description>
</media:group></entry></feed>"""


LEGACY_HEADER_BODY = (
    "Quỹ tín dụng nhân dân thị trấn vừa tổ chức đại hội thành viên, bầu hội đồng quản trị nhiệm kỳ mới.",
    "Tổng nguồn vốn của quỹ đạt 240 tỷ đồng, dư nợ cho vay tập trung vào sản xuất nông nghiệp và hộ kinh doanh nhỏ.",
)
LEGACY_META_BODY = (
    "Tổ hợp tác đan lát ở thôn Phú Lễ nhận thêm đơn hàng giỏ cói xuất khẩu, tạo việc làm cho 60 phụ nữ lớn tuổi.",
    "Trưởng tổ cho biết sản phẩm được làm thủ công hoàn toàn, mỗi tháng giao khoảng 4.000 chiếc cho doanh nghiệp.",
)
LEGACY_TCVN3_BODY = (
    "Ban quản trị hợp tác xã chăn nuôi bò sữa Hòa Bình công bố báo cáo tài chính năm, lãi sau thuế đạt 2,4 tỷ đồng.",
    "Đại hội thống nhất trích một phần lợi nhuận lập quỹ đầu tư phát triển, phần còn lại chia theo mức sử dụng dịch vụ.",
)


def to_tcvn3(text: str) -> str:
    """Text as an old page in the TCVN3 font encoding holds it (8-bit, read as Windows-1252)."""
    from viparse.normalize.encodings import CHARMAPS

    inverse = {unicode: legacy for legacy, unicode in CHARMAPS["tcvn3"].pairs}
    # TCVN3 has no upper-case accented letters (pages switched fonts for them): lower-case them.
    return "".join(inverse.get(ch, inverse.get(ch.lower(), ch)) for ch in unicodedata.normalize("NFC", text))


TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """Encode as windows-1258 does: base letters (â, ơ, ư …) precomposed, tone marks combining."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES))
        out += base.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        """Clients that time out and hang up are expected here."""


def _rss(base: str, paths: list[str]) -> str:
    items = "".join(
        f"<item><title>Bài {p}</title><link>{base}{p}</link><pubDate>Thu, 12 Nov 2026 02:30:00 GMT</pubDate></item>"
        for p in paths
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'


class FaultHandler(BaseHTTPRequestHandler):
    """Routes: /good/*, /limited/* (429 first), /htmlfeed.xml, /broken.xml, /404, /500, /slow, /loop."""

    def do_GET(self) -> None:  # noqa: N802
        server = self.server
        server.requests[self.path].append(time.monotonic())  # type: ignore[attr-defined]
        base = f"http://{self.headers['Host']}"
        if self.path == "/robots.txt":
            return self._send(200, "text/plain", "User-agent: *\nDisallow:\n")
        if self.path == "/good/rss.xml":
            return self._send(200, "application/rss+xml", _rss(base, ["/good/a1.html", "/good/a2.html"]))
        if self.path == "/etag/rss.xml":
            if self.headers.get("If-None-Match") == '"v1"':
                return self._send(304, "text/plain", "")
            return self._send(200, "application/rss+xml", _rss(base, ["/good/a1.html"]), {"ETag": '"v1"'})
        if self.path == "/offsite/rss.xml":
            return self._send(200, "application/rss+xml", _rss(base, ["/offsite/jump.html"]))
        if self.path == "/offsite/jump.html":
            port = self.server.server_address[1]  # type: ignore[attr-defined]
            return self._send(302, "text/plain", "", {"Location": f"http://localhost:{port}/good/a1.html"})
        if self.path == "/channel.atom":
            return self._send(200, "application/atom+xml", YOUTUBE_ATOM.replace("BASE", base))
        if self.path == "/legacy/rss.xml":
            return self._send(200, "application/rss+xml",
                              _rss(base, ["/legacy/header.html", "/legacy/meta.html", "/legacy/tcvn3.html"]))
        if self.path == "/legacy/tcvn3.html":
            # An old page in the TCVN3 (ABC) font encoding: 8-bit bytes, no charset anywhere.
            html = article_html(make_article("tcvn3", body=LEGACY_TCVN3_BODY)).replace('<meta charset="utf-8">', "")
            return self._send_bytes(200, "text/html", to_tcvn3(html).encode("cp1252"))
        if self.path.startswith("/legacy/"):
            header = self.path == "/legacy/header.html"
            html = article_html(make_article(self.path[8:-5], body=LEGACY_HEADER_BODY if header else LEGACY_META_BODY))
            html = html.replace('<meta charset="utf-8">', "" if header else '<meta charset="windows-1258">')
            ctype = "text/html; charset=windows-1258" if header else "text/html"
            return self._send_bytes(200, ctype, to_cp1258(html))
        if self.path == "/huge.xml":
            return self._send_bytes(200, "application/rss+xml", b"<rss>" + b" " * (11 * 1024 * 1024) + b"</rss>")
        if self.path == "/limited/rss.xml":
            if len(server.requests[self.path]) == 1:  # type: ignore[attr-defined]
                return self._send(429, "text/plain", "chậm lại", {"Retry-After": "1"})
            return self._send(200, "application/rss+xml", _rss(base, ["/limited/b1.html"]))
        if self.path.endswith(".html") and self.path.startswith(("/good/", "/limited/")):
            slug = self.path.rsplit("/", 1)[1][:-5]
            body = {"a2": OTHER_BODY, "b1": LIMITED_BODY}.get(slug)
            article = make_article(slug, body=body) if body else make_article(slug)
            return self._send(200, "text/html; charset=utf-8", article_html(article))
        if self.path == "/htmlfeed.xml":
            return self._send(200, "text/html", "<html><body><h1>Trang chủ</h1><p>Không phải RSS</p></body></html>")
        if self.path == "/broken.xml":
            return self._send(200, "application/xml", "<<<rss <channel> ><item ti")
        if self.path == "/500.xml":
            return self._send(500, "text/plain", "lỗi máy chủ")
        if self.path == "/slow.xml":
            time.sleep(3)
            return self._send(200, "application/rss+xml", _rss(base, []))
        if self.path == "/loop.xml":
            return self._send(302, "text/plain", "", {"Location": "/loop.xml"})
        return self._send(404, "text/plain", "không có")

    def _send(self, status: int, ctype: str, body: str, headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, ctype, body.encode("utf-8"), headers)

    def _send_bytes(self, status: int, ctype: str, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.server.statuses.append((self.path, status))  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def start_fault_site() -> tuple[ThreadingHTTPServer, str]:
    server = QuietServer(("127.0.0.1", 0), FaultHandler)
    server.daemon_threads = True
    server.requests = defaultdict(list)  # type: ignore[attr-defined]
    server.statuses = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
