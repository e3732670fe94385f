"""Dashboard query times on 200,000 items: the overview page and the review queue, uncached.

Run: .venv/bin/python benchmarks/dashboard.py [--items 200000] [--repeat 5] [--keep FILE]

Seeds a fresh, migrated SQLite file with bulk Core inserts: a year of items (weekday rhythm,
slow growth), outlets and provinces with skewed shares, news and social posts, labels and
sentiments in plausible proportions, stories carried by several outlets, flagged items of
which some are already reviewed. Then times, without Streamlit's cache, every query the
overview runs (volume, top stories, filter options, date bounds) for the default 30-day
period, for a filtered one and for the whole year, and the review-queue query; each figure
is the median of several runs and is checked against the 1.5 s target.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit.logger  # noqa: E402

# Queries run here outside a Streamlit server; its "no runtime, memory cache" notices are noise.
streamlit.logger.set_log_level("error")

from sqlalchemy import Engine, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from dashboard.queries import (  # noqa: E402
    Filters, _date_bounds, _filter_options, _top_stories, _volume, default_filters,
)
from pipeline.core.db import make_engine, migrate  # noqa: E402
from pipeline.review.workflow import review_queue  # noqa: E402
from pipeline.core.schema import Item, Review, StoryCluster  # noqa: E402

TARGET_SECONDS = 1.5
END = datetime(2026, 11, 22, 17, 0, tzinfo=timezone.utc)
NEWS_OUTLETS = ["vnexpress", "tuoitre", "thanhnien", "nhandan", "vietnamplus", "dantri", "laodong",
                "nld", "baotintuc", "vov", "nongnghiepmoitruong", "vca", "kinhtehoptac", "nongthonmoi"]
SOCIAL_OUTLETS = ["facebook:htx-online", "facebook:nong-dan-viet", "youtube:kinh-te-nong-thon",
                  "forum:webtretho", "facebook:cho-que", "tiktok:htx-24h"]
# The 34 provinces and cities in force since 1 July 2025.
PROVINCES = ["Hà Nội", "TP Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế", "Lai Châu",
             "Điện Biên", "Sơn La", "Lạng Sơn", "Quảng Ninh", "Thanh Hóa", "Nghệ An", "Hà Tĩnh",
             "Cao Bằng", "Tuyên Quang", "Lào Cai", "Thái Nguyên", "Phú Thọ", "Bắc Ninh", "Hưng Yên",
             "Ninh Bình", "Quảng Trị", "Quảng Ngãi", "Gia Lai", "Khánh Hòa", "Lâm Đồng", "Đắk Lắk",
             "Đồng Nai", "Tây Ninh", "Vĩnh Long", "Đồng Tháp", "Cà Mau", "An Giang"]
SECTORS = ["agriculture", "aquaculture", "credit", "handicraft", "transport", "services",
           "tourism", "forestry", "trade"]
LABELS = ["model_story", "positive", "neutral", "critical", "misleading"]
LABEL_WEIGHTS = [8, 30, 35, 20, 7]
SENTIMENT_OF = {"model_story": ("positive", "neutral"), "positive": ("positive", "neutral"),
                "neutral": ("neutral", "positive"), "critical": ("negative", "neutral"),
                "misleading": ("negative", "neutral")}
CHUNK = 10_000


def zipf_weights(n: int) -> list[float]:
    return [1 / (rank + 1) for rank in range(n)]


def seed(engine: Engine, n_items: int, rng: random.Random) -> dict[str, int]:
    """Insert n_items items, their story clusters and some reviews; returns counts."""
    days = 365
    # Weekday rhythm and slow growth: about a third fewer items at weekends, +40% over the year.
    day_weights = [(0.65 if (END - timedelta(days=d)).weekday() >= 5 else 1.0) * (1.4 - 0.4 * d / days)
                   for d in range(days)]
    news_w, social_w = zipf_weights(len(NEWS_OUTLETS)), zipf_weights(len(SOCIAL_OUTLETS))
    province_w = zipf_weights(len(PROVINCES))
    items: list[dict[str, Any]] = []
    clusters: list[dict[str, Any]] = []
    reviews: list[dict[str, Any]] = []
    open_story: tuple[int, int, datetime] | None = None  # (cluster id, copies left, first seen)
    item_id = 0
    while item_id < n_items:
        item_id += 1
        social = rng.random() < 0.3
        outlet = rng.choices(SOCIAL_OUTLETS if social else NEWS_OUTLETS, social_w if social else news_w)[0]
        day = rng.choices(range(days), day_weights)[0]
        published = END - timedelta(days=day, seconds=rng.randrange(86_400))
        cluster_id = None
        if not social and open_story is not None and open_story[1] > 0:
            cluster_id, left, first_seen = open_story
            published = first_seen + timedelta(minutes=rng.randrange(30, 900))
            open_story = (cluster_id, left - 1, first_seen)
            clusters[-1]["size"] += 1
        elif not social:
            cluster_id = len(clusters) + 1
            # Most stories run once; some wire stories are carried by up to a dozen outlets.
            copies = min(int(rng.paretovariate(1.6)) - 1, 11)
            open_story = (cluster_id, copies, published)
            clusters.append({"id": cluster_id, "first_outlet": outlet,
                             "first_url": f"https://{outlet}.example.vn/{item_id}.html",
                             "first_seen_at": published, "size": 1})
        relevant = rng.random() < 0.78
        label = rng.choices(LABELS, LABEL_WEIGHTS)[0] if relevant else None
        sentiment = None
        if label is not None:
            usual, other = SENTIMENT_OF[label]
            sentiment = usual if rng.random() < 0.85 else other
        confidence = round(rng.betavariate(5, 2), 3) if relevant else None
        needs_review = label == "misleading" or (confidence is not None and confidence < 0.6)
        title = f"Bài {item_id}: hợp tác xã {rng.choice(PROVINCES)} {'tăng' if rng.random() < .5 else 'giảm'} doanh thu"
        url = f"https://{outlet.replace(':', '-')}.example.vn/{item_id}.html"
        items.append({
            "id": item_id, "url": url, "canonical_url": url, "source": f"{outlet}_feed",
            "outlet": outlet, "kind": "social" if social else "news", "title": title, "lead": "",
            "text": title, "text_folded": title.lower(), "language": "vi",
            "published_at": None if rng.random() < 0.04 else published,
            "fetched_at": published + timedelta(minutes=rng.randrange(5, 240)),
            "stored_at": published + timedelta(minutes=rng.randrange(5, 240)),
            "content_hash": hashlib.sha1(url.encode()).hexdigest(), "cluster_id": cluster_id,
            "reactions": rng.randrange(2000) if social else None,
            "shares": int(rng.paretovariate(1.2)) if social else None,
            "relevant": relevant, "label": label, "confidence": confidence, "sentiment": sentiment,
            "reasons": [], "needs_review": needs_review, "model_version": "bench",
            "province": rng.choices(PROVINCES, province_w)[0] if rng.random() < 0.7 else None,
            "sector": rng.choice(SECTORS) if relevant and rng.random() < 0.8 else None,
        })
        if needs_review and rng.random() < 0.4:
            reviews.append({"item_id": item_id, "reviewer": "giamsat", "label": label,
                            "action": rng.choice(["confirm", "relabel", "dismiss", "note"]),
                            "created_at": published + timedelta(days=1)})
    with engine.begin() as connection:
        # Clusters first (items refer to them), each table in chunks of executemany.
        for table, rows in ((StoryCluster.__table__, clusters), (Item.__table__, items),
                            (Review.__table__, reviews)):
            for start in range(0, len(rows), CHUNK):
                connection.execute(insert(table), rows[start:start + CHUNK])
    return {"items": len(items), "clusters": len(clusters), "reviews": len(reviews),
            "flagged": sum(1 for i in items if i["needs_review"])}


def timed(function: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of `repeat` runs, after one warm-up run (SQLite's page cache).

    SQLite runs in this process, so CPU time is the query cost even when other processes
    share the cores; wall time is what a user waits on a machine as busy as this one.
    """
    result = function()
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall), statistics.median(cpu), result


def overview(engine: Engine, filters: Filters) -> dict[str, object]:
    """Every query one overview render runs when nothing is cached."""
    return {"bounds": _date_bounds(engine), "options": _filter_options(engine),
            "volume": _volume(engine, filters), "top": _top_stories(engine, filters)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="seed into this SQLite file and keep it")
    args = parser.parse_args()

    path = args.keep or Path(tempfile.mkdtemp()) / "dashboard.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate(url)
    engine = make_engine(url)
    started = time.perf_counter()
    counts = seed(engine, args.items, random.Random(20261123))
    print(f"seeded {counts['items']:,} items, {counts['clusters']:,} stories, {counts['flagged']:,} "
          f"flagged, {counts['reviews']:,} reviews in {time.perf_counter() - started:.1f} s ({path})")

    bounds = _date_bounds(engine)
    default = default_filters(bounds)
    assert bounds is not None
    cases = {
        "overview, default period (30 days)": default,
        "overview, 30 days, one province + news + critical/misleading": Filters(
            start=default.start, end=default.end, provinces=("Hà Nội",), kinds=("news",),
            labels=("critical", "misleading")),
        "overview, whole year, two outlets": Filters(
            start=bounds[0], end=bounds[1], outlets=("tuoitre", "vnexpress")),
        "overview, whole year, no filter": Filters(start=bounds[0], end=bounds[1]),
    }
    print(f"query times, median of {args.repeat} runs, uncached, wall / CPU (target {TARGET_SECONDS} s "
          f"each; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")
    for name, filters in cases.items():
        seconds, cpu, result = timed(lambda: overview(engine, filters), args.repeat)
        assert isinstance(result, dict)
        shown = int(result["volume"]["count"].sum())  # type: ignore[index]
        verdict = "meets" if seconds < TARGET_SECONDS else "MISSES"
        print(f"  {name}: {seconds:.3f} s / {cpu:.3f} s CPU ({shown:,} items counted) {verdict} target")

    def queue() -> list[Item]:
        with Session(engine) as session:
            return review_queue(session, limit=100)

    seconds, cpu, result = timed(queue, args.repeat)
    assert isinstance(result, list)
    with Session(engine) as session:
        first = session.scalar(select(Item.label).where(Item.id == result[0].id)) if result else None
    verdict = "meets" if seconds < TARGET_SECONDS else "MISSES"
    print(f"  review queue, first 100 of {counts['flagged']:,} flagged: {seconds:.3f} s / {cpu:.3f} s CPU "
          f"(first item {first}) {verdict} target")
    try:  # the review page's whole queue load (queue, assignees, story sizes), when present
        from dashboard.review_queries import _queue
    except ImportError:
        _queue = None
    if _queue is not None:
        seconds, cpu, _ = timed(lambda: _queue(engine), args.repeat)
        verdict = "meets" if seconds < TARGET_SECONDS else "MISSES"
        print(f"  review page queue load (dashboard.review_queries): {seconds:.3f} s / {cpu:.3f} s CPU "
              f"{verdict} target")
    print(f"load average afterwards {os.getloadavg()[0]:.1f}")
    engine.dispose()
    if args.keep is None:
        shutil.rmtree(path.parent)  # about 180 MB


if __name__ == "__main__":
    main()
