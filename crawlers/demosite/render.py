"""HTML, RSS and sitemap documents of the demo site, with the clutter real outlets have."""
from __future__ import annotations

import json
from datetime import datetime
from email.utils import format_datetime
from html import escape
from typing import Sequence

from crawlers.demosite.content import OUTLETS, Article, Outlet, Post

WEEKDAYS = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")
SECTIONS = {
    "kinh-te": "Kinh tế", "nong-nghiep": "Nông nghiệp", "xa-hoi": "Xã hội",
    "phap-luat": "Pháp luật", "the-gioi": "Thế giới", "doi-song": "Đời sống",
}
# Reader comments: present on every page so that extraction is tested on leaving them out.
COMMENTS = (
    ("Bạn đọc Minh Tâm", "Bài viết rất hữu ích, mong báo tiếp tục theo dõi vụ việc."),
    ("Bạn đọc Hải Yến", "Ở quê tôi cũng có chuyện tương tự, chính quyền nên vào cuộc sớm."),
    ("Bạn đọc Quang Vinh", "Cảm ơn phóng viên, thông tin rõ ràng và dễ hiểu."),
)
ADS = (
    "Khuyến mãi phân bón hữu cơ giảm 20% đến hết tháng",
    "Vay tiêu dùng lãi suất ưu đãi, duyệt hồ sơ trong ngày",
)


def _date_line(outlet: Outlet, when: datetime) -> str:
    if outlet.date_style == "byline_time_first":
        return f"{when:%H:%M} {when:%d/%m/%Y}"
    return f"{WEEKDAYS[when.weekday()]}, {when.day}/{when.month}/{when.year}, {when:%H:%M} (GMT+7)"


def _head(outlet: Outlet, title: str, description: str, extra: str = "") -> str:
    return (
        "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)} - {escape(outlet.name)}</title>"
        f"<meta name=\"description\" content=\"{escape(description)}\">"
        f"<meta property=\"og:title\" content=\"{escape(title)}\">{extra}</head>"
    )


def _chrome_top(outlet: Outlet) -> str:
    menu = "".join(f"<li><a href=\"/{outlet.slug}/?muc={k}\">{v}</a></li>" for k, v in SECTIONS.items())
    return (
        f"<body><header class=\"site-header\"><a class=\"logo\" href=\"/{outlet.slug}/\">"
        f"{escape(outlet.name)}</a><nav class=\"main-menu\"><ul>{menu}</ul></nav>"
        f"<div class=\"ad-banner\">{escape(ADS[0])}</div></header>"
    )


def _footer(outlet: Outlet) -> str:
    return (
        "<footer class=\"site-footer\"><p>Cơ quan chủ quản: Công ty Truyền thông Demo</p>"
        f"<p class=\"licence\">{escape(outlet.licence)}</p>"
        f"<p>© {escape(outlet.name)}. Ghi rõ nguồn khi phát hành lại thông tin.</p></footer></body></html>"
    )


def _date_meta(outlet: Outlet, article: Article) -> str:
    stamp = article.published.isoformat()
    if outlet.date_style == "meta":
        return f"<meta property=\"article:published_time\" content=\"{stamp}\">"
    if outlet.date_style == "jsonld":
        data = {"@context": "https://schema.org", "@type": "NewsArticle",
                "headline": article.title, "datePublished": stamp,
                "author": {"@type": "Person", "name": article.author}}
        return f"<script type=\"application/ld+json\">{json.dumps(data, ensure_ascii=False)}</script>"
    return ""  # byline only: the date must be read from the page text


def article_page(article: Article, related: Sequence[Article]) -> str:
    """A full article page."""
    outlet = OUTLETS[article.outlet]
    body = "".join(f"<p>{escape(p)}</p>" for p in article.body)
    links = "".join(
        f"<li><a href=\"/{r.outlet}/{r.slug}.html\">{escape(r.title)}</a></li>" for r in related
    )
    comments = "".join(
        f"<div class=\"comment-item\"><b class=\"comment-author\">{escape(n)}</b><p>{escape(t)}</p></div>"
        for n, t in COMMENTS
    )
    return (
        _head(outlet, article.title, article.sapo, _date_meta(outlet, article))
        + _chrome_top(outlet)
        + "<main><div class=\"breadcrumb\"><a href=\"/\">Trang chủ</a> › "
        + f"<a href=\"/{outlet.slug}/?muc={article.section}\">{SECTIONS.get(article.section, '')}</a></div>"
        + f"<article class=\"article-detail\"><h1 class=\"title-detail\">{escape(article.title)}</h1>"
        + f"<div class=\"byline\"><span class=\"author\">{escape(article.author)}</span> "
        + f"<span class=\"date\">{_date_line(outlet, article.published)}</span></div>"
        + f"<p class=\"sapo\">{escape(article.sapo)}</p><div class=\"article-body\">{body}</div>"
        + "</article>"
        + f"<aside class=\"ad-box\">{escape(ADS[1])}</aside>"
        + f"<section class=\"related-news\"><h3>Tin liên quan</h3><ul>{links}</ul></section>"
        + f"<section class=\"comments\" id=\"comments\"><h3>Ý kiến bạn đọc</h3>{comments}</section>"
        + "</main>" + _footer(outlet)
    )


def section_page(outlet: Outlet, articles: Sequence[Article], page: int, has_next: bool) -> str:
    """A list page of an outlet, paginated with rel=next."""
    items = "".join(
        f"<article class=\"item-news\"><h3><a href=\"/{a.outlet}/{a.slug}.html\">{escape(a.title)}</a></h3>"
        f"<p class=\"description\">{escape(a.sapo)}</p></article>"
        for a in articles
    )
    nav = f"<a rel=\"next\" href=\"/{outlet.slug}/?page={page + 1}\">Trang sau</a>" if has_next else ""
    return (_head(outlet, f"{outlet.name} - trang {page}", outlet.name) + _chrome_top(outlet)
            + f"<main class=\"list-news\">{items}<div class=\"pagination\">{nav}</div></main>"
            + _footer(outlet))


def outlet_rss(outlet: Outlet, articles: Sequence[Article], base: str) -> str:
    """RSS 2.0 feed of an outlet."""
    items = "".join(
        f"<item><title>{escape(a.title)}</title><link>{base}/{a.outlet}/{a.slug}.html</link>"
        f"<guid>{base}/{a.outlet}/{a.slug}.html</guid><description>{escape(a.sapo)}</description>"
        f"<pubDate>{format_datetime(a.published)}</pubDate></item>"
        for a in articles
    )
    return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>"
            f"<title>{escape(outlet.name)}</title><link>{base}/{outlet.slug}/</link>"
            f"<description>Tin mới nhất</description>{items}</channel></rss>")


def social_rss(posts: Sequence[Post], base: str) -> str:
    """RSS feed of public social posts; page name and reach in a namespace of ours."""
    items = "".join(
        f"<item><title>{escape(p.text[:70])}</title><link>{base}/social/{p.slug}.html</link>"
        f"<guid>{base}/social/{p.slug}.html</guid><description>{escape(p.text)}</description>"
        f"<pubDate>{format_datetime(p.published)}</pubDate><cw:page>{escape(p.page)}</cw:page>"
        f"<cw:reactions>{p.reactions}</cw:reactions><cw:shares>{p.shares}</cw:shares></item>"
        for p in posts
    )
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" "
            "xmlns:cw=\"https://coopwatch.example/ns\"><channel><title>Bài đăng công khai</title>"
            f"<link>{base}/social/</link><description>Mạng xã hội</description>{items}</channel></rss>")


def social_page(post: Post) -> str:
    """A public post's own page."""
    return (f"<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\"><title>{escape(post.page)}"
            f"</title></head><body><h1>{escape(post.page)}</h1><div class=\"post\">{escape(post.text)}"
            f"</div><p>{post.reactions} cảm xúc · {post.shares} chia sẻ</p></body></html>")


def urlset(urls: Sequence[tuple[str, datetime]]) -> str:
    """A Google News-style sitemap."""
    entries = "".join(
        f"<url><loc>{escape(u)}</loc><lastmod>{d.isoformat()}</lastmod><news:news>"
        f"<news:publication_date>{d.isoformat()}</news:publication_date></news:news></url>"
        for u, d in urls
    )
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" "
            "xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">" + entries + "</urlset>")


def sitemap_index(locations: Sequence[str]) -> str:
    """A sitemap index listing the outlets' sitemaps."""
    entries = "".join(f"<sitemap><loc>{escape(u)}</loc></sitemap>" for u in locations)
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><sitemapindex "
            "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">" + entries + "</sitemapindex>")
