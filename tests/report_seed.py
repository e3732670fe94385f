"""A seeded database with known counts for the weekly report and the coverage page.

Week 2026-W47 runs Monday 16 to Sunday 22 November 2026 in Vietnam time (UTC+7).

2026-W47, relevant items (label as counted; * = has a monitor decision):
  model_story 3 (1*): m1 baoA and m2 baoB carry one story; m3 baoC has no publication time
  positive    2 (0*): p2 has only a note, p1 only a blind second review; p3 was dismissed and is not counted
  neutral     1 (0*): n1 published Sunday 23:30 Vietnam time, still this week
  critical    3 (2*): one story on baoA, baoB, baoC; c3 was relabelled from misleading
  misleading  3 (1*): two on narrative dat-dai-bi-thu-hoi, one matching no narrative
  = 12 relevant items (4*) from 5 outlets; not counted: an irrelevant item, the dismissed
  item, and one published Monday 23 November 00:30 Vietnam time (2026-W48).
2026-W46: model_story 1, positive 1, critical 1 (Sunday 23:00), misleading 1 (1*) = 4 (1*).

Crawl runs: baoB-rss failed its last 3 runs of W47 (unhealthy at week end); baoC-rss failed
once in W47 and recovered; baoD-rss brought nothing on 18 November without any error (unhealthy
that day by volume) and recovered; mxh-feed failed only in W48; baoA-rss always worked.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pipeline.core.schema import Cooperative, CooperativeMention, CrawlRun, Item, Review, StoryCluster
from tests.helpers import VN

SCRIPT_TITLE = "<script>alert('x')</script> Thành viên HTX chưa được chia lãi"
NARRATIVE = "dat-dai-bi-thu-hoi"


def _at(day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=VN)


class _Seeder:
    def __init__(self, session: Session) -> None:
        self.session, self.count = session, 0

    def cluster(self, outlet: str, day: int) -> StoryCluster:
        cluster = StoryCluster(first_outlet=outlet, first_url=f"https://{outlet}.example.vn/",
                               first_seen_at=_at(day), size=0)
        self.session.add(cluster)
        self.session.flush()
        return cluster

    def item(self, outlet: str, label: Optional[str], published: Optional[datetime], *,
             title: str = "", cluster: Optional[StoryCluster] = None, narrative: Optional[str] = None,
             province: Optional[str] = None, sector: Optional[str] = None, kind: str = "news") -> Item:
        self.count += 1
        url = f"https://{outlet}.example.vn/bai-{self.count}.html"
        text = f"Nội dung bài số {self.count} về hợp tác xã."
        item = Item(
            url=url, canonical_url=url, source=f"{outlet}-rss", outlet=outlet, kind=kind,
            title=title or f"Bài số {self.count}", text=text, text_folded=text.lower(),
            published_at=published, fetched_at=(published or _at(18)) + timedelta(hours=1),
            content_hash=hashlib.sha256(url.encode()).hexdigest(), relevant=label is not None,
            label=label, confidence=0.9, cluster_id=cluster.id if cluster else None,
            narrative=narrative, province=province, sector=sector,
        )
        if cluster is not None:
            cluster.size += 1
        self.session.add(item)
        self.session.flush()
        return item


def seed_report_data(engine: Engine) -> dict[str, int]:
    """Seed both weeks, reviews, crawl runs and cooperatives; returns item ids by name."""
    with Session(engine) as session, session.begin():
        seed = _Seeder(session)
        ids = _this_week(seed) | _last_week(seed)
        _cooperatives(session, ids)
        session.add_all(_crawl_runs())
        session.add_all(_reviews(ids))
    return ids


def _reviews(ids: dict[str, int]) -> list[Review]:
    """Review rows written directly, as pipeline/review/workflow.py would append them."""
    rows = [
        Review(item_id=ids["m1"], reviewer="lan", action="confirm", label="model_story"),
        Review(item_id=ids["p2"], reviewer="lan", action="note", note="cần kiểm tra thêm"),
        Review(item_id=ids["p3"], reviewer="lan", action="dismiss"),
        Review(item_id=ids["c1"], reviewer="lan", action="confirm", label="critical"),
        # Relabelled misleading -> critical, after an earlier confirm: the latest decision counts.
        Review(item_id=ids["c3"], reviewer="lan", action="confirm", label="misleading"),
        Review(item_id=ids["c3"], reviewer="minh", action="relabel", label="critical"),
        Review(item_id=ids["d1"], reviewer="minh", action="confirm", label="misleading"),
        Review(item_id=ids["w46_d"], reviewer="minh", action="confirm", label="misleading"),
        # A blind second review never settles an item: p1 stays positive and model-only.
        Review(item_id=ids["p1"], reviewer="minh", action="relabel", label="neutral", second_review=True),
    ]
    return rows


def _this_week(seed: _Seeder) -> dict[str, int]:
    model, critical = seed.cluster("baoA", 17), seed.cluster("baoA", 18)
    rows = {
        "m1": seed.item("baoA", "model_story", _at(17), title="HTX Tân Phú làm giàu từ sầu riêng",
                        cluster=model, province="Đắk Lắk", sector="agriculture"),
        "m2": seed.item("baoB", "model_story", _at(17, 15), title="HTX Tân Phú làm giàu từ sầu riêng",
                        cluster=model, province="Đắk Lắk", sector="agriculture"),
        "m3": seed.item("baoC", "model_story", None, province="Cần Thơ", sector="agriculture"),
        "p1": seed.item("baoA", "positive", _at(19), province="Hà Nội"),
        "p2": seed.item("baoB", "positive", _at(20)),
        "p3": seed.item("baoC", "positive", _at(20)),
        "n1": seed.item("baoA", "neutral", _at(22, 23, 30), province="Hà Nội", sector="credit"),
        "c1": seed.item("baoA", "critical", _at(18), title=SCRIPT_TITLE, cluster=critical,
                        province="Cần Thơ", sector="credit"),
        "c2": seed.item("baoB", "critical", _at(18, 12), title=SCRIPT_TITLE, cluster=critical,
                        province="Cần Thơ", sector="credit"),
        "c3": seed.item("baoC", "misleading", _at(18, 14), title=SCRIPT_TITLE, cluster=critical,
                        province="Cần Thơ", sector="credit"),
        "d1": seed.item("mxh1", "misleading", _at(19), narrative=NARRATIVE, kind="social"),
        "d2": seed.item("mxh2", "misleading", _at(20), narrative=NARRATIVE, kind="social"),
        "d3": seed.item("mxh1", "misleading", _at(21), kind="social"),
        "irrelevant": seed.item("baoA", None, _at(19)),
        "w48": seed.item("baoA", "neutral", _at(23, 0, 30)),
    }
    return {name: item.id for name, item in rows.items()}


def _last_week(seed: _Seeder) -> dict[str, int]:
    rows = {
        "w46_m": seed.item("baoA", "model_story", _at(10)),
        "w46_p": seed.item("baoB", "positive", _at(11)),
        "w46_c": seed.item("baoA", "critical", _at(15, 23, 0)),
        "w46_d": seed.item("mxh1", "misleading", _at(12), narrative=NARRATIVE, kind="social"),
    }
    return {name: item.id for name, item in rows.items()}


def _cooperatives(session: Session, ids: dict[str, int]) -> None:
    tan_phu = Cooperative(key="htx tan phu", name="HTX Tân Phú", kind="cooperative",
                          province="Đắk Lắk", first_seen_at=_at(10))
    fund = Cooperative(key="quy tin dung nhan dan an binh", name="Quỹ tín dụng nhân dân An Bình",
                       kind="credit_fund", province="Cần Thơ", first_seen_at=_at(18))
    session.add_all([tan_phu, fund])
    session.flush()
    mentions = [(tan_phu, "m1", 17), (tan_phu, "m2", 17), (tan_phu, "w46_m", 10), (fund, "c1", 18)]
    session.add_all(CooperativeMention(cooperative_id=coop.id, item_id=ids[name], mentioned_at=_at(day))
                    for coop, name, day in mentions)


def _run(source: str, when: datetime, new: int, errors: tuple[str, ...] = ()) -> CrawlRun:
    return CrawlRun(source=source, outlet=source.split("-")[0], started_at=when,
                    finished_at=when + timedelta(minutes=2), fetched=new, new=new, duplicate=0,
                    failed=len(errors), errors=list(errors))


def _crawl_runs() -> list[CrawlRun]:
    runs = [_run("baoA-rss", _at(day), 3) for day in range(9, 23)]
    runs += [_run("baoB-rss", _at(day), 2) for day in range(9, 20)]
    runs += [_run("baoB-rss", _at(day), 0, ("HTTP 500",)) for day in (20, 21, 22)]
    runs += [_run("baoC-rss", _at(day), 1) for day in range(9, 23) if day != 18]
    runs += [_run("baoC-rss", _at(18), 0, ("timeout",))]
    runs += [_run("baoD-rss", _at(day), 0 if day == 18 else 2) for day in range(9, 23)]
    runs += [_run("mxh-feed", _at(day), 4) for day in range(9, 23)]
    runs += [_run("mxh-feed", _at(day), 0, ("HTTP 403",)) for day in (23, 24, 25)]
    return runs
