"""The weekly report as PDF (fpdf2), with an embedded Unicode font for Vietnamese.

The font is DejaVu Sans as shipped inside matplotlib's own package data, so the PDF needs
no system font: a fresh machine with the Python requirements installed renders it the same.
"""
from __future__ import annotations

import io
import logging
import unicodedata
from pathlib import Path

import matplotlib
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from pipeline.report.build import WeeklyReport
from pipeline.report.charts import FIGURE_SIZE, Chart
from pipeline.report.document import Block, Heading, Link, Paragraph, Table, cell_text, document, safe_url
from pipeline.report.words import rt

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT = "DejaVu"
HEADING_SIZES = {1: 17, 2: 13, 3: 11}
BODY_SIZE = 9.5
HEADER_FILL = (241, 245, 248)

# fontTools logs every glyph of the font subset at INFO, drowning the CLI's own lines.
logging.getLogger("fontTools").setLevel(logging.WARNING)
CHART_ASPECT = FIGURE_SIZE[1] / FIGURE_SIZE[0]


def to_pdf(report: WeeklyReport, lang: str = "vi") -> bytes:
    """The report as PDF bytes, charts included."""
    pdf = _new_pdf(rt("title", lang, week=report.week))
    for block in document(report, lang):
        _draw(pdf, block)
    return bytes(pdf.output())


def _new_pdf(title: str) -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_creator("CoopWatch")
    pdf.set_margins(16, 16, 16)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    pdf.set_font(FONT, size=BODY_SIZE)
    return pdf


def _nfc(text: str) -> str:
    # Precomposed letters: the font has glyphs for "ế", not for "e" plus two combining marks.
    return unicodedata.normalize("NFC", text)


def _draw(pdf: FPDF, block: Block) -> None:
    if isinstance(block, Heading):
        pdf.ln(2)
        pdf.set_font(FONT, "B", HEADING_SIZES.get(block.level, BODY_SIZE))
        pdf.multi_cell(0, None, _nfc(block.text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    elif isinstance(block, Paragraph):
        pdf.set_font(FONT, "B" if block.strong else "", BODY_SIZE)
        pdf.multi_cell(0, None, _nfc(block.text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    elif isinstance(block, Table):
        _table(pdf, block)
    else:
        _chart(pdf, block)
    pdf.set_font(FONT, "", BODY_SIZE)


def _table(pdf: FPDF, block: Table) -> None:
    pdf.set_font(FONT, "", BODY_SIZE - 1)
    # The wide column holds names, titles or reasons: it gets the room numbers do not need.
    widths = tuple(3 if n == block.wide else 1 for n in range(len(block.columns)))
    heading = FontFace(emphasis="BOLD", fill_color=HEADER_FILL)
    with pdf.table(col_widths=widths, text_align="LEFT", headings_style=heading,
                   line_height=pdf.font_size * 1.5) as table:
        header = table.row()
        for column in block.columns:
            header.cell(_nfc(column))
        for cells in block.rows:
            row = table.row()
            for cell in cells:
                link = safe_url(cell.url) if isinstance(cell, Link) else None
                row.cell(_nfc(cell_text(cell)), link=link)
    pdf.ln(2)


def _chart(pdf: FPDF, chart: Chart) -> None:
    height = pdf.epw * CHART_ASPECT + 2 * pdf.font_size
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()  # keeps the title with its chart
    pdf.set_font(FONT, "B", BODY_SIZE)
    pdf.multi_cell(0, None, _nfc(chart.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.image(io.BytesIO(chart.png), w=pdf.epw, title=_nfc(chart.title))
    pdf.ln(2)
