"""Weekly report page queries: the weeks on offer, the report and its files, cached."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import streamlit as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dashboard.queries import engine
from models.narratives import NarrativeLibrary, load_library
from pipeline.core.config import get_settings
from pipeline.core.schema import utcnow
from pipeline.review.decisions import item_time
from pipeline.report.build import WeeklyReport, build_report
from pipeline.report.document import Block, document
from pipeline.report.render import render
from pipeline.core.weeks import Week, weeks_between


def _report_weeks(db: Engine) -> list[str]:
    """Every week from the oldest item's to the current one, newest first (the weeks after the
    newest item are offered too: their reports say there is no data)."""
    first, _ = data_span(db)
    if first is None:
        return []
    return [str(week) for week in weeks_between(first, utcnow())]


def data_span(db: Engine) -> tuple[Optional[datetime], Optional[datetime]]:
    """When the oldest and the newest stored item appeared."""
    with Session(db) as session:
        first, last = session.execute(select(func.min(item_time()), func.max(item_time()))).one()
    return first, last


@st.cache_data(ttl=60)
def newest_item_time() -> Optional[datetime]:
    return data_span(engine())[1]


@st.cache_resource
def narrative_library() -> Optional[NarrativeLibrary]:
    """The narrative library, for titles and rebuttals (None when the file is absent)."""
    return load_library(get_settings().narratives_path)


@st.cache_data(ttl=60)
def report_weeks() -> list[str]:
    return _report_weeks(engine())


@st.cache_data(ttl=60)
def weekly_report(week: str) -> WeeklyReport:
    return build_report(engine(), Week.parse(week), narrative_library())


@st.cache_data(ttl=60)
def report_file(week: str, fmt: str, lang: str) -> bytes:
    """The report as a downloadable file (the same document the CLI writes)."""
    return render(weekly_report(week), fmt, lang)


@st.cache_data(ttl=60)
def report_document(week: str, lang: str) -> list[Block]:
    """The report's blocks (charts drawn once per week and language)."""
    return document(weekly_report(week), lang)
