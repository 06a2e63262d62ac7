"""Who a notice, a survey or a vote is for: the whole company, a community, chosen
buildings, units or houses. One resolver, so every sender targets the same way."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.estates.models import House, Unit

# Who a satisfaction survey asks: the homes, not shops, parking spaces or storage rooms.
HOUSEHOLD_KINDS = (House.Kind.RESIDENCE,)
# The 专有部分 an owner vote counts by number and by area: parking spaces and storage
# rooms go with a home and are not counted on their own.
VOTING_KINDS = (House.Kind.RESIDENCE, House.Kind.SHOP, House.Kind.OFFICE)


class Audience(models.TextChoices):
    COMPANY = "company", _("Every community of the company")
    COMMUNITY = "community", _("The whole community")
    BUILDINGS = "buildings", _("Chosen buildings")
    UNITS = "units", _("Chosen units")
    HOUSES = "houses", _("Chosen houses")


def check_audience(
    *,
    actor,
    perm: str,
    company_id: int,
    community,
    audience: str,
    buildings=(),
    units=(),
    houses=(),
) -> None:
    """Refuse targets outside the sender's reach: a company-wide audience needs a
    company-wide role; a community must be one of the sender's; chosen buildings, units
    and houses must belong to that community, and at least one must be chosen."""
    if audience not in Audience.values:
        raise ValidationError({"audience": _("Choose who it is for.")})
    if audience == Audience.COMPANY:
        if not (actor.has_perm(perm) and actor.company_wide):
            raise ValidationError(
                {"audience": _("Only company-wide staff can address every community.")}
            )
        return
    if community is None:
        raise ValidationError({"community": _("Choose a community.")})
    if (
        community.company_id != company_id
        or community.pk not in actor.community_ids
        or not actor.has_perm(perm)
    ):
        raise ValidationError({"community": _("This community is not one of yours.")})
    chosen = {Audience.BUILDINGS: buildings, Audience.UNITS: units, Audience.HOUSES: houses}
    if audience in chosen:
        field = str(audience)
        items = list(chosen[audience])
        if not items:
            raise ValidationError({field: _("Choose at least one.")})
        if any(_community_of(item) != community.pk for item in items):
            raise ValidationError({field: _("Choose only from this community.")})


def _community_of(item) -> int:
    if isinstance(item, Unit):
        return item.building.community_id
    return item.community_id


def audience_houses(
    *,
    company_id: int,
    community_id,
    audience: str,
    building_ids=(),
    unit_ids=(),
    house_ids=(),
    kinds=None,
):
    """The houses an audience reaches, as a queryset (not evaluated); ``kinds`` limits
    them to some kinds of house (all kinds by default)."""
    houses = House.objects.filter(company_id=company_id)
    if kinds is not None:
        houses = houses.filter(kind__in=kinds)
    if audience == Audience.COMPANY:
        return houses
    houses = houses.filter(community_id=community_id)
    if audience == Audience.BUILDINGS:
        return houses.filter(building_id__in=list(building_ids))
    if audience == Audience.UNITS:
        return houses.filter(unit_id__in=list(unit_ids))
    if audience == Audience.HOUSES:
        return houses.filter(id__in=list(house_ids))
    return houses
