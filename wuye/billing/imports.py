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
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.billing.models import Bill, FeeItem
from wuye.billing.services import OpeningLine, opening_bill, require_community
from wuye.estates.models import Building, Community, House, Unit
from wuye.imports.workbook import MAX_ROWS, RowError, cell_text, is_blank

SHEET = "期初欠费"
HOUSE_ID = "房屋编号"
BUILDING = "楼栋"
UNIT = "单元"
NUMBER = "房号"
FEE_ITEM = "收费项目"
PERIOD = "所属期间"
AMOUNT = "应收金额"
PAID = "已收金额"
HEADERS = (HOUSE_ID, BUILDING, UNIT, NUMBER, FEE_ITEM, PERIOD, AMOUNT, PAID)
COLUMN_LABELS = {
    HOUSE_ID: gettext_lazy("house id"),
    BUILDING: gettext_lazy("building"),
    UNIT: gettext_lazy("unit"),
    NUMBER: gettext_lazy("house number"),
    FEE_ITEM: gettext_lazy("fee item"),
    PERIOD: gettext_lazy("period"),
    AMOUNT: gettext_lazy("amount"),
    PAID: gettext_lazy("paid"),
}
MAX_AMOUNT = Decimal("9999999999.99")  # Bill.amount: 12 digits, 2 decimals
CENT = Decimal("0.01")
FIRST_PERIOD = datetime.date(2000, 1, 1)
PERIOD_PATTERN = re.compile(r"^(\d{4})-(\d{1,2})$")
MAX_SHOWN_ERRORS = 200
IN_CHUNK = 2000


def row_error_text(error: RowError) -> str:
    """ "Row 12, amount: must be above zero" (the column in the interface language)."""
    if not error.row:
        return error.message
    return _("Row %(row)s, %(column)s: %(message)s") % {
        "row": error.row,
        "column": COLUMN_LABELS.get(error.column, error.column),
        "message": error.message,
    }


class OpeningImportInvalid(ValidationError):
    """Bad rows; nothing was written. ``row_errors`` has all of them, the message the
    first ``MAX_SHOWN_ERRORS`` as "Row n, column: reason"."""

    def __init__(self, errors: list[RowError]):
        self.row_errors = errors
        shown = [row_error_text(e) for e in errors[:MAX_SHOWN_ERRORS]]
        if len(errors) > MAX_SHOWN_ERRORS:
            shown.append(
                _("… and %(count)s more errors.") % {"count": len(errors) - MAX_SHOWN_ERRORS}
            )
        super().__init__({"file": shown})


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
    houses = _Houses(community)
    items = _FeeItems(community)
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
        raise OpeningImportInvalid(sorted(errors, key=lambda e: e.row))
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
    """(row number, {header: value}) of every non-empty data row."""
    from openpyxl import load_workbook

    not_xlsx = ValidationError({"file": _("The file is not an Excel .xlsx workbook.")})
    try:
        file.seek(0)
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise not_xlsx from exc
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        columns = _columns(next(rows, ()))
        found = []
        for number, values in enumerate(rows, start=2):
            if all(is_blank(v) for v in values):
                continue
            if len(found) == MAX_ROWS:
                raise ValidationError(
                    {
                        "file": _("The file has more than %(max)s data rows; split it.")
                        % {"max": f"{MAX_ROWS:,}"}
                    }
                )
            found.append(
                (number, {h: values[i] if i < len(values) else None for h, i in columns.items()})
            )
    finally:
        book.close()
    if not found:
        raise ValidationError({"file": _("The sheet has no data rows.")})
    return found


def _columns(header_row) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, value in enumerate(header_row):
        header = cell_text(value)
        if header in HEADERS and header not in columns:
            columns[header] = index
    missing = [h for h in (FEE_ITEM, PERIOD, AMOUNT) if h not in columns]
    if HOUSE_ID not in columns:
        missing += [h for h in (BUILDING, NUMBER) if h not in columns]
    if missing:
        raise ValidationError(
            {
                "file": _("The sheet misses these columns: %(columns)s.")
                % {"columns": "、".join(missing)}
            }
        )
    return columns


# --- lookups --------------------------------------------------------------------------


class _Houses:
    """The community's houses by id and by (楼栋, 单元, 房号), loaded once."""

    def __init__(self, community):
        self.buildings = dict(
            Building.objects.filter(community=community).values_list("name", "id")
        )
        self.units = {
            (building_id, name): pk
            for pk, building_id, name in Unit.objects.filter(
                building__community=community
            ).values_list("id", "building_id", "name")
        }
        self.by_key = {}
        for pk, building_id, unit_id, number in House.objects.filter(
            community=community
        ).values_list("id", "building_id", "unit_id", "number"):
            self.by_key[(building_id, unit_id, number)] = pk
        self.ids = set(self.by_key.values())

    def by_address(self, building: str, unit: str, number: str) -> int | None:
        building_id = self.buildings.get(building)
        unit_id = self.units.get((building_id, unit)) if unit else None
        if building_id is None or (unit and unit_id is None):
            return None
        return self.by_key.get((building_id, unit_id, number))


class _FeeItems:
    """The community's fee items by code, and by name where the name is unique."""

    def __init__(self, community):
        items = list(FeeItem.objects.filter(community=community))
        self.by_code = {item.code: item for item in items}
        names: dict[str, list[FeeItem]] = {}
        for item in items:
            names.setdefault(item.name, []).append(item)
        self.by_name = names

    def find(self, text: str) -> tuple[FeeItem | None, str]:
        if text in self.by_code:
            return self.by_code[text], ""
        named = self.by_name.get(text, [])
        if len(named) == 1:
            return named[0], ""
        if named:
            return None, _("several fee items have this name; use the code")
        return None, _("no fee item of this community has this code or name")


# --- checking -------------------------------------------------------------------------


def _check_row(number: int, raw: dict, houses: _Houses, items: _FeeItems):
    errors: list[RowError] = []

    def fail(column, message):
        errors.append(RowError(number, column, message))

    house_id = _house(raw, houses, fail)
    fee_item = None
    item_text = cell_text(raw.get(FEE_ITEM))
    if not item_text:
        fail(FEE_ITEM, _("is required"))
    else:
        fee_item, problem = items.find(item_text)
        if problem:
            fail(FEE_ITEM, problem)
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


def _house(raw: dict, houses: _Houses, fail) -> int | None:
    """The house named by 房屋编号 or by 楼栋/单元/房号 (both: they must agree)."""
    id_text = cell_text(raw.get(HOUSE_ID))
    building, unit, number = (cell_text(raw.get(c)) for c in (BUILDING, UNIT, NUMBER))
    by_id = None
    if id_text:
        by_id = int(id_text) if id_text.isdigit() else None
        if by_id not in houses.ids:
            fail(HOUSE_ID, _("is not a house of this community"))
            return None
    if not (building or number):
        if by_id is None:
            fail(NUMBER, _("give the house id, or the building, unit and house number"))
        return by_id
    if not building or not number:
        fail(BUILDING if not building else NUMBER, _("is required"))
        return None
    found = houses.by_address(building, unit, number)
    if found is None:
        fail(NUMBER, _("no such house in this community"))
        return None
    if by_id is not None and by_id != found:
        fail(HOUSE_ID, _("names another house than the building, unit and house number"))
        return None
    return found


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
    amount = None
    if not isinstance(value, bool | datetime.date):
        try:
            amount = Decimal(value.strip() if isinstance(value, str) else repr(value))
        except (InvalidOperation, ValueError):
            amount = None
    if amount is not None and amount.is_finite():
        # Formula results carry float noise (12.300000000000001); more than that is a typo.
        rounded = amount.quantize(CENT)
        amount = rounded if abs(rounded - amount) <= Decimal("0.000001") else None
    if amount is None or not amount.is_finite():
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
