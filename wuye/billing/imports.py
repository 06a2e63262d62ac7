"""期初欠费: opening balances (arrears from before the system) imported from Excel.

The workbook: the sheet "期初欠费" (else the first sheet), headers in row 1, one row per
house × fee item × month. Like the registry workbook (``wuye.imports.workbook``) the
headers are the file format and stay Chinese whatever the interface language:

- 房屋编号 (the house id), or 楼栋 + 单元 + 房号 (单元 empty for houses without units);
  when both are filled they must name the same house;
- 收费项目: the fee item's code, or its name when no other item has that name;
- 所属期间: the month, ``YYYY-MM`` (a date cell counts as its month);
- 应收金额: what was owed, above zero, in yuan and fen;
- 已收金额 (optional): what was collected of it before the import, at most 应收金额.

Every row is checked before anything is written; one bad row and nothing is written,
and every error names its row and column. A row whose bill is already there (the same
file imported again) is counted, not written twice; one with another amount is refused.
"""

import dataclasses
import datetime
import os
import re
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.billing import sheets
from wuye.billing.models import Bill
from wuye.billing.services import OpeningLine, opening_bill, require_community
from wuye.billing.sheets import (
    BUILDING,
    FEE_ITEM,
    HOUSE_ID,
    NUMBER,
    UNIT,
    RowError,
    cell_text,
    is_blank,
    row_error_text,
)
from wuye.estates.models import Community

__all__ = ["OpeningImport", "OpeningImportInvalid", "import_opening_balances", "row_error_text"]

SHEET = "期初欠费"
PERIOD = "所属期间"
AMOUNT = "应收金额"
PAID = "已收金额"
HEADERS = (HOUSE_ID, BUILDING, UNIT, NUMBER, FEE_ITEM, PERIOD, AMOUNT, PAID)
MAX_AMOUNT = Decimal("9999999999.99")  # Bill.amount: 12 digits, 2 decimals
FIRST_PERIOD = datetime.date(2000, 1, 1)
PERIOD_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})$")
IN_CHUNK = 2000


class OpeningImportInvalid(sheets.ImportInvalid):
    """Bad rows of an opening-balance file; nothing was written."""


@dataclasses.dataclass(frozen=True)
class OpeningImport:
    rows: int
    created: int
    already_there: int
    total_amount: Decimal  # 应收 of the bills created
    total_paid: Decimal  # 已收 of the bills created

    @property
    def message(self) -> str:
        return _(
            "%(created)s opening balances imported (%(amount)s yuan owed, %(paid)s yuan "
            "already collected); %(already)s were already there."
        ) % {
            "created": self.created,
            "amount": self.total_amount,
            "paid": self.total_paid,
            "already": self.already_there,
        }


@transaction.atomic
def import_opening_balances(*, actor, community: Community, file) -> OpeningImport:
    """Check every row of ``file`` (an .xlsx file object), then write the opening
    balances of ``community`` as bills (origin opening), all or nothing."""
    require_community(actor, community)
    # One import per community at a time: the "already there" check must hold until
    # the bills are written.
    Community.objects.select_for_update().filter(pk=community.pk).first()
    raw_rows = _read(file)
    houses = sheets.Houses(community)
    items = sheets.FeeItems(community)
    lines, errors = [], []
    seen: dict[tuple, int] = {}
    for number, raw in raw_rows:
        line, row_errors = _check_row(number, raw, houses, items)
        if line is not None:
            key = (line.house_id, line.fee_item.id, line.period_start)
            if key in seen:
                row_errors.append(
                    RowError(
                        number,
                        PERIOD,
                        _("repeats row %(row)s (same house, fee item and month)")
                        % {"row": seen[key]},
                    )
                )
            else:
                seen[key] = number
        errors += row_errors
        if line is not None and not row_errors:
            lines.append(line)
    new, already_there, clash_errors = _against_existing(lines)
    errors += clash_errors
    if errors:
        raise OpeningImportInvalid(errors)
    name = os.path.basename(getattr(file, "name", "") or "")[:200]
    Bill.objects.bulk_create([opening_bill(line, community, name) for line in new], 1000)
    return OpeningImport(
        rows=len(raw_rows),
        created=len(new),
        already_there=already_there,
        total_amount=sum((line.amount for line in new), Decimal("0.00")),
        total_paid=sum((line.paid for line in new), Decimal("0.00")),
    )


# --- reading --------------------------------------------------------------------------


def _read(file) -> list[tuple[int, dict]]:
    return sheets.read_rows(file, sheet=SHEET, headers=HEADERS, required=(FEE_ITEM, PERIOD, AMOUNT))


# --- checking -------------------------------------------------------------------------


def _check_row(number: int, raw: dict, houses: sheets.Houses, items: sheets.FeeItems):
    errors: list[RowError] = []

    def fail(column, message):
        errors.append(RowError(number, column, message))

    house_id = sheets.house_of(raw, houses, fail)
    fee_item = sheets.fee_item_of(raw, items, fail)
    period = _period(raw.get(PERIOD), fail)
    amount = _money(raw.get(AMOUNT), AMOUNT, fail, required=True)
    if amount is not None and amount == 0:
        fail(AMOUNT, _("must be above zero"))
        amount = None
    paid = _money(raw.get(PAID), PAID, fail, required=False)
    if amount is not None and paid is not None and paid > amount:
        fail(PAID, _("cannot be more than the amount owed (%(amount)s)") % {"amount": amount})
    if errors:
        return None, errors
    line = OpeningLine(
        row=number,
        house_id=house_id,
        fee_item=fee_item,
        period_start=period,
        amount=amount,
        paid=paid or Decimal("0.00"),
    )
    return line, errors


def _period(value, fail) -> datetime.date | None:
    month = None
    if isinstance(value, datetime.datetime):  # Excel turns 2025-12 into a date
        value = value.date()
    if isinstance(value, datetime.date):
        month = value.replace(day=1)
    else:
        match = PERIOD_PATTERN.match(cell_text(value))
        if match and 1 <= int(match[2]) <= 12:
            month = datetime.date(int(match[1]), int(match[2]), 1)
    if month is None:
        fail(PERIOD, _("must be a month written YYYY-MM, e.g. 2025-12"))
        return None
    if not FIRST_PERIOD <= month <= timezone.localdate().replace(day=1):
        fail(PERIOD, _("must be a month from 2000-01 to this month"))
        return None
    return month


def _money(value, column: str, fail, *, required: bool) -> Decimal | None:
    if is_blank(value):
        if required:
            fail(column, _("is required"))
        return None
    amount = sheets.decimal_cell(value)
    if amount is None:
        fail(column, _("must be an amount in yuan with at most 2 decimals, e.g. 1280.50"))
        return None
    if amount < 0:
        fail(column, _("cannot be negative"))
        return None
    if amount > MAX_AMOUNT:
        fail(column, _("is too large"))
        return None
    return amount


def _against_existing(lines: list[OpeningLine]):
    """(lines to write, how many are already there, errors): a bill of the same house,
    fee item and month written by an earlier import with the same amount is already
    there; one with another amount, or one of a bill run, is an error."""
    found = {}
    house_ids = sorted({line.house_id for line in lines})
    item_ids = {line.fee_item.id for line in lines}
    periods = {line.period_start for line in lines}
    for start in range(0, len(house_ids), IN_CHUNK):
        rows = Bill.objects.filter(
            house_id__in=house_ids[start : start + IN_CHUNK],
            fee_item_id__in=item_ids,
            period_start__in=periods,
            origin__in=[Bill.Origin.RUN, Bill.Origin.OPENING],
        ).values_list("house_id", "fee_item_id", "period_start", "origin", "amount")
        for house_id, item_id, period_start, origin, amount in rows:
            found[(house_id, item_id, period_start)] = (origin, amount)
    new, errors, already = [], [], 0
    for line in lines:
        before = found.get((line.house_id, line.fee_item.id, line.period_start))
        if before is None:
            new.append(line)
        elif before[0] == Bill.Origin.RUN:
            errors.append(
                RowError(line.row, PERIOD, _("this month is already billed by a bill run"))
            )
        elif before[1] != line.amount:
            errors.append(
                RowError(
                    line.row,
                    AMOUNT,
                    _(
                        "was imported before as %(amount)s; correct that bill with an "
                        "adjustment instead"
                    )
                    % {"amount": before[1]},
                )
            )
        else:
            already += 1
    return new, already, errors


# --- the template -------------------------------------------------------------------


def write_template(out) -> None:
    """The empty workbook handed out for filling in: the headers and a sheet of notes."""
    book = sheets.write_only_book()
    sheets.data_sheet(
        book,
        title=SHEET,
        headers=HEADERS,
        text_columns=(BUILDING, UNIT, NUMBER, PERIOD),
        widths={HOUSE_ID: 12, FEE_ITEM: 16, PERIOD: 12, AMOUNT: 14, PAID: 14},
    )
    required = _("yes")
    sheets.notes_sheet(
        book,
        [
            (_("Column"), _("Required"), _("What to enter")),
            (HOUSE_ID, _("or"), _("The house id shown in the console (or the next three).")),
            (BUILDING, _("or"), _("Building name as in the console, e.g. 1栋.")),
            (UNIT, _("no"), _("Unit name, e.g. 1单元; empty for houses without units.")),
            (NUMBER, _("or"), _("House number as in the console, e.g. 0101 (keep as text).")),
            (FEE_ITEM, required, _("The fee item's code, or its name when no other has it.")),
            (PERIOD, required, _("The month owed for, written YYYY-MM, e.g. 2025-12.")),
            (AMOUNT, required, _("What was owed for that month, in yuan, e.g. 210.33.")),
            (PAID, _("no"), _("What was already collected of it (at most the amount owed).")),
            (),
            (
                _(
                    "One row per house, fee item and month. Every row is checked first; if "
                    "any row is wrong nothing is imported and you get the list of errors."
                ),
            ),
            (_("Importing the same file again writes nothing twice."),),
        ],
    )
    book.save(out)
