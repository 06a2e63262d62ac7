"""``/api/v1`` — staff members, roles, trades, shifts, the duty roster and 在岗/离岗."""

import datetime

from django.db.models import Q
from ninja import Query, Router, Status
from ninja.pagination import paginate

from wuye.core.apitools import (
    LIST_ERRORS,
    NO_NUL,
    READ_ERRORS,
    WRITE_ERRORS,
    Id,
    IdCursorPagination,
    actor,
    visible_ref,
    visible_refs,
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.estates.models import Community
from wuye.staff import services
from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade
from wuye.staff.schemas import (
    DutyIn,
    DutyStatus,
    RoleIn,
    RoleOut,
    RosterIn,
    RosterOut,
    ShiftIn,
    ShiftOut,
    StaffIn,
    StaffOut,
    TradeOut,
)

router = Router(tags=["staff"])


# --- roles, trades, shifts (company master data) ------------------------------
@router.get("/roles", response={200: list[RoleOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_roles(request):
    return Role.objects.visible_to(actor(request))


@router.get("/roles/{role_id}", response={200: RoleOut, **READ_ERRORS})
def get_role(request, role_id: Id):
    return get_visible_or_404(Role.objects, actor(request), pk=role_id)


@router.put("/roles/{role_id}", response={200: RoleOut, **WRITE_ERRORS})
def update_role(request, role_id: Id, payload: RoleIn):
    who = actor(request)
    role = get_visible_or_404(Role.objects, who, pk=role_id)
    return services.update_role(actor=who, role=role, **payload.model_dump())


@router.get("/trades", response={200: list[TradeOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_trades(request):
    return Trade.objects.visible_to(actor(request))


@router.get("/shifts", response={200: list[ShiftOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_shifts(request):
    return Shift.objects.visible_to(actor(request))


@router.post("/shifts", response={201: ShiftOut, **WRITE_ERRORS})
@idempotent
def create_shift(request, payload: ShiftIn):
    return Status(201, services.create_shift(actor=actor(request), **payload.model_dump()))


@router.get("/shifts/{shift_id}", response={200: ShiftOut, **READ_ERRORS})
def get_shift(request, shift_id: Id):
    return get_visible_or_404(Shift.objects, actor(request), pk=shift_id)


# --- staff members ------------------------------------------------------------
def _staff():
    return StaffMember.objects.prefetch_related("roles", "communities", "trades")


@router.get("/staff", response={200: list[StaffOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_staff(
    request,
    community: Id | None = None,
    role: str | None = Query(
        None, max_length=32, pattern=NO_NUL, description="Role code, e.g. technician."
    ),
    trade: str | None = Query(
        None, max_length=32, pattern=NO_NUL, description="Trade code, e.g. elevator."
    ),
    status: DutyStatus | None = None,
    q: str | None = Query(
        None, max_length=50, pattern=NO_NUL, description="Name or employee number contains."
    ),
):
    qs = _staff().visible_to(actor(request)).filter(is_active=True)
    if community:
        members = StaffMember.communities.through.objects.filter(community_id=community)
        qs = qs.filter(id__in=members.values("staffmember_id"))
    if role:
        members = StaffMember.roles.through.objects.filter(role__code=role)
        qs = qs.filter(id__in=members.values("staffmember_id"))
    if trade:
        members = StaffMember.trades.through.objects.filter(trade__code=trade)
        qs = qs.filter(id__in=members.values("staffmember_id"))
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(employee_no__icontains=q))
    return qs


@router.post("/staff", response={201: StaffOut, **WRITE_ERRORS})
@idempotent
def create_staff_member(request, payload: StaffIn):
    who = actor(request)
    data = payload.model_dump()
    member = services.create_staff_member(
        actor=who,
        roles=visible_refs(Role.objects, who, data.pop("role_ids"), "role_ids"),
        communities=visible_refs(
            Community.objects, who, data.pop("community_ids"), "community_ids"
        ),
        trades=visible_refs(Trade.objects, who, data.pop("trade_ids"), "trade_ids"),
        **data,
    )
    return Status(201, _staff().get(pk=member.pk))


@router.get("/staff/{staff_id}", response={200: StaffOut, **READ_ERRORS})
def get_staff_member(request, staff_id: Id):
    return get_visible_or_404(_staff(), actor(request), pk=staff_id)


@router.post(
    "/staff/{staff_id}/duty",
    response={200: StaffOut, **WRITE_ERRORS},
    summary="Set on-duty / off-duty",
    description="在岗/离岗: members switch their own status; managers may switch others'.",
)
def set_duty_status(request, staff_id: Id, payload: DutyIn):
    who = actor(request)
    member = get_visible_or_404(_staff(), who, pk=staff_id)
    return services.set_duty_status(actor=who, member=member, status=payload.status)


# --- roster (排班) -------------------------------------------------------------
def _roster():
    return RosterEntry.objects.select_related("staff", "shift")


@router.get("/roster", response={200: list[RosterOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_roster(
    request,
    community: Id | None = None,
    staff: Id | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
):
    qs = _roster().visible_to(actor(request))
    if community:
        qs = qs.filter(community_id=community)
    if staff:
        qs = qs.filter(staff_id=staff)
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    return qs


@router.post("/roster", response={201: RosterOut, **WRITE_ERRORS}, summary="Put on a shift")
@idempotent
def create_roster_entry(request, payload: RosterIn):
    who = actor(request)
    entry = services.assign_shift(
        actor=who,
        member=visible_ref(StaffMember.objects, who, payload.staff_id, "staff_id"),
        date=payload.date,
        shift=visible_ref(Shift.objects, who, payload.shift_id, "shift_id"),
        community=visible_ref(Community.objects, who, payload.community_id, "community_id"),
    )
    return Status(201, _roster().get(pk=entry.pk))


@router.get("/roster/{entry_id}", response={200: RosterOut, **READ_ERRORS})
def get_roster_entry(request, entry_id: Id):
    return get_visible_or_404(_roster(), actor(request), pk=entry_id)


@router.delete("/roster/{entry_id}", response={204: None, **WRITE_ERRORS})
def delete_roster_entry(request, entry_id: Id):
    who = actor(request)
    entry = get_visible_or_404(_roster(), who, pk=entry_id)
    services.remove_shift(actor=who, entry=entry)
    return Status(204, None)
