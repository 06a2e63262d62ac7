"""The monthly service report as a PDF: the headline figures against the month before,
charts of the month (orders per category, complaints per root cause) and of the
twelve-month trend (orders, on-time rate, satisfaction), and the tables behind them.

Drawn with reportlab's platypus (flowing pages) and reportlab.graphics (vector charts,
no image library). Text is set in the built-in CID font STSong-Light, as in
``wuye.core.labels`` (registered there): Chinese without a font file; data strings go
through ``labels.clean_text`` so characters the font lacks print as "?".
"""

import io
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from wuye.core.labels import CJK_FONT, clean_text

PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
FRAME_W = PAGE_W - 2 * MARGIN
BLUE = colors.HexColor("#2563eb")
TEAL = colors.HexColor("#0d9488")
AMBER = colors.HexColor("#d97706")
GREY = colors.HexColor("#6b7280")
LIGHT = colors.HexColor("#f3f4f6")
RULE = colors.HexColor("#d1d5db")
MAX_BARS = 12  # longer lists: the largest, the rest in the tables


def _style(size, *, leading=None, colour=colors.black, align=TA_LEFT) -> ParagraphStyle:
    return ParagraphStyle(
        f"s{size}",
        fontName=CJK_FONT,
        fontSize=size,
        leading=leading or size * 1.35,
        textColor=colour,
        alignment=align,
        wordWrap="CJK",
    )


TITLE, HEADING, BODY, SMALL = _style(18), _style(12.5), _style(9.5), _style(8, colour=GREY)


SEP = " | "  # STSong-Light has no "·"


def _plain(value) -> str:
    """One line the CID font can show ("›" between category levels becomes "/")."""
    return clean_text(str(value).replace(" › ", "/"))


def _text(value) -> str:
    """Escaped for a Paragraph (its markup is XML-like)."""
    return _plain(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shown(value, unit: str = "") -> str:
    """A figure as printed: "—" when there was nothing to divide."""
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:.1f}"
    elif isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:,}"
    return f"{value}{unit if unit in ('%', 'h', '/5') else ''}"


def _number(value) -> float:
    return float(value) if isinstance(value, int | float | Decimal) else 0.0


# --- charts ---------------------------------------------------------------------------
def _legend(drawing, top: float, items) -> None:
    """Colour keys right-aligned on the heading's line, last series rightmost."""
    x = FRAME_W
    for colour, name in reversed(items):
        width = stringWidth(name, CJK_FONT, 7.5)
        x -= width
        drawing.add(String(x, top - 10, name, fontName=CJK_FONT, fontSize=7.5))
        x -= 11
        drawing.add(Rect(x, top - 10, 8, 8, fillColor=colour, strokeColor=None))
        x -= 12


def _heading(drawing, title: str, height: float) -> None:
    drawing.add(String(0, height - 11, clean_text(title), fontName=CJK_FONT, fontSize=10))


def _axis_fonts(chart) -> None:
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = CJK_FONT
        axis.labels.fontSize = 7
    chart.valueAxis.strokeColor = chart.categoryAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = LIGHT


def bar_chart(
    title: str, labels: list[str], series: list[tuple[str, list, object]], *, height=62 * mm
) -> Drawing:
    """Vertical bars per label, one colour per series ((name, values, colour))."""
    drawing = Drawing(FRAME_W, height)
    _heading(drawing, title, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 28, 34
    chart.width, chart.height = FRAME_W - 40, height - 64
    chart.data = [[_number(v) for v in values] or [0] for _name, values, _c in series]
    chart.categoryAxis.categoryNames = [_plain(label)[:12] for label in labels] or [""]
    _axis_fonts(chart)
    chart.categoryAxis.labels.angle = 30 if len(labels) > 6 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 6 else "n"
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = True
    chart.barSpacing, chart.groupSpacing = 1, 6
    for index, (_name, _values, colour) in enumerate(series):
        chart.bars[index].fillColor = colour
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    if len(series) > 1:
        _legend(drawing, height, [(c, clean_text(n)) for n, _v, c in series])
    return drawing


def line_chart(
    title: str,
    labels: list[str],
    series: list[tuple[str, list, object]],
    *,
    percent: bool = False,
    height=58 * mm,
) -> Drawing:
    """One line per series over ``labels`` (months); missing values (None) are gaps."""
    drawing = Drawing(FRAME_W, height)
    _heading(drawing, title, height)
    chart = HorizontalLineChart()
    chart.x, chart.y = 28, 22
    chart.width, chart.height = FRAME_W - 40, height - 52
    chart.data = [[None if v is None else float(v) for v in values] for _n, values, _c in series]
    chart.categoryAxis.categoryNames = labels
    _axis_fonts(chart)
    chart.valueAxis.valueMin = 0
    if percent:
        chart.valueAxis.valueMax = 100
        chart.valueAxis.valueStep = 20
        chart.valueAxis.labelTextFormat = "%d%%"
    chart.joinedLines = 0  # per series below: a line needs two points (None are skipped)
    for index, (_name, values, colour) in enumerate(series):
        style = chart.lines[index]
        style.strokeColor, style.strokeWidth = colour, 1.6
        style.symbol = makeMarker("FilledCircle", size=3.2, fillColor=colour, strokeColor=colour)
        if sum(value is not None for value in values) > 1:
            style.lineStyle = "joinedLine"
    drawing.add(chart)
    _legend(drawing, height, [(c, clean_text(n)) for n, _v, c in series])
    return drawing


def ranked_bars(title: str, pairs: list[tuple[str, int]], *, colour=AMBER) -> Drawing:
    """Horizontal bars, largest first (complaints per root cause)."""
    pairs = pairs[:MAX_BARS]
    height = 24 + 14 * max(len(pairs), 1) + 16
    drawing = Drawing(FRAME_W, height)
    _heading(drawing, title, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 110, 14
    chart.width, chart.height = FRAME_W - 130, height - 40
    values = [value for _label, value in reversed(pairs)] or [0]
    chart.data = [values]
    chart.categoryAxis.categoryNames = [_plain(label)[:14] for label, _v in reversed(pairs)]
    _axis_fonts(chart)
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = True
    chart.bars[0].fillColor = colour
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


# --- tables ---------------------------------------------------------------------------
def _table(header: list[str], rows: list[list], widths: list[float]) -> Table:
    cells = [[Paragraph(_text(h), SMALL) for h in header]]
    cells += [[Paragraph(_text(cell), BODY) for cell in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def _headline_table(content) -> Table:
    rows = [[f.label, shown(f.value, f.unit), shown(f.previous, f.unit)] for f in content.headline]
    half = (len(rows) + 1) // 2
    left, right = rows[:half], rows[half:] + [["", "", ""]] * (2 * half - len(rows))
    header = [_("Figure"), _("This month"), _("Month before")]
    width = FRAME_W / 2 - 3 * mm
    widths = [width * 0.5, width * 0.25, width * 0.25]
    return Table(
        [[_table(header, left, widths), _table(header, right, widths)]],
        colWidths=[FRAME_W / 2, FRAME_W / 2],
        style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)],
    )


def _footer(canvas, doc, content) -> None:
    canvas.saveState()
    canvas.setFont(CJK_FONT, 7.5)
    canvas.setFillColor(GREY)
    stamp = timezone.localtime(content.generated_at).strftime("%Y-%m-%d %H:%M")
    canvas.drawString(
        MARGIN,
        9 * mm,
        clean_text(SEP.join([content.company, content.community, f"{_('Generated at')} {stamp}"])),
    )
    canvas.drawRightString(PAGE_W - MARGIN, 9 * mm, f"{doc.page}")
    canvas.restoreState()


def render(content) -> bytes:
    """The report of ``content`` (``wuye.quality.reports.ReportContent``) as PDF bytes."""
    out = io.BytesIO()
    month = f"{content.month:%Y-%m}"
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * mm,
        title=clean_text(f"{content.title} {content.community} {month}"),
        author=clean_text(content.company),
    )
    story = [
        Paragraph(_text(f"{content.title}{SEP}{month}"), TITLE),
        Spacer(0, 2 * mm),
        Paragraph(_text(f"{content.company}{SEP}{content.community}"), HEADING),
        Spacer(0, 5 * mm),
        _headline_table(content),
        Spacer(0, 6 * mm),
    ]
    categories = content.categories[:MAX_BARS]
    story.append(
        bar_chart(
            _("Orders per category"),
            [row["name"] for row in categories],
            [
                (_("Orders"), [row["created"] for row in categories], BLUE),
                (_("Completed"), [row["completed"] for row in categories], TEAL),
            ],
        )
    )
    figures = [[f.label, shown(f.value, f.unit)] for f in content.complaint_figures]
    complaints = [
        Spacer(0, 6 * mm),
        Paragraph(_text(_("Complaints")), HEADING),
        Spacer(0, 2 * mm),
        _table([_("Figure"), _("This month")], figures, [FRAME_W * 0.35, FRAME_W * 0.15]),
    ]
    if content.complaints:
        complaints += [
            Spacer(0, 4 * mm),
            ranked_bars(_("Complaints per root cause"), content.complaints),
        ]
    story.append(KeepTogether(complaints))
    months = [f"{row['month']:%m}" for row in content.trend]
    story += [
        PageBreak(),
        Paragraph(_text(_("The last twelve months")), HEADING),
        Spacer(0, 3 * mm),
        line_chart(
            _("Orders"),
            months,
            [
                (_("Orders"), [row["created"] for row in content.trend], BLUE),
                (_("Completed"), [row["completed"] for row in content.trend], TEAL),
            ],
        ),
        Spacer(0, 4 * mm),
        line_chart(
            _("Rates"),
            months,
            [
                (_("Resolution on time"), [row["on_time"] for row in content.trend], BLUE),
                (_("Satisfaction"), [row["satisfaction"] for row in content.trend], AMBER),
            ],
            percent=True,
        ),
        Spacer(0, 4 * mm),
        _table(
            [_("Month"), _("Orders"), _("Completed"), _("Resolution on time"), _("Satisfaction")],
            [
                [
                    f"{row['month']:%Y-%m}",
                    shown(row["created"]),
                    shown(row["completed"]),
                    shown(row["on_time"], "%"),
                    shown(row["satisfaction"], "%"),
                ]
                for row in content.trend
            ],
            [FRAME_W * 0.2] * 5,
        ),
    ]
    if content.categories:
        story += [
            Spacer(0, 6 * mm),
            Paragraph(_text(_("Per category")), HEADING),
            Spacer(0, 2 * mm),
            _table(
                [
                    _("Category"),
                    _("Orders"),
                    _("Completed"),
                    _("Completion rate"),
                    _("Resolution on time"),
                    _("Average rating"),
                ],
                [
                    [
                        row["name"],
                        shown(row["created"]),
                        shown(row["completed"]),
                        shown(row["completion"], "%"),
                        shown(row["on_time"], "%"),
                        shown(row["rating"], "/5"),
                    ]
                    for row in content.categories
                ],
                [FRAME_W * 0.3] + [FRAME_W * 0.14] * 5,
            ),
        ]
    notes = [Paragraph(_text(_("How these figures are counted")), HEADING), Spacer(0, 1 * mm)]
    notes += [
        Paragraph(_text(f"{term}: {meaning}"), SMALL) for term, meaning in content.definitions
    ]
    story += [Spacer(0, 6 * mm), KeepTogether(notes)]
    doc.build(
        story,
        onFirstPage=lambda c, d: _footer(c, d, content),
        onLaterPages=lambda c, d: _footer(c, d, content),
    )
    return out.getvalue()
