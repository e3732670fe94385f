"""Độ phủ: who covers the sector, share of voice, places, sectors, cooperatives, syndication."""
from __future__ import annotations

from datetime import date
from typing import Callable, Optional

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import coverage_queries as queries
from dashboard.auth import language, require_role
from dashboard.banner import unhealthy_sources_banner
from dashboard.i18n import label_name, t
from models.contract import LABELS
from pipeline.core.safe_text import csv_bytes
from pipeline.ingest.enrich import SECTOR_NAMES

Namer = Callable[[str], str]

lang = language()
st.header(t("coverage", lang))
st.caption(t("cov_for", lang))
require_role("editor", "leader")
st.caption(t("cov_caption", lang))
unhealthy_sources_banner(lang)


def _name(value: object, names: Namer) -> str:
    return t("cov_unknown", lang) if value is None or pd.isna(value) else names(str(value))


def _download(frame: pd.DataFrame, stem: str, start: date, end: date) -> None:
    # Safe cells: an outlet or title starting with "=" must not run as a formula in Excel.
    csv = csv_bytes(list(frame.columns), frame.itertuples(index=False, name=None))
    st.download_button(t("cov_download", lang), csv, file_name=f"do-phu_{stem}_{start}_{end}.csv",
                       mime="text/csv", key=f"csv_{stem}")


def _show(title_key: str, frame: pd.DataFrame, stem: str, period: tuple[date, date],
          names: Optional[dict[str, Namer]] = None, config: Optional[dict[str, object]] = None,
          chart: Optional[alt.Chart] = None) -> None:
    """One section: heading, chart, table with translated headers and values, its CSV download."""
    st.subheader(t(title_key, lang))
    if frame.empty:
        st.info(t("cov_none", lang))
        return
    if chart is not None:
        st.altair_chart(chart, width="stretch")
    shown = frame.copy()
    for column, namer in (names or {}).items():
        shown[column] = [_name(v, namer) for v in shown[column]]
    shown.columns = [t(f"cov_col_{c}", lang) for c in shown.columns]
    column_config = {t(f"cov_col_{c}", lang): v for c, v in (config or {}).items()}
    # Item text goes only into dataframes, which show it as plain text (never HTML).
    st.dataframe(shown, hide_index=True, width="stretch", column_config=column_config or None)
    _download(shown, stem, *period)


def _labels_per_outlet(period: tuple[date, date]) -> None:
    st.subheader(t("cov_label_outlet", lang))
    frame = queries.label_by_outlet(*period)
    if frame.empty:
        st.info(t("cov_none", lang))
        return
    frame["label"] = [label_name(v, lang) for v in frame["label"]]
    table = frame.pivot_table(index="outlet", columns="label", values="items", fill_value=0, aggfunc="sum")
    table = table[[n for n in (label_name(k, lang) for k in LABELS) if n in table.columns]]  # codebook order
    table = table.reset_index().rename(columns={"outlet": t("cov_col_outlet", lang)})
    table.columns.name = None
    st.dataframe(table, hide_index=True, width="stretch")
    _download(table, "nhan-theo-nguon", *period)


window = queries.data_window()
if window is None:
    st.info(t("no_items", lang))
    st.stop()
chosen = st.date_input(t("cov_period", lang), value=window, format="DD/MM/YYYY", key="cov_period")
if not isinstance(chosen, tuple) or len(chosen) != 2:
    st.info(t("cov_pick_end", lang))
    st.stop()
period: tuple[date, date] = (chosen[0], chosen[1])
st.caption(t("cov_confirmed_note", lang))

kinds = {"news": t("cov_kind_news", lang), "social": t("cov_kind_social", lang)}
coop_kinds = {k: t(f"cov_coop_{k}", lang) for k in ("cooperative", "credit_fund", "union")}

volume = queries.volume_by_outlet(*period)
volume_chart = alt.Chart(volume).mark_bar().encode(
    x=alt.X("sum(relevant):Q", title=t("cov_col_relevant", lang), axis=alt.Axis(tickMinStep=1, format="d")),
    y=alt.Y("outlet:N", sort="-x", title=t("cov_col_outlet", lang)),
)
_show("cov_volume", volume, "nguon", period, {"kind": lambda v: kinds.get(v, v)}, chart=volume_chart)
_show("cov_share", queries.share_of_voice(*period), "nhan", period, {"label": lambda v: label_name(v, lang)})
_labels_per_outlet(period)
_show("cov_provinces", queries.provinces(*period), "tinh", period, {"province": str})
_show("cov_sectors", queries.sectors(*period), "linh-vuc", period,
      {"sector": lambda v: SECTOR_NAMES.get(v, {}).get(lang, v)})
_show("cov_cooperatives", queries.top_cooperatives(*period), "htx", period,
      {"coop_kind": lambda v: coop_kinds.get(v, v), "province": str})
_show("cov_syndication", queries.syndication(*period), "dang-lai", period, config={
    "url": st.column_config.LinkColumn(),
    "first_seen": st.column_config.DatetimeColumn(format="DD/MM/YYYY HH:mm" if lang == "vi" else "YYYY-MM-DD HH:mm"),
})
_show("cov_pickups", queries.pickups(*period), "nguon-dang-lai", period)
