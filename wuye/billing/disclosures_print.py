"""收支公示 on paper and in Excel.

``render_pdf(disclosure, url="")`` → bytes of an A4 portrait notice to post in the lobby:
the company and community, the title and period in large type, three boxes (income,
expenses, balance), the income by fee item and the expenses by category with their totals,
the balance in figures and in 大写, the report's note, how income is counted, the date it
was published and, when ``url`` is given, a QR code of the H5 page so residents can read
it on their phones. A draft or withdrawn report carries a large grey watermark, so a
print of it is never taken for the real notice. Fonts as in ``wuye.core.labels``
(Helvetica for Latin text, the built-in CID font STSong-Light for Chinese). Long tables
continue on a new page with their header repeated.

``write_workbook(disclosure, out)`` → the same figures as an .xlsx workbook.
"""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from wuye.billing.disclosures import EXPENSE, INCOME, totals
from wuye.billing.models import Disclosure
from wuye.billing.receipts import amount_in_words, pdf_yuan
from wuye.core.labels import LATIN, LATIN_BOLD, clean_text, draw_lines, make_qr, text_width
from wuye.core.xlsx import MONEY_FORMAT, bold_row, date_cell, time_cell, typed_cell

__all__ = ["render_pdf", "write_workbook"]

GREY = Color(0.42, 0.42, 0.42)
RULE = Color(0.78, 0.78, 0.78)
SHADE = Color(0.95, 0.96, 0.97)
ACCENT = Color(0.11, 0.33, 0.62)
WATERMARK = Color(0.55, 0.55, 0.55, alpha=0.22)
MARGIN = 16 * mm
QR_MM = 22
BOTTOM = MARGIN + 4 * mm  # the footer line sits below this


def _lines(disclosure):
    lines = list(disclosure.lines.order_by("side", "position", "id"))
    income = [line for line in lines if line.side == INCOME]
    expenses = [line for line in lines if line.side == EXPENSE]
    return income, expenses, totals(lines)


def _wrap(text: str, size: float, max_w: float, font=LATIN) -> list[str]:
    """Greedy wrap: anywhere in Chinese, at spaces in Latin words when one fits."""
    out = []
    for paragraph in str(text or "").splitlines():
        rest = clean_text(paragraph)
        while rest:
            if text_width(rest, font, size) <= max_w:
                out.append(rest)
                break
            cut = 1
            while cut < len(rest) and text_width(rest[: cut + 1], font, size) <= max_w:
                cut += 1
            space = rest.rfind(" ", 0, cut + 1)
            if rest[cut - 1].isascii() and cut < len(rest) and rest[cut].isascii() and space > 0:
                cut = space
            out.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
    return out


def _fit(text, size, max_w, font=LATIN) -> str:
    text = clean_text(text)
    if text_width(text, font, size) <= max_w:
        return text
    while text and text_width(text + "…", font, size) > max_w:
        text = text[:-1]
    return text + "…"


class _Notice:
    def __init__(self, disclosure, title):
        self.buffer = io.BytesIO()
        self.c = canvas.Canvas(self.buffer, pagesize=A4, pageCompression=1)
        self.c.setTitle(title)
        self.width, self.height = A4
        self.left, self.right = MARGIN, self.width - MARGIN
        self.y = self.height - MARGIN
        self.disclosure = disclosure
        self.page = 1
        self.watermark()

    def watermark(self):
        """DRAFT or WITHDRAWN across the page: such a print is never the notice."""
        state = self.disclosure.state
        if state == Disclosure.State.PUBLISHED:
            return
        word = _("DRAFT") if state == Disclosure.State.DRAFT else _("WITHDRAWN")
        c = self.c
        c.saveState()
        c.translate(self.width / 2, self.height / 2)
        c.rotate(35)
        c.setFillColor(WATERMARK)
        size = 96
        while size > 40 and text_width(word, LATIN_BOLD, size) > self.height * 0.8:
            size -= 4
        top = size / 2
        draw_lines(
            c, [word], LATIN_BOLD, size, -self.width, top, bold=True, centre_w=2 * self.width
        )
        c.restoreState()

    def text(self, text, size=10, *, x=None, bold=False, centre=False, right=False, colour=black):
        line = clean_text(text)
        font = LATIN_BOLD if bold else LATIN
        x = self.left if x is None else x
        if right:
            x -= text_width(line, font, size)
        self.c.setFillColor(colour)
        centre_w = self.right - self.left if centre else None
        draw_lines(self.c, [line], font, size, x, self.y, bold=bold, centre_w=centre_w)
        self.c.setFillColor(black)

    def down(self, amount):
        self.y -= amount

    def rule(self, colour=RULE, width=0.5):
        self.c.setStrokeColor(colour)
        self.c.setLineWidth(width)
        self.c.line(self.left, self.y, self.right, self.y)
        self.c.setStrokeColor(black)

    def room(self) -> float:
        return self.y - BOTTOM

    def need(self, height):
        """A new page unless ``height`` points are left above the footer."""
        if self.room() < height:
            self.new_page()

    def new_page(self):
        self.footer()
        self.c.showPage()
        self.page += 1
        self.y = self.height - MARGIN
        self.watermark()

    def footer(self):
        d = self.disclosure
        self.c.saveState()
        self.c.setFillColor(GREY)
        line = _fit(f"{d.community.name} · {d.title}", 8, self.right - self.left - 20 * mm)
        draw_lines(self.c, [line], LATIN, 8, self.left, MARGIN - 4 * mm)
        number = str(self.page)
        draw_lines(
            self.c, [number], LATIN, 8, self.right - text_width(number, LATIN, 8), MARGIN - 4 * mm
        )
        self.c.restoreState()

    def boxes(self, figures):
        """Three boxes side by side: income, expenses, balance."""
        gap = 5 * mm
        w = (self.right - self.left - 2 * gap) / 3
        h = 17 * mm
        top = self.y
        c = self.c
        for n, (label, amount) in enumerate(figures):
            x = self.left + n * (w + gap)
            c.setFillColor(SHADE)
            c.setStrokeColor(RULE)
            c.roundRect(x, top - h, w, h, 2 * mm, stroke=1, fill=1)
            c.setFillColor(GREY)
            draw_lines(c, [_fit(label, 10, w - 4 * mm)], LATIN, 10, x, top - 3 * mm, centre_w=w)
            c.setFillColor(ACCENT if n == 2 else black)
            text = pdf_yuan(amount)
            size = 17
            while size > 9 and text_width(text, LATIN_BOLD, size) > w - 4 * mm:
                size -= 1
            draw_lines(c, [text], LATIN_BOLD, size, x, top - 8.5 * mm, bold=True, centre_w=w)
        c.setFillColor(black)
        c.setStrokeColor(black)
        self.y = top - h

    def table(self, heading, item_label, rows, total_label, total):
        """A numbered table (item, note, amount) with its total. Long items and notes
        wrap; the header is repeated on a new page."""
        size = 10
        widths = [11 * mm, 0, 58 * mm, 32 * mm]
        widths[1] = self.right - self.left - sum(widths)
        headers = [_("No."), item_label, _("Note"), _("Amount (¥)")]

        def header():
            height = self.row_height([[h] for h in headers], size)
            self.c.setFillColor(SHADE)
            self.c.rect(
                self.left, self.y - height, self.right - self.left, height, stroke=0, fill=1
            )
            self.c.setFillColor(black)
            self.row([[h] for h in headers], widths, size, bold=True)

        self.need(12 * mm + 3 * size * 2)
        self.text(heading, 12.5, bold=True, colour=ACCENT)
        self.down(7 * mm)
        header()
        if not rows:
            self.row([[""], [_("None")], [""], [""]], widths, size, colour=GREY)
        for number, line in enumerate(rows, start=1):
            cells = [
                [str(number)],
                _wrap(line.category, size, widths[1] - 3 * mm),
                _wrap(line.note, size, widths[2] - 3 * mm),
                [f"{line.amount:,.2f}"],
            ]
            if self.room() < self.row_height(cells, size):
                self.new_page()
                header()
            self.row(cells, widths, size)
        total_cells = [[""], [total_label], [""], [f"{total:,.2f}"]]
        self.need(self.row_height(total_cells, 10.5))
        self.rule(black, 0.8)
        self.row(total_cells, widths, 10.5, bold=True, ruled=False)
        self.down(4 * mm)

    @staticmethod
    def row_height(cells, size) -> float:
        return max(1, *(len(lines) for lines in cells)) * size * 1.25 + size * 0.5

    def row(self, cells, widths, size, *, bold=False, colour=black, ruled=True):
        """One row of wrapped cells (each a list of lines); the last column is money,
        right-aligned."""
        height = self.row_height(cells, size)
        top = self.y - size * 0.25
        font = LATIN_BOLD if bold else LATIN
        self.c.setFillColor(colour)
        x = self.left
        for n, (lines, width) in enumerate(zip(cells, widths, strict=True)):
            for k, line in enumerate(lines):
                text = _fit(line, size, width - 3 * mm, font)
                if n == len(cells) - 1:
                    tx = x + width - 1.5 * mm - text_width(text, font, size)
                else:
                    tx = x + 1.5 * mm
                draw_lines(self.c, [text], font, size, tx, top - k * size * 1.25, bold=bold)
            x += width
        self.c.setFillColor(black)
        self.y -= height
        if ruled:
            self.rule()

    def qr(self, url, x, top):
        """The QR code of ``url``, its top-left corner at (x, top), ``QR_MM`` wide with
        its quiet zone."""
        matrix = make_qr(url).matrix
        n = len(matrix)
        module = QR_MM * mm / (n + 8)  # a 4-module quiet zone on each side
        origin_x = x + 4 * module
        origin_y = top - QR_MM * mm + 4 * module
        c = self.c
        c.setFillColor(white)
        c.rect(x, top - QR_MM * mm, QR_MM * mm, QR_MM * mm, stroke=0, fill=1)
        c.setFillColor(black)
        path = c.beginPath()
        for r, row in enumerate(matrix):
            y = origin_y + (n - r - 1) * module
            col = 0
            while col < n:
                if row[col]:
                    start = col
                    while col < n and row[col]:
                        col += 1
                    path.rect(origin_x + start * module, y, (col - start) * module, module)
                else:
                    col += 1
        c.drawPath(path, stroke=0, fill=1)

    def finish(self) -> bytes:
        self.footer()
        self.c.showPage()
        self.c.save()
        return self.buffer.getvalue()


def render_pdf(disclosure: Disclosure, url: str = "") -> bytes:
    """The notice-board PDF of ``disclosure`` (see the module docstring)."""
    disclosure = Disclosure.objects.select_related("company", "community", "published_by").get(
        pk=disclosure.pk
    )
    income, expenses, figures = _lines(disclosure)
    sheet = _Notice(disclosure, disclosure.title)
    width = sheet.right - sheet.left
    place = f"{disclosure.company.name} · {disclosure.community.name}"
    sheet.text(place, 11, centre=True, colour=GREY)
    sheet.down(8 * mm)
    for line in _wrap(disclosure.title, 20, width, LATIN_BOLD)[:2]:
        sheet.text(line, 20, bold=True, centre=True)
        sheet.down(9.5 * mm)
    start, end = disclosure.period_start, disclosure.period_end
    period = f"{_('Period')}: {start:%Y-%m-%d} ~ {end:%Y-%m-%d}"
    sheet.text(period, 11, centre=True)
    sheet.down(7 * mm)
    sheet.rule(black, 1)
    sheet.down(5 * mm)
    sheet.boxes(
        [
            (_("Income"), figures.income),
            (_("Expenses"), figures.expense),
            (_("Balance (income - expenses)"), figures.balance),
        ]
    )
    sheet.down(8 * mm)
    sheet.table(
        _("1. Income (money received)"), _("Fee item"), income, _("Total income"), figures.income
    )
    sheet.table(_("2. Expenses"), _("Category"), expenses, _("Total expenses"), figures.expense)
    sheet.need(14 * mm)
    sheet.text(_("3. Balance (income - expenses)"), 12.5, bold=True, colour=ACCENT)
    sheet.text(pdf_yuan(figures.balance), 12.5, bold=True, x=sheet.right - 1.5 * mm, right=True)
    sheet.down(6.5 * mm)
    sheet.text(f"{_('In words')}: {amount_in_words(figures.balance)}", 10)
    sheet.down(8 * mm)
    if disclosure.note:
        note = _wrap(disclosure.note, 10, width)
        sheet.need(7 * mm + min(len(note), 3) * 12.5)
        sheet.text(_("Note"), 11, bold=True)
        sheet.down(5.5 * mm)
        for line in note:
            sheet.need(12.5)
            sheet.text(line, 10)
            sheet.down(12.5)
        sheet.down(3 * mm)
    how = _(
        "Income is the money received in the period, by fee item, net of refunds; money "
        "paid ahead is shown as prepaid deposits and not counted again when it pays a bill. "
        "Expenses are the costs of running the community in the period."
    )
    how_lines = _wrap(how, 8.5, width)
    block = QR_MM * mm + 5 * mm if url else 16 * mm
    sheet.need(len(how_lines) * 11 + 4 * mm + block)
    for line in how_lines:
        sheet.text(line, 8.5, colour=GREY)
        sheet.down(11)
    sheet.down(4 * mm)
    # The QR code bottom left, the signature and date on the right.
    top = sheet.y
    if url:
        sheet.qr(url, sheet.left, top)
        sheet.y = top - QR_MM * mm - 1 * mm
        sheet.text(_("Scan to read it on your phone"), 7.5, colour=GREY)
        sheet.y = top - (QR_MM * mm - 18) / 2
    sheet.text(place, 11, x=sheet.right, right=True)
    sheet.down(6 * mm)
    if disclosure.published_at:
        when = f"{_('Published')}: {timezone.localtime(disclosure.published_at):%Y-%m-%d}"
    else:
        when = f"{_('Printed')}: {timezone.localtime():%Y-%m-%d} ({disclosure.get_state_display()})"
    sheet.text(when, 10, x=sheet.right, right=True)
    return sheet.finish()


# --- Excel --------------------------------------------------------------------------------
def write_workbook(disclosure: Disclosure, out) -> None:
    """The report as one sheet: facts, income lines, expense lines, totals and balance."""
    income, expenses, figures = _lines(disclosure)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Income and expenses")[:31])
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 34
    sheet.column_dimensions["C"].width = 16
    sheet.column_dimensions["D"].width = 44

    def money(value):
        return typed_cell(sheet, value, MONEY_FORMAT)

    title = WriteOnlyCell(sheet, value=disclosure.title)
    title.font = Font(bold=True, size=14)
    sheet.append([title])
    for label, value in (
        (_("Community"), disclosure.community.name),
        (_("Period start"), date_cell(sheet, disclosure.period_start)),
        (_("Period end"), date_cell(sheet, disclosure.period_end)),
        (_("State"), disclosure.get_state_display()),
        (_("Published"), time_cell(sheet, disclosure.published_at)),
    ):
        sheet.append([label, value])
    sheet.append([])
    sheet.append(bold_row(sheet, [_("Side"), _("Item"), _("Amount (¥)"), _("Note")]))
    for line in [*income, *expenses]:
        sheet.append([line.get_side_display(), line.category, money(line.amount), line.note])
    sheet.append([])
    for label, value in (
        (_("Total income"), figures.income),
        (_("Total expenses"), figures.expense),
        (_("Balance (income − expenses)"), figures.balance),
    ):
        sheet.append([*bold_row(sheet, ["", label]), money(value)])
    if disclosure.note:
        sheet.append([])
        sheet.append([_("Note"), disclosure.note])
    book.save(out)
