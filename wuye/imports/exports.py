"""Workbooks we hand out: the empty template, registry exports and error reports.

Everything is written with openpyxl's write-only mode and rows come from the
database in chunks, so memory stays flat however large the community is. The
houses export uses the import format, so exporting and importing it back changes
nothing. Mobiles and ID numbers are masked unless the reader may see them.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from wuye.core.masking import mask_id_number, mask_mobile
from wuye.core.services import require
from wuye.core.xlsx import bold_row, date_cell, new_book, text_cell
from wuye.estates.models import House
from wuye.imports import workbook as fmt
from wuye.imports.models import ImportJob
from wuye.people.models import Residency, Resident

CHUNK = 2000
ERROR_COLUMN = "错误"


def write_template(out) -> None:
    """The empty workbook: headers, one sample row and a sheet of notes."""
    book, sheet = new_book(fmt.SHEET, fmt.HEADERS)
    sample = list(fmt.SAMPLE_ROW)
    sample[2] = text_cell(sheet, sample[2])
    sample[9] = text_cell(sheet, sample[9])
    sample[12] = date_cell(sheet, sample[12])
    sheet.append(sample)
    notes = book.create_sheet(fmt.NOTES_SHEET)
    notes.append(bold_row(notes, [_("Column"), _("Required"), _("What to enter")]))
    required = set(fmt.REQUIRED_HEADERS)
    explanations = {
        fmt.BUILDING: _("Building name, e.g. 1栋 or A座; created when new."),
        fmt.UNIT: _("Unit (entrance) name, e.g. 1单元; leave empty for houses without units."),
        fmt.NUMBER: _("House number, unique within the unit, e.g. 0302 (keep as text)."),
        fmt.FLOOR: _("Whole number from %(low)s to %(high)s; negative for basements.")
        % {"low": fmt.MIN_FLOOR, "high": fmt.MAX_FLOOR},
        fmt.BUILT_AREA: _("Built-up area in m², 0 to 100000, at most 2 decimals."),
        fmt.INDOOR_AREA: _("Indoor area in m², not larger than the built-up area."),
        fmt.KIND: "、".join(fmt.KIND_LABELS),
        fmt.OCCUPANCY: "、".join(fmt.OCCUPANCY_LABELS),
        fmt.NAME: _(
            "The person living in or owning the house; leave the person columns "
            "empty for a house without anybody."
        ),
        fmt.MOBILE: _(
            "11-digit mobile; required for owners and tenants. People are matched "
            "by mobile: a known mobile updates that person."
        ),
        fmt.ID_NUMBER: _("Resident ID or passport/permit number (optional)."),
        fmt.RELATION: "、".join(fmt.RELATION_LABELS) + " " + _("(default 业主)"),
        fmt.MOVE_IN: _("Date such as 2021-03-15 (optional; today when empty)."),
    }
    for header in fmt.HEADERS:
        notes.append([header, _("yes") if header in required else _("no"), explanations[header]])
    notes.append([])
    for line in (
        _(
            "One row per house and person: a house with an owner and a tenant takes two rows "
            "with the same house columns."
        ),
        _(
            "Houses are matched by building, unit and number: importing again updates them "
            "and never duplicates them. Empty optional cells keep the stored value."
        ),
        _(
            "Every row is checked first; if any row is wrong nothing is imported and you get "
            "the list of errors."
        ),
        _("At most %(rows)s rows per file.") % {"rows": f"{fmt.MAX_ROWS:,}"},
    ):
        notes.append([line])
    book.save(out)


def _check_export(actor) -> bool:
    """Export needs the registry and people views; returns whether to show full numbers."""
    require(actor, "estates.view")
    require(actor, "people.view")
    return actor.has_perm("people.view_sensitive")


def export_houses(*, actor, community, out) -> None:
    """Houses of a community with their current people, in the import format."""
    sensitive = _check_export(actor)
    book, sheet = new_book(fmt.SHEET, fmt.HEADERS)
    people = Prefetch(
        "residencies",
        queryset=Residency.objects.active().select_related("resident").order_by("relation", "id"),
        to_attr="current",
    )
    houses = (
        House.objects.visible_to(actor)
        .filter(community=community)
        .select_related("building", "unit")
        .order_by("building__sort_order", "building_id", "unit__sort_order", "unit_id", "number")
        .prefetch_related(people)
    )
    for house in houses.iterator(chunk_size=CHUNK):
        base = [
            house.building.name,
            house.unit.name if house.unit_id else None,
            text_cell(sheet, house.number),
            house.floor,
            house.built_area,
            house.indoor_area,
            fmt.KIND_BY_VALUE.get(house.kind, house.kind),
            fmt.OCCUPANCY_BY_VALUE.get(house.occupancy, house.occupancy),
        ]
        if not house.current:
            sheet.append(base)
            continue
        for tie in house.current:
            person = tie.resident
            mobile = person.mobile if sensitive else mask_mobile(person.mobile)
            id_number = person.id_number if sensitive else mask_id_number(person.id_number)
            sheet.append(
                [
                    *base,
                    person.name,
                    text_cell(sheet, mobile or None),
                    text_cell(sheet, id_number or None),
                    fmt.RELATION_BY_VALUE.get(tie.relation, tie.relation),
                    date_cell(sheet, tie.move_in),
                ]
            )
    book.save(out)


RESIDENT_HEADERS = ("姓名", "手机", "身份证号", "房屋")


def export_residents(*, actor, community, out) -> None:
    """One row per person currently tied to a house of the community, with those houses."""
    sensitive = _check_export(actor)
    book, sheet = new_book("住户", RESIDENT_HEADERS)
    ties = Prefetch(
        "residencies",
        queryset=Residency.objects.active()
        .filter(house__community=community)
        .select_related("house__building", "house__unit")
        .order_by("house_id"),
        to_attr="here",
    )
    here = Residency.objects.active().filter(house__community=community).values("resident_id")
    residents = (
        Resident.objects.visible_to(actor).filter(id__in=here).order_by("id").prefetch_related(ties)
    )
    for person in residents.iterator(chunk_size=CHUNK):
        mobile = person.mobile if sensitive else mask_mobile(person.mobile)
        id_number = person.id_number if sensitive else mask_id_number(person.id_number)
        houses = "；".join(
            " ".join(
                part
                for part in (
                    tie.house.building.name,
                    tie.house.unit.name if tie.house.unit_id else "",
                    tie.house.number,
                    f"（{fmt.RELATION_BY_VALUE.get(tie.relation, tie.relation)}）",
                )
                if part
            )
            for tie in person.here
        )
        sheet.append(
            [
                person.name,
                text_cell(sheet, mobile or None),
                text_cell(sheet, id_number or None),
                houses,
            ]
        )
    book.save(out)


def write_error_report(*, job: ImportJob, out) -> None:
    """The uploaded rows that have errors, as uploaded, with an error column.

    Re-checks the stored file so the report lists every error, not only the
    ones kept on the job. Fix the rows and upload this file again: the extra
    column is ignored.
    """
    book, sheet = new_book(fmt.SHEET, [*fmt.HEADERS, ERROR_COLUMN])
    try:
        with job.file.open("rb") as handle:
            checked = fmt.check_file(handle)
            by_row: dict[int, list[str]] = {}
            for error in checked.errors:
                by_row.setdefault(error.row, []).append(f"{error.column}：{error.message}")
            for number, raw in fmt.iter_raw_rows(handle):
                if number in by_row:
                    values = [raw.get(h) for h in fmt.HEADERS]
                    sheet.append([*values, "；".join(by_row[number])])
    except fmt.FileError as exc:
        sheet.append([*([None] * len(fmt.HEADERS)), str(exc)])
    book.save(out)
