"""Login state and server-side role checks used by every page."""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.queries import engine
from pipeline.core.config import get_settings
from pipeline.core.security import demo_accounts_in_use
from pipeline.core.users import authenticate


def current_role() -> str | None:
    """Role of the signed-in user, or None."""
    return st.session_state.get("role")


def language() -> str:
    """The chosen interface language."""
    return st.session_state.get("lang", "vi")


def require_role(*roles: str) -> None:
    """Stop rendering the page unless the signed-in user has one of these roles."""
    role = current_role()
    if role is None or (role != "admin" and role not in roles):
        st.error(t("not_allowed", language()))
        st.stop()


@st.cache_data(ttl=60, show_spinner=False)
def _demo_accounts(database_url: str) -> list[str]:
    return demo_accounts_in_use(engine())


def refuse_demo_accounts() -> None:
    """Stop every page while demo accounts keep their published passwords outside demo mode."""
    settings = get_settings()
    if settings.demo_mode:
        return
    names = _demo_accounts(settings.database_url)
    if names:
        st.error(t("demo_accounts_refused", language()).format(names=", ".join(names)))
        st.stop()


def login_form() -> None:
    """Render the login form; on success store the user and rerun."""
    lang = language()
    st.title(t("app_title", lang))
    with st.form("login"):
        name = st.text_input(t("username", lang))
        password = st.text_input(t("password", lang), type="password")
        submitted = st.form_submit_button(t("login", lang))
    if submitted:
        role = authenticate(engine(), name, password)
        if role is None:
            st.error(t("login_failed", lang))
        else:
            st.session_state.update(user=name, role=role)
            st.rerun()
