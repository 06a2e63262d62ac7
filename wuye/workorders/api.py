"""``/api/v1`` — service requests (work orders): intake, the list, the order with the
actions the caller may take, its timeline, and one operation per transition.

Reads are scoped with ``WorkOrder.objects.visible_to``; every action calls its named
function in ``wuye.workorders.services``. A move the order's status does not allow is
a 409 and changes nothing.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Query, Router, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    Id,
    IdCursorPagination,
    actor,
    visible_ref,
    visible_refs,
)
from wuye.core.idempotency import idempotent
from wuye.core.models import Photo
from wuye.core.scoping import get_visible_or_404
from wuye.estates.models import CommonArea, House
from wuye.workorders import selectors, services
from wuye.workorders.models import Feedback, WorkOrder
from wuye.workorders.schemas import (
    CancelIn,
    CategoryOut,
    CompleteIn,
    DispatchIn,
    EventOut,
    RateIn,
    ReasonIn,
    RejectIn,
    ReplyIn,
    ResolveIn,
    ReturnVisitIn,
    RootCauseIn,
    TransferIn,
    UrgeIn,
    WorkOrderFilters,
    WorkOrderIn,
    WorkOrderListOut,
    WorkOrderOut,
    list_row,
)

router = Router(tags=["workorders"])

# Actions also answer 409 when the order's status does not allow them.
ACTION_ERRORS = {**WRITE_ERRORS, 409: ErrorOut}


def _no_such(field: str) -> ValidationError:
    return ValidationError({field: _("No such item, or it is outside your scope.")})


def _photos(who, ids) -> list[Photo]:
    """The caller's own uploads named in ``photo_ids``, in the order given; an unknown
    id or someone else's photo is a 400 on ``photo_ids``."""
    found = {photo.pk: photo for photo in visible_refs(Photo.objects, who, ids, "photo_ids")}
    return [found[pk] for pk in dict.fromkeys(ids)]


@contextmanager
def _photo_ids_errors():
    """The services report photo problems on ``photos``; the API field is ``photo_ids``."""
    try:
        yield
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "photos" in exc.error_dict:
            exc.error_dict["photo_ids"] = exc.error_dict.pop("photos")
        raise


# --- categories -----------------------------------------------------------------------
@router.get(
    "/request-categories",
    response={200: list[CategoryOut], 401: ErrorOut},
    summary="List request categories",
    description="The active two-level categories of the caller's company (staff) or of "
    "the company managing the caller's home (residents).",
)
def list_request_categories(request):
    return selectors.category_tree(actor(request))


# --- orders ---------------------------------------------------------------------------
@router.get(
    "/work-orders",
    response={200: list[WorkOrderListOut], **LIST_ERRORS},
    summary="List work orders",
    description=(
        "Newest first (keyset-paginated on id, descending: one indexed query per page, "
        "no total count). Residents see their own requests and their home's; staff their "
        "communities'; field staff their own orders and, with `pool`, the grab pool."
    ),
)
@paginate(IdCursorPagination, ordering=("-id",), row=list_row)
def list_work_orders(request, filters: Query[WorkOrderFilters]):
    who = actor(request)
    qs = selectors.order_rows().visible_to(who)
    if filters.mine:
        qs = selectors.assigned_to(who, qs)
    if filters.pool:
        qs = selectors.in_grab_pool(who, qs)
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.request_type:
        qs = qs.filter(request_type=filters.request_type)
    if filters.category:
        qs = qs.filter(Q(category_id=filters.category) | Q(category__parent_id=filters.category))
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.assignee:
        qs = qs.filter(assignee_id=filters.assignee)
    if filters.sla_state:
        qs = qs.filter(sla_state=filters.sla_state)
    qs = selectors.submitted_between(qs, filters.date_from, filters.date_to)
    if filters.q:
        q = filters.q.strip()
        match = Q(description__icontains=q)
        if q.isdigit():
            match |= Q(number__startswith=q)
        qs = qs.filter(match)
    return qs


@router.post(
    "/work-orders",
    response={201: WorkOrderOut, **WRITE_ERRORS, 429: ErrorOut},
    summary="Submit a service request",
    description="Residents report for their own homes or their community's common areas; "
    "staff with workorders.create record phone, walk-in and on-site reports (a dispatcher's "
    "intake is accepted at once). A resident may submit WORKORDER_SUBMIT_PER_HOUR (10) "
    "requests an hour and WORKORDER_SUBMIT_PER_DAY (30) in 24 hours: over that, 429 with "
    "Retry-After (seconds).",
)
@idempotent
def submit_work_order(request, payload: WorkOrderIn):
    who = actor(request)
    category = selectors.categories_for(who).filter(pk=payload.category_id).first()
    if category is None:
        raise _no_such("category_id")
    house = visible_ref(House.objects, who, payload.house_id, "house_id")
    area = visible_ref(CommonArea.objects, who, payload.common_area_id, "common_area_id")
    photos = _photos(who, payload.photo_ids)
    complaint = None
    if payload.complaint is not None:
        complaint = payload.complaint.model_dump(exclude={"party_staff_id"})
        if payload.complaint.party_staff_id is not None:
            complaint["party_staff"] = selectors.colleague(who, payload.complaint.party_staff_id)
            if complaint["party_staff"] is None:
                raise _no_such("complaint.party_staff_id")
    with _photo_ids_errors():
        order = services.submit_order(
            actor=who,
            category=category,
            house=house,
            common_area=area,
            description=payload.description,
            channel=payload.channel,
            urgency=payload.urgency,
            contact_name=payload.contact_name,
            contact_mobile=payload.contact_mobile,
            preferred_time=payload.preferred_time,
            may_enter=payload.may_enter,
            photos=photos,
            complaint=complaint,
        )
    return Status(201, selectors.order_detail(order.pk))


@router.get("/work-orders/{order_id}", response={200: WorkOrderOut, **READ_ERRORS})
def get_work_order(request, order_id: Id):
    return get_visible_or_404(selectors.order_details(), actor(request), pk=order_id)


@router.get(
    "/work-orders/{order_id}/events",
    response={200: list[EventOut], **READ_ERRORS},
    summary="The order's timeline (服务记录)",
    description="Oldest first. Residents get the public events; staff of the company all.",
)
@paginate(IdCursorPagination)
def list_work_order_events(request, order_id: Id):
    who = actor(request)
    order = get_visible_or_404(WorkOrder.objects, who, pk=order_id)
    return selectors.events_for(who, order)


# --- actions ----------------------------------------------------------------------------
def _order(request, order_id):
    who = actor(request)
    return who, get_visible_or_404(WorkOrder.objects, who, pk=order_id)


def _action(path: str, summary: str, errors=None):
    return router.post(
        f"/work-orders/{{order_id}}/{path}",
        response={200: WorkOrderOut, **ACTION_ERRORS, **(errors or {})},
        summary=summary,
    )


@_action("accept", "Accept (受理)")
def accept_work_order(request, order_id: Id):
    who, order = _order(request, order_id)
    services.accept_order(actor=who, order=order)
    return selectors.order_detail(order.pk)


@_action("dispatch", "Dispatch to a staff member (派单)")
def dispatch_work_order(request, order_id: Id, payload: DispatchIn):
    who, order = _order(request, order_id)
    assignee = selectors.colleague(who, payload.assignee_id)
    if assignee is None:
        raise _no_such("assignee_id")
    services.dispatch_order(actor=who, order=order, assignee=assignee, note=payload.note)
    return selectors.order_detail(order.pk)


@_action("grab", "Grab from the pool (抢单)")
def grab_work_order(request, order_id: Id):
    who, order = _order(request, order_id)
    services.grab_order(actor=who, order=order)
    return selectors.order_detail(order.pk)


@_action("take", "Take a dispatched order (接单)")
def take_work_order(request, order_id: Id):
    who, order = _order(request, order_id)
    services.take_order(actor=who, order=order)
    return selectors.order_detail(order.pk)


@_action("return", "Return to the dispatcher or the pool (退单)")
def return_work_order(request, order_id: Id, payload: ReasonIn):
    who, order = _order(request, order_id)
    services.return_order(actor=who, order=order, reason=payload.reason)
    return selectors.order_detail(order.pk)


@_action("transfer", "Transfer to a colleague (转单)")
def transfer_work_order(request, order_id: Id, payload: TransferIn):
    who, order = _order(request, order_id)
    assignee = selectors.colleague(who, payload.assignee_id)
    if assignee is None:
        raise _no_such("assignee_id")
    services.transfer_order(actor=who, order=order, assignee=assignee, reason=payload.reason)
    return selectors.order_detail(order.pk)


@_action("arrive", "Mark arrival on site")
def arrive_work_order(request, order_id: Id):
    who, order = _order(request, order_id)
    services.arrive(actor=who, order=order)
    return selectors.order_detail(order.pk)


@_action("pause", "Pause with a reason (暂停)")
def pause_work_order(request, order_id: Id, payload: ReasonIn):
    who, order = _order(request, order_id)
    services.pause_order(actor=who, order=order, reason=payload.reason)
    return selectors.order_detail(order.pk)


@_action("resume", "Resume a paused order")
def resume_work_order(request, order_id: Id):
    who, order = _order(request, order_id)
    services.resume_order(actor=who, order=order)
    return selectors.order_detail(order.pk)


@_action("complete", "Complete (完工) with notes, photos, materials and labour")
def complete_work_order(request, order_id: Id, payload: CompleteIn):
    who, order = _order(request, order_id)
    photos = _photos(who, payload.photo_ids)
    with _photo_ids_errors():
        services.complete_order(
            actor=who,
            order=order,
            resolution=payload.resolution,
            materials=[row.model_dump() for row in payload.materials],
            labour_amount=payload.labour_amount,
            photos=photos,
        )
    return selectors.order_detail(order.pk)


@_action("rate", "Rate a completed order")
def rate_work_order(request, order_id: Id, payload: RateIn):
    who, order = _order(request, order_id)
    dimensions = payload.model_dump(include=set(Feedback.DIMENSIONS), exclude_none=True)
    photos = _photos(who, payload.photo_ids)
    with _photo_ids_errors():
        services.rate_order(
            actor=who,
            order=order,
            overall=payload.overall,
            comment=payload.comment,
            reasons=payload.reasons,
            photos=photos,
            **dimensions,
        )
    return selectors.order_detail(order.pk)


@_action("return-visit", "Record a return visit (回访)")
def return_visit_work_order(request, order_id: Id, payload: ReturnVisitIn):
    who, order = _order(request, order_id)
    services.return_visit(
        actor=who,
        order=order,
        satisfied=payload.satisfied,
        note=payload.note,
        root_cause=payload.root_cause or "",
        root_cause_note=payload.root_cause_note,
    )
    return selectors.order_detail(order.pk)


@_action("resolve", "Resolve at the desk (办结): inquiries, suggestions, praise, complaints")
def resolve_work_order(request, order_id: Id, payload: ResolveIn):
    who, order = _order(request, order_id)
    services.resolve_order(
        actor=who,
        order=order,
        resolution=payload.resolution,
        root_cause=payload.root_cause or "",
        root_cause_note=payload.root_cause_note,
    )
    return selectors.order_detail(order.pk)


@_action("root-cause", "Record a complaint's root cause (客服主管)")
def record_work_order_root_cause(request, order_id: Id, payload: RootCauseIn):
    who, order = _order(request, order_id)
    services.record_root_cause(
        actor=who, order=order, root_cause=payload.root_cause, note=payload.root_cause_note
    )
    return selectors.order_detail(order.pk)


@_action("reply", "Reply to the resident's rating")
def reply_to_work_order_rating(request, order_id: Id, payload: ReplyIn):
    who, order = _order(request, order_id)
    services.reply_to_feedback(actor=who, order=order, reply=payload.reply)
    return selectors.order_detail(order.pk)


@_action("reopen", "Reopen with a reason")
def reopen_work_order(request, order_id: Id, payload: ReasonIn):
    who, order = _order(request, order_id)
    services.reopen_order(actor=who, order=order, reason=payload.reason)
    return selectors.order_detail(order.pk)


@_action("cancel", "Cancel before dispatch")
def cancel_work_order(request, order_id: Id, payload: CancelIn):
    who, order = _order(request, order_id)
    services.cancel_order(actor=who, order=order, reason=payload.reason)
    return selectors.order_detail(order.pk)


@_action("reject", "Reject, or mark as a duplicate (驳回)")
def reject_work_order(request, order_id: Id, payload: RejectIn):
    who, order = _order(request, order_id)
    duplicate_of = visible_ref(WorkOrder.objects, who, payload.duplicate_of_id, "duplicate_of_id")
    services.reject_order(actor=who, order=order, reason=payload.reason, duplicate_of=duplicate_of)
    return selectors.order_detail(order.pk)


@_action("urge", "Urge (催单)", errors={429: ErrorOut})
def urge_work_order(request, order_id: Id, payload: UrgeIn):
    who, order = _order(request, order_id)
    services.urge_order(actor=who, order=order, note=payload.note)
    return selectors.order_detail(order.pk)
