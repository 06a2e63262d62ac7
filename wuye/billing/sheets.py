"""What the billing workbooks share (期初欠费 opening balances, 抄表 meter readings):
reading a sheet's rows by their Chinese headers, finding the community's houses and fee
items named in a row, typed cells, the "Row n, column: reason" errors and the blank
templates handed out for filling in.

Headers are the file format and stay Chinese whatever the interface language (as in
``wuye.imports.workbook``); reasons and column labels are translated.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.billing.models import FeeItem
from wuye.core.xlsx import bold_row, date_cell, text_cell, typed_cell
from wuye.estates.models import Building, House, Unit
from wuye.imports.workbook import DATE_FORMATS, MAX_ROWS, RowError, cell_text, is_blank

__all__ = ["RowError", "cell_text", "date_cell", "is_blank", "text_cell", "typed_cell"]

HOUSE_ID = "房屋编号"
BUILDING = "楼栋"
UNIT = "单元"
NUMBER = "房号"
FEE_ITEM = "收费项目"
NOTES_SHEET = "说明"
CENT = Decimal("0.01")
MAX_SHOWN_ERRORS = 200

# Interface labels of every billing workbook column, for "Row n, <column>: reason".
COLUMN_LABELS = {
    HOUSE_ID: gettext_lazy("house id"),
    BUILDING: gettext_lazy("building"),
    UNIT: gettext_lazy("unit"),
    NUMBER: gettext_lazy("house number"),
    FEE_ITEM: gettext_lazy("fee item"),
    "所属期间": gettext_lazy("period"),
    "应收金额": gettext_lazy("amount"),
    "已收金额": gettext_lazy("paid"),
    "抄表日期": gettext_lazy("reading date"),
    "本次读数": gettext_lazy("reading"),
    "换表": gettext_lazy("meter replaced"),
    "新表起数": gettext_lazy("new meter's starting reading"),
}


def row_error_text(error: RowError) -> str:
    """ "Row 12, amount: must be above zero" (the column in the interface language)."""
    if not error.row:
        return error.message
    return _("Row %(row)s, %(column)s: %(message)s") % {
        "row": error.row,
        "column": COLUMN_LABELS.get(error.column, error.column),
        "message": error.message,
    }


class ImportInvalid(ValidationError):
    """Bad rows; nothing was written. ``row_errors`` has all of them (sorted by row), the
    message the first ``MAX_SHOWN_ERRORS`` as "Row n, column: reason"."""

    def __init__(self, errors: list[RowError]):
        self.row_errors = sorted(errors, key=lambda e: e.row)
        shown = [row_error_text(e) for e in self.row_errors[:MAX_SHOWN_ERRORS]]
        if len(errors) > MAX_SHOWN_ERRORS:
            shown.append(
                _("… and %(count)s more errors.") % {"count": len(errors) - MAX_SHOWN_ERRORS}
            )
        super().__init__({"file": shown})


# --- reading --------------------------------------------------------------------------


def read_rows(
    file, *, sheet: str, headers: tuple, required: tuple, max_rows: int = MAX_ROWS
) -> list[tuple[int, dict]]:
    """(row number, {header: value}) of every non-empty data row of ``sheet`` (else the
    first sheet). A house is named by 房屋编号 or by 楼栋 + 房号, so those are required
    as a pair unless 房屋编号 is there; ``required`` are the other required columns."""
    from openpyxl import load_workbook

    try:
        file.seek(0)
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise ValidationError({"file": _("The file is not an Excel .xlsx workbook.")}) from exc
    try:
        found_sheet = book[sheet] if sheet in book.sheetnames else book.worksheets[0]
        rows = found_sheet.iter_rows(values_only=True)
        columns = _columns(next(rows, ()), headers, required)
        found = []
        for number, values in enumerate(rows, start=2):
            if all(is_blank(v) for v in values):
                continue
            if len(found) == max_rows:
                raise ValidationError(
                    {
                        "file": _("The file has more than %(max)s data rows; split it.")
                        % {"max": f"{max_rows:,}"}
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


def _columns(header_row, headers: tuple, required: tuple) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, value in enumerate(header_row):
        header = cell_text(value)
        if header in headers and header not in columns:
            columns[header] = index
    missing = [h for h in required if h not in columns]
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


class Houses:
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


class FeeItems:
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

    def label(self, item: FeeItem) -> str:
        """What a workbook we hand out writes for ``item``: its name when unique."""
        return item.name if len(self.by_name.get(item.name, [])) == 1 else item.code


# --- cells ----------------------------------------------------------------------------


def house_of(raw: dict, houses: Houses, fail) -> int | None:
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


def fee_item_of(raw: dict, items: FeeItems, fail) -> FeeItem | None:
    text = cell_text(raw.get(FEE_ITEM))
    if not text:
        fail(FEE_ITEM, _("is required"))
        return None
    item, problem = items.find(text)
    if problem:
        fail(FEE_ITEM, problem)
    return item


def decimal_cell(value) -> Decimal | None:
    """A number cell to at most two decimals, or None when it is not one. Formula
    results carry float noise (12.300000000000001); more than that is a typo."""
    if isinstance(value, bool | datetime.date):
        return None
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else repr(value))
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite():
        return None
    rounded = amount.quantize(CENT)
    return rounded if abs(rounded - amount) <= Decimal("0.000001") else None


def date_of(value) -> datetime.date | None:
    """A date cell, or text such as 2026-03-25, 2026/3/25, 2026.03.25 or 20260325."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


# --- templates ------------------------------------------------------------------------


def write_only_book():
    """A write-only workbook (memory stays flat however many rows are written)."""
    from openpyxl import Workbook

    return Workbook(write_only=True)


def data_sheet(book, *, title: str, headers: tuple, text_columns: tuple = (), widths=None):
    """The sheet to fill in: bold headers frozen on top, ``text_columns`` formatted as
    text (so Excel keeps 0101 as typed, not 101)."""
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    for index, header in enumerate(headers, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = (widths or {}).get(header, 12)
        if header in text_columns:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    sheet.append(bold_row(sheet, headers))
    return sheet


def notes_sheet(book, rows) -> None:
    """The "说明" sheet: a bold first row, then the notes."""
    sheet = book.create_sheet(NOTES_SHEET)
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 90
    for number, row in enumerate(rows):
        sheet.append(bold_row(sheet, row) if number == 0 else list(row))
