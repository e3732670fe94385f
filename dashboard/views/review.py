"""Rà soát: the review queue, one item with its evidence and history, the monitors' actions,
blind double review and agreement figures.

Item text is only ever shown with st.text or inside tables (never markdown or HTML), and
every action checks the role again on the server, whatever the menu showed. Actions run as
widget callbacks with the id of the latest review rendered on screen, so a write made by
someone else in between is refused instead of silently overwritten.
"""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import pandas as pd
import streamlit as st

from dashboard import review_queries as rq
from dashboard.banner import alerts_banner
from dashboard.auth import current_role, language, require_role
from dashboard.i18n import label_name
from dashboard.queries import engine
from dashboard.review_text import tr
from models.contract import LABELS
from pipeline.review.agreement import DISMISSED, Agreement, sample_for_double_review
from pipeline.review.workflow import (
    RESPONSE_STATUSES,
    REVIEWER_ROLES,
    ReviewConflict,
    ReviewError,
    record_review,
)

FLASH = "review_flash"
VN = timezone(timedelta(hours=7))  # times are shown as Vietnamese clock times
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")
MODES = ("queue", "settled", "double", "agreement")

require_role("monitor")


# --- formatting ------------------------------------------------------------------------------

def _when(value: Optional[datetime]) -> str:
    return value.astimezone(VN).strftime("%d/%m/%Y %H:%M") if value else ""


def _number(value: Optional[float], lang: str) -> str:
    if value is None:
        return "—"
    text = f"{value:.2f}"
    return text.replace(".", ",") if lang == "vi" else text


def _percent(value: Optional[float]) -> str:
    return f"{value:.0%}" if value is not None else "—"


def _category(value: Optional[str], lang: str) -> str:
    if value == DISMISSED:
        return tr("category_dismissed", lang)
    return label_name(None if value in (None, "not_relevant") else value, lang)


def _action(action: str, lang: str) -> str:
    return tr(f"action_{action}", lang)


# --- actions (callbacks: they run before the page is drawn again) ----------------------------

def _plain(value: object) -> str:
    """A value shown literally inside an alert box, which renders markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def _flash(kind: str, message: str) -> None:
    st.session_state[FLASH] = (kind, message)


def _may_review() -> bool:
    return current_role() in REVIEWER_ROLES


def _act(item_id: int, seen: Optional[int], action: str, prefix: str) -> None:
    """Record one action; `seen` is the latest review id the screen showed."""
    lang, state = language(), st.session_state
    if not _may_review():
        _flash("error", tr("forbidden_action", lang))
        return
    note = (state.get(f"{prefix}note_{item_id}") or "").strip()
    kwargs: dict[str, Any] = {}
    if action == "relabel":
        kwargs["label"] = state.get(f"{prefix}relabel_{item_id}")
    elif action == "assign":
        kwargs["assignee"] = state.get(f"{prefix}assignee_{item_id}")
    elif action == "response":
        link = (state.get(f"{prefix}response_link_{item_id}") or "").strip()
        kwargs.update(response_status=state.get(f"{prefix}response_status_{item_id}"), response_link=link or None)
        if kwargs["response_status"] == "published" and not link:
            _flash("error", tr("need_link", lang))
            return
    if action == "note" and not note:
        _flash("error", tr("need_note", lang))
        return
    try:
        record_review(engine(), item_id, state["user"], action, expected_previous=seen, note=note or None,
                      second_review=prefix == "second_", **kwargs)
    except ReviewConflict as conflict:
        rq.clear()  # the page now shows what the other monitor did
        _flash("warning", tr("conflict", lang).format(who=_plain(conflict.latest_reviewer),
                                                      action=_action(conflict.latest_action, lang)))
        return
    except ReviewError as error:
        _flash("error", tr("failed", lang).format(error=_plain(error)))
        return
    rq.clear()
    state[f"{prefix}note_{item_id}"] = ""
    _flash("success", tr("done", lang).format(action=_action(action, lang), id=item_id))


def _sample() -> None:
    lang = language()
    if not _may_review():
        _flash("error", tr("forbidden_action", lang))
        return
    try:
        chosen = sample_for_double_review(engine(), st.session_state["user"],
                                          n=int(st.session_state.get("sample_size", 10)),
                                          seed=random.SystemRandom().randrange(2**31))
    except ReviewError as error:
        _flash("error", tr("failed", lang).format(error=_plain(error)))
        return
    rq.clear()
    _flash("success", tr("sampled_n", lang).format(n=len(chosen)))


# --- one item --------------------------------------------------------------------------------

def _show_item(item_id: int, lang: str, blind: bool = False) -> None:
    """The item, the model's assessment, the story's copies, history and actions.

    `blind` (second review) hides the first decision: no status, no history.
    """
    detail = rq.detail(item_id)
    if detail is None:
        st.warning(tr("item_missing", lang))
        return
    state = detail.state
    seen = state["latest_review_id"]
    st.subheader(f"#{detail.id}")
    st.button(tr("reload", lang), key=f"reload_{item_id}", on_click=rq.clear)
    left, right = st.columns([3, 2])
    with left:
        if detail.bidi:
            st.warning(tr("bidi_warning", lang))
        st.caption(tr("field_title_derived" if detail.title_derived else "field_title", lang))
        st.text(detail.title or tr("no_title", lang))
        if detail.passage:
            with st.container(border=True):  # the part of a long page the label was decided on
                st.caption(tr("field_passage", lang))
                st.text(detail.passage)
        st.caption(tr("field_text", lang))
        st.text(detail.text)
        st.caption(tr("field_source", lang))
        st.text(" · ".join(filter(None, [detail.outlet, _when(detail.published_at), detail.url])))
    with right:
        st.markdown(f"**{tr('model_section', lang)}**")
        model_label = detail.label if detail.relevant else None
        st.text(f"{tr('model_label', lang)}: {label_name(model_label, lang)} · "
                f"{tr('confidence', lang)}: {_percent(detail.confidence)}")
        st.caption(tr("reasons", lang))
        st.text(", ".join(detail.reasons) or tr("no_reasons", lang))
        if detail.narrative_id:
            _show_narrative(detail.narrative_id, lang)
        if not blind:
            _show_state(state, lang)
    st.markdown(f"**{tr('copies_section', lang)}**")
    if detail.copies:
        st.dataframe(pd.DataFrame([
            {tr("col_outlet", lang): c["outlet"], tr("col_title", lang): c["title"],
             tr("col_url", lang): c["url"], tr("col_published", lang): _when(c["published_at"])}
            for c in detail.copies]), hide_index=True, use_container_width=True)
    else:
        st.caption(tr("no_copies", lang))
    if blind:
        st.info(tr("blind_note", lang))
    else:
        _show_history(detail.history, lang)
    # What "confirm" confirms and the relabel box starts from: the monitor's decision once settled.
    model_label = detail.label if detail.relevant else None
    shown = state["label"] if state["decision"] is not None and not blind else model_label
    _show_actions(item_id, seen, state, shown, lang, blind)


def _show_narrative(narrative_id: str, lang: str) -> None:
    st.markdown(f"**{tr('narrative_section', lang)}**")
    narrative = rq.narratives().get(narrative_id)
    if narrative is None:
        st.text(tr("narrative_unknown", lang).format(id=narrative_id))
        return
    st.text(narrative.title)
    st.caption(tr("narrative_rebuttal", lang))
    st.text(narrative.rebuttal)
    st.caption(tr("narrative_legal", lang))
    st.text(narrative.legal_reference)


def _show_state(state: dict[str, Any], lang: str) -> None:
    st.markdown(f"**{tr('state_section', lang)}**")
    if state["decision"] is None:
        lines = [tr("state_open", lang)]
    elif state["decision"] == "dismiss":
        lines = [tr("state_dismissed", lang).format(who=state["decided_by"])]
    else:
        lines = [tr("state_settled", lang).format(label=label_name(state["label"], lang), who=state["decided_by"])]
    if state["assignee"]:
        lines.append(tr("state_assignee", lang).format(who=state["assignee"]))
    if state["decision"] in ("confirm", "relabel") and state["label"] == "misleading":
        status = tr(f"response_{state['response_status']}", lang)
        lines.append(tr("state_response", lang).format(status=status))
        if state["response_link"]:
            lines.append(state["response_link"])
    st.text("\n".join(lines))


def _show_history(history: list[dict[str, Any]], lang: str) -> None:
    st.markdown(f"**{tr('history_section', lang)}**")
    if not history:
        st.caption(tr("no_history", lang))
        return
    rows = []
    for review in history:
        if review["action"] in ("confirm", "relabel"):
            detail = label_name(review["label"], lang)
        elif review["action"] == "assign":
            detail = review["assignee"] or ""
        elif review["action"] == "response":
            detail = " ".join(filter(None, [tr(f"response_{review['response_status']}", lang),
                                            review["response_link"]]))
        else:
            detail = ""
        rows.append({
            tr("col_when", lang): _when(review["created_at"]), tr("col_who", lang): review["reviewer"],
            tr("col_action", lang): _action(review["action"], lang), tr("col_label", lang): detail,
            tr("col_note", lang): review["note"] or "",
            tr("col_second", lang): "✓" if review["second_review"] else "",
        })
    st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)


def _show_actions(item_id: int, seen: Optional[int], state: dict[str, Any], model_label: Optional[str],
                  lang: str, blind: bool) -> None:
    st.markdown(f"**{tr('actions_section', lang)}**")
    prefix = "second_" if blind else ""
    st.text_area(tr("note_input", lang), key=f"{prefix}note_{item_id}", help=tr("note_help", lang), height=80)
    buttons = st.columns(2 if blind else 3)
    buttons[0].button(tr("btn_confirm", lang), key=f"{prefix}confirm_{item_id}", on_click=_act,
                      args=(item_id, seen, "confirm", prefix), type="primary")
    buttons[1].button(tr("btn_dismiss", lang), key=f"{prefix}dismiss_{item_id}", on_click=_act,
                      args=(item_id, seen, "dismiss", prefix), help=tr("dismiss_help", lang))
    if not blind:
        buttons[2].button(tr("btn_note", lang), key=f"note_button_{item_id}", on_click=_act,
                          args=(item_id, seen, "note", prefix))
    relabel = st.columns([3, 1], vertical_alignment="bottom")
    options = [*LABELS, None]
    relabel[0].selectbox(tr("relabel_to", lang), options, key=f"{prefix}relabel_{item_id}",
                         index=options.index(model_label if model_label in options else None),
                         format_func=lambda value: label_name(value, lang))
    relabel[1].button(tr("btn_relabel", lang), key=f"{prefix}relabel_button_{item_id}", on_click=_act,
                      args=(item_id, seen, "relabel", prefix))
    if blind:
        return
    accounts = rq.reviewer_accounts()
    assign = st.columns([3, 1], vertical_alignment="bottom")
    default = state["assignee"] or st.session_state["user"]
    current = accounts.index(default) if default in accounts else 0
    assign[0].selectbox(tr("assign_to", lang), accounts, index=current, key=f"assignee_{item_id}")
    assign[1].button(tr("btn_assign", lang), key=f"assign_button_{item_id}", on_click=_act,
                     args=(item_id, seen, "assign", prefix), disabled=not accounts)
    if state["decision"] in ("confirm", "relabel") and state["label"] == "misleading":
        st.markdown(f"**{tr('response_section', lang)}**")
        response = st.columns([2, 3, 1], vertical_alignment="bottom")
        response[0].selectbox(tr("response_status", lang), RESPONSE_STATUSES,
                              index=RESPONSE_STATUSES.index(state["response_status"]),
                              key=f"response_status_{item_id}",
                              format_func=lambda value: tr(f"response_{value}", lang))
        response[1].text_input(tr("response_link", lang), value=state["response_link"] or "",
                               key=f"response_link_{item_id}")
        response[2].button(tr("btn_response", lang), key=f"response_button_{item_id}", on_click=_act,
                           args=(item_id, seen, "response", prefix))


def _pick(ids: list[int], titles: dict[int, str], key: str, lang: str) -> Optional[int]:
    """A selectbox of items (labels are plain text in a selectbox)."""
    if not ids:
        return None
    return st.selectbox(tr("pick_item", lang), ids, key=key,
                        format_func=lambda i: f"#{i} · {(titles.get(i) or '')[:90]}")


# --- the four views --------------------------------------------------------------------------

def _queue_view(lang: str, user: str) -> None:
    frame = rq.queue()
    if st.checkbox(tr("only_mine", lang), key="only_mine"):
        frame = frame[frame["assignee"] == user]
    if frame.empty:
        st.info(tr("queue_empty", lang))
        return
    shown = pd.DataFrame({
        tr("col_rank", lang): frame["rank"], tr("col_id", lang): frame["id"],
        tr("col_title", lang): frame["title"], tr("col_outlet", lang): frame["outlet"],
        tr("col_model_label", lang): [label_name(v, lang) for v in frame["label"]],
        tr("col_confidence", lang): [_percent(v) for v in frame["confidence"]],
        tr("col_copies", lang): frame["copies"], tr("col_shares", lang): frame["shares"],
        tr("col_assignee", lang): frame["assignee"].fillna(""),
    })
    st.dataframe(shown, hide_index=True, use_container_width=True)
    item_id = _pick(list(frame["id"]), dict(zip(frame["id"], frame["title"])), "queue_pick", lang)
    if item_id is not None:
        _show_item(int(item_id), lang)


def _settled_view(lang: str) -> None:
    frame = rq.settled(st.checkbox(tr("misleading_only", lang), key="misleading_only"))
    if frame.empty:
        st.info(tr("settled_empty", lang))
        return
    shown = pd.DataFrame({
        tr("col_id", lang): frame["id"], tr("col_title", lang): frame["title"],
        tr("col_outlet", lang): frame["outlet"],
        tr("col_settled_label", lang): [
            _category(DISMISSED if d == "dismiss" else label, lang) for d, label in zip(frame["decision"], frame["label"])],
        tr("col_decided_by", lang): frame["decided_by"],
        tr("col_response", lang): [tr(f"response_{v}", lang) if isinstance(v, str) and v else "" for v in frame["response_status"]],
        tr("col_link", lang): frame["response_link"].fillna(""),
    })
    st.dataframe(shown, hide_index=True, use_container_width=True)
    item_id = _pick(list(frame["id"]), dict(zip(frame["id"], frame["title"])), "settled_pick", lang)
    if item_id is not None:
        _show_item(int(item_id), lang)


def _double_view(lang: str, user: str) -> None:
    st.caption(tr("double_caption", lang))
    sampled, done = rq.double_progress()
    st.text(tr("double_progress", lang).format(sampled=sampled, done=done))
    size = st.columns([1, 1], vertical_alignment="bottom")
    size[0].number_input(tr("sample_size", lang), min_value=1, max_value=500, value=10, key="sample_size")
    size[1].button(tr("btn_sample", lang), key="sample_button", on_click=_sample)
    pending = rq.pending_second(user)
    if not pending:
        st.info(tr("none_pending", lang))
        return
    item_id = _pick([i for i, _ in pending], dict(pending), "second_pick", lang)
    if item_id is not None:
        _show_item(int(item_id), lang, blind=True)


def _agreement_table(result: Agreement, first: str, second: str, lang: str) -> None:
    columns = st.columns(3)
    columns[0].metric(tr("pairs", lang), result.pairs)
    columns[1].metric(tr("observed", lang), _percent(result.observed))
    columns[2].metric(tr("kappa_overall", lang), _number(result.kappa, lang))
    if not result.pairs:
        st.caption(tr("no_pairs", lang))
        return
    st.dataframe(pd.DataFrame([
        {tr("col_label", lang): _category(row.category, lang), first: row.first_count,
         second: row.second_count, tr("col_kappa", lang): _number(row.kappa, lang)}
        for row in result.per_label]), hide_index=True, use_container_width=True)


def _agreement_view(lang: str) -> None:
    st.caption(tr("agreement_caption", lang))
    report = rq.agreement()
    st.subheader(tr("monitors_section", lang))
    _agreement_table(report.monitors, tr("col_first", lang), tr("col_second_count", lang), lang)
    st.subheader(tr("model_agreement_section", lang))
    _agreement_table(report.model, tr("col_monitors", lang), tr("col_model", lang), lang)
    if report.dismissed_excluded:
        st.caption(tr("dismissed_excluded", lang).format(n=report.dismissed_excluded))


# --- the page --------------------------------------------------------------------------------

lang = language()
user = st.session_state["user"]
st.header(tr("review", lang))
st.caption(tr("review_caption", lang))
alerts_banner(lang)
flash = st.session_state.pop(FLASH, None)
if flash is not None:
    kind, message = flash
    {"success": st.success, "warning": st.warning}.get(kind, st.error)(message)
mode = st.radio(tr("mode", lang), MODES, horizontal=True, key="review_mode",
                format_func=lambda value: tr(f"mode_{value}", lang))
if mode == "queue":
    _queue_view(lang, user)
elif mode == "settled":
    _settled_view(lang)
elif mode == "double":
    _double_view(lang, user)
else:
    _agreement_view(lang)
