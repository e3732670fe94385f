"""The unhealthy-sources banner every chart page shows above its figures.

A broken feed looks exactly like a quiet news day on a chart; naming the sources that are
failing or far below their usual volume keeps monitors from reading silence into breakage.
"""
from __future__ import annotations

import re
from datetime import timedelta, timezone

import streamlit as st

from dashboard.i18n import t
from dashboard.queries import engine, unhealthy_sources
from pipeline.core.health import FAILURES_IN_A_ROW, SourceHealth

VN_TZ = timezone(timedelta(hours=7))
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")


def escape_markdown(text: str) -> str:
    """Text shown literally inside Streamlit markdown (no links, emphasis or HTML)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def health_reason(health: SourceHealth, lang: str) -> str:
    """Why a source is unhealthy, in the interface language (pipeline reasons are English)."""
    if health.healthy:
        return t("health_ok", lang)
    if health.failures_in_a_row >= FAILURES_IN_A_ROW:
        return t("health_failures", lang).format(n=health.failures_in_a_row)
    norm = health.daily_norm if health.daily_norm is not None else 0.0
    return t("health_low_volume", lang).format(new=health.new_last_day, norm=norm)


def unhealthy_sources_banner(lang: str) -> list[str]:
    """Show a warning naming every unhealthy source; returns their names (empty when all are fine)."""
    rows = unhealthy_sources()
    if rows:
        listed = "; ".join(
            f"**{escape_markdown(row.source)}** ({escape_markdown(row.outlet)}): "
            f"{escape_markdown(health_reason(row, lang))}"
            for row in rows
        )
        st.warning(t("unhealthy_banner", lang).format(sources=listed), icon="⚠️")
    return [row.source for row in rows]


# Alerts stay on screen for two days: long enough to be seen by the next shift.
ALERT_DAYS = 2


@st.cache_data(ttl=60)
def recent_alert_lines(lang: str) -> list[str]:
    """One sentence per recent spike alert, newest first (cached for a minute)."""
    from pipeline.watch.alerts import NARRATIVE, recent_alerts
    from pipeline.core.schema import utcnow

    lines = []
    for alert in recent_alerts(engine(), utcnow() - timedelta(days=ALERT_DAYS)):
        start = alert.window_start.astimezone(VN_TZ).strftime("%H:%M %d/%m")
        key = "alert_narrative" if alert.kind == NARRATIVE else "alert_negative"
        lines.append(t(key, lang).format(title=escape_markdown(alert.title), count=alert.count,
                                         start=start, norm=alert.norm_mean))
    return lines


def alerts_banner(lang: str) -> int:
    """Show recent spike alerts (one per spike); returns how many were shown."""
    lines = recent_alert_lines(lang)
    for line in lines:
        st.error(line, icon="🚨")
    return len(lines)
