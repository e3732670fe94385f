"""Demo content (data/demo/*.jsonl) and the four fictional outlets that publish it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from pipeline.core.config import get_settings


@dataclass(frozen=True)
class Outlet:
    """A fictional outlet; `date_style` says how its pages carry the publication date."""

    slug: str
    name: str
    date_style: str  # meta | jsonld | byline_weekday | byline_time_first
    licence: str


OUTLETS = {
    o.slug: o
    for o in (
        Outlet("nongthonmoi", "Báo Nông Thôn Mới", "meta",
               "Giấy phép số 112/GP-BTTTT do Bộ Thông tin và Truyền thông cấp ngày 24/8/2021"),
        Outlet("kinhtehoptac", "Thời báo Kinh tế Hợp tác", "jsonld",
               "Giấy phép hoạt động báo điện tử số 58/GP-BTTTT cấp ngày 12/3/2019"),
        Outlet("baotinhbinhminh", "Báo Bình Minh", "byline_weekday",
               "Giấy phép số 301/GP-BTTTT, cấp ngày 5/1/2020"),
        Outlet("tinnhanh24", "Tin Nhanh 24h", "byline_time_first",
               "Giấy phép thiết lập trang thông tin điện tử tổng hợp số 77/GP-TTĐT cấp ngày 9/9/2018"),
    )
}


@dataclass(frozen=True)
class Article:
    """One demo article."""

    slug: str
    outlet: str
    section: str
    title: str
    sapo: str
    body: tuple[str, ...]
    author: str
    published: datetime
    relevant: bool
    label: Optional[str]
    wire: Optional[str]


@dataclass(frozen=True)
class Post:
    """One public social post of the demo."""

    slug: str
    platform: str
    page: str
    text: str
    published: datetime
    reactions: int
    shares: int
    relevant: bool
    label: Optional[str]


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@lru_cache(maxsize=4)
def load_articles(directory: Optional[Path] = None) -> tuple[Article, ...]:
    """Demo articles, newest first."""
    directory = directory or get_settings().demo_dir
    articles = [
        Article(
            slug=r["slug"], outlet=r["outlet"], section=r["section"], title=r["title"],
            sapo=r["sapo"], body=tuple(r["body"]), author=r["author"],
            published=datetime.fromisoformat(r["published"]), relevant=r["relevant"],
            label=r["label"], wire=r.get("wire"),
        )
        for r in _rows(directory / "articles.jsonl")
    ]
    return tuple(sorted(articles, key=lambda a: a.published, reverse=True))


@lru_cache(maxsize=4)
def load_posts(directory: Optional[Path] = None) -> tuple[Post, ...]:
    """Demo social posts, newest first."""
    directory = directory or get_settings().demo_dir
    posts = [
        Post(
            slug=r["slug"], platform=r["platform"], page=r["page"], text=r["text"],
            published=datetime.fromisoformat(r["published"]), reactions=int(r["reactions"]),
            shares=int(r["shares"]), relevant=r["relevant"], label=r["label"],
        )
        for r in _rows(directory / "social.jsonl")
    ]
    return tuple(sorted(posts, key=lambda p: p.published, reverse=True))
