"""Excel workbook of the cashier's payments list (the filtered payments, one row each).
openpyxl write-only mode, payments read from the database in chunks: memory stays flat."""

from django.utils.translation import gettext as _

from wuye.billing.exports_console import CHUNK
from wuye.core.services import require
from wuye.core.xlsx import MONEY_FORMAT, new_book, time_cell, typed_cell


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
    book, sheet = new_book(_("Payments"), payment_headers())
    rows = payments.select_related(
        "community", "house__community", "house__building", "house__unit", "received_by"
    ).order_by("-received_at", "-id")
    for payment in rows.iterator(chunk_size=CHUNK):
        cashier = payment.received_by
        sheet.append(
            [
                payment.receipt_no,
                time_cell(sheet, payment.received_at),
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
