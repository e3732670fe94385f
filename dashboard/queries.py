"""Dashboard queries: SQL aggregates only, cached; pages never touch the ORM directly.

Each query is a plain function taking an engine (benchmarks/dashboard.py times those
uncached) with a cached wrapper of the same name without the leading underscore that the
pages call. Days are Vietnamese calendar days (UTC+7): an item published at 06:00 in Hà Nội
belongs to that day, not to the previous UTC one.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Optional

import pandas as pd
import streamlit as st
from sqlalchemy import Date, Engine, case, cast, distinct, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select, operators
from sqlalchemy.sql.elements import UnaryExpression

from pipeline.core.health import SourceHealth, source_health
from pipeline.core.config import get_settings
from pipeline.core.db import make_engine
from pipeline.core.schema import CrawlRun, Item, StoryCluster, utcnow

VN = timezone(timedelta(hours=7))
# Filter value standing for "no label": items the model judged not relevant (or unclassified).
NOT_RELEVANT = "not_relevant"
TOP_STORIES = 10
DEFAULT_PERIOD_DAYS = 30
HEALTH_WINDOW_DAYS = 28
# A period covering more than this share of the database's days is read by a table scan.
WIDE_PERIOD_SHARE = 0.25


@st.cache_resource
def engine() -> Engine:
    """The dashboard's database engine.

    Made here rather than through pipeline.ingest.runtime, whose imports (classifier, ingest,
    extraction) cost the first page view about 9 s and which the dashboard never uses.
    """
    return make_engine(get_settings().database_url)


@dataclass(frozen=True)
class Filters:
    """The overview's filters; an empty tuple means "all". `end` is inclusive."""

    start: date
    end: date
    outlets: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


def seen_at() -> ColumnElement[Any]:
    """When an item appeared: its publication time, or when it was fetched if it has none.

    Items carry an expression index on exactly this expression (ix_items_seen_at), so a
    period filter reads only that period's rows.
    """
    return func.coalesce(Item.published_at, Item.fetched_at)


def local_day(expr: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """The Vietnamese calendar day of a UTC timestamp expression."""
    if dialect == "sqlite":
        return func.date(expr, "+7 hours")
    return cast(func.timezone("Asia/Ho_Chi_Minh", expr), Date)


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=VN)


def _period_column(eng: Engine, filters: Filters) -> ColumnElement[Any]:
    """seen_at() for the period condition, hidden from SQLite's planner for wide periods.

    Without range statistics SQLite always prefers ix_items_seen_at for a range, and reading
    most of the table through an index costs several times a plain scan (measured with
    benchmarks/dashboard.py: a year of 200,000 items 1.1 s through the index, 0.3 s scanned).
    SQLite's unary "+" is a documented no-op that keeps a term from using an index.
    """
    column = seen_at()
    if eng.dialect.name != "sqlite":
        return column  # PostgreSQL has statistics and chooses by itself
    bounds = _date_bounds(eng)
    if bounds is None:
        return column
    span = (bounds[1] - bounds[0]).days + 1
    covered = (min(filters.end, bounds[1]) - max(filters.start, bounds[0])).days + 1
    if covered / span <= WIDE_PERIOD_SHARE:
        return column
    return UnaryExpression(column, operator=operators.custom_op("+"), type_=column.type)


def _where(query: Select[Any], filters: Filters, period: ColumnElement[Any]) -> Select[Any]:
    query = query.where(period >= _start_of(filters.start),
                        period < _start_of(filters.end + timedelta(days=1)))
    if filters.outlets:
        query = query.where(Item.outlet.in_(filters.outlets))
    if filters.kinds:
        query = query.where(Item.kind.in_(filters.kinds))
    if filters.provinces:
        query = query.where(Item.province.in_(filters.provinces))
    if filters.sectors:
        query = query.where(Item.sector.in_(filters.sectors))
    if filters.labels:
        labels = [label for label in filters.labels if label != NOT_RELEVANT]
        condition: ColumnElement[bool] = Item.label.in_(labels)
        if NOT_RELEVANT in filters.labels:
            condition = condition | Item.label.is_(None)
        query = query.where(condition)
    return query


def _volume(eng: Engine, filters: Filters) -> pd.DataFrame:
    day = local_day(seen_at(), eng.dialect.name).label("day")
    query = _where(
        select(
            day, Item.label, Item.sentiment,
            func.count().label("count"),
            func.sum(case((Item.relevant.is_(True), 1), else_=0)).label("relevant"),
            func.sum(case((Item.needs_review.is_(True), 1), else_=0)).label("review"),
        ),
        filters, _period_column(eng, filters),
    ).group_by(day, Item.label, Item.sentiment)
    with eng.connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame(rows, columns=["day", "label", "sentiment", "count", "relevant", "review"])
    frame["day"] = pd.to_datetime(frame["day"])
    for column in ("count", "relevant", "review"):
        frame[column] = frame[column].astype("int64")
    return frame.sort_values("day", kind="stable").reset_index(drop=True)


@st.cache_data(ttl=60)
def volume(filters: Filters) -> pd.DataFrame:
    """Items per Vietnamese day, label and sentiment in the filtered period.

    Columns day, label, sentiment, count, relevant (of count), review (of count, flagged);
    weeks and headline totals are sums of these rows, so one scan serves the whole page.
    """
    return _volume(engine(), filters)


def _top_stories(eng: Engine, filters: Filters, limit: int = TOP_STORIES) -> pd.DataFrame:
    # Stories are picked by the filtered items, but their reach counts every outlet that
    # carried them: filtering to one outlet must not make every story look exclusive.
    picked = _where(select(Item.cluster_id).where(Item.cluster_id.is_not(None)), filters,
                    _period_column(eng, filters))
    # Only cluster_id, outlet and id, so ix_items_cluster_outlet answers without the table.
    reach = (
        select(
            Item.cluster_id,
            func.count(distinct(Item.outlet)).label("outlets"),
            func.count().label("copies"),
            func.min(Item.id).label("first_item"),
        )
        .where(Item.cluster_id.in_(picked.scalar_subquery()))
        .group_by(Item.cluster_id)
        .order_by(func.count(distinct(Item.outlet)).desc(), func.count().desc(), Item.cluster_id)
        .limit(limit)
        .subquery()
    )
    query = (
        select(reach.c.cluster_id, Item.title, reach.c.outlets, reach.c.copies,
               StoryCluster.first_outlet, StoryCluster.first_seen_at, Item.label, Item.url)
        .join(Item, Item.id == reach.c.first_item)
        .join(StoryCluster, StoryCluster.id == reach.c.cluster_id)
        .order_by(reach.c.outlets.desc(), reach.c.copies.desc(), reach.c.cluster_id)
    )
    with Session(eng) as session:
        rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=["cluster_id", "title", "outlets", "items",
                                       "first_outlet", "first_seen_at", "label", "url"])


@st.cache_data(ttl=60)
def top_stories(filters: Filters, limit: int = TOP_STORIES) -> pd.DataFrame:
    """The period's stories carried by the most outlets, with the title of the first copy."""
    return _top_stories(engine(), filters, limit)


def _filter_options(eng: Engine) -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    with eng.connect() as connection:
        for name, column in (("outlets", Item.outlet), ("kinds", Item.kind),
                             ("provinces", Item.province), ("sectors", Item.sector)):
            values = connection.scalars(select(column).where(column.is_not(None)).distinct())
            options[name] = sorted(str(value) for value in values)
    return options


@st.cache_data(ttl=300)
def filter_options() -> dict[str, list[str]]:
    """Distinct outlets, kinds, provinces and sectors present in the database."""
    return _filter_options(engine())


def _date_bounds(eng: Engine) -> Optional[tuple[date, date]]:
    # Two separate min and max of the indexed expression are two index look-ups (SQLite only
    # does that for a query with a single min or max); a local day per row would scan all.
    first_q = select(func.min(seen_at())).scalar_subquery()
    last_q = select(func.max(seen_at())).scalar_subquery()
    with eng.connect() as connection:
        first, last = connection.execute(select(first_q, last_q)).one()
    if first is None:
        return None
    return first.astimezone(VN).date(), last.astimezone(VN).date()


@st.cache_data(ttl=60)
def date_bounds() -> Optional[tuple[date, date]]:
    """The first and last Vietnamese day with an item, or None when there is none."""
    return _date_bounds(engine())


def default_filters(bounds: Optional[tuple[date, date]], today: Optional[date] = None) -> Filters:
    """The last 30 days up to the newest item (so an idle crawler still shows its last month)."""
    end = bounds[1] if bounds else (today or utcnow().astimezone(VN).date())
    return Filters(start=end - timedelta(days=DEFAULT_PERIOD_DAYS - 1), end=end)


@st.cache_data(ttl=60)
def source_health_rows() -> list[SourceHealth]:
    """Health of every crawled source (pipeline.core.health rules), by source name."""
    return source_health(engine())


def unhealthy_sources() -> list[SourceHealth]:
    """The sources whose silence cannot be trusted right now."""
    return [row for row in source_health_rows() if not row.healthy]


def _crawl_totals(eng: Engine, days: int = HEALTH_WINDOW_DAYS) -> pd.DataFrame:
    since = utcnow() - timedelta(days=days)
    query = (
        select(CrawlRun.source, func.count(), func.sum(CrawlRun.fetched), func.sum(CrawlRun.new),
               func.sum(CrawlRun.duplicate), func.sum(CrawlRun.failed))
        .where(CrawlRun.started_at >= since)
        .group_by(CrawlRun.source)
    )
    with eng.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame(rows, columns=["source", "runs", "fetched", "new", "duplicate", "failed"])


@st.cache_data(ttl=60)
def crawl_totals(days: int = HEALTH_WINDOW_DAYS) -> pd.DataFrame:
    """Runs, pages fetched, new items, duplicates and failures per source over the last days."""
    return _crawl_totals(engine(), days)
