"""The weekly report rendered as Markdown, self-contained HTML or PDF, and written to a file.

All text that comes from items is escaped: a title containing <script> shows literally.
"""
from __future__ import annotations

import base64
import html
import os
import re
import tempfile
from pathlib import Path

from pipeline.report.build import WeeklyReport
from pipeline.report.document import Block, Cell, Heading, Link, Paragraph, Table, cell_text, document, safe_url
from pipeline.report.pdf import to_pdf
from pipeline.report.words import rt

FORMATS = ("md", "html", "pdf")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#!~])")


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
        # mkstemp makes the file private (0600); a report is for others to read.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
