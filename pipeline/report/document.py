"""The weekly report laid out once as a list of blocks (headings, paragraphs, tables, charts).

One layout (`document`) feeds every format, so Markdown, HTML, PDF and the dashboard say the
same thing; the renderers in render.py and pdf.py only turn blocks into their format.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Optional, Union

from pipeline.core.health import FAILURES_IN_A_ROW, SourceHealth
from pipeline.report.build import NO_DATA, PROVISIONAL, Comparison, Figure, Story, WeeklyReport
from pipeline.report.charts import Chart, report_charts
from pipeline.core.weeks import VN_TZ
from pipeline.report.words import check_language, label_text, rt

SAFE_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class Link:
    """A table cell linking to an item."""

    text: str
    url: str


Cell = Union[str, Link]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str
    strong: bool = False


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    wide: int = 0  # the column holding long text, given the room on a printed page


Block = Union[Heading, Paragraph, Table, Chart]


def document(report: WeeklyReport, lang: str = "vi") -> list[Block]:
    """Every block of the report in reading order."""
    check_language(lang)
    charts = report_charts(report, lang)
    blocks: list[Block] = [
        Heading(rt("title", lang, week=report.week), 1),
        Paragraph(rt("period", lang, first=_day(report.week.first_day, lang),
                     last=_day(report.week.last_day, lang), generated=_moment(report, lang))),
        *_status(report, lang),
        Paragraph(rt("confirmed_note", lang)),
        Heading(rt("headline", lang)), *_headlines(report, lang),
        Heading(rt("by_sentiment", lang)),
        _comparison_table([(rt(r.key, lang), r) for r in report.sentiments], lang),
        Heading(rt("by_label", lang)),
        _comparison_table([(label_text(r.key, lang), r) for r in report.labels], lang),
        *charts,
        Heading(rt("model_stories", lang)), *_stories(report.model_stories, lang),
        Heading(rt("critical_issues", lang)), *_stories(report.critical_issues, lang),
        Heading(rt("narratives", lang)), *_narratives(report, lang),
        Heading(rt("caveats", lang)), *_caveats(report, lang),
        Heading(rt("coverage", lang)), _coverage_table(report, lang),
    ]
    return blocks


def _status(report: WeeklyReport, lang: str) -> list[Block]:
    """What the figures can be trusted for: a week without data, or one not over yet."""
    if report.status == NO_DATA:
        return [Paragraph(rt("status_no_data", lang), strong=True)]
    if report.status == PROVISIONAL:
        return [Paragraph(rt("status_provisional", lang, generated=_moment(report, lang)), strong=True)]
    return []


def _coverage_table(report: WeeklyReport, lang: str) -> Table:
    columns = [rt(k, lang) for k in ("day", "sources_run", "runs", "failed_runs", "fetched", "items")]
    return Table(columns, [[_day(d.day, lang), number(d.sources_run, lang), number(d.runs, lang),
                            number(d.failed_runs, lang), number(d.fetched, lang), number(d.items, lang)]
                           for d in report.coverage])


def number(value: int, lang: str) -> str:
    """An integer with the language's thousands separator."""
    text = f"{value:,}"
    return text.replace(",", ".") if lang == "vi" else text


def figure_text(figure: Figure, lang: str) -> str:
    """A count with its confirmed and model-only parts."""
    return rt("figure", lang, count=number(figure.count, lang), confirmed=number(figure.confirmed, lang),
              model_only=number(figure.model_only, lang))


def _change(value: int, lang: str) -> str:
    return f"+{number(value, lang)}" if value > 0 else ("0" if value == 0 else f"−{number(-value, lang)}")


def _day(day: date, lang: str) -> str:
    return day.strftime("%d/%m/%Y") if lang == "vi" else day.isoformat()


def _moment(report: WeeklyReport, lang: str) -> str:
    local = report.generated_at.astimezone(VN_TZ)
    return local.strftime("%H:%M %d/%m/%Y") if lang == "vi" else local.strftime("%Y-%m-%d %H:%M")


def _headlines(report: WeeklyReport, lang: str) -> list[Block]:
    rows = [("total", report.total), ("misleading_total", report.label("misleading")),
            ("critical_total", report.label("critical"))]
    blocks: list[Block] = [
        Paragraph(f"{rt(key, lang)}: {figure_text(row.this_week, lang)}; {rt('last_week', lang).lower()} "
                  f"{number(row.last_week.count, lang)} ({_change(row.change, lang)})", strong=key == "total")
        for key, row in rows
    ]
    blocks.append(Paragraph(f"{rt('outlets', lang)}: {number(report.outlets, lang)}"))
    return blocks


def _comparison_table(rows: list[tuple[str, Comparison]], lang: str) -> Table:
    columns = [rt(k, lang) for k in ("key", "this_week", "confirmed", "model_only", "last_week", "change")]
    return Table(columns, [
        [name, number(r.this_week.count, lang), number(r.this_week.confirmed, lang),
         number(r.this_week.model_only, lang), number(r.last_week.count, lang), _change(r.change, lang)]
        for name, r in rows
    ])


def _stories(stories: list[Story], lang: str) -> list[Block]:
    if not stories:
        return [Paragraph(rt("none", lang))]
    columns = [rt(k, lang) for k in ("story", "outlet", "carried_by", "items", "confirmed", "model_only")]
    return [Table(columns, [
        [Link(s.title, s.url), s.outlet, number(s.outlets, lang), number(s.items.count, lang),
         number(s.items.confirmed, lang), number(s.items.model_only, lang)]
        for s in stories
    ])]


def _narratives(report: WeeklyReport, lang: str) -> list[Block]:
    if not report.narratives:
        return [Paragraph(rt("none", lang))]
    columns = [rt(k, lang) for k in ("narrative", "items", "confirmed", "model_only", "carried_by")]
    table = Table(columns, [
        [n.title if n.narrative_id else rt("unmatched", lang), number(n.items.count, lang),
         number(n.items.confirmed, lang), number(n.items.model_only, lang), number(n.outlets, lang)]
        for n in report.narratives
    ])
    blocks: list[Block] = [table]
    for n in report.narratives:
        if n.rebuttal:
            blocks.append(Paragraph(n.title, strong=True))
            blocks.append(Paragraph(f"{rt('rebuttal', lang)}: {n.rebuttal}"))
            blocks.append(Paragraph(f"{rt('legal_reference', lang)}: {n.legal_reference}"))
    return blocks


def _caveats(report: WeeklyReport, lang: str) -> list[Block]:
    caveats = report.caveats
    if not caveats:
        ran = any(day.runs for day in report.coverage)
        return [Paragraph(rt("caveats_none" if ran else "caveats_no_runs", lang))]
    columns = [rt(k, lang) for k in ("source", "outlet", "runs", "failed_runs", "unhealthy_days",
                                     "problem", "status_end")]
    return [Paragraph(rt("caveats_intro", lang)), Table(columns, [
        [c.source, c.outlet, number(c.runs, lang), number(c.failed_runs, lang), f"{c.unhealthy_days}/7",
         _problem(c.problem, lang), rt("healthy" if c.healthy_at_end else "unhealthy", lang)]
        for c in caveats
    ], wide=5)]


def _problem(health: Optional[SourceHealth], lang: str) -> str:
    if health is None:
        return "–"
    if health.failures_in_a_row >= FAILURES_IN_A_ROW or health.daily_norm is None:
        return rt("reason_failures", lang, count=number(health.failures_in_a_row, lang))
    norm = f"{health.daily_norm:.1f}"
    return rt("reason_low", lang, new=number(health.new_last_day, lang),
              norm=norm.replace(".", ",") if lang == "vi" else norm)


def safe_url(url: str) -> Optional[str]:
    """The URL if it is plain http(s), so a javascript: link can never be rendered."""
    return url if url.lower().startswith(SAFE_SCHEMES) else None


def cell_text(cell: Cell) -> str:
    """A cell's visible text."""
    return cell.text if isinstance(cell, Link) else cell
