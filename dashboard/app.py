"""Entry file: only routes between pages according to the signed-in user's role."""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.auth import current_role, language, login_form, refuse_demo_accounts, sign_out  # noqa: E402
from dashboard.i18n import TEXT, t  # noqa: E402

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="CoopWatch", layout="wide")
with st.sidebar:
    st.session_state["lang"] = st.radio(
        "Ngôn ngữ / Language", ["vi", "en"], horizontal=True, key="lang_choice",
        format_func=lambda v: "Tiếng Việt" if v == "vi" else "English",
    )

refuse_demo_accounts()
if current_role() is None:
    login_form()
else:
    lang = language()
    role = current_role()
    # Each role lands on its own work: monitors on the review queue, leaders on the weekly report.
    home = {"monitor": "review", "leader": "weekly_report"}.get(role or "", "overview")
    pages = [st.Page(str(VIEWS / "overview.py"), title=t("overview", lang), url_path="tong-quan",
                     default=home == "overview")]
    if role in ("editor", "leader", "admin"):  # the pages check the role again themselves
        pages.append(st.Page(str(VIEWS / "coverage.py"), title=t("coverage", lang), url_path="do-phu"))
        pages.append(st.Page(str(VIEWS / "weekly_report.py"), title=t("weekly_report", lang),
                             url_path="bao-cao-tuan", default=home == "weekly_report"))
    if role in ("monitor", "admin"):
        pages.append(st.Page(str(VIEWS / "review.py"), title=t("review", lang), url_path="ra-soat",
                             default=home == "review"))
    pages.append(st.Page(str(VIEWS / "sources.py"), title=t("sources", lang), url_path="nguon"))
    with st.sidebar:
        # Plain text: a user name is never read as Markdown.
        role_name = t(f"role_{role}", lang) if f"role_{role}" in TEXT["vi"] else str(role)
        st.text(f"{t('signed_in_as', lang)}: {st.session_state['user']} ({role_name})")
        if st.button(t("logout", lang)):
            sign_out()
            st.rerun()
    st.navigation(pages).run()
