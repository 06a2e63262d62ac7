"""``/api/v1`` — residents and their residencies (move-in / move-out)."""

from django.db.models import Q
from django.utils.translation import gettext as _
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
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.estates.models import House
from wuye.people import services
from wuye.people.models import Residency, Resident
from wuye.people.schemas import (
    MoveInIn,
    MoveOutIn,
    ResidencyOut,
    ResidentIn,
    ResidentListOut,
    ResidentOut,
    ResidentPatch,
)
from wuye.privacy.services import log_sensitive_view

router = Router(tags=["people"])

HOUSE_FILTER = Query(None, description="Residents currently living in this house.")
COMMUNITY_FILTER = Query(None, description="Residents currently in this community.")
RESIDENT_SEARCH = Query(
    None, max_length=50, pattern=NO_NUL, description="Name contains, or mobile starts with."
)
ACTIVE_FILTER = Query(None, description="Only current (true) or only ended (false).")


# --- residents ----------------------------------------------------------------
@router.get("/residents", response={200: list[ResidentListOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_residents(
    request,
    house: Id | None = HOUSE_FILTER,
    community: Id | None = COMMUNITY_FILTER,
    q: str | None = RESIDENT_SEARCH,
):
    qs = Resident.objects.visible_to(actor(request))
    if house or community:
        ties = Residency.objects.active()
        if house:
            ties = ties.filter(house_id=house)
        if community:
            ties = ties.filter(house__community_id=community)
        qs = qs.filter(id__in=ties.values("resident_id"))
    if q:
        q = q.strip()
        match = Q(name__icontains=q)
        if q.isdigit():
            match |= Q(mobile__startswith=q)
        qs = qs.filter(match)
    return qs


@router.post("/residents", response={201: ResidentOut, **WRITE_ERRORS})
@idempotent
def create_resident(request, payload: ResidentIn):
    who = actor(request)
    data = payload.model_dump()
    house = visible_ref(House.objects, who, data.pop("house_id"), "house_id")
    resident = services.register_resident(
        actor=who,
        house=house,
        relation=data.pop("relation") or "",
        on=data.pop("move_in"),
        **data,
    )
    return Status(201, resident)


@router.get("/residents/{resident_id}", response={200: ResidentOut, **READ_ERRORS})
def get_resident(request, resident_id: Id):
    who = actor(request)
    resident = get_visible_or_404(Resident.objects, who, pk=resident_id)
    log_sensitive_view(
        actor=who, request=request, label=_("Resident #%(id)s") % {"id": resident.pk}
    )
    return resident


@router.patch("/residents/{resident_id}", response={200: ResidentOut, **WRITE_ERRORS})
def update_resident(request, resident_id: Id, payload: ResidentPatch):
    who = actor(request)
    resident = get_visible_or_404(Resident.objects, who, pk=resident_id)
    return services.update_resident(
        actor=who, resident=resident, **payload.model_dump(exclude_unset=True)
    )


# --- residencies --------------------------------------------------------------
def _residencies():
    return Residency.objects.select_related(
        "resident", "house__community", "house__building", "house__unit"
    )


@router.get("/residencies", response={200: list[ResidencyOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_residencies(
    request,
    house: Id | None = None,
    resident: Id | None = None,
    community: Id | None = None,
    active: bool | None = ACTIVE_FILTER,
):
    qs = _residencies().visible_to(actor(request))
    if house:
        qs = qs.filter(house_id=house)
    if resident:
        qs = qs.filter(resident_id=resident)
    if community:
        qs = qs.filter(house__community_id=community)
    if active is not None:
        current = Residency.objects.active().values("id")
        qs = qs.filter(id__in=current) if active else qs.exclude(id__in=current)
    return qs


@router.post(
    "/residencies",
    response={201: ResidencyOut, **WRITE_ERRORS},
    summary="Move a resident in",
    description="Ties a resident to a house as owner, family member or tenant from a date.",
)
@idempotent
def move_in(request, payload: MoveInIn):
    who = actor(request)
    resident = visible_ref(Resident.objects, who, payload.resident_id, "resident_id")
    house = visible_ref(House.objects, who, payload.house_id, "house_id")
    residency = services.move_in(
        actor=who, resident=resident, house=house, relation=payload.relation, on=payload.on
    )
    return Status(201, _residencies().get(pk=residency.pk))


@router.get("/residencies/{residency_id}", response={200: ResidencyOut, **READ_ERRORS})
def get_residency(request, residency_id: Id):
    return get_visible_or_404(_residencies(), actor(request), pk=residency_id)


@router.post(
    "/residencies/{residency_id}/move-out",
    response={200: ResidencyOut, **WRITE_ERRORS},
    summary="Move a resident out",
    description="Ends the residency on a date; the row stays as history.",
)
def move_out(request, residency_id: Id, payload: MoveOutIn):
    who = actor(request)
    residency = get_visible_or_404(_residencies(), who, pk=residency_id)
    services.move_out(actor=who, residency=residency, on=payload.on)
    return _residencies().get(pk=residency.pk)
