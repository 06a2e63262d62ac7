"""The printable 催缴函 (payment reminder letter): one A4 page per reminded house.

Each page: the company, the title and the letter's number (batch-house), the date, the
residents' names and the house address, the house's bills overdue on the reminder's date
that are still unpaid when printed (fee item, period, due date, amount, paid, balance),
their total in figures and in words (大写), the pay-by date (``PAY_WITHIN_DAYS`` after the
reminder), the sender's note, the community's service phone, and the company's name as
signature. Printed right after sending (the usual case) the total is the amount the
reminder recorded; a reprint after a payment shows what is still owed.

Drawn like the receipts (``wuye.billing.receipts``): Helvetica for Latin text and the built-in
CID font STSong-Light for Chinese (``wuye.core.labels``).
"""

import datetime
from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.colors import black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from wuye.billing.dunning import residents_of
from wuye.billing.models import Bill, BillingPolicy, DunningNotice
from wuye.billing.money import ZERO
from wuye.billing.receipts import GREY, Sheet, amount_in_words, bill_rows, pdf_yuan
from wuye.core.labels import LATIN, clean_text, text_width

PAY_WITHIN_DAYS = 15


def letter_bills(notices) -> dict[int, list[Bill]]:
    """For each notice: the house's bills due before the reminder's day and still unpaid."""
    house_ids = {notice.house_id for notice in notices}
    bills = defaultdict(list)
    rows = (
        Bill.objects.filter(house_id__in=sorted(house_ids), status__in=Bill.UNSETTLED)
        .select_related("fee_item")
        .order_by("house_id", "due_date", "id")
    )
    for bill in rows:
        bills[bill.house_id].append(bill)
    found = {}
    for notice in notices:
        sent = timezone.localdate(notice.sent_at)
        found[notice.pk] = [bill for bill in bills[notice.house_id] if bill.due_date < sent]
    return found


def _wrap(text: str, size: float, max_w: float) -> list[str]:
    """Greedy wrap by width (Chinese may break anywhere; Latin at a space when it can)."""
    lines, rest = [], clean_text(text)
    while rest:
        if text_width(rest, LATIN, size) <= max_w:
            lines.append(rest)
            break
        cut = 1
        while cut < len(rest) and text_width(rest[: cut + 1], LATIN, size) <= max_w:
            cut += 1
        space = rest.rfind(" ", 0, cut + 1)
        if rest[cut : cut + 1].isascii() and rest[cut : cut + 1].isalnum() and space > 0:
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return lines


def _paragraph(sheet, text: str, size: float = 10) -> None:
    for line in _wrap(text, size, sheet.right - sheet.left):
        sheet.text(line, size)
        sheet.down(size * 1.6)


def render_letters(notices) -> bytes:
    """The letters of ``notices`` (DunningNotice rows) as one PDF, a page per house."""
    notices = list(notices)
    ids = [notice.pk for notice in notices]
    notices = list(
        DunningNotice.objects.filter(pk__in=ids)
        .select_related("company", "house__community", "house__building", "house__unit")
        .order_by("house__community__name", "house__building__name", "house__number", "id")
    )
    bills = letter_bills(notices)
    names = residents_of(notice.house_id for notice in notices)
    late_fees = set(
        BillingPolicy.objects.filter(
            company_id__in={notice.company_id for notice in notices}, late_fee_enabled=True
        ).values_list("company_id", flat=True)
    )
    title = _("Payment reminder")
    sheet = Sheet(A4, margin=18 * mm, title=title)
    for index, notice in enumerate(notices):
        if index:
            sheet.new_page()
        _letter(
            sheet,
            notice,
            bills[notice.pk],
            names.get(notice.house_id, []),
            late_fees=notice.company_id in late_fees,
        )
    return sheet.finish()


def _letter(sheet, notice, bills, residents, *, late_fees: bool) -> None:
    house = notice.house
    sent = timezone.localdate(notice.sent_at)
    pay_by = sent + datetime.timedelta(days=PAY_WITHIN_DAYS)
    sheet.text(notice.company.name, 16, bold=True, centre=True)
    sheet.down(24)
    sheet.text(_("Payment reminder"), 13, bold=True, centre=True)
    sheet.down(22)
    sheet.text(f"{_('Date')}: {sent:%Y-%m-%d}", 9, colour=GREY)
    sheet.text(
        f"{_('Letter no.')}: {notice.batch}-{notice.house_id}",
        9,
        x=sheet.right,
        right=True,
        colour=GREY,
    )
    sheet.down(12)
    sheet.rule(black, 0.8)
    sheet.down(14)
    who = "、".join(residents) if residents else _("Resident")
    sheet.text(_("To: %(names)s") % {"names": who}, 11, bold=True)
    sheet.down(16)
    sheet.text(f"{_('House')}: {house.address}", 10)
    sheet.down(20)
    _paragraph(
        sheet,
        _(
            "According to our records, the following bills of your house were overdue on "
            "%(date)s and are still unpaid:"
        )
        % {"date": f"{sent:%Y-%m-%d}"},
    )
    sheet.down(4)
    sheet.table(
        [
            (_("Fee item"), 4, "l"),
            (_("Period"), 3.4, "l"),
            (_("Due date"), 2.4, "l"),
            (_("Amount"), 2.4, "r"),
            (_("Paid"), 2.4, "r"),
            (_("Balance"), 2.4, "r"),
        ],
        bill_rows(bills),
        size=9,
    )
    total = sum((bill.balance for bill in bills), ZERO)
    sheet.down(1)
    sheet.rule(black, 0.6)
    sheet.down(6)
    sheet.text(_("Total owed"), 11, bold=True)
    sheet.text(pdf_yuan(total), 11, bold=True, x=sheet.right - 1 * mm, right=True)
    sheet.down(16)
    sheet.text(f"{_('In words')}: {amount_in_words(total)}", 10)
    sheet.down(24)
    _paragraph(
        sheet,
        _("Please pay by %(date)s at the property service centre, or online under My bills.")
        % {"date": f"{pay_by:%Y-%m-%d}"},
    )
    if late_fees:
        _paragraph(sheet, _("Bills paid late are charged a late fee every month until paid."))
    _paragraph(sheet, _("If you have paid already, thank you, and please ignore this letter."))
    if notice.note:
        sheet.down(2)
        _paragraph(sheet, notice.note)
    phone = house.community.service_phone
    if phone:
        sheet.down(2)
        sheet.text(f"{_('Service phone')}: {phone}", 10)
        sheet.down(16)
    sheet.down(24)
    sheet.text(notice.company.name, 11, x=sheet.right, right=True)
    sheet.down(16)
    sheet.text(f"{sent:%Y-%m-%d}", 10, x=sheet.right, right=True)
