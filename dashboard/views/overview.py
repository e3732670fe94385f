"""Tổng quan: volume per day or week by label or sentiment, filters, the period's top stories."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.auth import language, require_role
from dashboard.banner import alerts_banner, unhealthy_sources_banner
from dashboard.i18n import TEXT, label_name, t
from dashboard.queries import (
    NOT_RELEVANT, VN, Filters, date_bounds, default_filters, filter_options, top_stories, volume,
)
from models.contract import LABELS
from pipeline.ingest.enrich import SECTOR_NAMES

# One colour per label everywhere: greens for favourable, grey neutral, orange criticism, red
# only for misleading, so criticism never looks like misinformation on a chart.
LABEL_COLOURS = {"model_story": "#1b7837", "positive": "#7fbf7b", "neutral": "#9e9e9e",
                 "critical": "#f4a259", "misleading": "#c62828", None: "#d9d9d9"}
SENTIMENT_COLOURS = {"positive": "#5aae61", "neutral": "#9e9e9e", "negative": "#e08214", None: "#d9d9d9"}

require_role("monitor", "editor", "leader")
lang = language()


def key_of(value: Any) -> Optional[str]:
    """A label or sentiment key from a frame cell, where pandas holds a missing one as NaN."""
    return None if value is None or pd.isna(value) else str(value)


def name_of(prefix: str, value: Any) -> str:
    """Display name of a kind or sentiment key; an unknown key is shown as it is."""
    value = key_of(value)
    key = f"{prefix}_{value if value is not None else 'none'}"
    return TEXT.get(lang, TEXT["vi"]).get(key) or str(value)


def sector_name(key: str) -> str:
    return SECTOR_NAMES.get(key, {}).get(lang, key)


def label_option_name(value: str) -> str:
    return label_name(None if value == NOT_RELEVANT else value, lang)


def safe_link(url: Any) -> Optional[str]:
    """Only web addresses become links: an imported `javascript:` URL must never be clickable."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


st.header(t("overview", lang))
st.caption(t("overview_caption", lang))
alerts_banner(lang)
unhealthy_sources_banner(lang)

bounds = date_bounds()
if bounds is None:
    st.info(t("no_items", lang))
    st.stop()
default = default_filters(bounds)
options = filter_options()

with st.expander(t("filters", lang), expanded=True):
    row = st.columns(3)
    period = row[0].date_input(t("period", lang), value=(default.start, default.end),
                               format="DD/MM/YYYY", key="ov_period")
    outlets = row[1].multiselect(t("outlet", lang), options["outlets"], key="ov_outlets", placeholder=t("all", lang))
    kinds = row[2].multiselect(t("kind", lang), options["kinds"], key="ov_kinds", placeholder=t("all", lang),
                               format_func=lambda v: name_of("kind", v))
    row = st.columns(3)
    provinces = row[0].multiselect(t("province", lang), options["provinces"], key="ov_provinces", placeholder=t("all", lang))
    sectors = row[1].multiselect(t("sector", lang), options["sectors"], key="ov_sectors", placeholder=t("all", lang),
                                 format_func=sector_name)
    labels = row[2].multiselect(t("label", lang), [*LABELS, NOT_RELEVANT], key="ov_labels", placeholder=t("all", lang),
                                format_func=label_option_name)

# While a range is being picked the widget holds only its first day: show that day alone.
# A cleared field falls back to the default period.
days: tuple[date, ...] = tuple(period) if isinstance(period, (tuple, list)) else (period,) if period else ()
start = days[0] if days else default.start
end = days[1] if len(days) > 1 else (start if days else default.end)
filters = Filters(start=start, end=end, outlets=tuple(outlets), kinds=tuple(kinds),
                  provinces=tuple(provinces), sectors=tuple(sectors), labels=tuple(labels))

counts = volume(filters)
columns = st.columns(4)
columns[0].metric(t("total_items", lang), int(counts["count"].sum()))
columns[1].metric(t("relevant_items", lang), int(counts["relevant"].sum()))
columns[2].metric(t("flagged_items", lang), int(counts["review"].sum()))
columns[3].metric(t("misleading_items", lang), int(counts.loc[counts["label"] == "misleading", "count"].sum()))

if counts.empty:
    st.info(t("no_match", lang))
else:
    row = st.columns(2)
    per = row[0].radio(t("granularity", lang), ["day", "week"], horizontal=True, key="ov_per",
                       format_func=lambda v: t(f"by_{v}", lang))
    split = row[1].radio(t("breakdown", lang), ["label", "sentiment"], horizontal=True,
                         key="ov_split", format_func=lambda v: t(f"by_{v}", lang))
    frame = counts.copy()
    if per == "week":
        frame["day"] = frame["day"] - pd.to_timedelta(frame["day"].dt.weekday, unit="D")
    if split == "label":
        frame["group"] = [label_name(key_of(v), lang) for v in frame["label"]]
        order = [label_name(v, lang) for v in (*LABELS, None)]
        colours = [LABEL_COLOURS[v] for v in (*LABELS, None)]
    else:
        frame["group"] = [name_of("sentiment", v) for v in frame["sentiment"]]
        order = [name_of("sentiment", v) for v in ("positive", "neutral", "negative", None)]
        colours = [SENTIMENT_COLOURS[v] for v in ("positive", "neutral", "negative", None)]
    series = frame.groupby(["day", "group"], as_index=False)["count"].sum()
    period_title = t("week" if per == "week" else "day", lang)
    chart = (
        alt.Chart(series)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(day):T", title=period_title, axis=alt.Axis(format="%d/%m")),
            y=alt.Y("sum(count):Q", title=t("count", lang)),
            color=alt.Color("group:N", title=t(f"by_{split}", lang), sort=order,
                            scale=alt.Scale(domain=[o for o in order if o in set(series["group"])],
                                            range=[c for o, c in zip(order, colours) if o in set(series["group"])])),
            tooltip=[alt.Tooltip("yearmonthdate(day):T", title=period_title, format="%d/%m/%Y"),
                     alt.Tooltip("group:N", title=t(f"by_{split}", lang)),
                     alt.Tooltip("count:Q", title=t("count", lang))],
        )
    )
    st.altair_chart(chart, width="stretch")
    table = series.pivot_table(index="day", columns="group", values="count", fill_value=0, aggfunc="sum")
    table = table[[o for o in order if o in table.columns]]
    table.index = table.index.strftime("%d/%m/%Y")
    table.index.name = period_title
    table.columns.name = None
    st.dataframe(table, width="stretch")

st.subheader(t("top_stories", lang))
st.caption(t("top_stories_caption", lang))
stories = top_stories(filters)
if stories.empty:
    st.info(t("no_stories", lang))
else:
    # Titles go into dataframe cells, which are always plain text: markup in a title shows as typed.
    shown = pd.DataFrame({
        t("story_title", lang): stories["title"],
        t("story_outlets", lang): stories["outlets"],
        t("story_items", lang): stories["items"],
        t("story_first_outlet", lang): stories["first_outlet"],
        t("story_first_seen", lang): [ts.astimezone(VN).strftime("%d/%m/%Y %H:%M")
                                      for ts in stories["first_seen_at"]],
        t("label", lang): [label_name(key_of(v), lang) for v in stories["label"]],
        t("story_link", lang): [safe_link(u) for u in stories["url"]],
    })
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={t("story_link", lang): st.column_config.LinkColumn()})
