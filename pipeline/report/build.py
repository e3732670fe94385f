"""The weekly report for leaders, built from SQL aggregates into one data structure.

Layout lives in document.py; rendering in render.py (Markdown, HTML) and pdf.py.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Optional

from sqlalchemy import Engine, Select, distinct, func, select
from sqlalchemy.orm import Session

from models.contract import LABELS, SENTIMENT
from models.narratives import NarrativeLibrary
from pipeline.review.decisions import confirmed_count, effective_label, item_time, latest_decisions
from pipeline.core.health import SourceHealth, run_failed, source_health_at
from pipeline.core.schema import CrawlRun, Item, utcnow
from pipeline.core.weeks import Week, day_start

logger = logging.getLogger(__name__)

SENTIMENTS = ("positive", "neutral", "negative")
TOP_STORIES = 5


@dataclass(frozen=True)
class Figure:
    """A count of items and how many of them a monitor has decided on."""

    count: int = 0
    confirmed: int = 0

    @property
    def model_only(self) -> int:
        """Items counted on the model's word alone."""
        return self.count - self.confirmed

    def __add__(self, other: "Figure") -> "Figure":
        return Figure(self.count + other.count, self.confirmed + other.confirmed)


@dataclass(frozen=True)
class Comparison:
    """One row of this week against last week (a label or a sentiment)."""

    key: str
    this_week: Figure
    last_week: Figure

    @property
    def change(self) -> int:
        """This week's count minus last week's."""
        return self.this_week.count - self.last_week.count


@dataclass(frozen=True)
class Story:
    """One story (an item and its copies) of the week."""

    title: str
    outlet: str
    url: str
    outlets: int
    items: Figure


@dataclass(frozen=True)
class NarrativeActivity:
    """A known false narrative seen this week (narrative_id None: misleading, no match)."""

    narrative_id: Optional[str]
    title: str
    rebuttal: str
    legal_reference: str
    outlets: int
    items: Figure


@dataclass(frozen=True)
class SourceCaveat:
    """A source whose silence that week may be breakage rather than no news.

    `problem` is the source's health at its last unhealthy day's end (None: it never was
    unhealthy, only some runs failed).
    """

    source: str
    outlet: str
    runs: int
    failed_runs: int
    unhealthy_days: int
    healthy_at_end: bool
    problem: Optional[SourceHealth]


@dataclass(frozen=True)
class DayCoverage:
    """What collection did on one day of the week: the evidence behind every count."""

    day: date
    sources_run: int
    runs: int
    failed_runs: int
    fetched: int
    items: int


# What the report can claim about its week.
COMPLETE, PROVISIONAL, NO_DATA = "complete", "provisional", "no_data"


@dataclass
class WeeklyReport:
    """Everything the weekly report says, in the order it says it."""

    week: Week
    generated_at: datetime
    total: Comparison
    outlets: int
    labels: list[Comparison]
    sentiments: list[Comparison]
    model_stories: list[Story] = field(default_factory=list)
    critical_issues: list[Story] = field(default_factory=list)
    narratives: list[NarrativeActivity] = field(default_factory=list)
    caveats: list[SourceCaveat] = field(default_factory=list)
    coverage: list[DayCoverage] = field(default_factory=list)
    # COMPLETE; PROVISIONAL while the week is not over; NO_DATA when nothing was collected.
    status: str = COMPLETE

    @property
    def has_data(self) -> bool:
        """Something was collected or stored in the week (else every count is a zero of ignorance)."""
        return any(day.runs or day.items for day in self.coverage)

    def label(self, key: str) -> Comparison:
        """The comparison row of one label."""
        return next(row for row in self.labels if row.key == key)


def build_report(engine: Engine, week: Week, library: Optional[NarrativeLibrary] = None,
                 now: Optional[datetime] = None) -> WeeklyReport:
    """Compute every figure of the report for one week from the database."""
    with Session(engine) as session:
        this_week = _label_figures(session, week)
        last_week = _label_figures(session, week.previous())
        labels = [Comparison(key, this_week.get(key, Figure()), last_week.get(key, Figure()))
                  for key in LABELS]
        report = WeeklyReport(
            week=week, generated_at=now or utcnow(),
            total=Comparison("total", _sum(this_week.values()), _sum(last_week.values())),
            outlets=_outlet_count(session, week), labels=labels, sentiments=_by_sentiment(labels),
            model_stories=_top_stories(session, week, "model_story"),
            critical_issues=_top_stories(session, week, "critical"),
            narratives=_narratives(session, week, library),
        )
    report.caveats = source_caveats(engine, week)
    report.coverage = day_coverage(engine, week)
    moment = now or utcnow()
    report.status = NO_DATA if not report.has_data else PROVISIONAL if moment < week.end else COMPLETE
    return report


def day_coverage(engine: Engine, week: Week) -> list[DayCoverage]:
    """Per day of the week (Vietnam time): sources run, runs, failed runs, pages fetched, items."""
    days = [week.first_day + timedelta(days=n) for n in range(7)]
    with Session(engine) as session:
        runs = session.scalars(select(CrawlRun).where(CrawlRun.started_at >= week.start,
                                                      CrawlRun.started_at < week.end)).all()
        seen = func.coalesce(Item.published_at, Item.fetched_at)
        stamps = [published or fetched for published, fetched in session.execute(
            select(Item.published_at, Item.fetched_at).where(seen >= week.start, seen < week.end))]
    coverage = []
    for day in days:
        start, end = day_start(day), day_start(day + timedelta(days=1))
        today = [r for r in runs if start <= r.started_at < end]
        coverage.append(DayCoverage(
            day=day, sources_run=len({r.source for r in today}), runs=len(today),
            failed_runs=sum(run_failed(r) for r in today), fetched=sum(r.fetched for r in today),
            items=sum(start <= stamp < end for stamp in stamps),
        ))
    return coverage


def _sum(figures: Any) -> Figure:
    return sum(figures, Figure())


def _in_week(query: Select[Any], week: Week) -> Select[Any]:
    moment = item_time()
    return query.where(moment >= week.start, moment < week.end)


def _label_figures(session: Session, week: Week) -> dict[str, Figure]:
    """Relevant items of the week per label (the monitor's where decided)."""
    decision = latest_decisions()
    label = effective_label(decision).label("label")
    query = _in_week(
        select(label, func.count(Item.id), confirmed_count(decision))
        .outerjoin(decision, decision.c.item_id == Item.id)
        .where(label.is_not(None))
        .group_by(label),
        week,
    )
    return {key: Figure(count, confirmed) for key, count, confirmed in session.execute(query)}


def _by_sentiment(labels: list[Comparison]) -> list[Comparison]:
    """Labels grouped into summary sentiment as LABELS.md defines it."""
    rows = []
    for sentiment in SENTIMENTS:
        members = [row for row in labels if SENTIMENT[row.key] == sentiment]
        rows.append(Comparison(sentiment, _sum(r.this_week for r in members),
                               _sum(r.last_week for r in members)))
    return rows


def _outlet_count(session: Session, week: Week) -> int:
    decision = latest_decisions()
    query = _in_week(
        select(func.count(distinct(Item.outlet)))
        .outerjoin(decision, decision.c.item_id == Item.id)
        .where(effective_label(decision).is_not(None)),
        week,
    )
    return session.scalar(query) or 0


def _top_stories(session: Session, week: Week, label: str, limit: int = TOP_STORIES) -> list[Story]:
    """The week's stories of one label carried by the most outlets, one row per story."""
    decision = latest_decisions()
    # Items without a cluster are stories of their own; negative ids keep the keys apart.
    story = func.coalesce(Item.cluster_id, -Item.id).label("story")
    grouped = _in_week(
        select(
            story, func.min(Item.id).label("first_id"),
            func.count(distinct(Item.outlet)).label("outlets"),
            func.count(Item.id).label("item_count"), confirmed_count(decision).label("confirmed"),
        )
        .outerjoin(decision, decision.c.item_id == Item.id)
        .where(effective_label(decision) == label)
        .group_by(story),
        week,
    ).subquery("stories")
    query = (
        select(Item.title, Item.outlet, Item.url, grouped.c.outlets, grouped.c.item_count, grouped.c.confirmed)
        .join(grouped, grouped.c.first_id == Item.id)
        .order_by(grouped.c.outlets.desc(), grouped.c.item_count.desc(), Item.id)
        .limit(limit)
    )
    return [Story(title or "", outlet, url, outlets, Figure(items, confirmed))
            for title, outlet, url, outlets, items, confirmed in session.execute(query)]


def _narratives(session: Session, week: Week, library: Optional[NarrativeLibrary]) -> list[NarrativeActivity]:
    """Misleading items of the week per matched narrative, most items first."""
    decision = latest_decisions()
    query = _in_week(
        select(Item.narrative, func.count(Item.id), confirmed_count(decision),
               func.count(distinct(Item.outlet)))
        .outerjoin(decision, decision.c.item_id == Item.id)
        .where(effective_label(decision) == "misleading")
        .group_by(Item.narrative),
        week,
    )
    known = {n.id: n for n in library.narratives} if library else {}
    rows = []
    for narrative_id, count, confirmed, outlets in session.execute(query):
        narrative = known.get(narrative_id) if narrative_id else None
        rows.append(NarrativeActivity(
            narrative_id=narrative_id, title=narrative.title if narrative else (narrative_id or ""),
            rebuttal=narrative.rebuttal if narrative else "",
            legal_reference=narrative.legal_reference if narrative else "",
            outlets=outlets, items=Figure(count, confirmed),
        ))
    # Unmatched misleading items go last: they have no narrative to rebut with.
    return sorted(rows, key=lambda r: (r.narrative_id is None, -r.items.count, r.title))


def source_caveats(engine: Engine, week: Week) -> list[SourceCaveat]:
    """Sources with failed runs during the week or unhealthy at the end of any of its days."""
    with Session(engine) as session:
        runs = session.scalars(
            select(CrawlRun).where(CrawlRun.started_at >= week.start, CrawlRun.started_at < week.end)
        ).all()
    counts: dict[str, list[int]] = {}
    for run in runs:
        tally = counts.setdefault(run.source, [0, 0])
        tally[0] += 1
        tally[1] += run_failed(run)
    day_ends = [day_start(week.first_day + timedelta(days=n)) for n in range(1, 8)]
    by_day = source_health_at(engine, day_ends)
    caveats = []
    for at_end in by_day[-1]:
        history = [h for day in by_day for h in day if h.source == at_end.source]
        unhealthy = [h for h in history if not h.healthy]
        total, failed = counts.get(at_end.source, [0, 0])
        if failed or unhealthy:
            caveats.append(SourceCaveat(
                at_end.source, at_end.outlet, total, failed, len(unhealthy), at_end.healthy,
                unhealthy[-1] if unhealthy else None,
            ))
    return caveats
