"""Printable PDFs of payments: the receipt (收据) of one payment and a house's monthly
statement (对账单).

``render_receipt(payment)`` → bytes of an A5 landscape PDF: company, receipt number, date,
house, payer, method, the amount in figures and in Chinese capital numerals
(``amount_in_words``, 大写), the bills it paid (fee item, period, amount), the prepaid deposit
(预存) it made, the cashier, and a red stamp once (part of) it is refunded.

``render_statement(house, month)`` → bytes of an A4 PDF: the house's bills of that month,
its earlier bills still unpaid, the payments received in the month, and what is owed and
prepaid at the time of printing.

Fonts as in ``wuye.core.labels`` (read its docstring): Helvetica for Latin text, the built-in
CID font STSong-Light for Chinese; tables continue on a new page with their header repeated.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, A5, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from wuye.billing.models import Bill, Payment, PrepaidAccount, PrepaidEntry
from wuye.billing.money import CENT, ZERO, month_end, yuan
from wuye.core.labels import LATIN, LATIN_BOLD, clean_text, draw_lines, pdf_response, text_width

__all__ = ["amount_in_words", "receipt_lines", "render_receipt", "render_statement"]

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
GROUPS = ("", "万", "亿", "万亿")
STAMP_RED = Color(0.8, 0.1, 0.1, alpha=0.85)
GREY = Color(0.45, 0.45, 0.45)
RULE = Color(0.75, 0.75, 0.75)


# --- 大写 -------------------------------------------------------------------------------


def _group_words(group: int) -> str:
    """0 < group < 10000 in words: 1001 → 壹仟零壹, 1010 → 壹仟零壹拾 (trailing zeros silent)."""
    out, zero = "", False
    for place in (3, 2, 1, 0):
        digit = group // 10**place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += DIGITS[0]
            zero = False
        out += DIGITS[digit] + PLACES[place]
    return out


def _integer_words(number: int) -> str:
    """Whole yuan in words, groups of four digits (万, 亿); one 零 marks any run of zeros
    between non-zero digits: 10010 → 壹万零壹拾, 100000001 → 壹亿零壹."""
    groups = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    out, zero = "", False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            zero = bool(out)
            continue
        if out and (zero or group < 1000):
            out += DIGITS[0]
        out += _group_words(group) + GROUPS[index]
        zero = False
    return out


def amount_in_words(amount) -> str:
    """An amount of yuan in Chinese capital numerals as written on receipts and cheques
    (支付结算办法): 123.45 → 壹佰贰拾叁元肆角伍分, 10 → 壹拾元整, 100.5 → 壹佰元伍角整,
    0.05 → 伍分, 1.05 → 壹元零伍分, 0 → 零元整, −3 → 负叁元整.

    ``amount`` is a Decimal, int or numeric string in whole fen; floats and amounts with
    more than two decimals are refused (``ValueError``), as are 10¹⁶ yuan and more."""
    if isinstance(amount, float):
        raise ValueError("amount_in_words takes Decimal, int or str, not float")
    value = Decimal(str(amount))
    if not value.is_finite() or value != value.quantize(CENT):
        raise ValueError(f"not an amount in whole fen: {amount!r}")
    sign = "负" if value < 0 else ""
    fen_total = int(abs(value) * 100)
    yuan, cents = divmod(fen_total, 100)
    if yuan >= 10**16:
        raise ValueError(f"amount too large: {amount!r}")
    jiao, fen = divmod(cents, 10)
    if cents == 0:
        return f"{sign}{_integer_words(yuan) or DIGITS[0]}元整"
    out = _integer_words(yuan) + "元" if yuan else ""
    if jiao:
        out += DIGITS[jiao] + "角"
    elif yuan:
        out += DIGITS[0]  # 壹元零伍分
    out += DIGITS[fen] + "分" if fen else "整"
    return sign + out


# --- page drawing -------------------------------------------------------------------------


def _period(start: datetime.date, end: datetime.date) -> str:
    if start == end:
        return f"{start:%Y-%m-%d}"
    if start.day == 1 and end == month_end(start):
        return f"{start:%Y-%m}"
    return f"{start:%Y-%m-%d} ~ {end:%Y-%m-%d}"


def pdf_yuan(amount) -> str:
    """``money.yuan`` for PDFs: their CJK font has no U+2212 minus."""
    return yuan(amount, minus="-")


class Sheet:
    """A canvas with a cursor moving down the page, text in the two fonts, and tables
    that continue on a new page (header repeated)."""

    def __init__(self, pagesize, *, margin=12 * mm, title=""):
        self.buffer = io.BytesIO()
        self.c = canvas.Canvas(self.buffer, pagesize=pagesize, pageCompression=1)
        self.c.setTitle(title)
        self.width, self.height = pagesize
        self.margin = margin
        self.left, self.right = margin, self.width - margin
        self.y = self.height - margin

    def text(self, text, size=9, *, x=None, bold=False, centre=False, right=False, colour=black):
        """One line at the cursor (or at ``x``); does not move the cursor."""
        line = clean_text(text)
        font = LATIN_BOLD if bold else LATIN
        x = self.left if x is None else x
        centre_w = None
        if centre:
            centre_w = self.right - self.left
        elif right:
            x -= text_width(line, font, size)
        self.c.setFillColor(colour)
        draw_lines(self.c, [line], font, size, x, self.y, bold=bold, centre_w=centre_w)
        self.c.setFillColor(black)

    def down(self, amount):
        self.y -= amount

    def rule(self, colour=RULE, width=0.5):
        self.c.setStrokeColor(colour)
        self.c.setLineWidth(width)
        self.c.line(self.left, self.y, self.right, self.y)
        self.c.setStrokeColor(black)

    def fields(self, pairs, size=9, columns=2):
        """Label: value pairs, ``columns`` to a row."""
        col_w = (self.right - self.left) / columns
        for start in range(0, len(pairs), columns):
            for offset, (label, value) in enumerate(pairs[start : start + columns]):
                x = self.left + offset * col_w
                self.text(f"{label}:", size, x=x, colour=GREY)
                label_w = text_width(clean_text(f"{label}:"), LATIN, size) + 1.5 * mm
                self.text(_fit(value, size, col_w - label_w - 2 * mm), size, x=x + label_w)
            self.down(size * 1.55)

    def table(self, columns, rows, size=8.5, bottom=None):
        """``columns``: (heading, width share, "l"|"r"); rows of strings. Breaks pages."""
        bottom = self.margin if bottom is None else bottom
        total = sum(share for _h, share, _a in columns)
        widths = [(self.right - self.left) * share / total for _h, share, _a in columns]
        row_h = size * 1.6

        def header():
            self._row([h for h, _s, _a in columns], widths, columns, size, bold=True)
            self.down(2)
            self.rule(black, 0.6)
            self.down(row_h - size - 2)

        header()
        for row in rows:
            if self.y - row_h < bottom:
                self.new_page()
                header()
            self._row(row, widths, columns, size)
            self.down(row_h)

    def _row(self, cells, widths, columns, size, bold=False):
        x = self.left
        for cell, width, (_h, _s, align) in zip(cells, widths, columns, strict=True):
            text = _fit(cell, size, width - 2 * mm)
            if align == "r":
                self.text(text, size, x=x + width - 1 * mm, right=True, bold=bold)
            else:
                self.text(text, size, x=x + 1 * mm, bold=bold)
            x += width
        self.down(size * 1.15)

    def new_page(self):
        self.c.showPage()
        self.y = self.height - self.margin

    def stamp(self, text, sub=""):
        """A red rotated box stamp low on the page, clear of the lines and the total."""
        c = self.c
        c.saveState()
        c.translate(self.width * 0.6, self.margin + 14 * mm)
        c.rotate(15)
        c.setStrokeColor(STAMP_RED)
        c.setFillColor(STAMP_RED)
        c.setLineWidth(2)
        w = max(text_width(text, LATIN_BOLD, 18), text_width(sub, LATIN, 9)) + 10 * mm
        h = 16 * mm if sub else 12 * mm
        c.roundRect(-w / 2, -h / 2, w, h, 3 * mm, stroke=1, fill=0)
        top = h / 2 - 2.5 * mm
        draw_lines(c, [text], LATIN_BOLD, 18, -w / 2, top, bold=True, centre_w=w)
        if sub:
            draw_lines(c, [sub], LATIN, 9, -w / 2, top - 8 * mm, centre_w=w)
        c.restoreState()

    def finish(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buffer.getvalue()


def _fit(text, size, max_w) -> str:
    """``text`` cut with an ellipsis to ``max_w`` points."""
    text = clean_text(text)
    if text_width(text, LATIN, size) <= max_w:
        return text
    while text and text_width(text + "…", LATIN, size) > max_w:
        text = text[:-1]
    return text + "…"


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


# --- receipt ------------------------------------------------------------------------------


def receipt_lines(payment: Payment) -> list[dict]:
    """What the payment paid: its allocations (fee item, period, amount) and the prepaid
    deposit it made, if any."""
    lines = [
        {
            "fee_item": allocation.bill.fee_item.name,
            "period": _period(allocation.bill.period_start, allocation.bill.period_end),
            "amount": allocation.amount,
            "bill_id": allocation.bill_id,
        }
        for allocation in payment.allocations.select_related("bill__fee_item").order_by(
            "bill__due_date", "bill_id"
        )
    ]
    # Money a later waiver gave back from a bill (it names the bill) is not on the receipt.
    deposit = payment.prepaid_entries.filter(kind=PrepaidEntry.Kind.DEPOSIT, bill=None).aggregate(
        s=Sum("amount")
    )["s"]
    if deposit:
        lines.append(
            {"fee_item": _("Prepaid (deposit)"), "period": "", "amount": deposit, "bill_id": None}
        )
    return lines


def render_receipt(payment: Payment) -> bytes:
    """The receipt of ``payment`` as PDF bytes (A5 landscape; more pages for long lists)."""
    payment = (
        Payment.objects.select_related(
            "company", "house__community", "house__building", "house__unit", "received_by"
        )
        .filter(pk=payment.pk)
        .get()
    )
    sheet = Sheet(landscape(A5), margin=10 * mm, title=payment.receipt_no)
    sheet.down(2)
    sheet.text(payment.company.name, 15, bold=True, centre=True)
    sheet.down(19)
    sheet.text(_("Receipt"), 11, centre=True)
    sheet.down(16)
    sheet.text(f"{_('Receipt no.')}: {payment.receipt_no}", 9, bold=True)
    received = timezone.localtime(payment.received_at)
    sheet.text(f"{_('Date')}: {received:%Y-%m-%d %H:%M}", 9, x=sheet.right, right=True)
    sheet.down(14)
    sheet.rule(black, 0.8)
    sheet.down(6)
    details = [
        (_("House"), payment.house.address),
        (_("Payer"), payment.payer or "—"),
        (_("Method"), payment.get_method_display()),
        (_("Reference"), payment.reference or "—"),
    ]
    sheet.fields(details)
    sheet.down(2)
    lines = receipt_lines(payment)
    rows = [[line["fee_item"], line["period"], pdf_yuan(line["amount"])] for line in lines]
    sheet.table(
        [(_("Fee item"), 5, "l"), (_("Period"), 4, "l"), (_("Amount"), 3, "r")],
        rows,
        bottom=sheet.margin + 30 * mm,
    )
    sheet.down(1)
    sheet.rule(black, 0.6)
    sheet.down(4)
    sheet.text(_("Total"), 10, bold=True)
    sheet.text(pdf_yuan(payment.amount), 10, bold=True, x=sheet.right - 1 * mm, right=True)
    sheet.down(15)
    sheet.text(f"{_('In words')}: {amount_in_words(payment.amount)}", 10)
    sheet.down(18)
    sheet.text(f"{_('Cashier')}: {_person(payment.received_by) or '—'}", 9)
    printed = timezone.localtime()
    sheet.text(
        f"{_('Printed')}: {printed:%Y-%m-%d %H:%M}", 8, x=sheet.right, right=True, colour=GREY
    )
    if payment.refunded_amount > 0:
        full = payment.status == Payment.Status.REFUNDED
        sheet.stamp(
            _("REFUNDED") if full else _("PARTIALLY REFUNDED"),
            f"{_('Refunded')} {pdf_yuan(payment.refunded_amount)}",
        )
    return sheet.finish()


# --- monthly statement --------------------------------------------------------------------


def statement_figures(house, month: datetime.date) -> dict:
    """The figures of ``house``'s statement for ``month`` (any day of it)."""
    first = month.replace(day=1)
    last = month_end(first)
    bills = Bill.objects.filter(house=house).exclude(status=Bill.Status.VOID)
    bills = bills.select_related("fee_item").order_by("due_date", "id")
    this_month = list(bills.filter(period_start__gte=first, period_start__lte=last))
    earlier = list(bills.filter(period_start__lt=first, status__in=Bill.UNSETTLED))
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(last, datetime.time.max))
    payments = list(
        Payment.objects.filter(house=house, received_at__range=(start, end)).order_by(
            "received_at", "id"
        )
    )
    owed = bills.filter(status__in=Bill.UNSETTLED).with_balance().aggregate(s=Sum("balance_due"))
    prepaid = PrepaidAccount.objects.filter(house=house).aggregate(s=Sum("balance"))
    return {
        "first": first,
        "this_month": this_month,
        "earlier": earlier,
        "payments": payments,
        "billed": sum((bill.payable for bill in this_month), ZERO),
        "received": sum((p.amount - p.refunded_amount for p in payments), ZERO),
        "owed": owed["s"] or ZERO,
        "prepaid": prepaid["s"] or ZERO,
    }


def bill_rows(bills) -> list[list[str]]:
    return [
        [
            bill.fee_item.name,
            _period(bill.period_start, bill.period_end),
            f"{bill.due_date:%Y-%m-%d}",
            pdf_yuan(bill.payable),
            pdf_yuan(bill.paid_amount),
            pdf_yuan(bill.balance),
        ]
        for bill in bills
    ]


def render_statement(house, month: datetime.date) -> bytes:
    """``house``'s monthly statement (对账单) for ``month`` as PDF bytes (A4)."""
    figures = statement_figures(house, month)
    first = figures["first"]
    sheet = Sheet(A4, margin=15 * mm, title=f"{house.address} {first:%Y-%m}")
    sheet.text(house.company.name, 15, bold=True, centre=True)
    sheet.down(20)
    sheet.text(_("Monthly statement %(month)s") % {"month": f"{first:%Y-%m}"}, 11, centre=True)
    sheet.down(18)
    sheet.fields(
        [
            (_("House"), house.address),
            (_("As of"), f"{timezone.localtime():%Y-%m-%d %H:%M}"),
        ]
    )
    sheet.rule(black, 0.8)
    sheet.down(8)
    summary = [
        (_("Billed this month"), pdf_yuan(figures["billed"])),
        (_("Received this month"), pdf_yuan(figures["received"])),
        (_("Still owed (all bills)"), pdf_yuan(figures["owed"])),
        (_("Prepaid balance"), pdf_yuan(figures["prepaid"])),
    ]
    sheet.fields(summary, size=10)
    sheet.text(f"{_('Still owed in words')}: {amount_in_words(figures['owed'])}", 9)
    sheet.down(16)
    bill_columns = [
        (_("Fee item"), 4, "l"),
        (_("Period"), 3.4, "l"),
        (_("Due date"), 2.4, "l"),
        (_("Amount"), 2.4, "r"),
        (_("Paid"), 2.4, "r"),
        (_("Balance"), 2.4, "r"),
    ]
    sections = [
        (_("Bills of this month"), bill_columns, bill_rows(figures["this_month"])),
        (_("Earlier bills still unpaid"), bill_columns, bill_rows(figures["earlier"])),
        (
            _("Payments received this month"),
            [
                (_("Date"), 3, "l"),
                (_("Receipt no."), 5, "l"),
                (_("Method"), 3, "l"),
                (_("Amount"), 2.5, "r"),
                (_("Refunded"), 2.5, "r"),
            ],
            [
                [
                    f"{timezone.localtime(p.received_at):%Y-%m-%d}",
                    p.receipt_no,
                    p.get_method_display(),
                    pdf_yuan(p.amount),
                    pdf_yuan(p.refunded_amount) if p.refunded_amount else "—",
                ]
                for p in figures["payments"]
            ],
        ),
    ]
    for heading, columns, rows in sections:
        if sheet.y < sheet.margin + 40 * mm:
            sheet.new_page()
        sheet.text(heading, 10.5, bold=True)
        sheet.down(16)
        if rows:
            sheet.table(columns, rows)
        else:
            sheet.text(_("None."), 9, colour=GREY)
            sheet.down(12)
        sheet.down(10)
    return sheet.finish()


def receipt_response(payment):
    """The receipt shown in the browser (to print or save), for the cashier and the payer."""
    return pdf_response(render_receipt(payment), f"{payment.receipt_no}.pdf")
