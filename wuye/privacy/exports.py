"""Workbooks of the privacy app: the audit log, and a resident's copy of their own
personal data (个人信息副本, PIPL art. 45), built with the streaming helpers of
``wuye.core.xlsx``."""

from django.db.models import Q
from django.http import FileResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.xlsx import (
    MONEY_FORMAT,
    XLSX_TYPE,
    bold_row,
    date_cell,
    new_book,
    spooled_file,
    text_cell,
    time_cell,
    typed_cell,
)

EXPORT_LIMIT = 50_000
ADDRESS = ("house__community", "house__building", "house__unit")


def _response(book, filename, rows, *, logged=False):
    out = spooled_file()
    book.save(out)
    out.seek(0)
    response = FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
    response.wuye_row_count = rows
    response.wuye_logged = logged
    return response


def _who(user) -> str:
    if user is None:
        return ""
    staff = getattr(user, "staff_profile", None)
    return staff.name if staff else user.display_name


def access_log_response(rows):
    headers = [_("Id"), _("When"), _("Who"), _("Action"), _("What"), _("Rows"), _("IP address")]
    book, sheet = new_book(_("Audit log"), headers)
    count = 0
    for row in rows.order_by("-id")[:EXPORT_LIMIT].iterator(chunk_size=2000):
        count += 1
        sheet.append(
            [
                row.pk,
                time_cell(sheet, row.at),
                _who(row.actor),
                row.get_action_display(),
                row.what,
                row.row_count,
                row.ip or "",
            ]
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _response(book, f"wuye-audit-log-{stamp}.xlsx", count)


# --- a resident's own data ------------------------------------------------------------------
def _sheet(book, title, headers):
    sheet = book.create_sheet(title)
    sheet.append(bold_row(sheet, headers))
    return sheet


def resident_workbook(user):
    """Every sheet of the user's own data; returns (workbook, row count)."""
    from wuye.activities.models import Signup
    from wuye.billing.models import Bill, Payment
    from wuye.notifications.models import Notification
    from wuye.people.models import Residency, Resident
    from wuye.surveys.models import Answer
    from wuye.workorders.models import Feedback, WorkOrder, WorkOrderEvent

    count = 0
    profiles = list(Resident.objects.filter(user_id=user.pk).select_related("company"))
    book, sheet = new_book(
        _("Profile"),
        [_("Company"), _("Name"), _("Mobile"), _("ID number"), _("Email"), _("Registered at")],
    )
    for resident in profiles:
        count += 1
        sheet.append(
            [
                resident.company.name,
                resident.name,
                text_cell(sheet, resident.mobile),
                text_cell(sheet, resident.id_number),
                user.email,
                time_cell(sheet, resident.created_at),
            ]
        )

    ties = Residency.objects.filter(resident__in=profiles).select_related(*ADDRESS)
    sheet = _sheet(book, _("Houses"), [_("House"), _("Relation"), _("Move-in"), _("Move-out")])
    house_ids = set()
    for tie in ties.order_by("id"):
        count += 1
        house_ids.add(tie.house_id)
        sheet.append(
            [
                tie.house.address,
                tie.get_relation_display(),
                date_cell(sheet, tie.move_in),
                date_cell(sheet, tie.move_out),
            ]
        )

    mobiles = sorted({m for m in [user.mobile, *(r.mobile for r in profiles)] if m})
    mine = Q(reporter_id=user.pk) | Q(contact_mobile__in=mobiles)
    companies = sorted({r.company_id for r in profiles})
    orders = list(
        WorkOrder.objects.filter(mine, company_id__in=companies)
        .select_related("category")
        .order_by("id")[:EXPORT_LIMIT]
    )
    sheet = _sheet(
        book,
        _("Service requests"),
        [
            _("Order number"),
            _("Category"),
            _("Status"),
            _("Description"),
            _("Contact name"),
            _("Contact mobile"),
            _("Submitted at"),
        ],
    )
    for order in orders:
        count += 1
        sheet.append(
            [
                order.number,
                order.category.name,
                order.get_status_display(),
                order.description,
                order.contact_name,
                text_cell(sheet, order.contact_mobile),
                time_cell(sheet, order.submitted_at),
            ]
        )
    order_ids = [o.pk for o in orders]
    numbers = {o.pk: o.number for o in orders}
    sheet = _sheet(
        book, _("Request timeline"), [_("Order number"), _("Time"), _("Event"), _("Note")]
    )
    events = WorkOrderEvent.objects.filter(order_id__in=order_ids, is_public=True)
    for event in events.order_by("order_id", "id").iterator(chunk_size=2000):
        count += 1
        sheet.append(
            [
                numbers[event.order_id],
                time_cell(sheet, event.created_at),
                event.get_type_display(),
                event.note,
            ]
        )
    sheet = _sheet(
        book, _("Ratings"), [_("Order number"), _("Overall"), _("Comment"), _("Rated at")]
    )
    for rating in Feedback.objects.filter(order_id__in=order_ids).order_by("id"):
        count += 1
        sheet.append(
            [
                numbers[rating.order_id],
                rating.overall,
                rating.comment,
                time_cell(sheet, rating.created_at),
            ]
        )

    sheet = _sheet(
        book,
        _("Bills"),
        [
            _("House"),
            _("Fee item"),
            _("Period start"),
            _("Period end"),
            _("Amount"),
            _("Paid"),
            _("Status"),
        ],
    )
    bills = Bill.objects.filter(house_id__in=sorted(house_ids)).select_related(*ADDRESS, "fee_item")
    for bill in bills.order_by("id")[:EXPORT_LIMIT].iterator(chunk_size=2000):
        count += 1
        sheet.append(
            [
                bill.house.address,
                bill.fee_item.name,
                date_cell(sheet, bill.period_start),
                date_cell(sheet, bill.period_end),
                typed_cell(sheet, bill.amount, MONEY_FORMAT),
                typed_cell(sheet, bill.paid_amount, MONEY_FORMAT),
                bill.get_status_display(),
            ]
        )
    sheet = _sheet(
        book,
        _("Payments"),
        [_("House"), _("Payer"), _("Method"), _("Amount"), _("Received at")],
    )
    payments = Payment.objects.filter(house_id__in=sorted(house_ids)).select_related(*ADDRESS)
    for payment in payments.order_by("id")[:EXPORT_LIMIT].iterator(chunk_size=2000):
        count += 1
        sheet.append(
            [
                payment.house.address,
                payment.payer,
                payment.get_method_display(),
                typed_cell(sheet, payment.amount, MONEY_FORMAT),
                time_cell(sheet, payment.received_at),
            ]
        )

    sheet = _sheet(
        book,
        _("Activity sign-ups"),
        [_("Activity"), _("Starts at"), _("Contact"), _("Mobile"), _("People"), _("Status")],
    )
    signups = Signup.objects.filter(user_id=user.pk).select_related("activity").order_by("id")
    for signup in signups:
        count += 1
        sheet.append(
            [
                signup.activity.title,
                time_cell(sheet, signup.activity.starts_at),
                signup.contact_name,
                text_cell(sheet, signup.contact_mobile),
                signup.party_size,
                signup.get_status_display(),
            ]
        )

    sheet = _sheet(
        book,
        _("Survey answers"),
        [_("Survey"), _("Question"), _("Choices"), _("Score"), _("Text"), _("Submitted at")],
    )
    answers = Answer.objects.filter(response__user_id=user.pk).select_related(
        "response__survey", "question"
    )
    for answer in answers.order_by("response_id", "id"):
        count += 1
        sheet.append(
            [
                answer.response.survey.title,
                answer.question.text,
                ", ".join(str(c) for c in answer.choices or []),
                answer.score,
                answer.text,
                time_cell(sheet, answer.response.submitted_at),
            ]
        )

    sheet = _sheet(book, _("Notifications"), [_("Time"), _("Title"), _("Message"), _("Read at")])
    notes = Notification.objects.filter(recipient_id=user.pk).order_by("-id")[:EXPORT_LIMIT]
    for note in notes.iterator(chunk_size=2000):
        count += 1
        sheet.append(
            [
                time_cell(sheet, note.created_at),
                note.title,
                note.body,
                time_cell(sheet, note.read_at),
            ]
        )
    return book, count


def resident_data_response(*, actor, request):
    """The signed-in resident's own data as a workbook, logged as a data copy."""
    from wuye.privacy.models import Action
    from wuye.privacy.services import log_access

    book, count = resident_workbook(actor.user)
    log_access(
        actor=actor,
        action=Action.DATA_EXPORT,
        what=_("Personal data copy of user #%(id)s") % {"id": actor.user.pk},
        row_count=count,
        request=request,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return _response(book, f"wuye-my-data-{stamp}.xlsx", count, logged=True)
