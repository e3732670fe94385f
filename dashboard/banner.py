"""The unhealthy-sources banner every chart page shows above its figures.

A broken feed looks exactly like a quiet news day on a chart; naming the sources that are
failing or far below their usual volume keeps monitors from reading silence into breakage.
"""
from __future__ import annotations

import re

import streamlit as st

from dashboard.i18n import t
from dashboard.queries import unhealthy_sources
from pipeline.health import FAILURES_IN_A_ROW, SourceHealth

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
