"""The service record (服务记录) as an Excel workbook.

Written with openpyxl's write-only mode from a chunked query, so memory stays flat
however many orders match. Times are local wall-clock times of the project's time
zone (named in the header, Excel has no time zones); money is the Decimal stored on
the order, in yuan with two decimals. Mobiles are masked unless the reader may see
them (``people.view_sensitive``).
"""

from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _

from wuye.core.masking import mask_mobile
from wuye.core.services import require
from wuye.core.xlsx import MONEY_FORMAT, new_book, text_cell, time_cell, typed_cell
from wuye.workorders.models import Complaint, Feedback, Material

CHUNK = 2000


def headers() -> list[str]:
    zone = settings.TIME_ZONE
    return [
        _("Order number"),
        _("Request type"),
        _("Category"),
        _("Community"),
        _("Place"),
        _("Urgency"),
        _("Status"),
        _("Channel"),
        _("Contact name"),
        _("Contact mobile"),
        _("Assignee"),
        _("Submitted at (%(zone)s)") % {"zone": zone},
        _("Completed at (%(zone)s)") % {"zone": zone},
        _("Closed at (%(zone)s)") % {"zone": zone},
        _("Description"),
        _("Resolution"),
        _("Labour (¥)"),
        _("Materials (¥)"),
        _("Total (¥)"),
        _("Rating (1–5)"),
        _("Reopened"),
        _("Urged"),
        _("SLA state"),
        _("Closed by"),
        _("Complained about"),
        _("Demand"),
        _("Dispute"),
        _("Root cause"),
    ]


def export_orders(*, actor, orders, out) -> None:
    """Write ``orders`` (already filtered and scoped to the actor) to ``out``."""
    require(actor, "workorders.view")
    sensitive = actor.has_perm("people.view_sensitive")
    book, sheet = new_book(_("Service record"), headers())
    rows = (
        orders.select_related(
            "community",
            "category__parent",
            "house__community",
            "house__building",
            "house__unit",
            "common_area",
            "assignee",
            "feedback",
            "complaint__party_staff",
        )
        .prefetch_related(Prefetch("materials", queryset=Material.objects.order_by("id")))
        .order_by("id")
    )
    for order in rows.iterator(chunk_size=CHUNK):
        materials = sum((m.amount for m in order.materials.all()), Decimal("0.00"))
        mobile = order.contact_mobile if sensitive else mask_mobile(order.contact_mobile)
        sheet.append(
            [
                text_cell(sheet, order.number),
                order.get_request_type_display(),
                str(order.category),
                order.community.name,
                order.place,
                order.get_urgency_display(),
                order.get_status_display(),
                order.get_channel_display(),
                order.contact_name,
                text_cell(sheet, mobile or None),
                order.assignee.name if order.assignee_id else None,
                time_cell(sheet, order.submitted_at),
                time_cell(sheet, order.completed_at),
                time_cell(sheet, order.closed_at),
                order.description,
                order.resolution or None,
                typed_cell(sheet, order.labour_amount, MONEY_FORMAT),
                typed_cell(sheet, materials, MONEY_FORMAT),
                typed_cell(sheet, order.labour_amount + materials, MONEY_FORMAT),
                _rating(order),
                order.reopen_count,
                order.urge_count,
                order.get_sla_state_display(),
                order.get_close_reason_display() or None,
                *_complaint_columns(order),
            ]
        )
    book.save(out)


def _complaint_columns(order) -> list:
    try:
        details = order.complaint
    except Complaint.DoesNotExist:
        return [None, None, None, None]
    party = details.get_party_kind_display()
    if details.party:
        party = f"{party}: {details.party}"
    return [
        party,
        details.demand or None,
        _("Yes") if details.is_dispute else _("No"),
        details.get_root_cause_display() or None,
    ]


def _rating(order) -> int | None:
    try:
        return order.feedback.overall
    except Feedback.DoesNotExist:
        return None
