"""Dashboard queries: SQL aggregates only, cached; pages never touch the ORM directly."""
from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pipeline.health import SourceHealth, source_health
from pipeline.runtime import shared_engine
from pipeline.schema import Item


@st.cache_resource
def engine() -> Engine:
    """The dashboard's database engine."""
    return shared_engine()


def _day_column():  # type: ignore[no-untyped-def]
    return func.date(func.coalesce(Item.published_at, Item.fetched_at))


@st.cache_data(ttl=60)
def label_counts_per_day() -> pd.DataFrame:
    """Relevant items per label per day (irrelevant ones as label None)."""
    day = _day_column().label("day")
    query = select(day, Item.label, func.count(Item.id).label("count")).group_by(day, Item.label)
    with Session(engine()) as session:
        rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["day", "label", "count"])
    frame["day"] = pd.to_datetime(frame["day"])
    return frame.sort_values("day")


@st.cache_data(ttl=60)
def headline_figures() -> dict[str, int]:
    """Total, relevant and to-review counts."""
    with Session(engine()) as session:
        total = session.scalar(select(func.count(Item.id))) or 0
        relevant = session.scalar(select(func.count(Item.id)).where(Item.relevant.is_(True))) or 0
        review = session.scalar(select(func.count(Item.id)).where(Item.needs_review.is_(True))) or 0
    return {"total": total, "relevant": relevant, "review": review}


@st.cache_data(ttl=60)
def source_health_rows() -> list[SourceHealth]:
    """Health of every crawled source (pipeline.health rules), by source name."""
    return source_health(engine())


def unhealthy_sources() -> list[SourceHealth]:
    """The sources whose silence cannot be trusted right now."""
    return [row for row in source_health_rows() if not row.healthy]
