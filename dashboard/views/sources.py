"""Nguồn: the crawler's health figures per source (the same rules as `coopwatch sources`)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.auth import language, require_role
from dashboard.banner import health_reason, unhealthy_sources_banner
from dashboard.i18n import t
from dashboard.queries import VN, crawl_totals, source_health_rows

require_role("monitor", "editor", "leader")
lang = language()

st.header(t("sources", lang))
st.caption(t("sources_caption", lang))
unhealthy_sources_banner(lang)

rows = source_health_rows()
if not rows:
    st.info(t("no_runs", lang))
    st.stop()

columns = st.columns(2)
columns[0].metric(t("sources_total", lang), len(rows))
columns[1].metric(t("sources_unhealthy", lang), sum(1 for row in rows if not row.healthy))

totals = crawl_totals().set_index("source")


def total(source: str, column: str) -> int:
    return int(totals.at[source, column]) if source in totals.index else 0


# Unhealthy sources first, so the ones to act on are at the top; names and errors are
# dataframe cells, which never interpret markup.
ordered = sorted(rows, key=lambda row: (row.healthy, row.source))
table = pd.DataFrame({
    t("source", lang): [row.source for row in ordered],
    t("outlet", lang): [row.outlet for row in ordered],
    t("status", lang): [t("status_ok" if row.healthy else "status_unhealthy", lang) for row in ordered],
    t("reason", lang): [health_reason(row, lang) for row in ordered],
    t("failures_in_a_row", lang): [row.failures_in_a_row for row in ordered],
    t("new_last_day", lang): [row.new_last_day for row in ordered],
    t("daily_norm", lang): [round(row.daily_norm, 1) if row.daily_norm is not None else None
                            for row in ordered],
    t("runs", lang): [total(row.source, "runs") for row in ordered],
    t("fetched_window", lang): [total(row.source, "fetched") for row in ordered],
    t("new_window", lang): [total(row.source, "new") for row in ordered],
    t("duplicate_window", lang): [total(row.source, "duplicate") for row in ordered],
    t("failed_window", lang): [total(row.source, "failed") for row in ordered],
    t("last_run", lang): [row.last_run.astimezone(VN).strftime("%d/%m/%Y %H:%M") if row.last_run else ""
                          for row in ordered],
    t("last_errors", lang): ["; ".join(row.last_errors) for row in ordered],
})
st.dataframe(table, hide_index=True, width="stretch")
