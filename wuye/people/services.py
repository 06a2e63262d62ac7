"""Writes to residents and residencies."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuye.core.services import full_clean, require
from wuye.estates.models import House
from wuye.people.models import Residency, Resident

EDITABLE_RESIDENT_FIELDS = ("name", "mobile", "id_number", "note")


def _check_house(actor, house: House) -> None:
    require(actor, "people.manage")
    if house.community_id not in actor.community_ids:
        raise PermissionDenied


@transaction.atomic
def create_resident(*, actor, name: str, mobile: str = "", id_number: str = "", note: str = ""):
    require(actor, "people.manage")
    resident = Resident(
        company_id=actor.staff.company_id, name=name, mobile=mobile, id_number=id_number, note=note
    )
    full_clean(resident)
    resident.save()
    link_resident_login(resident=resident)
    return resident


@transaction.atomic
def update_resident(*, actor, resident: Resident, **changes) -> Resident:
    require(actor, "people.manage")
    if resident.company_id != actor.staff.company_id:
        raise PermissionDenied
    unknown = set(changes) - set(EDITABLE_RESIDENT_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed.") for f in unknown})
    for field, value in changes.items():
        setattr(resident, field, value)
    full_clean(resident)
    resident.save()
    link_resident_login(resident=resident)
    return resident


def link_resident_login(*, resident: Resident) -> None:
    """Tie a resident to the login account with the same mobile, creating it if needed.

    The account has no usable password until the resident sets one or signs in
    with an SMS code, so creating residents never creates guessable logins.
    """
    from wuye.accounts.services import get_or_create_mobile_user

    if not resident.mobile:
        if resident.user_id:
            Resident.objects.filter(pk=resident.pk).update(user=None)
            resident.user = None
        return
    user = get_or_create_mobile_user(mobile=resident.mobile, name=resident.name)
    if resident.user_id != user.pk:
        Resident.objects.filter(pk=resident.pk).update(user=user)
        resident.user = user


@transaction.atomic
def move_in(
    *,
    actor,
    resident: Resident,
    house: House,
    relation: str,
    on: datetime.date | None = None,
) -> Residency:
    """Tie a resident to a house from a date (业主/家庭成员/租户)."""
    _check_house(actor, house)
    if resident.company_id != house.company_id:
        raise ValidationError({"resident": _("The resident belongs to another company.")})
    if Residency.objects.filter(resident=resident, house=house, move_out__isnull=True).exists():
        raise ValidationError({"house": _("This resident already lives in this house.")})
    residency = Residency(
        resident=resident, house=house, relation=relation, move_in=on or timezone.localdate()
    )
    full_clean(residency)
    residency.save()
    return residency


@transaction.atomic
def move_out(*, actor, residency: Residency, on: datetime.date | None = None) -> Residency:
    """End a residency; the row stays as history."""
    _check_house(actor, residency.house)
    residency = Residency.objects.select_for_update().get(pk=residency.pk)
    if residency.move_out is not None:
        raise ValidationError({"move_out": _("This residency has already ended.")})
    residency.move_out = on or timezone.localdate()
    full_clean(residency)
    residency.save(update_fields=["move_out"])
    return residency


@transaction.atomic
def register_resident(
    *,
    actor,
    name: str,
    mobile: str = "",
    id_number: str = "",
    note: str = "",
    house: House | None = None,
    relation: str = "",
    on: datetime.date | None = None,
) -> Resident:
    """Create a resident and, when a house is given, move them in — all or nothing.

    Community-scoped staff see residents only through a house of their communities,
    so they must register a resident together with the house.
    """
    require(actor, "people.manage")
    if house is None and not actor.company_wide:
        raise ValidationError({"house": _("Choose the house the resident lives in.")})
    resident = create_resident(
        actor=actor, name=name, mobile=mobile, id_number=id_number, note=note
    )
    if house is not None:
        move_in(actor=actor, resident=resident, house=house, relation=relation, on=on)
    return resident
