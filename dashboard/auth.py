"""Login state and server-side role checks used by every page."""
from __future__ import annotations

import streamlit as st

from dashboard.i18n import t
from dashboard.queries import engine
from pipeline.core.config import get_settings
from pipeline.core.security import demo_accounts_in_use
from pipeline.core.login import sign_in
from pipeline.core.users import account


def current_role() -> str | None:
    """Role of the signed-in user, read from the database on every run, or None.

    A disabled account, or one whose password, role or state changed since it signed in
    (its session epoch moved on), is signed out at once; a demotion takes effect at once.
    """
    name = st.session_state.get("user")
    if name is None:
        return None
    found = account(engine(), name)
    if found is None or found.disabled or found.session_epoch != st.session_state.get("epoch"):
        sign_out()
        st.session_state["signed_out_reason"] = "session_ended"
        return None
    st.session_state["role"] = found.role
    return found.role


def sign_out() -> None:
    """Forget the signed-in user in this browser session."""
    for key in ("user", "role", "epoch"):
        st.session_state.pop(key, None)


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
    if st.session_state.pop("signed_out_reason", None):
        st.info(t("session_ended", lang))
    if submitted:
        result = sign_in(engine(), get_settings(), name.strip(), password, _client_address())
        if result.account is None:
            st.error(t("login_locked" if result.refusal == "locked" else "login_failed", lang))
        else:
            st.session_state.update(user=result.account.name, role=result.account.role,
                                    epoch=result.account.session_epoch)
            st.rerun()


def _client_address() -> str:
    """The browser's address: the proxy's X-Forwarded-For behind the HTTPS proxy of
    COOPWATCH_PUBLIC_URL (a client could forge it otherwise), else the connection's."""
    if get_settings().public_url and st.context.headers:
        forwarded = st.context.headers.get("X-Forwarded-For")
        if forwarded:
            return forwarded.split(",")[-1].strip()  # the address our proxy saw
    return getattr(st.context, "ip_address", None) or "unknown"
