"""抄表 meter readings imported from Excel, and the workbook handed out to fill in.

The workbook: the sheet "抄表" (else the first sheet), headers in row 1, one row per
house × metered fee item × reading. Headers are the file format and stay Chinese:

- 楼栋 + 单元 + 房号 (单元 empty for houses without units), or 房屋编号 (the house id);
- 收费项目: the metered fee item's code, or its name when no other item has that name;
- 抄表日期: the day read (a date cell, or text such as 2026-03-25);
- 本次读数: the meter's reading, at least 0, at most two decimals;
- 换表 (optional): 是 when the meter was replaced; then 新表起数, the new meter's
  reading when it was fitted, is where usage counts from.

A row with nothing in these reading columns is a house not read yet and is skipped (the
template lists every metered house with its last reading, so readers fill in what they
read). Each row goes through ``meters.record_reading``, in date order so several months
of one meter chain up; every error names its row and column, and one error writes
nothing. A usage far above the house's usual one is not an error: it is saved and held
for review. A row whose reading is already there (the same file imported again) is
counted, not written twice.
"""

import dataclasses
import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.billing import meters, sheets
from wuye.billing.models import Charging, FeeItem, MeterReading
from wuye.billing.sheets import BUILDING, FEE_ITEM, HOUSE_ID, NUMBER, UNIT, RowError, cell_text
from wuye.core.services import require
from wuye.core.xlsx import MONEY_FORMAT
from wuye.estates.models import Community, House

SHEET = "抄表"
READ_ON = "抄表日期"
VALUE = "本次读数"
REPLACED = "换表"
START = "新表起数"
LAST_DATE = "上次抄表日期"  # for the reader only; ignored on import
LAST_VALUE = "上次读数"
HEADERS = (HOUSE_ID, BUILDING, UNIT, NUMBER, FEE_ITEM, READ_ON, VALUE, REPLACED, START)
TEMPLATE_HEADERS = (BUILDING, UNIT, NUMBER, FEE_ITEM, READ_ON, VALUE, REPLACED, START)
READING_COLUMNS = (READ_ON, VALUE, REPLACED, START)
YES = {"是", "y", "yes", "1", "true", "√", "✓", "换", "换表"}
NO = {"否", "n", "no", "0", "false"}
FIRST_DATE = datetime.date(2000, 1, 1)
# Each row is a record_reading call (a handful of queries): a file is one request.
MAX_ROWS = 20_000
SERVICE_COLUMNS = {
    "house": NUMBER,
    "fee_item": FEE_ITEM,
    "reading_date": READ_ON,
    "value": VALUE,
    "start_value": START,
}
CHUNK = 2000
READING = MeterReading._meta.get_field("value")


class ReadingImportInvalid(sheets.ImportInvalid):
    """Bad rows of a meter-reading file; nothing was written."""


@dataclasses.dataclass(frozen=True)
class HeldRow:
    row: int
    house: str
    fee_item: str
    usage: Decimal
    note: str


@dataclasses.dataclass(frozen=True)
class ReadingImport:
    rows: int  # data rows in the file
    created: int
    held: list[HeldRow]  # saved, but waiting for someone to confirm them
    already_there: int
    not_read: int  # rows left without a reading (skipped)

    @property
    def message(self) -> str:
        return _(
            "%(created)s readings imported, %(held)s of them held for review; "
            "%(already)s were already there, %(skipped)s rows had no reading."
        ) % {
            "created": self.created,
            "held": len(self.held),
            "already": self.already_there,
            "skipped": self.not_read,
        }


@dataclasses.dataclass
class _Line:
    row: int
    house_id: int
    fee_item: FeeItem
    reading_date: datetime.date
    value: Decimal
    replaced: bool
    start_value: Decimal | None


@transaction.atomic
def import_readings(*, actor, community: Community, file) -> ReadingImport:
    """Check and record every reading of ``file`` (an .xlsx file object) for houses of
    ``community``, all or nothing."""
    require(actor, meters.METERS)
    if community.id not in actor.community_ids:
        raise ValidationError({"community": _("Choose one of your communities.")})
    # One import per community at a time: "already there" must hold until written.
    Community.objects.select_for_update().filter(pk=community.pk).first()
    raw_rows = sheets.read_rows(
        file, sheet=SHEET, headers=HEADERS, required=(FEE_ITEM, VALUE), max_rows=MAX_ROWS
    )
    houses = sheets.Houses(community)
    items = sheets.FeeItems(community)
    lines, errors, seen, not_read = [], [], {}, 0
    for number, raw in raw_rows:
        if all(sheets.is_blank(raw.get(column)) for column in READING_COLUMNS):
            not_read += 1
            continue
        line, row_errors = _check_row(number, raw, houses, items)
        if line is not None:
            key = (line.house_id, line.fee_item.id, line.reading_date)
            if key in seen:
                row_errors.append(
                    RowError(
                        number,
                        READ_ON,
                        _("repeats row %(row)s (same house, fee item and day)")
                        % {"row": seen[key]},
                    )
                )
            else:
                seen[key] = number
        errors += row_errors
        if line is not None and not row_errors:
            lines.append(line)
    if not raw_rows or (not lines and not errors):
        raise ValidationError({"file": _("No row has a reading to import.")})
    new, already_there, clash_errors = _against_existing(lines)
    errors += clash_errors
    created, held, record_errors = _record(actor, new)
    errors += record_errors
    if errors:
        raise ReadingImportInvalid(errors)  # the transaction drops what was recorded
    return ReadingImport(
        rows=len(raw_rows),
        created=created,
        held=held,
        already_there=already_there,
        not_read=not_read,
    )


def _check_row(number: int, raw: dict, houses: sheets.Houses, items: sheets.FeeItems):
    errors: list[RowError] = []

    def fail(column, message):
        errors.append(RowError(number, column, message))

    house_id = sheets.house_of(raw, houses, fail)
    fee_item = sheets.fee_item_of(raw, items, fail)
    if fee_item is not None and fee_item.kind != FeeItem.Kind.METERED:
        fail(FEE_ITEM, _("is not a metered fee item"))
    reading_date = _date(raw.get(READ_ON), fail)
    value = _reading(raw.get(VALUE), VALUE, fail, required=True)
    replaced = _yes_no(raw.get(REPLACED), fail)
    start = _reading(raw.get(START), START, fail, required=False)
    if replaced and start is None and sheets.is_blank(raw.get(START)):
        fail(START, _("give the new meter's reading when it was fitted"))
    elif not replaced and not sheets.is_blank(raw.get(START)):
        fail(REPLACED, _("write 是 when the meter was replaced (新表起数 is given)"))
    if errors:
        return None, errors
    line = _Line(number, house_id, fee_item, reading_date, value, replaced, start)
    return line, errors


def _date(value, fail) -> datetime.date | None:
    if sheets.is_blank(value):
        fail(READ_ON, _("is required"))
        return None
    day = sheets.date_of(value)
    if day is None:
        fail(READ_ON, _("must be a date such as 2026-03-25"))
        return None
    if not FIRST_DATE <= day <= timezone.localdate():
        fail(READ_ON, _("must be a day from 2000-01-01 to today"))
        return None
    return day


def _reading(value, column: str, fail, *, required: bool) -> Decimal | None:
    if sheets.is_blank(value):
        if required:
            fail(column, _("is required"))
        return None
    reading = sheets.decimal_cell(value)
    if reading is None:
        fail(column, _("must be a number with at most 2 decimals, e.g. 1234.5"))
        return None
    if reading < 0:
        fail(column, _("cannot be negative"))
        return None
    if reading > meters.MAX_READING:
        fail(column, _("is too large"))
        return None
    return reading


def _yes_no(value, fail) -> bool:
    text = cell_text(value).lower()
    if text in YES:
        return True
    if not text or text in NO:
        return False
    fail(REPLACED, _("write 是 when the meter was replaced, else leave it empty"))
    return False


def _against_existing(lines: list[_Line]):
    """(lines to record, how many are already there, errors): a reading of the same
    meter and day with the same value is already there; another value is an error."""
    found = {}
    house_ids = sorted({line.house_id for line in lines})
    item_ids = {line.fee_item.id for line in lines}
    days = {line.reading_date for line in lines}
    for start in range(0, len(house_ids), CHUNK):
        for house_id, item_id, day, value in MeterReading.objects.filter(
            house_id__in=house_ids[start : start + CHUNK],
            fee_item_id__in=item_ids,
            reading_date__in=days,
        ).values_list("house_id", "fee_item_id", "reading_date", "value"):
            found[(house_id, item_id, day)] = value
    new, errors, already = [], [], 0
    for line in lines:
        before = found.get((line.house_id, line.fee_item.id, line.reading_date))
        if before is None:
            new.append(line)
        elif before == line.value:
            already += 1
        else:
            errors.append(
                RowError(
                    line.row,
                    VALUE,
                    _(
                        "this meter already has the reading %(value)s that day; correct it "
                        "in the console"
                    )
                    % {"value": before},
                )
            )
    return new, already, errors


def _record(actor, lines: list[_Line]):
    """Record the lines in date order (a meter's months chain up); (created, held rows,
    errors). Each call is its own savepoint: a refused row leaves the others."""
    houses = {}
    ids = sorted({line.house_id for line in lines})
    for start in range(0, len(ids), CHUNK):
        houses |= House.objects.select_related("building", "unit").in_bulk(
            ids[start : start + CHUNK]
        )
    created, held, errors = 0, [], []
    for line in sorted(lines, key=lambda x: (x.reading_date, x.row)):
        house = houses[line.house_id]
        try:
            reading = meters.record_reading(
                actor=actor,
                house=house,
                fee_item=line.fee_item,
                reading_date=line.reading_date,
                value=line.value,
                replaced=line.replaced,
                start_value=line.start_value,
            )
        except ValidationError as exc:
            errors += _row_errors(line.row, exc)
            continue
        created += 1
        if reading.needs_review:
            held.append(
                HeldRow(
                    line.row,
                    house_label(house),
                    line.fee_item.name,
                    reading.usage,
                    reading.review_note,
                )
            )
    held.sort(key=lambda h: h.row)
    return created, held, errors


def _row_errors(row: int, exc: ValidationError) -> list[RowError]:
    if not hasattr(exc, "error_dict"):
        return [RowError(row, VALUE, message) for message in exc.messages]
    return [
        RowError(row, SERVICE_COLUMNS.get(field, VALUE), message)
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


def house_label(house) -> str:
    unit = f" {house.unit.name}" if house.unit_id else ""
    return f"{house.building.name}{unit} {house.number}"


# --- the template -------------------------------------------------------------------


def write_template(out, *, community: Community | None = None, on=None) -> None:
    """The workbook to fill in. For a community: one row per house charged a metered
    fee item ``on`` that day, with its last reading and day to read against."""
    book = sheets.write_only_book()
    headers = TEMPLATE_HEADERS + ((LAST_DATE, LAST_VALUE) if community else ())
    sheet = sheets.data_sheet(
        book,
        title=SHEET,
        headers=headers,
        text_columns=(BUILDING, UNIT, NUMBER),
        widths={FEE_ITEM: 14, READ_ON: 14, VALUE: 14, LAST_DATE: 16, LAST_VALUE: 14},
    )
    if community is not None:
        items = sheets.FeeItems(community)
        for charging in metered_chargings(community, on=on or timezone.localdate()).iterator(
            chunk_size=CHUNK
        ):
            sheet.append(
                [
                    sheets.text_cell(sheet, charging.house.building.name),
                    sheets.text_cell(
                        sheet, charging.house.unit.name if charging.house.unit_id else ""
                    ),
                    sheets.text_cell(sheet, charging.house.number),
                    items.label(charging.fee_item),
                    None,
                    None,
                    None,
                    None,
                    sheets.date_cell(sheet, charging.last_date),
                    sheets.typed_cell(sheet, cents(charging.last_value), MONEY_FORMAT),
                ]
            )
    yes = _("yes")
    sheets.notes_sheet(
        book,
        [
            (_("Column"), _("Required"), _("What to enter")),
            (BUILDING, yes, _("Building name as in the console, e.g. 1栋.")),
            (UNIT, _("no"), _("Unit name, e.g. 1单元; empty for houses without units.")),
            (NUMBER, yes, _("House number as in the console, e.g. 0101 (keep as text).")),
            (FEE_ITEM, yes, _("The metered fee item's code, or its name, e.g. 水费.")),
            (READ_ON, yes, _("The day the meter was read, e.g. 2026-03-25.")),
            (VALUE, yes, _("The meter's reading, at most 2 decimals, e.g. 1234.5.")),
            (REPLACED, _("no"), _("是 when the meter was replaced since the last reading.")),
            (START, _("when replaced"), _("The new meter's reading when it was fitted.")),
            (LAST_DATE, _("no"), _("For the reader only; not imported.")),
            (LAST_VALUE, _("no"), _("For the reader only; not imported.")),
            (),
            (
                _(
                    "Rows left without a reading are skipped. Every other row is checked "
                    "first; if any row is wrong nothing is imported and you get the list "
                    "of errors."
                ),
            ),
            (
                _(
                    "A reading lower than the last one is an error unless the meter was "
                    "replaced. A usage over %(factor)s× the house's usual one is saved but "
                    "held for review: bill runs skip it until someone confirms it."
                )
                % {"factor": meters.SPIKE_FACTOR},
            ),
            (_("Importing the same file again writes nothing twice."),),
            (_("At most %(rows)s rows per file.") % {"rows": f"{MAX_ROWS:,}"},),
        ],
    )
    book.save(out)


def cents(value) -> Decimal | None:
    """A subquery's reading with its two decimals (SQLite hands back 120.5)."""
    return None if value is None else Decimal(value).quantize(sheets.CENT)


def running_chargings(community, *, on: datetime.date, houses=None):
    """Chargings of metered fee items running ``on`` that day (of ``houses`` if given)."""
    chargings = Charging.objects.filter(
        community=community,
        fee_item__kind=FeeItem.Kind.METERED,
        fee_item__is_active=True,
        start__lte=on,
    ).filter(Q(end__isnull=True) | Q(end__gte=on))
    if houses is not None:
        chargings = chargings.filter(house__in=houses)
    return chargings


def metered_chargings(community, *, on: datetime.date, houses=None):
    """``running_chargings``, each with its meter's last reading (``last_value``,
    ``last_previous``, ``last_date``, ``last_held``, ``last_note``), in address order."""
    last = MeterReading.objects.filter(
        house_id=OuterRef("house_id"), fee_item_id=OuterRef("fee_item_id")
    ).order_by("-reading_date", "-id")
    return (
        running_chargings(community, on=on, houses=houses)
        .select_related("house__building", "house__unit", "fee_item")
        .annotate(
            last_value=Subquery(last.values("value")[:1], output_field=READING),
            last_previous=Subquery(last.values("previous")[:1], output_field=READING),
            last_date=Subquery(last.values("reading_date")[:1]),
            last_held=Subquery(last.values("needs_review")[:1]),
            last_note=Subquery(last.values("review_note")[:1]),
        )
        .order_by(
            "house__building__sort_order",
            "house__building__name",
            "house__unit__sort_order",
            "house__unit__name",
            "house__floor",
            "house__number",
            "house_id",
            "fee_item_id",
        )
    )
