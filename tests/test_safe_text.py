"""Text leaving the system: spreadsheet cells that cannot run formulas, screens that cannot be spoofed."""
from __future__ import annotations

import csv
import io

from pipeline.core.safe_text import csv_bytes, display_text, has_bidi_controls, safe_cell


def test_cells_that_would_be_formulas_are_written_as_text() -> None:
    hostile = ['=HYPERLINK("http://x.example","bấm")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
               "\t=1", "\r=1"]
    data = csv_bytes(["outlet", "count"], [(value, 3) for value in hostile] + [("Báo Nông thôn", 5)])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:-1]] == ["'" + value for value in hostile]
    assert rows[-1] == ["Báo Nông thôn", "5"]  # ordinary text and numbers unchanged
    assert data.startswith("\ufeff".encode("utf-8"))  # the BOM Excel needs for Vietnamese


def test_numbers_and_plain_text_are_left_alone() -> None:
    assert safe_cell(-3) == -3 and safe_cell("HTX Tân Hòa") == "HTX Tân Hòa"


def test_bidi_controls_are_found_and_removed() -> None:
    spoof = "gửi \u202eexe.gnóđ\u202c tiết kiệm"
    assert has_bidi_controls(spoof) and not has_bidi_controls("gửi tiết kiệm")
    assert display_text(spoof) == "gửi exe.gnóđ tiết kiệm"
