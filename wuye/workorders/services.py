"""The work-order lifecycle: one named function per transition.

``TRANSITIONS`` is the whole state machine; ``_transition`` is the only place that
changes ``WorkOrder.status``. It locks the row (``select_for_update``; SQLite
serialises writers with IMMEDIATE transactions), checks the current status
against the table, applies the change and appends a typed event in the same
transaction, so a lost race or a forbidden move changes nothing.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wuye.accounts.models import User
from wuye.core.ratelimit import DAY, HOUR, check_windows
from wuye.core.services import full_clean, require
from wuye.webhooks.payloads import workorder_event
from wuye.workorders import sla
from wuye.workorders.models import (
    Category,
    Channel,
    CloseReason,
    Complaint,
    ComplaintParty,
    DispatchMode,
    EventType,
    Feedback,
    Material,
    RequestType,
    ReturnVisitPolicy,
    RootCause,
    Status,
    WorkOrder,
    WorkOrderEvent,
)

S = Status

# action -> (statuses it may start from, status it leads to; None = back to paused_from)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "accept": (frozenset({S.SUBMITTED}), S.ACCEPTED),
    "dispatch": (frozenset({S.ACCEPTED, S.DISPATCHED}), S.DISPATCHED),
    "grab": (frozenset({S.ACCEPTED}), S.TAKEN),
    "take": (frozenset({S.DISPATCHED}), S.TAKEN),
    "return": (frozenset({S.DISPATCHED, S.TAKEN}), S.ACCEPTED),
    "transfer": (frozenset({S.DISPATCHED, S.TAKEN}), S.DISPATCHED),
    "arrive": (frozenset({S.TAKEN}), S.IN_PROGRESS),
    "pause": (frozenset({S.TAKEN, S.IN_PROGRESS}), S.PAUSED),
    "resume": (frozenset({S.PAUSED}), None),
    "complete": (frozenset({S.IN_PROGRESS}), S.COMPLETED),
    "resolve": (frozenset({S.ACCEPTED, S.DISPATCHED, S.TAKEN, S.IN_PROGRESS}), S.COMPLETED),
    "expire": (frozenset({S.DISPATCHED}), S.ACCEPTED),
    "rate": (frozenset({S.COMPLETED}), S.RATED),
    "return_visit": (frozenset({S.COMPLETED, S.RATED}), S.CLOSED),
    "close": (frozenset({S.COMPLETED, S.RATED}), S.CLOSED),
    "cancel": (frozenset({S.SUBMITTED, S.ACCEPTED}), S.CANCELLED),
    "reject": (frozenset({S.SUBMITTED, S.ACCEPTED}), S.REJECTED),
    "reopen": (frozenset({S.COMPLETED, S.RATED, S.CLOSED}), S.ACCEPTED),
}

FINAL_STATUSES = frozenset({S.CLOSED, S.CANCELLED, S.REJECTED})
URGES_PER_HOUR = 3
REOPEN_WITHIN = datetime.timedelta(days=7)


class InvalidTransition(ValidationError):
    """The order is not in a status this action may start from."""


def allowed_actions(order: WorkOrder) -> list[str]:
    return [name for name, (sources, _to) in TRANSITIONS.items() if order.status in sources]


def _transition(
    order: WorkOrder,
    action: str,
    *,
    actor,
    event: str,
    note: str = "",
    payload: dict | None = None,
    public: bool = True,
    changes: dict | None = None,
    check=None,
    photos=(),
) -> WorkOrder:
    """Lock, verify the status, apply ``changes``, record the event. ``check`` runs on
    the locked row (permission and business rules that depend on current state)."""
    sources, target = TRANSITIONS[action]
    locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if locked.status not in sources:
        raise InvalidTransition(
            _("This order is %(status)s; it cannot be %(action)s.")
            % {"status": locked.get_status_display(), "action": ACTION_LABELS[action]},
            code="invalid_transition",
        )
    if check is not None:
        check(locked)
    from_status = locked.status
    to_status = target or locked.paused_from
    for field, value in (changes or {}).items():
        setattr(locked, field, value)
    locked.status = to_status
    sla.on_transition(locked, action, now=timezone.now())
    locked.save()
    if any(hasattr(value, "resolve_expression") for value in (changes or {}).values()):
        locked.refresh_from_db()
    _record(
        locked,
        event,
        actor=actor,
        from_status=from_status,
        note=note,
        payload=payload,
        public=public,
        photos=photos,
    )
    return locked


MAX_PHOTOS = 9


def _check_photos(actor, order, photos) -> list:
    """Photos must be the actor's own uploads for this company (see wuye.core.images)."""
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise ValidationError({"photos": _("Attach at most %(n)d photos.") % {"n": MAX_PHOTOS}})
    for photo in photos:
        if photo.uploaded_by_id != actor.user.pk or photo.company_id != order.company_id:
            raise ValidationError({"photos": _("Attach photos you uploaded yourself.")})
    return photos


def _record(order, event, *, actor, from_status="", note="", payload=None, public=True, photos=()):
    from wuye.workorders.notices import announce

    entry = WorkOrderEvent.objects.create(
        order=order,
        type=event,
        actor=getattr(actor, "user", None) if actor is not None else None,
        from_status=from_status,
        to_status=order.status if from_status else "",
        note=note,
        payload=payload or {},
        is_public=public,
        created_at=timezone.now(),
    )
    if photos:
        entry.photos.set(photos)
    announce(entry)
    workorder_event(entry)  # webhooks: created, status changed, rated (after commit)
    return entry


ACTION_LABELS = {
    "accept": gettext_lazy("accepted"),
    "dispatch": gettext_lazy("dispatched"),
    "grab": gettext_lazy("grabbed"),
    "take": gettext_lazy("taken"),
    "return": gettext_lazy("returned"),
    "transfer": gettext_lazy("transferred"),
    "arrive": gettext_lazy("marked as arrived"),
    "pause": gettext_lazy("paused"),
    "resume": gettext_lazy("resumed"),
    "complete": gettext_lazy("completed"),
    "resolve": gettext_lazy("resolved at the desk"),
    "expire": gettext_lazy("taken back for not being taken in time"),
    "rate": gettext_lazy("rated"),
    "return_visit": gettext_lazy("given a return visit"),
    "close": gettext_lazy("closed"),
    "cancel": gettext_lazy("cancelled"),
    "reject": gettext_lazy("rejected"),
    "reopen": gettext_lazy("reopened"),
}


# --- who may act ------------------------------------------------------------------
def _in_scope(actor, order) -> bool:
    return bool(actor.staff) and order.community_id in actor.community_ids


# The outcome of a complaint belongs to 客服主管 (``workorders.complaints``): the desk
# still accepts and dispatches it, but only they settle, visit, reject or cancel it.
COMPLAINT_OUTCOME = frozenset({"resolve", "return_visit", "reject", "cancel", "cause", "reply"})


def desk_permission(order, action: str = "") -> str:
    if order.request_type == RequestType.COMPLAINT and action in COMPLAINT_OUTCOME:
        return "workorders.complaints"
    return "workorders.dispatch"


def is_desk(actor, order, action: str = "") -> bool:
    return _in_scope(actor, order) and actor.has_perm(desk_permission(order, action))


def _require_dispatcher(actor, order, action: str = "") -> None:
    require(actor, desk_permission(order, action))
    if not _in_scope(actor, order):
        raise PermissionDenied


def _require_assignee(actor, order) -> None:
    if not actor.staff or order.assignee_id != actor.staff.pk:
        raise PermissionDenied


def _is_requester(actor, order) -> bool:
    if not actor.is_authenticated:
        return False
    if order.reporter_id == actor.user.pk:
        return True
    return (
        order.house_id in actor.resident_house_ids and order.request_type != RequestType.COMPLAINT
    )


def _required_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: _("Give a reason.")})
    return reason[:200]


# --- intake -----------------------------------------------------------------------
@transaction.atomic
def submit_order(
    *,
    actor,
    category: Category,
    description: str,
    house=None,
    common_area=None,
    channel: str,
    urgency: str | None = None,
    contact_name: str = "",
    contact_mobile: str = "",
    preferred_time: str = "",
    may_enter: bool = False,
    reporter=None,
    photos=(),
    complaint: dict | None = None,
    asset=None,
) -> WorkOrder:
    """Record a request. Residents report for their own houses or their community's
    common areas; staff (客服) take phone and walk-in requests for their communities.
    Complaints carry ``complaint`` = party_kind, party_staff, party_name, demand,
    is_dispute (see ``Complaint``). An ``asset`` (a fault found on a round, or reported
    from its QR label) places the order at the asset."""
    if asset is not None:
        if house is not None:
            raise ValidationError({"asset": _("Choose a house or an asset, not both.")})
        common_area = common_area or asset.common_area
        if common_area is not None and common_area.community_id != asset.community_id:
            raise ValidationError({"common_area": _("The common area is not the asset's.")})
    if house is None and common_area is None and asset is None:
        raise ValidationError({"house": _("Choose a house or a common area.")})
    if house is not None and common_area is not None:
        raise ValidationError({"common_area": _("Choose a house or a common area, not both.")})
    if house is not None:
        community = house.community
    else:
        community = asset.community if asset is not None else common_area.community
    if category.company_id != community.company_id or not category.is_active:
        raise ValidationError({"category": _("Choose a category of this company.")})
    if category.children.exists():
        raise ValidationError({"category": _("Choose a sub-category.")})

    is_staff_intake = bool(actor.staff) and actor.has_perm("workorders.create")
    if is_staff_intake:
        if community.id not in actor.community_ids:
            raise PermissionDenied
    elif house is not None:
        if house.id not in actor.resident_house_ids:
            raise PermissionDenied
    elif community.id not in actor.resident_community_ids():
        raise PermissionDenied
    if not is_staff_intake:
        reporter = actor.user
        channel = channel if channel == Channel.API else Channel.RESIDENT_H5
        _check_submit_limits(reporter)
    elif not actor.has_perm("workorders.dispatch") and channel != Channel.INSPECTION:
        channel = Channel.STAFF  # 员工代报 by field staff
    contact_name = (contact_name or "").strip() or (
        reporter.display_name if reporter is not None else ""
    )
    contact_mobile = (contact_mobile or "").strip() or (
        (reporter.mobile or "") if reporter is not None else ""
    )
    now = timezone.now()
    order = WorkOrder(
        company_id=community.company_id,
        community=community,
        house=house,
        common_area=common_area,
        asset=asset,
        number=f"tmp-{now.timestamp()}",
        request_type=category.request_type,
        category=category,
        dispatch_mode=category.dispatch_mode,
        channel=channel,
        urgency=urgency or category.default_urgency,
        description=(description or "").strip(),
        preferred_time=preferred_time,
        may_enter=may_enter,
        contact_name=contact_name,
        contact_mobile=contact_mobile,
        reporter=reporter,
        created_by=actor.user,
        submitted_at=now,
    )
    full_clean(order, exclude=["number"])
    if not order.contact_mobile and channel != Channel.INSPECTION:
        # Only a fault found on a round has nobody to call back.
        raise ValidationError({"contact_mobile": _("Give a contact mobile.")})
    details = _complaint_details(order, complaint)
    sla.start_clocks(order, now=now)
    order.save()
    if details is not None:
        details.order = order
        details.save()
    order.number = f"{now.astimezone(timezone.get_current_timezone()):%Y%m%d}{order.pk:06d}"
    WorkOrder.objects.filter(pk=order.pk).update(number=order.number)
    _record(
        order,
        EventType.SUBMITTED,
        actor=actor,
        payload={"channel": channel},
        photos=_check_photos(actor, order, photos),
    )
    if is_staff_intake and actor.has_perm("workorders.dispatch"):
        # The desk that takes the call has accepted it (受理).
        order = accept_order(actor=actor, order=order)
    return order


def _check_submit_limits(reporter) -> None:
    """A resident submits at most WORKORDER_SUBMIT_PER_HOUR / _PER_DAY requests (console,
    H5 and API alike; staff intake is not limited). Counted from the orders themselves;
    the user's row is locked first so two requests at once cannot both take the last one."""
    User.objects.select_for_update().filter(pk=reporter.pk).exists()
    check_windows(
        WorkOrder.objects.filter(reporter=reporter),
        field="submitted_at",
        limits=[
            (
                settings.WORKORDER_SUBMIT_PER_HOUR,
                HOUR,
                _(
                    "You have submitted %(limit)d requests in the last hour. "
                    "Please try again later."
                ),
            ),
            (
                settings.WORKORDER_SUBMIT_PER_DAY,
                DAY,
                _(
                    "You have submitted %(limit)d requests in the last 24 hours. "
                    "Please try again later."
                ),
            ),
        ],
    )


COMPLAINT_FIELDS = ("party_kind", "party_staff", "party_name", "demand", "is_dispute")


def _complaint_details(order: WorkOrder, data: dict | None) -> Complaint | None:
    """The validated complaint row for a complaint order (not saved); None otherwise."""
    data = dict(data or {})
    if order.request_type != RequestType.COMPLAINT:
        if any(data.get(field) for field in COMPLAINT_FIELDS):
            raise ValidationError({"category": _("Only complaints name a party and a demand.")})
        return None
    unknown = set(data) - set(COMPLAINT_FIELDS)
    if unknown:
        raise ValidationError({field: _("Unknown complaint field.") for field in sorted(unknown)})
    staff = data.get("party_staff")
    if staff is not None and staff.company_id != order.company_id:
        raise ValidationError({"party_staff": _("Choose a staff member of this company.")})
    details = Complaint(
        order=order,
        party_kind=data.get("party_kind")
        or (ComplaintParty.STAFF if staff else ComplaintParty.OTHER),
        party_staff=staff,
        party_name=(data.get("party_name") or "").strip(),
        demand=(data.get("demand") or "").strip(),
        is_dispute=bool(data.get("is_dispute")),
    )
    if details.party_kind != ComplaintParty.STAFF:
        details.party_staff = None
    full_clean(details, exclude=["order"])
    return details


@transaction.atomic
def accept_order(*, actor, order: WorkOrder) -> WorkOrder:
    """受理: the desk confirms the request; automatic modes dispatch at once."""
    _require_dispatcher(actor, order)
    order = _transition(
        order,
        "accept",
        actor=actor,
        event=EventType.ACCEPTED,
        changes={"accepted_at": timezone.now()},
    )
    if order.dispatch_mode in (DispatchMode.AUTO, DispatchMode.ROUND_ROBIN):
        from wuye.workorders.dispatch import auto_dispatch

        order = auto_dispatch(order=order)
    return order


# --- dispatch ---------------------------------------------------------------------
def _check_assignee(order, member) -> None:
    if member.company_id != order.company_id or not member.is_active:
        raise ValidationError({"assignee": _("Choose a staff member of this company.")})
    if not member.communities.filter(pk=order.community_id).exists():
        raise ValidationError({"assignee": _("This staff member does not work in this community.")})


@transaction.atomic
def dispatch_order(*, actor, order: WorkOrder, assignee, note: str = "") -> WorkOrder:
    """派单: the dispatcher (or the system, ``actor=None``) gives the order to someone."""
    if actor is not None:
        _require_dispatcher(actor, order)
    _check_assignee(order, assignee)
    return _transition(
        order,
        "dispatch",
        actor=actor,
        event=EventType.DISPATCHED,
        note=note,
        payload={"assignee": assignee.pk, "assignee_name": assignee.name},
        changes={"assignee": assignee, "dispatched_at": timezone.now(), "taken_at": None},
    )


@transaction.atomic
def grab_order(*, actor, order: WorkOrder) -> WorkOrder:
    """抢单: the first technician to grab a pool order gets it; others lose cleanly."""
    require(actor, "workorders.work")
    if order.dispatch_mode != DispatchMode.GRAB or order.community_id not in actor.community_ids:
        raise PermissionDenied
    from wuye.workorders.dispatch import has_capacity

    if not has_capacity(actor.staff):
        raise ValidationError(_("You already have the maximum number of open orders."))
    now = timezone.now()
    won = WorkOrder.objects.filter(pk=order.pk, status=S.ACCEPTED, assignee__isnull=True).update(
        assignee=actor.staff, status=S.TAKEN, dispatched_at=now, taken_at=now
    )
    if not won:
        raise InvalidTransition(_("Someone else took this order first."), code="invalid_transition")
    order = WorkOrder.objects.get(pk=order.pk)
    _record(
        order,
        EventType.GRABBED,
        actor=actor,
        from_status=S.ACCEPTED,
        payload={"assignee": actor.staff.pk, "assignee_name": actor.staff.name},
    )
    return order


@transaction.atomic
def take_order(*, actor, order: WorkOrder) -> WorkOrder:
    """接单: the assignee accepts the order dispatched to them."""
    return _transition(
        order,
        "take",
        actor=actor,
        event=EventType.TAKEN,
        changes={"taken_at": timezone.now()},
        check=lambda o: _require_assignee(actor, o),
    )


@transaction.atomic
def return_order(*, actor, order: WorkOrder, reason: str) -> WorkOrder:
    """退单: back to the dispatcher or the pool, with a reason."""
    reason = _required_reason(reason)

    def check(locked):
        if not (actor.staff and locked.assignee_id == actor.staff.pk):
            _require_dispatcher(actor, locked)

    return _transition(
        order,
        "return",
        actor=actor,
        event=EventType.RETURNED,
        note=reason,
        payload={"assignee": order.assignee_id},
        public=False,
        changes={"assignee": None, "dispatched_at": None, "taken_at": None},
        check=check,
    )


@transaction.atomic
def transfer_order(*, actor, order: WorkOrder, assignee, reason: str) -> WorkOrder:
    """转单: the assignee or a dispatcher hands the order to a colleague."""
    reason = _required_reason(reason)
    _check_assignee(order, assignee)

    def check(locked):
        if not (actor.staff and locked.assignee_id == actor.staff.pk):
            _require_dispatcher(actor, locked)
        if locked.assignee_id == assignee.pk:
            raise ValidationError({"assignee": _("The order is already with this person.")})

    return _transition(
        order,
        "transfer",
        actor=actor,
        event=EventType.TRANSFERRED,
        note=reason,
        payload={
            "from": order.assignee_id,
            "assignee": assignee.pk,
            "assignee_name": assignee.name,
        },
        changes={"assignee": assignee, "dispatched_at": timezone.now(), "taken_at": None},
        check=check,
    )


# --- on site ----------------------------------------------------------------------
@transaction.atomic
def arrive(*, actor, order: WorkOrder) -> WorkOrder:
    return _transition(
        order,
        "arrive",
        actor=actor,
        event=EventType.ARRIVED,
        changes={"arrived_at": timezone.now()},
        check=lambda o: _require_assignee(actor, o),
    )


@transaction.atomic
def pause_order(*, actor, order: WorkOrder, reason: str) -> WorkOrder:
    """暂停 (waiting for parts, the resident or a vendor): the SLA clock stops."""
    reason = _required_reason(reason)

    def check(locked):
        _require_assignee(actor, locked)
        locked.paused_from = locked.status

    return _transition(
        order,
        "pause",
        actor=actor,
        event=EventType.PAUSED,
        note=reason,
        changes={"pause_reason": reason},
        check=check,
    )


@transaction.atomic
def resume_order(*, actor, order: WorkOrder) -> WorkOrder:
    def check(locked):
        if not (actor.staff and locked.assignee_id == actor.staff.pk):
            _require_dispatcher(actor, locked)

    order = _transition(
        order,
        "resume",
        actor=actor,
        event=EventType.RESUMED,
        check=check,
        changes={"pause_reason": ""},
    )
    WorkOrder.objects.filter(pk=order.pk).update(paused_from="")
    order.paused_from = ""
    return order


@transaction.atomic
def complete_order(
    *,
    actor,
    order: WorkOrder,
    resolution: str,
    materials: list[dict] = (),
    labour_amount: Decimal | str = Decimal("0"),
    photos=(),
) -> WorkOrder:
    """完工 with notes and photos; paid repairs record materials and labour (the
    future charge)."""
    photos = _check_photos(actor, order, photos)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Describe what was done.")})
    try:
        labour = Decimal(str(labour_amount)).quantize(Decimal("0.01"))
    except ArithmeticError as exc:
        raise ValidationError({"labour_amount": _("Enter an amount such as 80.00.")}) from exc
    if labour < 0 or labour > Decimal("1000000"):
        raise ValidationError({"labour_amount": _("Enter an amount between 0 and 1000000.")})
    if (materials or labour) and not order.category.is_paid:
        raise ValidationError({"materials": _("This category is a free service.")})
    rows = [Material(order=order, **row) for row in materials]
    for index, row in enumerate(rows):
        try:
            row.full_clean(exclude=["order"])
        except ValidationError as exc:
            raise ValidationError(
                {f"materials[{index}].{field}": msgs for field, msgs in exc.message_dict.items()}
            ) from exc
    order = _transition(
        order,
        "complete",
        actor=actor,
        event=EventType.COMPLETED,
        note=resolution,
        payload={
            "labour_amount": str(labour),
            "materials": [
                {"name": m.name, "quantity": str(m.quantity), "unit_price": str(m.unit_price)}
                for m in rows
            ],
        },
        changes={"completed_at": timezone.now(), "resolution": resolution, "labour_amount": labour},
        check=lambda o: _require_assignee(actor, o),
        photos=photos,
    )
    Material.objects.bulk_create(rows)
    return order


@transaction.atomic
def resolve_order(
    *, actor, order: WorkOrder, resolution: str, root_cause: str = "", root_cause_note: str = ""
) -> WorkOrder:
    """办结 at the desk: an inquiry answered, a suggestion or praise passed on, a
    complaint settled by 客服主管 (with its root cause), without field work."""
    _require_dispatcher(actor, order, "resolve")
    if order.request_type == RequestType.REPAIR:
        raise ValidationError(_("Repairs are completed by the staff who did the work."))
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Describe how it was resolved.")})
    if order.request_type == RequestType.COMPLAINT and not root_cause:
        raise ValidationError({"root_cause": _("Choose the root cause of the complaint.")})
    order = _transition(
        order,
        "resolve",
        actor=actor,
        event=EventType.COMPLETED,
        note=resolution,
        payload={"at_desk": True},
        changes={"completed_at": timezone.now(), "resolution": resolution},
    )
    if order.request_type == RequestType.COMPLAINT:
        record_root_cause(actor=actor, order=order, root_cause=root_cause, note=root_cause_note)
    return order


@transaction.atomic
def record_root_cause(*, actor, order: WorkOrder, root_cause: str, note: str = "") -> Complaint:
    """The complaint's root cause (for 投诉分类统计与原因分析); required before closing,
    may be corrected until then."""
    _require_dispatcher(actor, order, "cause")
    if order.request_type != RequestType.COMPLAINT:
        raise ValidationError({"root_cause": _("Only complaints have a root cause.")})
    if root_cause not in RootCause.values:
        raise ValidationError({"root_cause": _("Choose one of the listed root causes.")})
    locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if locked.status in FINAL_STATUSES:
        raise InvalidTransition(
            _("The complaint is finished; its root cause can no longer change."),
            code="invalid_transition",
        )
    details, _created = Complaint.objects.get_or_create(order=locked)
    details.root_cause = root_cause
    details.root_cause_note = (note or "").strip()[:500]
    details.save(update_fields=["root_cause", "root_cause_note"])
    _record(
        locked,
        EventType.CAUSE_RECORDED,
        actor=actor,
        note=details.root_cause_note,
        payload={"root_cause": root_cause},
        public=False,
    )
    return details


def _require_root_cause(order: WorkOrder) -> None:
    if order.request_type == RequestType.COMPLAINT and not _has_root_cause(order):
        raise ValidationError(
            {"root_cause": _("Record the root cause of the complaint before closing it.")}
        )


def _has_root_cause(order: WorkOrder) -> bool:
    return Complaint.objects.filter(order_id=order.pk).exclude(root_cause="").exists()


# --- feedback, return visits, closing ------------------------------------------------
@transaction.atomic
def rate_order(
    *,
    actor,
    order: WorkOrder,
    overall: int,
    comment: str = "",
    reasons=(),
    photos=(),
    **dimensions,
) -> WorkOrder:
    """The requester rates the completed order; the order closes unless the
    category's return-visit policy asks for a visit."""
    unknown = set(dimensions) - set(Feedback.DIMENSIONS)
    if unknown:
        raise ValidationError({field: _("Unknown rating dimension.") for field in unknown})

    def check(locked):
        if not _is_requester(actor, locked):
            raise PermissionDenied

    now = timezone.now()
    # A reopened order is rated again: the new rating replaces the old one (the
    # timeline keeps both), and so does any reply to it.
    feedback = Feedback.objects.filter(order_id=order.pk).first() or Feedback(order=order)
    fields = {
        "overall": overall,
        "comment": (comment or "").strip(),
        "reasons": list(reasons),
        "created_at": now,
        "staff_reply": "",
        "replied_by": None,
        "replied_at": None,
        **dict.fromkeys(Feedback.DIMENSIONS),
        **dimensions,
    }
    for field, value in fields.items():
        setattr(feedback, field, value)
    full_clean(feedback, exclude=["order"])
    photos = _check_photos(actor, order, photos)
    order = _transition(
        order,
        "rate",
        actor=actor,
        event=EventType.RATED,
        payload={"overall": overall, **dimensions},
        check=check,
        photos=photos,
    )
    feedback.order = order
    feedback.save()
    if overall <= RECOVERY_RATING:
        return _open_recovery(order, now=now)
    policy = order.category.return_visit
    needs_visit = policy == ReturnVisitPolicy.ALWAYS or (
        policy == ReturnVisitPolicy.UNLESS_RATED_WELL and overall < 4
    )
    if order.request_type == RequestType.COMPLAINT:
        # The complainant's good rating is the confirmation that closes it, once the
        # root cause is on record; otherwise 客服主管 closes it by a return visit.
        needs_visit = needs_visit or not _has_root_cause(order)
    if not needs_visit:
        order = _transition(
            order,
            "close",
            actor=None,
            event=EventType.CLOSED,
            changes={"closed_at": now, "close_reason": CloseReason.RATED},
            payload={"reason": CloseReason.RATED},
        )
    return order


RECOVERY_RATING = 2


def _open_recovery(order: WorkOrder, *, now) -> WorkOrder:
    """A rating of 2 or less: the order waits for a return visit (服务补救) on a short
    clock, whatever the category's return-visit policy."""
    order = WorkOrder.objects.select_for_update().get(pk=order.pk)
    sla.start_recovery(order, now=now)
    order.save(update_fields=["sla", "sla_state", "sla_next_check"])
    _record(
        order,
        EventType.RECOVERY_OPENED,
        actor=None,
        payload={"due": order.sla.get("clocks", {}).get(sla.RECOVERY, {}).get("due")},
        public=False,
    )
    return order


@transaction.atomic
def return_visit(
    *,
    actor,
    order: WorkOrder,
    satisfied: bool,
    note: str = "",
    root_cause: str = "",
    root_cause_note: str = "",
) -> WorkOrder:
    """回访: satisfied closes the order; unsatisfied reopens it with raised priority.
    A complaint's root cause may be recorded in the same step."""
    _require_dispatcher(actor, order, "return_visit")
    if root_cause:
        record_root_cause(actor=actor, order=order, root_cause=root_cause, note=root_cause_note)
    if not satisfied:
        _record(
            order,
            EventType.RETURN_VISITED,
            actor=actor,
            note=note,
            payload={"satisfied": False},
            public=False,
        )
        return reopen_order(
            actor=actor, order=order, reason=note or _("Unsatisfied at the return visit.")
        )
    return _transition(
        order,
        "return_visit",
        actor=actor,
        event=EventType.RETURN_VISITED,
        note=note,
        payload={"satisfied": True},
        changes={"closed_at": timezone.now(), "close_reason": CloseReason.RETURN_VISIT},
        check=_require_root_cause,
    )


@transaction.atomic
def reopen_order(*, actor, order: WorkOrder, reason: str) -> WorkOrder:
    """Back to dispatch with raised priority: the requester within 7 days of
    completion, or a dispatcher."""
    reason = _required_reason(reason)

    def check(locked):
        if _is_requester(actor, locked):
            done = locked.completed_at or locked.closed_at
            if done and timezone.now() - done > REOPEN_WITHIN:
                raise ValidationError(_("This order was completed too long ago to reopen."))
        else:
            _require_dispatcher(actor, locked)

    return _transition(
        order,
        "reopen",
        actor=actor,
        event=EventType.REOPENED,
        note=reason,
        changes={
            "priority": F("priority") + 1,
            "reopen_count": F("reopen_count") + 1,
            "assignee": None,
            "dispatched_at": None,
            "taken_at": None,
            "arrived_at": None,
            "completed_at": None,
            "closed_at": None,
            "close_reason": "",
        },
        check=check,
    )


@transaction.atomic
def cancel_order(*, actor, order: WorkOrder, reason: str = "") -> WorkOrder:
    """The requester may cancel before dispatch; a dispatcher with a reason."""

    def check(locked):
        if not _is_requester(actor, locked):
            _require_dispatcher(actor, locked, "cancel")
            _required_reason(reason)

    return _transition(
        order,
        "cancel",
        actor=actor,
        event=EventType.CANCELLED,
        note=(reason or "").strip(),
        changes={"closed_at": timezone.now()},
        check=check,
    )


@transaction.atomic
def reject_order(
    *, actor, order: WorkOrder, reason: str, duplicate_of: WorkOrder | None = None
) -> WorkOrder:
    """驳回 or mark as a duplicate of / merged into another open order."""
    _require_dispatcher(actor, order, "reject")
    reason = _required_reason(reason)
    if duplicate_of is not None and (
        duplicate_of.pk == order.pk or duplicate_of.company_id != order.company_id
    ):
        raise ValidationError({"duplicate_of": _("Choose another order of this company.")})
    return _transition(
        order,
        "reject",
        actor=actor,
        event=EventType.REJECTED,
        note=reason,
        payload={"duplicate_of": duplicate_of.number if duplicate_of else None},
        changes={"closed_at": timezone.now(), "merged_into": duplicate_of},
    )


@transaction.atomic
def urge_order(*, actor, order: WorkOrder, note: str = "") -> WorkOrder:
    """催单: logged and limited per hour; only while the order is open."""
    locked = WorkOrder.objects.select_for_update().get(pk=order.pk)
    if not _is_requester(actor, locked):
        raise PermissionDenied
    if not locked.is_open:
        raise InvalidTransition(_("Only open orders can be urged."), code="invalid_transition")
    check_windows(
        locked.events.filter(type=EventType.URGED),
        field="created_at",
        limits=[
            (
                URGES_PER_HOUR,
                HOUR,
                _("You urged this order %(n)d times in the last hour; we are on it."),
            )
        ],
    )
    WorkOrder.objects.filter(pk=locked.pk).update(urge_count=F("urge_count") + 1)
    _record(locked, EventType.URGED, actor=actor, note=(note or "").strip()[:200])
    locked.refresh_from_db()
    return locked


@transaction.atomic
def reply_to_feedback(*, actor, order: WorkOrder, reply: str) -> Feedback:
    """The desk answers the resident's rating; the reply shows on their timeline."""
    _require_dispatcher(actor, order, "reply")
    reply = (reply or "").strip()
    if not reply:
        raise ValidationError({"reply": _("Write a reply.")})
    if len(reply) > 1000:
        raise ValidationError({"reply": _("Keep the reply under 1000 characters.")})
    feedback = Feedback.objects.select_for_update().filter(order_id=order.pk).first()
    if feedback is None:
        raise InvalidTransition(_("This order has not been rated."), code="invalid_transition")
    feedback.staff_reply = reply
    feedback.replied_by = actor.user
    feedback.replied_at = timezone.now()
    feedback.save(update_fields=["staff_reply", "replied_by", "replied_at"])
    _record(order, EventType.REPLIED, actor=actor, note=reply)
    return feedback


# --- timeouts (run by wuye.workorders.timeouts every minute) --------------------------
def take_timeout(urgency: str) -> datetime.timedelta:
    minutes = settings.WORKORDER_TAKE_TIMEOUT_MINUTES
    return datetime.timedelta(minutes=minutes.get(urgency, minutes["normal"]))


@transaction.atomic
def expire_dispatch(*, order: WorkOrder, now=None) -> WorkOrder:
    """Nobody took the dispatched order in time: take it back. Automatic modes try the
    next candidate (never one who let it expire) up to ``WORKORDER_MAX_REDISPATCH``
    times; otherwise it goes back to the dispatcher, or to the pool for grab orders."""
    now = now or timezone.now()

    def check(locked):
        if locked.dispatched_at is None or now - locked.dispatched_at < take_timeout(
            locked.urgency
        ):
            raise InvalidTransition(_("This order is not overdue."), code="invalid_transition")

    missed_by = order.assignee_id
    order = _transition(
        order,
        "expire",
        actor=None,
        event=EventType.DISPATCH_EXPIRED,
        payload={"assignee": missed_by},
        public=False,
        changes={"assignee": None, "dispatched_at": None, "taken_at": None},
        check=check,
    )
    if order.dispatch_mode not in (DispatchMode.AUTO, DispatchMode.ROUND_ROBIN):
        return order
    missed = [
        payload["assignee"]
        for payload in order.events.filter(type=EventType.DISPATCH_EXPIRED).values_list(
            "payload", flat=True
        )
    ]
    if len(missed) > settings.WORKORDER_MAX_REDISPATCH:
        _record(
            order,
            EventType.COMMENTED,
            actor=None,
            public=False,
            note=_("Not taken after %(n)d automatic dispatches: left for the dispatcher.")
            % {"n": len(missed)},
        )
        return order
    from wuye.workorders.dispatch import auto_dispatch

    return auto_dispatch(order=order, exclude=missed)


@transaction.atomic
def close_unrated(*, order: WorkOrder, now=None) -> WorkOrder:
    """Close a completed order nobody rated in ``WORKORDER_AUTO_CLOSE_HOURS``, marked
    as not rated so satisfaction figures leave it out."""
    now = now or timezone.now()

    def check(locked):
        wait = datetime.timedelta(hours=settings.WORKORDER_AUTO_CLOSE_HOURS)
        if locked.status != S.COMPLETED:  # a rated order closes by its rating or a visit
            raise InvalidTransition(_("This order has been rated."), code="invalid_transition")
        if locked.completed_at is None or now - locked.completed_at < wait:
            raise InvalidTransition(_("This order is not overdue."), code="invalid_transition")
        if locked.request_type == RequestType.COMPLAINT:
            raise InvalidTransition(
                _("Complaints close only with the complainant's confirmation or a return visit."),
                code="invalid_transition",
            )

    return _transition(
        order,
        "close",
        actor=None,
        event=EventType.CLOSED,
        payload={"reason": CloseReason.NOT_RATED},
        changes={"closed_at": now, "close_reason": CloseReason.NOT_RATED},
        check=check,
    )


def seed_categories(*, company) -> None:
    """The default two-level categories for a company (idempotent)."""
    from wuye.staff.models import Trade
    from wuye.workorders.defaults import seed

    seed(company=company, category_model=Category, trade_model=Trade)
