"""``/api/v1`` — the estate registry: companies, communities, buildings, units,
houses and common areas. Reads are scoped with ``visible_to``; writes call
``wuye.estates.services``."""

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
)
from wuye.core.idempotency import idempotent
from wuye.core.scoping import get_visible_or_404
from wuye.estates import services
from wuye.estates.models import Building, CommonArea, Community, Company, House, Unit
from wuye.estates.schemas import (
    AreaKind,
    BuildingIn,
    BuildingOut,
    BuildingPatch,
    CommonAreaIn,
    CommonAreaOut,
    CommonAreaPatch,
    CommunityIn,
    CommunityKind,
    CommunityOut,
    CommunityPatch,
    CompanyOut,
    HouseFilters,
    HouseIn,
    HouseOut,
    HousePatch,
    UnitIn,
    UnitOut,
    UnitPatch,
)

router = Router(tags=["estates"])

SEARCH = {"max_length": 50, "pattern": NO_NUL, "description": "Search in names."}


# --- companies ----------------------------------------------------------------
@router.get(
    "/companies", response={200: list[CompanyOut], **LIST_ERRORS}, summary="List own companies"
)
@paginate(IdCursorPagination)
def list_companies(request):
    return Company.objects.visible_to(actor(request))


@router.get("/companies/{company_id}", response={200: CompanyOut, **READ_ERRORS})
def get_company(request, company_id: Id):
    return get_visible_or_404(Company.objects, actor(request), pk=company_id)


# --- communities --------------------------------------------------------------
@router.get("/communities", response={200: list[CommunityOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_communities(
    request,
    kind: CommunityKind | None = None,
    q: str | None = Query(None, **SEARCH),
):
    qs = Community.objects.visible_to(actor(request))
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return qs


@router.post("/communities", response={201: CommunityOut, **WRITE_ERRORS})
@idempotent
def create_community(request, payload: CommunityIn):
    community = services.create_community(actor=actor(request), **payload.model_dump())
    return Status(201, community)


@router.get("/communities/{community_id}", response={200: CommunityOut, **READ_ERRORS})
def get_community(request, community_id: Id):
    return get_visible_or_404(Community.objects, actor(request), pk=community_id)


@router.patch("/communities/{community_id}", response={200: CommunityOut, **WRITE_ERRORS})
def update_community(request, community_id: Id, payload: CommunityPatch):
    who = actor(request)
    community = get_visible_or_404(Community.objects, who, pk=community_id)
    return services.update_community(
        actor=who, community=community, **payload.model_dump(exclude_unset=True)
    )


# --- buildings ----------------------------------------------------------------
@router.get("/buildings", response={200: list[BuildingOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_buildings(
    request,
    community: Id | None = None,
    q: str | None = Query(None, **SEARCH),
):
    qs = Building.objects.visible_to(actor(request))
    if community:
        qs = qs.filter(community_id=community)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs


@router.post("/buildings", response={201: BuildingOut, **WRITE_ERRORS})
@idempotent
def create_building(request, payload: BuildingIn):
    who = actor(request)
    data = payload.model_dump()
    community = visible_ref(Community.objects, who, data.pop("community_id"), "community_id")
    return Status(201, services.create_building(actor=who, community=community, **data))


@router.get("/buildings/{building_id}", response={200: BuildingOut, **READ_ERRORS})
def get_building(request, building_id: Id):
    return get_visible_or_404(Building.objects, actor(request), pk=building_id)


@router.patch("/buildings/{building_id}", response={200: BuildingOut, **WRITE_ERRORS})
def update_building(request, building_id: Id, payload: BuildingPatch):
    who = actor(request)
    building = get_visible_or_404(Building.objects.select_related("community"), who, pk=building_id)
    return services.update_building(
        actor=who, building=building, **payload.model_dump(exclude_unset=True)
    )


# --- units --------------------------------------------------------------------
@router.get("/units", response={200: list[UnitOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_units(
    request,
    community: Id | None = None,
    building: Id | None = None,
    q: str | None = Query(None, **SEARCH),
):
    qs = Unit.objects.visible_to(actor(request))
    if community:
        qs = qs.filter(building__community_id=community)
    if building:
        qs = qs.filter(building_id=building)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs


@router.post("/units", response={201: UnitOut, **WRITE_ERRORS})
@idempotent
def create_unit(request, payload: UnitIn):
    who = actor(request)
    data = payload.model_dump()
    building = visible_ref(
        Building.objects.select_related("community"), who, data.pop("building_id"), "building_id"
    )
    return Status(201, services.create_unit(actor=who, building=building, **data))


@router.get("/units/{unit_id}", response={200: UnitOut, **READ_ERRORS})
def get_unit(request, unit_id: Id):
    return get_visible_or_404(Unit.objects, actor(request), pk=unit_id)


@router.patch("/units/{unit_id}", response={200: UnitOut, **WRITE_ERRORS})
def update_unit(request, unit_id: Id, payload: UnitPatch):
    who = actor(request)
    unit = get_visible_or_404(Unit.objects.select_related("building__community"), who, pk=unit_id)
    return services.update_unit(actor=who, unit=unit, **payload.model_dump(exclude_unset=True))


# --- houses -------------------------------------------------------------------
def _houses():
    return House.objects.select_related("community", "building", "unit")


@router.get(
    "/houses",
    response={200: list[HouseOut], **LIST_ERRORS},
    summary="List houses",
    description=(
        "Keyset-paginated on id: one indexed query per page and no total count, "
        "so a deep page costs the same as the first one."
    ),
)
@paginate(IdCursorPagination)
def list_houses(request, filters: Query[HouseFilters]):
    qs = _houses().visible_to(actor(request))
    if filters.community:
        qs = qs.filter(community_id=filters.community)
    if filters.building:
        qs = qs.filter(building_id=filters.building)
    if filters.unit:
        qs = qs.filter(unit_id=filters.unit)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.occupancy:
        qs = qs.filter(occupancy=filters.occupancy)
    if filters.number:
        qs = qs.filter(number=filters.number)
    if filters.q:
        qs = qs.filter(number__startswith=filters.q)
    return qs


@router.post("/houses", response={201: HouseOut, **WRITE_ERRORS})
@idempotent
def create_house(request, payload: HouseIn):
    who = actor(request)
    data = payload.model_dump()
    building = visible_ref(
        Building.objects.select_related("community"), who, data.pop("building_id"), "building_id"
    )
    unit = visible_ref(Unit.objects, who, data.pop("unit_id"), "unit_id")
    house = services.create_house(actor=who, building=building, unit=unit, **data)
    return Status(201, _houses().get(pk=house.pk))


@router.get("/houses/{house_id}", response={200: HouseOut, **READ_ERRORS})
def get_house(request, house_id: Id):
    return get_visible_or_404(_houses(), actor(request), pk=house_id)


@router.patch("/houses/{house_id}", response={200: HouseOut, **WRITE_ERRORS})
def update_house(request, house_id: Id, payload: HousePatch):
    who = actor(request)
    house = get_visible_or_404(_houses(), who, pk=house_id)
    return services.update_house(actor=who, house=house, **payload.model_dump(exclude_unset=True))


# --- common areas -------------------------------------------------------------
@router.get("/common-areas", response={200: list[CommonAreaOut], **LIST_ERRORS})
@paginate(IdCursorPagination)
def list_common_areas(
    request,
    community: Id | None = None,
    building: Id | None = None,
    kind: AreaKind | None = None,
    q: str | None = Query(None, **SEARCH),
):
    qs = CommonArea.objects.visible_to(actor(request))
    if community:
        qs = qs.filter(community_id=community)
    if building:
        qs = qs.filter(building_id=building)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs


@router.post("/common-areas", response={201: CommonAreaOut, **WRITE_ERRORS})
@idempotent
def create_common_area(request, payload: CommonAreaIn):
    who = actor(request)
    data = payload.model_dump()
    community = visible_ref(Community.objects, who, data.pop("community_id"), "community_id")
    building = visible_ref(Building.objects, who, data.pop("building_id"), "building_id")
    area = services.create_common_area(actor=who, community=community, building=building, **data)
    return Status(201, area)


@router.get("/common-areas/{area_id}", response={200: CommonAreaOut, **READ_ERRORS})
def get_common_area(request, area_id: Id):
    return get_visible_or_404(CommonArea.objects, actor(request), pk=area_id)


@router.patch("/common-areas/{area_id}", response={200: CommonAreaOut, **WRITE_ERRORS})
def update_common_area(request, area_id: Id, payload: CommonAreaPatch):
    who = actor(request)
    area = get_visible_or_404(CommonArea.objects.select_related("community"), who, pk=area_id)
    return services.update_common_area(
        actor=who, area=area, **payload.model_dump(exclude_unset=True)
    )
