"""Excel workbook of the cashier's payments list (the filtered payments, one row each).
openpyxl write-only mode, payments read from the database in chunks: memory stays flat."""

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from wuye.billing.exports_console import CHUNK, DATE_FORMAT, MONEY_FORMAT, bold_row, typed_cell
from wuye.core.services import require


def payment_headers() -> list[str]:
    return [
        _("Receipt number"),
        _("Received at"),
        _("Community"),
        _("House"),
        _("Payer"),
        _("Method"),
        _("Reference"),
        _("Amount (¥)"),
        _("Refunded (¥)"),
        _("Status"),
        _("Cashier"),
    ]


def export_payments(*, actor, payments, out) -> None:
    """Write ``payments`` (filtered and scoped to the actor) to ``out``."""
    require(actor, "billing.collect")
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Payments"))
    sheet.append(bold_row(sheet, payment_headers()))
    rows = payments.select_related(
        "community", "house__community", "house__building", "house__unit", "received_by"
    ).order_by("-received_at", "-id")
    for payment in rows.iterator(chunk_size=CHUNK):
        cashier = payment.received_by
        sheet.append(
            [
                payment.receipt_no,
                typed_cell(
                    sheet,
                    timezone.localtime(payment.received_at).replace(tzinfo=None),
                    DATE_FORMAT + " hh:mm",
                ),
                payment.community.name,
                payment.house.address,
                payment.payer,
                payment.get_method_display(),
                payment.reference,
                typed_cell(sheet, payment.amount, MONEY_FORMAT),
                typed_cell(sheet, payment.refunded_amount, MONEY_FORMAT),
                payment.get_status_display(),
                (cashier.get_full_name() or cashier.get_username()) if cashier else "",
            ]
        )
    book.save(out)
