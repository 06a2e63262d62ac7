"""visible_to(actor) for every aggregate over the test cast."""

import pytest

from wuye.estates.models import Building, CommonArea, Community, Company, House, Unit
from wuye.people.models import Residency, Resident
from wuye.staff.models import Role, StaffMember


def ids(qs):
    return set(qs.values_list("id", flat=True))


def test_company_admin_sees_whole_company_only(cast):
    actor = cast.actor("company_admin")
    assert ids(Company.objects.visible_to(actor)) == {cast.company.id}
    assert ids(Community.objects.visible_to(actor)) == {cast.community_x.id, cast.community_y.id}
    assert ids(House.objects.visible_to(actor)) == {
        cast.house_a.id,
        cast.house_b.id,
        cast.house_y.id,
    }
    assert cast.other_resident.id not in ids(Resident.objects.visible_to(actor))


def test_community_staff_see_only_their_communities(cast):
    actor = cast.actor("dispatcher")  # community X only
    assert ids(Community.objects.visible_to(actor)) == {cast.community_x.id}
    assert ids(House.objects.visible_to(actor)) == {cast.house_a.id, cast.house_b.id}
    assert ids(Building.objects.visible_to(actor)) == {cast.building_x1.id}
    assert ids(Unit.objects.visible_to(actor)) == {cast.unit_x1.id}
    assert ids(Resident.objects.visible_to(actor)) == {cast.resident_a.id, cast.resident_b.id}
    assert {a.community_id for a in CommonArea.objects.visible_to(actor)} == {cast.community_x.id}


def test_manager_of_y_sees_nothing_of_x(cast):
    actor = cast.actor("manager_y")
    assert ids(House.objects.visible_to(actor)) == {cast.house_y.id}
    assert ids(Resident.objects.visible_to(actor)) == set()


def test_field_staff_without_people_view_see_no_residents(cast):
    actor = cast.actor("technician")
    assert ids(House.objects.visible_to(actor)) == {cast.house_a.id, cast.house_b.id}
    assert ids(Resident.objects.visible_to(actor)) == set()
    assert ids(Residency.objects.visible_to(actor)) == set()


def test_resident_sees_own_house_and_household_only(cast):
    actor = cast.actor("resident_a")
    assert ids(House.objects.visible_to(actor)) == {cast.house_a.id}
    assert ids(Resident.objects.visible_to(actor)) == {cast.resident_a.id}
    assert ids(Community.objects.visible_to(actor)) == {cast.community_x.id}
    assert ids(Company.objects.visible_to(actor)) == {cast.company.id}
    assert ids(StaffMember.objects.visible_to(actor)) == set()
    assert ids(Role.objects.visible_to(actor)) == set()


def test_moved_out_resident_loses_access(cast):
    import datetime

    Residency.objects.filter(resident=cast.resident_a).update(move_out=datetime.date(2025, 1, 1))
    actor = cast.actor("resident_a")
    assert ids(House.objects.visible_to(actor)) == set()


def test_other_company_admin_sees_only_their_company(cast):
    actor = cast.actor("other_admin")
    assert ids(House.objects.visible_to(actor)) == {cast.other_house.id}
    assert ids(Resident.objects.visible_to(actor)) == {cast.other_resident.id}
    assert ids(Role.objects.visible_to(actor)) == set(
        Role.objects.filter(company=cast.other_company).values_list("id", flat=True)
    )


@pytest.mark.parametrize("name", ["nobody"])
def test_user_without_profile_sees_nothing(cast, name):
    actor = cast.actor(name)
    for model in (Company, Community, Building, Unit, House, CommonArea, Resident, StaffMember):
        assert not model.objects.visible_to(actor).exists(), model
