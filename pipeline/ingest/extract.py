"""Article extraction from HTML: body with trafilatura, plus the metadata it gets wrong."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Optional

import lxml.html
import trafilatura
from dateutil import parser as dateparser

logger = logging.getLogger(__name__)

VN_TZ = timezone(timedelta(hours=7))
_META_DATE_KEYS = (
    "article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "dc.date.issued",
    "og:published_time",
)
_LEAD_CLASSES = ("sapo", "lead", "description", "summary", "chapeau")
# "Thứ hai, 5/4/2022, 14:30 (GMT+7)" and "05/04/2022 14:30": Vietnamese bylines are day first.
_BYLINE_DATE = re.compile(
    r"(?:(?P<H0>\d{1,2})[:h](?P<M0>\d{2})[,\s|-]+)?"
    r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})(?:[,\s|-]+(?P<H>\d{1,2})[:h](?P<M>\d{2}))?"
)
# Fewer characters than this is navigation or an error page, not an article.
MIN_ARTICLE_CHARS = 40
# Footer licence lines carry their own, much older date; never read a date from them.
_LICENCE_LINE = re.compile(r"giấy phép|cấp ngày|GP-BTTTT|GP-", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_VIETNAMESE_LETTERS = re.compile("[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9]")


# Site footers (licence, address, "Tải ứng dụng" app links) that trafilatura sometimes keeps
# when they are built from <p> elements, as on baochinhphu.vn.
_PAGE_CHROME = "//footer | //*[contains(concat(' ', normalize-space(@class), ' '), ' footer ')] | //*[@id='footer']"


def _drop_page_chrome(tree: Any) -> None:
    for element in tree.xpath(_PAGE_CHROME):
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)


class ExtractionError(ValueError):
    """Raised when a page has no extractable article text."""


@dataclass(slots=True)
class Extracted:
    """What one HTML page yields."""

    title: str
    lead: str
    text: str
    author: Optional[str]
    published_at: Optional[datetime]
    language: Optional[str]


def extract_article(html: str, url: str | None = None) -> Extracted:
    """Extract title, lead, body, author, date and language from an article page."""
    if not html or not html.strip():
        raise ExtractionError("empty HTML")
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparseable HTML: {exc}") from exc
    metas = meta_values(tree)
    lead, published = _lead(tree, metas), page_date(tree, metas)
    # Read once by lxml; trafilatura takes the tree, without the page's footer.
    _drop_page_chrome(tree)
    document = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, include_tables=False, with_metadata=True
    )
    text = (getattr(document, "text", None) or "").strip()
    if len(text) < MIN_ARTICLE_CHARS:
        raise ExtractionError("no article text found in the page")
    title = (getattr(document, "title", None) or metas.get("og:title") or "").strip()
    # Some pages put the headline inside the article container; it is not body text.
    first, _, rest = text.partition("\n")
    if title and first.strip() == title and rest.strip():
        text = rest.strip()
    # The lead opens the body exactly once, also when the page prefixes it ("(Chinhphu.vn) - ").
    if lead and lead[:40] not in text[: len(lead) + 80]:
        text = f"{lead}\n{text}"
    return Extracted(
        title=title,
        lead=lead,
        text=text,
        author=getattr(document, "author", None) or metas.get("author"),
        published_at=published,
        language=detect_language(text),
    )


def page_date(tree: lxml.html.HtmlElement, metas: Optional[dict[str, str]] = None) -> Optional[datetime]:
    """Publication date: meta tags, then JSON-LD, then a Vietnamese byline; never the licence."""
    metas = meta_values(tree) if metas is None else metas
    for key in _META_DATE_KEYS:
        value = metas.get(key)
        if value and (parsed := _parse_iso(value)):
            return parsed
    for value in _jsonld_values(tree, "datePublished"):
        if parsed := _parse_iso(str(value)):
            return parsed
    return _byline_date(tree)


def _byline_date(tree: lxml.html.HtmlElement) -> Optional[datetime]:
    for element in tree.iter("span", "div", "p", "time", "li"):
        own_text = " ".join(element.xpath("./text()")).strip()
        if not own_text or _LICENCE_LINE.search(own_text):
            continue
        if element.xpath("ancestor::footer") or _in_footer(element):
            continue
        match = _BYLINE_DATE.search(own_text)
        if match and (parsed := _from_byline(match)):
            return parsed
    return None


def _in_footer(element: lxml.html.HtmlElement) -> bool:
    for ancestor in element.iterancestors():
        marker = f"{ancestor.get('class', '')} {ancestor.get('id', '')}".lower()
        if "footer" in marker or "copyright" in marker:
            return True
    return False


def _from_byline(match: re.Match[str]) -> Optional[datetime]:
    try:
        return datetime(
            int(match["y"]), int(match["m"]), int(match["d"]),
            int(match["H"] or match["H0"] or 0), int(match["M"] or match["M0"] or 0), tzinfo=VN_TZ,
        )
    except ValueError:
        return None


def _parse_iso(value: str) -> Optional[datetime]:
    try:
        parsed = dateparser.isoparse(value.strip())
    except (ValueError, OverflowError):
        return None
    # A date without zone on a Vietnamese page is Vietnam time.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


def meta_values(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """Content of the page's <meta> tags by lower-cased key, read in one pass.

    A key given as property= wins over name=, and that over itemprop=; among equals the
    first on the page.
    """
    values: dict[str, str] = {}
    elements = tree.xpath("//meta[@content]")
    for attr in ("property", "name", "itemprop"):
        for element in elements:
            key, content = element.get(attr), element.get("content")
            if key and content:
                values.setdefault(key.lower(), str(content).strip())
    return values


def _jsonld_values(tree: lxml.html.HtmlElement, key: str) -> Iterator[Any]:
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(script)
        except json.JSONDecodeError:
            continue
        for node in data if isinstance(data, list) else [data]:
            if isinstance(node, dict) and key in node:
                yield node[key]


# Every element that may hold the sapo, found in one pass over the page.
_LEAD_CANDIDATES = lxml.etree.XPath(
    "//*[self::p or self::div or self::h2][" + " or ".join(
        f"contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')" for cls in _LEAD_CLASSES
    ) + "]"
)


def _lead(tree: lxml.html.HtmlElement, metas: dict[str, str]) -> str:
    """The sapo: trafilatura drops it, so take its own element or the meta description."""
    candidates = [(set((element.get("class") or "").split()), element) for element in _LEAD_CANDIDATES(tree)]
    for cls in _LEAD_CLASSES:  # in order of preference, then first on the page
        for classes, element in candidates:
            if cls in classes:
                if text := element.text_content().strip():
                    return " ".join(text.split())
                break
    return (metas.get("description") or metas.get("og:description") or "").strip()


def detect_language(text: str) -> Optional[str]:
    """'vi' when Vietnamese-only letters are common, else None (unknown)."""
    sample = text[:2000]
    letters = len(_LETTER.findall(sample))
    if not letters:
        return None
    return "vi" if len(_VIETNAMESE_LETTERS.findall(sample)) / letters > 0.03 else None
