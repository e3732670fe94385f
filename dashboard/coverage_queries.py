"""Coverage page queries: SQL aggregates over a period of Vietnamese calendar days, cached.

Each query is a plain `_name(engine, start, end)` (end inclusive) with a cached wrapper
`name(start, end)` that the page calls. Labels count as the monitor decided where an item is
settled, else as the model said (pipeline/review/decisions.py); `confirmed` columns say how many.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional

import pandas as pd
import streamlit as st
from sqlalchemy import ColumnElement, Engine, Select, Subquery, case, distinct, func, select
from sqlalchemy.orm import Session

from dashboard.queries import engine
from pipeline.review.decisions import confirmed_count, effective_label, item_time, latest_decisions
from pipeline.core.schema import Cooperative, CooperativeMention, Item, StoryCluster
from pipeline.core.weeks import VN_TZ, day_start

DEFAULT_DAYS = 30
TOP_COOPERATIVES = 20
TOP_STORIES = 50
NEGATIVE = ("critical", "misleading")


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return day_start(start), day_start(end + timedelta(days=1))


def _in_period(query: Select[Any], start: date, end: date) -> Select[Any]:
    low, high = _bounds(start, end)
    moment = item_time()
    return query.where(moment >= low, moment < high)


def _frame(session: Session, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(session.execute(query).all(), columns=columns)


def _data_window(db: Engine) -> Optional[tuple[date, date]]:
    """The default period: the DEFAULT_DAYS days up to the newest item, or None without items."""
    with Session(db) as session:
        newest = session.scalar(select(func.max(item_time())))
    if newest is None:
        return None
    last_day = newest.astimezone(VN_TZ).date()
    return last_day - timedelta(days=DEFAULT_DAYS - 1), last_day


def _volume_by_outlet(db: Engine, start: date, end: date) -> pd.DataFrame:
    """Items per outlet and kind: all stored, relevant, and relevant ones a monitor settled."""
    decision = latest_decisions()
    label = effective_label(decision)
    relevant = func.count(case((label.is_not(None), 1)))
    confirmed = func.count(case((label.is_not(None) & decision.c.item_id.is_not(None), 1)))
    query = _in_period(
        select(Item.outlet, Item.kind, func.count(Item.id).label("items"), relevant.label("relevant"),
               confirmed.label("confirmed"))
        .outerjoin(decision, decision.c.item_id == Item.id)
        .group_by(Item.outlet, Item.kind)
        .order_by(relevant.desc(), Item.outlet),
        start, end,
    )
    with Session(db) as session:
        return _frame(session, query, ["outlet", "kind", "items", "relevant", "confirmed"])


def _group_counts(db: Engine, start: date, end: date, name: str,
                  column_of: Callable[[Subquery], ColumnElement[Any]]) -> pd.DataFrame:
    """Relevant items per value of a column, with negative and confirmed counts."""
    decision = latest_decisions()
    label = effective_label(decision)
    column = column_of(decision)
    items = func.count(Item.id)
    query = _in_period(
        select(column, items, func.count(case((label.in_(NEGATIVE), 1))), confirmed_count(decision))
        .outerjoin(decision, decision.c.item_id == Item.id)
        .where(label.is_not(None))
        .group_by(column)
        .order_by(column.is_(None), items.desc(), column),  # "unknown" last
        start, end,
    )
    with Session(db) as session:
        return _frame(session, query, [name, "items", "negative", "confirmed"])


def _share_of_voice(db: Engine, start: date, end: date) -> pd.DataFrame:
    """Relevant items per label, with their share of all relevant items in percent."""
    frame = _group_counts(db, start, end, "label", effective_label)
    total = int(frame["items"].sum())
    frame["share"] = (100 * frame["items"] / total).round(1) if total else 0.0
    return frame[["label", "items", "share", "confirmed"]]


def _label_by_outlet(db: Engine, start: date, end: date) -> pd.DataFrame:
    """Relevant items per outlet and label (long form; the page pivots it)."""
    decision = latest_decisions()
    label = effective_label(decision).label("label")
    query = _in_period(
        select(Item.outlet, label, func.count(Item.id))
        .outerjoin(decision, decision.c.item_id == Item.id)
        .where(label.is_not(None))
        .group_by(Item.outlet, label),
        start, end,
    )
    with Session(db) as session:
        return _frame(session, query, ["outlet", "label", "items"])


def _top_cooperatives(db: Engine, start: date, end: date, limit: int = TOP_COOPERATIVES) -> pd.DataFrame:
    """The cooperatives named in the most items of the period."""
    low, high = _bounds(start, end)
    items = func.count(distinct(CooperativeMention.item_id))
    query = (
        select(Cooperative.name, Cooperative.kind, Cooperative.province, items,
               func.count(distinct(Item.outlet)))
        .join(CooperativeMention, CooperativeMention.cooperative_id == Cooperative.id)
        .join(Item, Item.id == CooperativeMention.item_id)
        .where(CooperativeMention.mentioned_at >= low, CooperativeMention.mentioned_at < high)
        .group_by(Cooperative.id, Cooperative.name, Cooperative.kind, Cooperative.province)
        .order_by(items.desc(), Cooperative.name)
        .limit(limit)
    )
    with Session(db) as session:
        return _frame(session, query, ["cooperative", "coop_kind", "province", "items", "outlets"])


def _syndication(db: Engine, start: date, end: date, limit: int = TOP_STORIES) -> pd.DataFrame:
    """Stories carried by two or more outlets in the period, and which outlets carried them."""
    pairs = _in_period(
        select(Item.cluster_id, Item.outlet).distinct().where(Item.cluster_id.is_not(None)), start, end
    ).subquery("pairs")
    outlets = func.count(pairs.c.outlet)
    carriers = (
        select(pairs.c.cluster_id, outlets.label("outlets"),
               func.aggregate_strings(pairs.c.outlet, ", ").label("carried_by"))
        .group_by(pairs.c.cluster_id)
        .having(outlets >= 2)
        .subquery("carriers")
    )
    title = (select(Item.title).where(Item.cluster_id == StoryCluster.id)
             .order_by(Item.id).limit(1).scalar_subquery())
    query = (
        select(title, StoryCluster.first_outlet, StoryCluster.first_seen_at, carriers.c.outlets,
               carriers.c.carried_by, StoryCluster.first_url)
        .join(carriers, carriers.c.cluster_id == StoryCluster.id)
        .order_by(carriers.c.outlets.desc(), StoryCluster.first_seen_at.desc())
        .limit(limit)
    )
    with Session(db) as session:
        frame = _frame(session, query, ["story", "first_outlet", "first_seen", "outlets", "carried_by", "url"])
    frame["carried_by"] = [", ".join(sorted(v.split(", "))) for v in frame["carried_by"]]
    frame["first_seen"] = [moment.astimezone(VN_TZ).replace(tzinfo=None) for moment in frame["first_seen"]]
    # Shown as a link: only plain http(s), never a javascript: address.
    frame["url"] = [u if u.lower().startswith(("http://", "https://")) else None for u in frame["url"]]
    return frame


def _pickups(db: Engine, start: date, end: date) -> pd.DataFrame:
    """How many stories first published by one outlet another outlet carried in the period."""
    stories = func.count(distinct(Item.cluster_id))
    query = _in_period(
        select(StoryCluster.first_outlet, Item.outlet, stories)
        .join(StoryCluster, StoryCluster.id == Item.cluster_id)
        .where(Item.outlet != StoryCluster.first_outlet)
        .group_by(StoryCluster.first_outlet, Item.outlet)
        .order_by(stories.desc(), StoryCluster.first_outlet, Item.outlet),
        start, end,
    )
    with Session(db) as session:
        return _frame(session, query, ["first_outlet", "carrier", "stories"])


@st.cache_data(ttl=60)
def data_window() -> Optional[tuple[date, date]]:
    return _data_window(engine())


@st.cache_data(ttl=60)
def volume_by_outlet(start: date, end: date) -> pd.DataFrame:
    return _volume_by_outlet(engine(), start, end)


@st.cache_data(ttl=60)
def share_of_voice(start: date, end: date) -> pd.DataFrame:
    return _share_of_voice(engine(), start, end)


@st.cache_data(ttl=60)
def label_by_outlet(start: date, end: date) -> pd.DataFrame:
    return _label_by_outlet(engine(), start, end)


@st.cache_data(ttl=60)
def provinces(start: date, end: date) -> pd.DataFrame:
    return _group_counts(engine(), start, end, "province", lambda _: Item.province)


@st.cache_data(ttl=60)
def sectors(start: date, end: date) -> pd.DataFrame:
    return _group_counts(engine(), start, end, "sector", lambda _: Item.sector)


@st.cache_data(ttl=60)
def top_cooperatives(start: date, end: date) -> pd.DataFrame:
    return _top_cooperatives(engine(), start, end)


@st.cache_data(ttl=60)
def syndication(start: date, end: date) -> pd.DataFrame:
    return _syndication(engine(), start, end)


@st.cache_data(ttl=60)
def pickups(start: date, end: date) -> pd.DataFrame:
    return _pickups(engine(), start, end)
