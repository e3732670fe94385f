"""Tổng quan: volume per day by label."""
from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard.auth import language, require_role
from dashboard.i18n import label_name, t
from dashboard.queries import headline_figures, label_counts_per_day

require_role("monitor", "editor", "leader")
lang = language()
st.header(t("overview", lang))
st.caption(t("overview_caption", lang))

figures = headline_figures()
columns = st.columns(3)
columns[0].metric(t("total_items", lang), figures["total"])
columns[1].metric(t("relevant_items", lang), figures["relevant"])
columns[2].metric(t("flagged_items", lang), figures["review"])

counts = label_counts_per_day()
if counts.empty:
    st.info(t("no_items", lang))
else:
    counts["label_name"] = [label_name(v, lang) for v in counts["label"]]
    chart = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("yearmonthdate(day):T", title=t("day", lang)),
            y=alt.Y("sum(count):Q", title=t("count", lang)),
            color=alt.Color("label_name:N", title=t("label", lang)),
        )
    )
    st.altair_chart(chart, use_container_width=True)
    table = counts.pivot_table(index="day", columns="label_name", values="count", fill_value=0, aggfunc="sum")
    table.index = table.index.strftime("%d/%m/%Y")
    st.dataframe(table, use_container_width=True)
