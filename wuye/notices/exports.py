"""Excel export of a notice's read receipts: one row per household reached."""

from django.utils.translation import gettext as _

from wuye.core.services import require
from wuye.core.xlsx import new_book, text_cell, time_cell

CHUNK = 2000


def export_receipts(*, actor, notice, receipts, out) -> None:
    """Write ``receipts`` (already scoped to a notice the actor sees) to ``out``,
    streamed in chunks so memory stays flat on a 100,000-household notice."""
    require(actor, "engagement.view")
    book, sheet = new_book(
        _("Read receipts"),
        [
            _("Community"),
            _("Building"),
            _("Unit"),
            _("House number"),
            _("Read"),
            _("Read at (Beijing time)"),
            _("Read by"),
        ],
    )
    yes, no = _("Yes"), _("No")
    for receipt in receipts.order_by("id").iterator(chunk_size=CHUNK):
        house = receipt.house
        sheet.append(
            [
                house.community.name,
                house.building.name,
                house.unit.name if house.unit_id else None,
                text_cell(sheet, house.number),
                yes if receipt.read_at else no,
                time_cell(sheet, receipt.read_at),
                receipt.read_by.display_name if receipt.read_by_id else None,
            ]
        )
    book.save(out)
