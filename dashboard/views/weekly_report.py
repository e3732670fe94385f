"""Báo cáo tuần: this week against last week, for leaders, with Markdown, HTML and PDF files."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import report_queries as queries
from dashboard.auth import language, require_role
from dashboard.banner import escape_markdown
from dashboard.i18n import t
from pipeline.report.document import Block, Heading, Paragraph, Table, cell_text, figure_text
from pipeline.report.words import rt
from pipeline.core.schema import utcnow
from pipeline.core.weeks import VN_TZ, Week

MIME = {"md": "text/markdown", "html": "text/html", "pdf": "application/pdf"}
CHART_WIDTH = 720  # pixels: the PNG is drawn for a page, not for a wide screen

lang = language()
st.header(t("weekly_report", lang))
st.caption(t("wr_for", lang))
require_role("leader", "editor")


def _show(block: Block) -> None:
    """One block of the report document, with item text always shown as text."""
    if isinstance(block, Heading):
        if block.level > 1:  # the page header already names the report
            st.subheader(block.text)
    elif isinstance(block, Paragraph):
        text = escape_markdown(block.text)
        st.markdown(f"**{text}**" if block.strong else text)
    elif isinstance(block, Table):
        rows = [[cell_text(cell) for cell in row] for row in block.rows]
        st.dataframe(pd.DataFrame(rows, columns=block.columns), hide_index=True, width="stretch")
    else:
        st.image(block.png, caption=block.title, width=CHART_WIDTH)


weeks = queries.report_weeks()
if not weeks:
    st.info(t("wr_no_weeks", lang))
    st.stop()
# Leaders read the last finished week; the current one is still filling up.
finished = [n for n, w in enumerate(weeks) if Week.parse(w).end <= utcnow()]
week = st.selectbox(t("wr_week", lang), weeks, index=finished[0] if finished else 0, key="wr_week")
newest = queries.newest_item_time()
if newest is not None:  # the reader knows where the data stops before reading any figure
    st.caption(t("wr_data_until", lang).format(day=newest.astimezone(VN_TZ).strftime("%d/%m/%Y")))
report = queries.weekly_report(week)

columns = st.columns(4)
for column, key, row in zip(columns, ("total", "misleading_total", "critical_total"),
                            (report.total, report.label("misleading"), report.label("critical"))):
    column.metric(rt(key, lang), row.this_week.count, delta=row.change, delta_color="off",
                  help=figure_text(row.this_week, lang))
columns[3].metric(rt("outlets", lang), report.outlets)

downloads = st.columns(3)
for column, fmt in zip(downloads, ("md", "html", "pdf")):
    column.download_button(t(f"wr_download_{fmt}", lang), queries.report_file(week, fmt, lang),
                           file_name=f"bao-cao-tuan_{week}.{fmt}", mime=MIME[fmt], key=f"wr_{fmt}")

for block in queries.report_document(week, lang):
    _show(block)
