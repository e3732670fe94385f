"""The weekly report as a list of blocks, and those blocks as Markdown or self-contained HTML.

One layout (`document`) feeds every format, so Markdown, HTML and PDF say the same thing.
All text that comes from items is escaped: a title containing <script> shows literally.
"""
from __future__ import annotations

import base64
import html
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Optional, Union

from pipeline.health import FAILURES_IN_A_ROW, SourceHealth
from pipeline.report import Comparison, Figure, SourceCaveat, Story, WeeklyReport
from pipeline.report_charts import Chart, report_charts
from pipeline.report_text import check_language, label_text, rt
from pipeline.weeks import VN_TZ

FORMATS = ("md", "html", "pdf")
SAFE_SCHEMES = ("http://", "https://")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#!~])")


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
        Heading(rt("caveats", lang)), *_caveats(report.caveats, lang),
    ]
    return blocks


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


def _caveats(caveats: list[SourceCaveat], lang: str) -> list[Block]:
    if not caveats:
        return [Paragraph(rt("caveats_none", lang))]
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


# Markdown ---------------------------------------------------------------------------------

def md_escape(text: str) -> str:
    """Item text made inert in Markdown: HTML entities for <>&, backslashes for markup."""
    flat = " ".join(text.split())
    return MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def to_markdown(report: WeeklyReport, lang: str = "vi") -> str:
    """The report as Markdown; charts are embedded as PNG data URIs."""
    return "\n\n".join(_md_block(block) for block in document(report, lang)) + "\n"


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {md_escape(block.text)}"
    if isinstance(block, Paragraph):
        return f"**{md_escape(block.text)}**" if block.strong else md_escape(block.text)
    if isinstance(block, Table):
        lines = ["| " + " | ".join(md_escape(c) for c in block.columns) + " |",
                 "|" + "---|" * len(block.columns)]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
        return "\n".join(lines)
    return f"![{md_escape(block.title)}]({_data_uri(block.png)})"


def _md_cell(cell: Cell) -> str:
    if isinstance(cell, Link) and safe_url(cell.url):
        url = cell.url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return f"[{md_escape(cell.text)}](<{html.escape(url)}>)"
    return md_escape(cell_text(cell))


# HTML -------------------------------------------------------------------------------------

HTML_STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f1f5f8; }
figure { margin: 1rem 0; } img { max-width: 100%; }
h1 { color: #1f4e79; } h2 { color: #1f4e79; border-bottom: 1px solid #ddd; }
"""


def to_html(report: WeeklyReport, lang: str = "vi") -> str:
    """The report as one self-contained HTML page (inline style, charts as data URIs)."""
    body = "\n".join(_html_block(block) for block in document(report, lang))
    title = html.escape(rt("title", lang, week=report.week))
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title}</title>\n<style>{HTML_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{html.escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        text = html.escape(block.text)
        return f"<p><strong>{text}</strong></p>" if block.strong else f"<p>{text}</p>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in block.columns)
        rows = "".join("<tr>" + "".join(f"<td>{_html_cell(c)}</td>" for c in row) + "</tr>\n"
                       for row in block.rows)
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>"
    alt = html.escape(block.title)
    return f'<figure><img alt="{alt}" src="{_data_uri(block.png)}"><figcaption>{alt}</figcaption></figure>'


def _html_cell(cell: Cell) -> str:
    if isinstance(cell, Link) and safe_url(cell.url):
        return f'<a href="{html.escape(cell.url)}">{html.escape(cell.text)}</a>'
    return html.escape(cell_text(cell))


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# Files ------------------------------------------------------------------------------------

def render(report: WeeklyReport, fmt: str, lang: str = "vi") -> bytes:
    """The report in one of FORMATS, as bytes to write or download."""
    if fmt == "md":
        return to_markdown(report, lang).encode("utf-8")
    if fmt == "html":
        return to_html(report, lang).encode("utf-8")
    if fmt == "pdf":
        from pipeline.report_pdf import to_pdf  # imported here: report_pdf builds on this module

        return to_pdf(report, lang)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


def write_file(path: Path, data: bytes) -> None:
    """Write all of data or nothing: a failed write never leaves half a report at path."""
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
