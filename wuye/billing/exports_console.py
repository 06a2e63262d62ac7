"""Excel workbooks of the fees console: the filtered bills, and arrears (aging and the
collection rate). openpyxl write-only mode; bills come from the database in chunks, so
memory stays flat however many match. Money in yuan with two decimals."""

from django.utils.translation import gettext as _
from openpyxl import Workbook

from wuye.billing.selectors import BUCKETS
from wuye.core.services import require
from wuye.core.xlsx import (
    DATE_FORMAT,
    MONEY_FORMAT,
    ONE_DECIMAL,
    bold_row,
    new_book,
    text_cell,
    typed_cell,
)

CHUNK = 2000


def bill_headers() -> list[str]:
    return [
        _("Bill"),
        _("Community"),
        _("Building"),
        _("Unit"),
        _("House"),
        _("Fee item"),
        _("Period start"),
        _("Period end"),
        _("Due date"),
        _("Amount (¥)"),
        _("Adjustments (¥)"),
        _("Paid (¥)"),
        _("Balance (¥)"),
        _("Status"),
        _("Origin"),
    ]


def export_bills(*, actor, bills, out) -> None:
    """Write ``bills`` (filtered and scoped to the actor) to ``out``, one row a bill."""
    require(actor, "billing.view")
    book, sheet = new_book(_("Bills"), bill_headers())
    rows = bills.select_related("community", "house__building", "house__unit", "fee_item").order_by(
        "id"
    )
    for bill in rows.iterator(chunk_size=CHUNK):
        house = bill.house
        sheet.append(
            [
                bill.pk,
                bill.community.name,
                house.building.name,
                house.unit.name if house.unit_id else None,
                text_cell(sheet, house.number),
                bill.fee_item.name,
                typed_cell(sheet, bill.period_start, DATE_FORMAT),
                typed_cell(sheet, bill.period_end, DATE_FORMAT),
                typed_cell(sheet, bill.due_date, DATE_FORMAT),
                typed_cell(sheet, bill.amount, MONEY_FORMAT),
                typed_cell(sheet, bill.adjusted_amount, MONEY_FORMAT),
                typed_cell(sheet, bill.paid_amount, MONEY_FORMAT),
                typed_cell(sheet, bill.balance, MONEY_FORMAT),
                bill.get_status_display(),
                bill.get_origin_display(),
            ]
        )
    book.save(out)


def export_arrears(*, actor, figures, out) -> None:
    """Aging per community and building, collection rate per community, building and
    month (``figures`` as computed for the arrears page)."""
    require(actor, "billing.view")
    book = Workbook(write_only=True)
    as_of = figures["as_of"].isoformat()
    _aging_sheet(book, _("Aging by community"), _("Community"), figures["aging_community"], as_of)
    _aging_sheet(book, _("Aging by building"), _("Building"), figures["aging_building"], as_of)
    months = f"{figures['first']:%Y-%m} – {figures['last']:%Y-%m}"
    for title, label, rows in (
        (_("Collection by community"), _("Community"), figures["rate_community"]),
        (_("Collection by building"), _("Building"), figures["rate_building"]),
        (_("Collection by month"), _("Month due"), figures["rate_month"]),
    ):
        _rate_sheet(book, title, label, rows, months)
    book.save(out)


def _aging_sheet(book, title, label, rows, as_of) -> None:
    sheet = book.create_sheet(title)
    sheet.append([_("Overdue as of"), as_of])
    sheet.append(
        bold_row(
            sheet,
            [
                label,
                _("Houses owing"),
                _("Bills"),
                *[f"{name} (¥)" for _key, name, *_days in BUCKETS],
                _("Total (¥)"),
            ],
        )
    )
    for row in rows:
        sheet.append(
            [
                row["name"],
                row["houses"],
                row["bills"],
                *[typed_cell(sheet, amount, MONEY_FORMAT) for amount in row["buckets"]],
                typed_cell(sheet, row["total"], MONEY_FORMAT),
            ]
        )


def _rate_sheet(book, title, label, rows, months) -> None:
    sheet = book.create_sheet(title)
    sheet.append([_("Bills due"), months])
    sheet.append(
        bold_row(
            sheet,
            [
                label,
                _("Bills"),
                _("Payable (¥)"),
                _("Paid (¥)"),
                _("Owed (¥)"),
                _("Collection rate (%)"),
            ],
        )
    )
    for row in rows:
        sheet.append(
            [
                row["name"],
                row["bills"],
                typed_cell(sheet, row["payable"], MONEY_FORMAT),
                typed_cell(sheet, row["paid"], MONEY_FORMAT),
                typed_cell(sheet, row["owed"], MONEY_FORMAT),
                typed_cell(sheet, row["rate"], ONE_DECIMAL),
            ]
        )
