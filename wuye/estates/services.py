"""Writes to the estate registry. Every function checks the actor and validates."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from wuye.core.services import full_clean, require
from wuye.estates.models import Building, CommonArea, Community, Company, House, Unit

EDITABLE_HOUSE_FIELDS = ("number", "floor", "built_area", "indoor_area", "kind", "occupancy")


def _check_community(actor, community: Community) -> None:
    require(actor, "estates.manage")
    if community.id not in actor.community_ids:
        raise PermissionDenied


@transaction.atomic
def create_company(*, name: str, code: str, **fields) -> Company:
    """Platform-level: a new tenant with its default roles and trades."""
    from wuye.facilities.services import seed_asset_categories
    from wuye.quality.services import seed_quality_defaults
    from wuye.sla.services import seed_company_calendars
    from wuye.staff.services import seed_company_defaults
    from wuye.workorders.services import seed_categories

    company = Company(name=name, code=code, **fields)
    full_clean(company)
    company.save()
    seed_company_defaults(company=company)
    seed_company_calendars(company=company)
    seed_categories(company=company)
    seed_asset_categories(company=company)
    seed_quality_defaults(company=company)
    return company


@transaction.atomic
def create_community(*, actor, name: str, code: str, **fields) -> Community:
    require(actor, "estates.manage")
    if not actor.company_wide:
        raise PermissionDenied
    community = Community(company_id=actor.staff.company_id, name=name, code=code, **fields)
    full_clean(community)
    community.save()
    return community


@transaction.atomic
def create_building(*, actor, community: Community, name: str, **fields) -> Building:
    _check_community(actor, community)
    building = Building(community=community, name=name, **fields)
    full_clean(building)
    building.save()
    return building


@transaction.atomic
def create_unit(*, actor, building: Building, name: str, **fields) -> Unit:
    _check_community(actor, building.community)
    unit = Unit(building=building, name=name, **fields)
    full_clean(unit)
    unit.save()
    return unit


@transaction.atomic
def create_house(*, actor, building: Building, unit: Unit | None = None, **fields) -> House:
    _check_community(actor, building.community)
    if unit is not None and unit.building_id != building.id:
        raise ValidationError({"unit": _("The unit does not belong to this building.")})
    house = House(
        company_id=building.community.company_id,
        community_id=building.community_id,
        building=building,
        unit=unit,
        **fields,
    )
    full_clean(house)
    house.save()
    return house


@transaction.atomic
def update_house(*, actor, house: House, **changes) -> House:
    _check_community(actor, house.community)
    unknown = set(changes) - set(EDITABLE_HOUSE_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed.") for f in unknown})
    for field, value in changes.items():
        setattr(house, field, value)
    full_clean(house)
    house.save()
    return house


@transaction.atomic
def create_common_area(
    *, actor, community: Community, name: str, building: Building | None = None, **fields
) -> CommonArea:
    _check_community(actor, community)
    if building is not None and building.community_id != community.id:
        raise ValidationError({"building": _("The building is not in this community.")})
    area = CommonArea(community=community, building=building, name=name, **fields)
    full_clean(area)
    area.save()
    return area


def _apply_changes(instance, changes: dict, editable: tuple[str, ...]) -> None:
    unknown = set(changes) - set(editable)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed.") for f in unknown})
    for field, value in changes.items():
        setattr(instance, field, value)
    full_clean(instance)
    instance.save()


EDITABLE_COMMUNITY_FIELDS = (
    "name",
    "code",
    "kind",
    "province",
    "city",
    "district",
    "address",
    "service_phone",
)
EDITABLE_BUILDING_FIELDS = ("name", "floors_above", "floors_below", "sort_order")
EDITABLE_UNIT_FIELDS = ("name", "sort_order")
EDITABLE_COMMON_AREA_FIELDS = ("name", "kind", "description")


@transaction.atomic
def update_community(*, actor, community: Community, **changes) -> Community:
    _check_community(actor, community)
    _apply_changes(community, changes, EDITABLE_COMMUNITY_FIELDS)
    return community


@transaction.atomic
def update_building(*, actor, building: Building, **changes) -> Building:
    _check_community(actor, building.community)
    _apply_changes(building, changes, EDITABLE_BUILDING_FIELDS)
    return building


@transaction.atomic
def update_unit(*, actor, unit: Unit, **changes) -> Unit:
    _check_community(actor, unit.building.community)
    _apply_changes(unit, changes, EDITABLE_UNIT_FIELDS)
    return unit


@transaction.atomic
def update_common_area(*, actor, area: CommonArea, **changes) -> CommonArea:
    _check_community(actor, area.community)
    _apply_changes(area, changes, EDITABLE_COMMON_AREA_FIELDS)
    return area
