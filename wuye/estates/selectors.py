"""Reads over the estate registry: tree nodes with counts computed in the database."""

from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from wuye.estates.models import Building, CommonArea, Community, House, Unit


def _count(queryset, parent_field: str):
    """A correlated ``SELECT COUNT(*) … WHERE parent = outer.id`` as an annotation."""
    sub = (
        queryset.filter(**{parent_field: OuterRef("pk")})
        .order_by()
        .values(parent_field)
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def communities_with_counts(actor):
    return Community.objects.visible_to(actor).annotate(
        building_count=_count(Building.objects.all(), "community"),
        house_count=_count(House.objects.all(), "community"),
    )


def buildings_with_counts(actor, *, community_id: int):
    return (
        Building.objects.visible_to(actor)
        .filter(community_id=community_id)
        .annotate(
            unit_count=_count(Unit.objects.all(), "building"),
            house_count=_count(House.objects.all(), "building"),
        )
    )


def units_with_counts(actor, *, building_id: int):
    return (
        Unit.objects.visible_to(actor)
        .filter(building_id=building_id)
        .annotate(house_count=_count(House.objects.all(), "unit"))
    )


def house_number_taken(*, building_id, unit_id, number: str, exclude_id=None) -> bool:
    """Is ``number`` already used in the unit (or, for houses without a unit, the building)?"""
    qs = House.objects.filter(number=number)
    qs = qs.filter(unit_id=unit_id) if unit_id else qs.filter(building_id=building_id, unit=None)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


def common_area_name_taken(*, community_id, building_id, name: str) -> bool:
    """Is ``name`` already used in the building (or, for community-wide areas, the community)?"""
    qs = CommonArea.objects.filter(name=name)
    if building_id:
        return qs.filter(building_id=building_id).exists()
    return qs.filter(community_id=community_id, building=None).exists()
