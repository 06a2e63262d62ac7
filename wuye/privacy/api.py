"""``/api/v1/privacy/…`` — the audit log (privacy.view_audit, the actor's company),
a resident's copy of their own data (Excel), and deletion requests: a resident asks,
staff with privacy.erasure approve (erasing at once) or reject, with a reason."""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    InputSchema,
    actor,
    choices_literal,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.core.xlsx import XLSX_TYPE
from wuye.people.models import Resident
from wuye.privacy import exports, selectors, services
from wuye.privacy.models import Action, DeletionRequest, DeletionSource, DeletionState

router = Router(tags=["privacy"])

ActionValue = choices_literal(Action)
StateValue = choices_literal(DeletionState)
SourceValue = choices_literal(DeletionSource)


class AccessLogOut(Schema):
    id: int
    at: datetime.datetime
    actor_id: int | None
    actor_name: str
    action: ActionValue
    what: str = Field(description="The object, or the export's file name, path and filters.")
    row_count: int | None
    ip: str | None

    @staticmethod
    def resolve_actor_name(obj) -> str:
        return exports._who(obj.actor)


class AccessLogFilters(Schema):
    action: ActionValue | None = None
    who: str = Field("", max_length=150, description="Exact username, mobile or name.")
    date_from: datetime.date | None = Field(None, description="On or after (local).")
    date_to: datetime.date | None = Field(None, description="On or before (local).")


class DeletionOut(Schema):
    id: int
    resident_id: int
    resident_name: str
    community_id: int | None
    source: SourceValue
    state: StateValue
    reason: str
    created_at: datetime.datetime
    decided_at: datetime.datetime | None
    decision_note: str
    done_at: datetime.datetime | None

    @staticmethod
    def resolve_resident_name(obj) -> str:
        return obj.resident.name


class DeletionIn(InputSchema):
    reason: str = Field("", max_length=500)


class DecisionIn(InputSchema):
    note: str = Field(..., min_length=1, max_length=500, description="The reason, required.")


@router.get(
    "/privacy/access-logs",
    response={200: list[AccessLogOut], **LIST_ERRORS, 400: ErrorOut},
    summary="Audit log",
    description="Exports, looks at full mobiles/ID numbers, data copies and erasures in "
    "the caller's company, newest first; privacy.view_audit (others get an empty list).",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_access_logs(request, filters: Query[AccessLogFilters]):
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationError({"date_to": _("The end date is before the start date.")})
    return selectors.access_log(
        actor(request),
        action=filters.action or "",
        who=filters.who,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )


@router.get(
    "/privacy/my-data",
    response={401: READ_ERRORS[401], 403: ErrorOut},
    summary="A copy of my personal data",
    description="The signed-in resident's profile, houses, service requests with timeline "
    "and ratings, bills, payments, activity sign-ups, survey answers and notifications "
    "as an Excel workbook (logged in the audit log). Residents only.",
    openapi_extra={
        "responses": {
            200: {
                "description": "The workbook.",
                "content": {XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def my_data(request):
    who = actor(request)
    if not Resident.objects.filter(user_id=who.user.pk).exists():
        return Status(403, {"detail": _("Only residents have personal data to download here.")})
    return exports.resident_data_response(actor=who, request=request)


@router.get(
    "/privacy/deletion-requests",
    response={200: list[DeletionOut], **LIST_ERRORS},
    summary="Deletion requests",
    description="Staff with privacy.erasure: those of their communities; a resident: their own.",
)
@paginate(IdCursorPagination, ordering=("-id",))
def list_deletion_requests(request, state: StateValue | None = None):
    return selectors.deletion_requests(actor(request), state=state or "")


@router.post(
    "/privacy/deletion-requests",
    response={201: list[DeletionOut], **WRITE_ERRORS},
    summary="Ask to delete my account",
    description="The signed-in resident (one request per company; a waiting one is a 400). "
    "Idempotency-Key accepted.",
)
@idempotent
def create_deletion_request(request, payload: DeletionIn):
    made = services.request_deletion(actor=actor(request), reason=payload.reason)
    return Status(201, made)


def _found(request, request_id):
    return get_visible_or_404(
        DeletionRequest.objects.select_related("resident"), actor(request), pk=request_id
    )


@router.post(
    "/privacy/deletion-requests/{request_id}/approve",
    response={200: DeletionOut, **WRITE_ERRORS},
    summary="Approve a deletion request and erase the resident",
    description="privacy.erasure; only a waiting request. Anonymises at once (state done).",
)
@idempotent
def approve_deletion_request(request, request_id: Id, payload: DecisionIn):
    who = actor(request)
    services.require(who, services.ERASE)
    return services.approve_deletion(
        actor=who, found=_found(request, request_id), note=payload.note, request=request
    )


@router.post(
    "/privacy/deletion-requests/{request_id}/reject",
    response={200: DeletionOut, **WRITE_ERRORS},
    summary="Reject a deletion request",
    description="privacy.erasure; only a waiting request; the reason is shown to the resident.",
)
@idempotent
def reject_deletion_request(request, request_id: Id, payload: DecisionIn):
    who = actor(request)
    services.require(who, services.ERASE)
    return services.reject_deletion(actor=who, found=_found(request, request_id), note=payload.note)
