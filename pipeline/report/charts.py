"""The weekly report's charts as PNG images (matplotlib, no display needed)."""
from __future__ import annotations

import io
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import MaxNLocator

from pipeline.report.build import WeeklyReport
from pipeline.report.words import label_text, rt

THIS_WEEK_COLOUR = "#1f6f8b"
LAST_WEEK_COLOUR = "#9ecae1"
CONFIRMED_COLOUR = "#2e7d32"
MODEL_ONLY_COLOUR = "#bdbdbd"
DPI = 150
FIGURE_SIZE = (7.0, 2.6)  # inches


@dataclass(frozen=True)
class Chart:
    """One chart: its title and PNG bytes."""

    title: str
    png: bytes


def report_charts(report: WeeklyReport, lang: str) -> list[Chart]:
    """Labels this week against last week, and this week's confirmed share per label; none
    for a week without data (a chart of zeros would only draw empty axes)."""
    if report.total.this_week.count == 0 and report.total.last_week.count == 0:
        return []
    return [_labels_chart(report, lang), _confirmed_chart(report, lang)]


def _labels_chart(report: WeeklyReport, lang: str) -> Chart:
    names = [label_text(row.key, lang) for row in report.labels]
    positions = list(range(len(names)))
    figure, axes = _figure()
    axes.barh([p - 0.2 for p in positions], [r.this_week.count for r in report.labels], height=0.4,
              color=THIS_WEEK_COLOUR, label=rt("this_week", lang))
    axes.barh([p + 0.2 for p in positions], [r.last_week.count for r in report.labels], height=0.4,
              color=LAST_WEEK_COLOUR, label=rt("last_week", lang))
    _finish(axes, positions, names)
    return Chart(rt("chart_labels", lang), _png(figure))


def _confirmed_chart(report: WeeklyReport, lang: str) -> Chart:
    names = [label_text(row.key, lang) for row in report.labels]
    positions = list(range(len(names)))
    confirmed = [r.this_week.confirmed for r in report.labels]
    figure, axes = _figure()
    axes.barh(positions, confirmed, color=CONFIRMED_COLOUR, label=rt("confirmed", lang))
    axes.barh(positions, [r.this_week.model_only for r in report.labels], left=confirmed,
              color=MODEL_ONLY_COLOUR, label=rt("model_only", lang))
    _finish(axes, positions, names)
    return Chart(rt("chart_confirmed", lang), _png(figure))


def _figure() -> tuple[MplFigure, Axes]:
    # Figure objects, not pyplot: no global state, safe in the dashboard's threads.
    figure = MplFigure(figsize=FIGURE_SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _finish(axes: Axes, positions: list[int], names: list[str]) -> None:
    axes.set_yticks(positions, names)
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.5 ticks
    axes.spines[["top", "right"]].set_visible(False)
    # Below the plot, so it never hides a bar.
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, frameon=False)


def _png(figure: MplFigure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
