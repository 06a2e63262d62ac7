"""Excel workbook of the dunning (催缴) list: every house matching the filters, one row
each, in the list's order; houses come from the database in chunks (flat memory)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from wuye.billing import dunning
from wuye.core.services import require
from wuye.core.xlsx import MONEY_FORMAT, bold_row, date_cell, text_cell, typed_cell

CHUNK = 1000


def headers() -> list[str]:
    return [
        _("Community"),
        _("Building"),
        _("Unit"),
        _("House"),
        _("Residents"),
        _("Owed (¥)"),
        _("Overdue bills"),
        _("Oldest due date"),
        _("Days overdue"),
        _("Overdue for"),
        _("Last reminder"),
        _("Reminded by"),
        _("Reminders"),
    ]


def export_dunning(*, actor, rows, as_of, out) -> None:
    """Write the dunning ``rows`` (``dunning.dunning_houses``, scoped to the actor)."""
    require(actor, "billing.view")
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Dunning"))
    sheet.append([_("Overdue as of"), as_of.isoformat()])
    sheet.append(bold_row(sheet, headers()))
    chunk = []
    for row in rows.iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            _write(sheet, actor, chunk, as_of)
            chunk = []
    if chunk:
        _write(sheet, actor, chunk, as_of)
    book.save(out)


def _write(sheet, actor, chunk, as_of) -> None:
    for row in dunning.describe(actor, chunk, as_of):
        house, last = row["house"], row["last"]
        sheet.append(
            [
                house.community.name,
                house.building.name,
                house.unit.name if house.unit_id else None,
                text_cell(sheet, house.number),
                "、".join(row["residents"]),
                typed_cell(sheet, row["owed"], MONEY_FORMAT),
                row["bills"],
                date_cell(sheet, row["oldest"]),
                row["days"],
                str(row["bucket_label"]),
                date_cell(sheet, timezone.localdate(last.sent_at) if last else None),
                last.get_channel_display() if last else None,
                row["reminders"],
            ]
        )
