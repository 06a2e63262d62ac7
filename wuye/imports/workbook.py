"""The registry workbook: one sheet "房屋", one row per house and person.

This module only reads and checks cells; it touches no database. The column
headers, sheet names and the labels for types/statuses/relations are the file
format (like a protocol) and stay Chinese whatever the interface language, so a
file exported in English still imports. Reasons for errors are translatable.

A house with several people (owner, spouse, tenant) takes one row per person;
the house columns must then agree between those rows. A house without anybody
(unsold, vacant) has the person columns empty.
"""

import dataclasses
import datetime
import zipfile
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from wuye.estates.models import MAX_AREA, House
from wuye.people.models import Residency, id_number_validator, mobile_validator

SHEET = "房屋"
NOTES_SHEET = "说明"
MAX_ROWS = 100_000
MAX_STORED_ERRORS = 10_000

BUILDING = "楼栋"
UNIT = "单元"
NUMBER = "房号"
FLOOR = "楼层"
BUILT_AREA = "建筑面积"
INDOOR_AREA = "套内面积"
KIND = "房屋类型"
OCCUPANCY = "使用状态"
NAME = "业主姓名"
MOBILE = "业主手机"
ID_NUMBER = "身份证号"
RELATION = "关系"
MOVE_IN = "入住日期"

HEADERS = (
    BUILDING,
    UNIT,
    NUMBER,
    FLOOR,
    BUILT_AREA,
    INDOOR_AREA,
    KIND,
    OCCUPANCY,
    NAME,
    MOBILE,
    ID_NUMBER,
    RELATION,
    MOVE_IN,
)
REQUIRED_HEADERS = (BUILDING, NUMBER, FLOOR, BUILT_AREA, KIND, OCCUPANCY)

KIND_LABELS = {
    "住宅": House.Kind.RESIDENCE,
    "商铺": House.Kind.SHOP,
    "办公": House.Kind.OFFICE,
    "车位": House.Kind.PARKING,
    "储藏室": House.Kind.STORAGE,
}
OCCUPANCY_LABELS = {
    "自住": House.Occupancy.OWNER_OCCUPIED,
    "出租": House.Occupancy.RENTED,
    "空置": House.Occupancy.VACANT,
    "装修": House.Occupancy.RENOVATING,
}
RELATION_LABELS = {
    "业主": Residency.Relation.OWNER,
    "家庭成员": Residency.Relation.FAMILY,
    "租户": Residency.Relation.TENANT,
}
KIND_BY_VALUE = {value: label for label, value in KIND_LABELS.items()}
OCCUPANCY_BY_VALUE = {value: label for label, value in OCCUPANCY_LABELS.items()}
RELATION_BY_VALUE = {value: label for label, value in RELATION_LABELS.items()}

MIN_FLOOR, MAX_FLOOR = -20, 200
NAME_MAX, NUMBER_MAX, PERSON_NAME_MAX = 50, 32, 50
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")
FIRST_DATE, LAST_DATE = datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)
SAMPLE_ROW = (
    "1栋",
    "1单元",
    "0302",
    3,
    89.5,
    72.3,
    "住宅",
    "自住",
    "张伟",
    "13800138000",
    "",
    "业主",
    datetime.date(2020, 5, 1),
)


class FileError(Exception):
    """The file as a whole cannot be read (not xlsx, no sheet, missing columns, too big)."""


@dataclasses.dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclasses.dataclass
class Row:
    """One checked data row; ``row`` is the spreadsheet row number (header is 1)."""

    row: int
    building: str
    unit: str  # "" when the house hangs directly under the building
    number: str
    floor: int
    built_area: Decimal
    indoor_area: Decimal | None
    kind: str
    occupancy: str
    name: str
    mobile: str
    id_number: str
    relation: str
    move_in: datetime.date | None

    @property
    def house_key(self) -> tuple[str, str, str]:
        return (self.building, self.unit, self.number)

    @property
    def house_values(self) -> tuple:
        return (self.floor, self.built_area, self.indoor_area, self.kind, self.occupancy)

    @property
    def has_person(self) -> bool:
        return bool(self.name)

    @property
    def person_key(self) -> str:
        """Who the row is about within its house: the mobile, else the name."""
        return self.mobile or f"name:{self.name}"


@dataclasses.dataclass
class Checked:
    rows: list[Row]
    errors: list[RowError]
    total_rows: int

    @property
    def ok(self) -> bool:
        return not self.errors


# --- reading ---------------------------------------------------------------------
def open_sheet(fileobj):
    """The "房屋" sheet of an xlsx file, read-only; FileError when it is not one."""
    from openpyxl import load_workbook

    try:
        fileobj.seek(0)
        if not zipfile.is_zipfile(fileobj):
            raise FileError(_("The file is not an Excel .xlsx workbook."))
        fileobj.seek(0)
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except FileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise FileError(_("The file is not an Excel .xlsx workbook.")) from exc
    if SHEET not in workbook.sheetnames:
        workbook.close()
        raise FileError(missing_sheet_message())
    return workbook, workbook[SHEET]


def sheet_names(fileobj) -> list[str]:
    """Sheet names from the workbook's index, without parsing any sheet or string table
    (cheap enough for the upload request); FileError when it is not an xlsx file."""
    try:
        fileobj.seek(0)
        with zipfile.ZipFile(fileobj) as archive:
            if archive.getinfo("xl/workbook.xml").file_size > 1024 * 1024:
                raise KeyError("xl/workbook.xml")  # an index that big is not a real workbook
            root = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as exc:
        raise FileError(_("The file is not an Excel .xlsx workbook.")) from exc
    finally:
        fileobj.seek(0)
    return [node.get("name", "") for node in root.iter() if node.tag.endswith("}sheet")]


def header_map(sheet) -> dict[str, int]:
    """Column index by header; FileError naming every missing required column."""
    first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
    columns: dict[str, int] = {}
    for index, value in enumerate(first):
        header = cell_text(value)
        if header in HEADERS and header not in columns:
            columns[header] = index
    missing = [h for h in REQUIRED_HEADERS if h not in columns]
    if missing:
        raise FileError(
            _("The sheet misses these columns: %(columns)s.") % {"columns": "、".join(missing)}
        )
    return columns


def declared_rows(sheet) -> int | None:
    """Data rows the file says it has (from its dimension record), if it says."""
    try:
        max_row = sheet.max_row
    except Exception:  # a missing or broken dimension record
        return None
    return None if max_row is None else max(max_row - 1, 0)


def missing_sheet_message() -> str:
    return _('The workbook has no sheet named "%(sheet)s".') % {"sheet": SHEET}


def too_many_rows_message() -> str:
    return _("The file has more than %(max)s data rows; split it into several files.") % {
        "max": f"{MAX_ROWS:,}"
    }


def iter_raw_rows(
    fileobj, *, on_declared: Callable[[int], None] | None = None
) -> Iterator[tuple[int, dict[str, object]]]:
    """(row number, {header: cell value}) for each non-empty data row.

    ``on_declared`` receives the row count the file declares, when it declares one,
    before the first row (progress pages use it as the expected total)."""
    workbook, sheet = open_sheet(fileobj)
    try:
        columns = header_map(sheet)
        declared = declared_rows(sheet)
        if declared and on_declared is not None:
            on_declared(declared)
        if declared is not None and declared > MAX_ROWS * 2:
            # Trailing empty rows are common; only refuse a clearly huge sheet here.
            raise FileError(too_many_rows_message())
        count = 0
        for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
            if not any(v not in (None, "") and str(v).strip() for v in values):
                continue
            count += 1
            if count > MAX_ROWS:
                raise FileError(too_many_rows_message())
            yield (
                number,
                {
                    header: values[index] if index < len(values) else None
                    for header, index in columns.items()
                },
            )
    finally:
        workbook.close()


# --- checking --------------------------------------------------------------------
def check_file(
    fileobj,
    *,
    progress: Callable[[int], None] | None = None,
    on_declared: Callable[[int], None] | None = None,
) -> Checked:
    """Read and check every row; raises FileError for whole-file problems."""
    rows: list[Row] = []
    errors: list[RowError] = []
    houses: dict[tuple, Row] = {}
    people_in_house: dict[tuple, int] = {}
    people: dict[str, Row] = {}
    total = 0
    for number, raw in iter_raw_rows(fileobj, on_declared=on_declared):
        total += 1
        row, row_errors = check_row(number, raw)
        if row is not None:
            row_errors += _cross_check(row, houses, people_in_house, people)
        if row_errors:
            errors.extend(row_errors)
        elif row is not None:
            rows.append(row)
        if progress is not None and total % 500 == 0:
            progress(total)
    if progress is not None:
        progress(total)
    if total == 0:
        raise FileError(_("The sheet has no data rows."))
    return Checked(rows=rows, errors=errors, total_rows=total)


def _cross_check(row: Row, houses, people_in_house, people) -> list[RowError]:
    """Checks against earlier rows of the same file: duplicates and contradictions."""
    errors = []
    first = houses.get(row.house_key)
    if first is None:
        houses[row.house_key] = row
    elif first.house_values != row.house_values:
        for column, mine, theirs in zip(
            (FLOOR, BUILT_AREA, INDOOR_AREA, KIND, OCCUPANCY),
            row.house_values,
            first.house_values,
            strict=True,
        ):
            if mine != theirs:
                errors.append(
                    RowError(
                        row.row,
                        column,
                        _("differs from row %(row)s for the same house") % {"row": first.row},
                    )
                )
    if row.has_person:
        key = (row.house_key, row.person_key)
        earlier = people_in_house.get(key)
        if earlier is not None:
            errors.append(
                RowError(
                    row.row,
                    NUMBER,
                    _("duplicates row %(row)s (same house and same person)") % {"row": earlier},
                )
            )
        else:
            people_in_house[key] = row.row
    elif first is not None and first is not row:
        errors.append(
            RowError(row.row, NUMBER, _("duplicates row %(row)s (same house)") % {"row": first.row})
        )
    if row.mobile:
        same = people.get(row.mobile)
        if same is None:
            people[row.mobile] = row
        else:
            if same.name != row.name:
                errors.append(
                    RowError(
                        row.row,
                        NAME,
                        _("row %(row)s gives another name for the same mobile") % {"row": same.row},
                    )
                )
            if same.id_number and row.id_number and same.id_number != row.id_number:
                errors.append(
                    RowError(
                        row.row,
                        ID_NUMBER,
                        _("row %(row)s gives another ID number for the same mobile")
                        % {"row": same.row},
                    )
                )
    return errors


def check_row(number: int, raw: dict[str, object]) -> tuple[Row | None, list[RowError]]:
    errors: list[RowError] = []

    def fail(column: str, message: str) -> None:
        errors.append(RowError(number, column, message))

    def required_text(column: str, max_length: int) -> str:
        value = cell_text(raw.get(column))
        if not value:
            fail(column, _("is required"))
        elif len(value) > max_length:
            fail(column, _("must be at most %(max)s characters") % {"max": max_length})
        return value

    building = required_text(BUILDING, NAME_MAX)
    unit = cell_text(raw.get(UNIT))
    if len(unit) > NAME_MAX:
        fail(UNIT, _("must be at most %(max)s characters") % {"max": NAME_MAX})
    house_number = required_text(NUMBER, NUMBER_MAX)

    floor = None
    value = raw.get(FLOOR)
    if is_blank(value):
        fail(FLOOR, _("is required"))
    else:
        floor = _integer(value)
        if floor is None or not MIN_FLOOR <= floor <= MAX_FLOOR:
            fail(
                FLOOR,
                _("must be a whole number between %(low)s and %(high)s")
                % {"low": MIN_FLOOR, "high": MAX_FLOOR},
            )
            floor = None

    built = _area(raw.get(BUILT_AREA), BUILT_AREA, fail, required=True)
    indoor = _area(raw.get(INDOOR_AREA), INDOOR_AREA, fail, required=False)
    if built is not None and indoor is not None and indoor > built:
        fail(INDOOR_AREA, _("must not be larger than the built-up area"))

    kind = _label(raw.get(KIND), KIND, KIND_LABELS, fail, required=True)
    occupancy = _label(raw.get(OCCUPANCY), OCCUPANCY, OCCUPANCY_LABELS, fail, required=True)

    name = cell_text(raw.get(NAME))
    mobile = _digits(raw.get(MOBILE))
    id_number = cell_text(raw.get(ID_NUMBER)).upper()
    relation_raw = raw.get(RELATION)
    move_in_raw = raw.get(MOVE_IN)
    relation = _label(relation_raw, RELATION, RELATION_LABELS, fail, required=False)
    move_in = None
    if not is_blank(move_in_raw):
        move_in = _date(move_in_raw)
        if move_in is None:
            fail(
                MOVE_IN,
                _("must be a date between %(first)s and %(last)s, e.g. 2021-03-15")
                % {"first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()},
            )
    if name:
        relation = relation or Residency.Relation.OWNER
        if len(name) > PERSON_NAME_MAX:
            fail(NAME, _("must be at most %(max)s characters") % {"max": PERSON_NAME_MAX})
        if mobile:
            if not _valid(mobile_validator, mobile):
                fail(MOBILE, _("must be an 11-digit mainland mobile number starting with 1"))
        elif relation != Residency.Relation.FAMILY:
            fail(MOBILE, _("is required for owners and tenants"))
        if id_number and not _valid(id_number_validator, id_number):
            fail(ID_NUMBER, _("must be an 18-character resident ID or a passport/permit number"))
    elif mobile or id_number or not is_blank(relation_raw) or not is_blank(move_in_raw):
        fail(NAME, _("is required when other person columns are filled"))

    if errors:
        return None, errors
    return (
        Row(
            row=number,
            building=building,
            unit=unit,
            number=house_number,
            floor=floor,
            built_area=built,
            indoor_area=indoor,
            kind=kind,
            occupancy=occupancy,
            name=name,
            mobile=mobile,
            id_number=id_number,
            relation=relation or "",
            move_in=move_in,
        ),
        errors,
    )


# --- cell helpers ----------------------------------------------------------------
def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value) -> str:
    """A cell as text; whole floats lose their ".0" (Excel stores 302 as 302.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    return str(value).strip()


def _digits(value) -> str:
    """A phone number as typed, without the spaces or dashes people put in it."""
    text = cell_text(value)
    cleaned = text.replace(" ", "").replace("-", "")
    return cleaned if cleaned.isdigit() else text


def _integer(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = cell_text(value)
    try:
        return int(text)
    except ValueError:
        return None


CENT = Decimal("0.01")


def _area(value, column: str, fail, *, required: bool) -> Decimal | None:
    if is_blank(value):
        if required:
            fail(column, _("is required"))
        return None
    amount = None
    if not isinstance(value, bool | datetime.date):
        try:
            amount = Decimal(str(value).strip() if isinstance(value, str) else repr(value))
        except (InvalidOperation, ValueError):
            amount = None
    if amount is not None and amount.is_finite() and abs(amount) <= MAX_AREA:
        # Floats from formulas carry noise such as 89.50000000000001; anything that
        # is not within a millionth of whole cents is a typing error.
        rounded = amount.quantize(CENT)
        amount = None if abs(rounded - amount) > Decimal("0.000001") else rounded
    if amount is None or not amount.is_finite() or not Decimal(0) <= amount <= MAX_AREA:
        fail(
            column,
            _("must be a number between 0 and %(max)s with at most 2 decimals")
            % {"max": f"{MAX_AREA:.0f}"},
        )
        return None
    return amount


def _label(value, column: str, labels: dict, fail, *, required: bool) -> str | None:
    text = cell_text(value)
    if not text:
        if required:
            fail(column, _("is required"))
        return None
    if text in labels:
        return labels[text]
    fail(column, _("must be one of: %(choices)s") % {"choices": "、".join(labels)})
    return None


def _date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    else:
        day = None
        text = cell_text(value)
        for fmt in DATE_FORMATS:
            try:
                day = datetime.datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
    if day is None or not FIRST_DATE <= day <= LAST_DATE:
        return None
    return day


def _valid(validator, value: str) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True
