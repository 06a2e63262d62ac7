"""Reads about residents and their houses that other domains and the console use."""

from django.db.models import Case, F, IntegerField, Prefetch, Q, Value, When

from wuye.people.models import Residency, Resident

# Open ties (no move-out) first, then the most recent move-outs.
CURRENT_FIRST = F("move_out").desc(nulls_first=True)
# Owner, then family members, then tenants.
RELATION_ORDER = Case(
    *(When(relation=code, then=Value(i)) for i, code in enumerate(Residency.Relation.values)),
    output_field=IntegerField(),
)


def house_residencies(actor, *, house):
    """Everyone tied to ``house`` that the actor may see, current first, with the resident."""
    return (
        Residency.objects.visible_to(actor)
        .filter(house=house)
        .select_related("resident")
        .order_by(CURRENT_FIRST, RELATION_ORDER, "move_in", "id")
    )


def resident_residencies(actor, *, resident):
    """The houses of one resident that the actor may see, with their addresses."""
    return (
        Residency.objects.visible_to(actor)
        .filter(resident=resident)
        .select_related("house__community", "house__building", "house__unit")
        .order_by(CURRENT_FIRST, "-move_in", "id")
    )


def search_residents(actor, *, q: str = "", community=None):
    """Residents by name (contains) or mobile (starts with), optionally in one community.

    Each row carries ``current_residencies`` (active ties with house addresses),
    fetched in one extra query for the whole page.
    """
    residents = Resident.objects.visible_to(actor)
    q = (q or "").strip()
    if q:
        residents = residents.filter(
            Q(mobile__startswith=q) if q.isdigit() else Q(name__contains=q)
        )
    if community is not None:
        residents = residents.filter(
            id__in=Residency.objects.filter(house__community=community).values("resident_id")
        )
    active = (
        Residency.objects.visible_to(actor)
        .active()
        .select_related("house__community", "house__building", "house__unit")
    )
    return residents.prefetch_related(
        Prefetch("residencies", queryset=active, to_attr="current_residencies")
    )


def resident_mobile_taken(*, company_id: int, mobile: str, exclude_id=None) -> bool:
    qs = Resident.objects.filter(company_id=company_id, mobile=mobile)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return bool(mobile) and qs.exists()
