"""Service functions: permission, scope and validation rules of the registry."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from wuye.accounts import services as accounts
from wuye.accounts.models import ApiToken, SmsCode
from wuye.estates import services as estates
from wuye.estates.models import Building, House
from wuye.people import services as people
from wuye.people.models import Residency, Resident
from wuye.staff import services as staff
from wuye.staff.models import Role, RosterEntry, Shift
from wuye.staff.selectors import on_shift


def test_create_house_copies_ancestry_and_validates(cast):
    actor = cast.actor("project_manager")
    house = estates.create_house(
        actor=actor,
        building=cast.building_x1,
        unit=cast.unit_x1,
        number="0201",
        floor=2,
        built_area=Decimal("120.50"),
        indoor_area=Decimal("100.00"),
    )
    assert (house.company_id, house.community_id) == (cast.company.id, cast.community_x.id)

    with pytest.raises(ValidationError) as exc:
        estates.create_house(
            actor=actor,
            building=cast.building_x1,
            unit=cast.unit_x1,
            number="0201",
            floor=2,
            built_area=Decimal("90"),
        )
    assert "__all__" in exc.value.message_dict  # duplicate number in the unit

    for bad in ({"built_area": Decimal("-1")}, {"built_area": Decimal("1000000")}):
        with pytest.raises(ValidationError) as exc:
            estates.create_house(
                actor=actor,
                building=cast.building_x1,
                unit=cast.unit_x1,
                number="0999",
                floor=9,
                **bad,
            )
        assert "built_area" in exc.value.message_dict
    with pytest.raises(ValidationError):
        estates.create_house(
            actor=actor,
            building=cast.building_x1,
            number="0998",
            floor=9,
            built_area=Decimal("50"),
            indoor_area=Decimal("60"),
        )
    assert House.objects.filter(number__in=["0999", "0998"]).count() == 0


def test_registry_writes_refused_outside_scope(cast):
    before = House.objects.count()
    with pytest.raises(PermissionDenied):  # manager of Y writing into X
        estates.create_house(
            actor=cast.actor("manager_y"),
            building=cast.building_x1,
            number="0301",
            floor=3,
            built_area=Decimal("80"),
        )
    with pytest.raises(PermissionDenied):  # dispatcher lacks estates.manage
        estates.create_building(
            actor=cast.actor("dispatcher"), community=cast.community_x, name="9栋"
        )
    with pytest.raises(PermissionDenied):  # other company's admin
        estates.create_unit(actor=cast.actor("other_admin"), building=cast.building_x1, name="9")
    with pytest.raises(ValidationError):  # a unit of another building
        other_building = Building.objects.get(community=cast.community_y)
        estates.create_house(
            actor=cast.actor("company_admin"),
            building=other_building,
            unit=cast.unit_x1,
            number="0301",
            floor=3,
            built_area=Decimal("80"),
        )
    assert House.objects.count() == before


def test_update_house_rejects_structural_fields(cast):
    actor = cast.actor("project_manager")
    estates.update_house(actor=actor, house=cast.house_a, occupancy=House.Occupancy.RENTED)
    cast.house_a.refresh_from_db()
    assert cast.house_a.occupancy == House.Occupancy.RENTED
    with pytest.raises(ValidationError):
        estates.update_house(actor=actor, house=cast.house_a, community_id=cast.community_y.id)


def test_resident_lifecycle_and_login_link(cast):
    actor = cast.actor("dispatcher")
    resident = people.create_resident(actor=actor, name="赵磊", mobile="13700000007")
    assert resident.user.mobile == "13700000007"
    assert not resident.user.has_usable_password()
    residency = people.move_in(
        actor=actor, resident=resident, house=cast.house_a, relation="tenant"
    )
    with pytest.raises(ValidationError):
        people.move_in(actor=actor, resident=resident, house=cast.house_a, relation="tenant")
    people.move_out(actor=actor, residency=residency, on=datetime.date.today())
    with pytest.raises(ValidationError):
        people.move_out(actor=actor, residency=residency)
    assert Residency.objects.filter(resident=resident).count() == 1  # history kept

    with pytest.raises(ValidationError) as exc:
        people.create_resident(actor=actor, name="重复", mobile="13700000007")
    assert "__all__" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        people.create_resident(actor=actor, name="坏号码", mobile="12345")
    assert "mobile" in exc.value.message_dict


def test_move_in_refuses_other_company_and_other_community(cast):
    with pytest.raises(PermissionDenied):
        people.move_in(
            actor=cast.actor("dispatcher"),
            resident=cast.resident_a,
            house=cast.house_y,
            relation="owner",
        )
    with pytest.raises(ValidationError):
        people.move_in(
            actor=cast.actor("company_admin"),
            resident=cast.other_resident,
            house=cast.house_a,
            relation="owner",
        )
    assert not Residency.objects.filter(resident=cast.other_resident, house=cast.house_a).exists()


def test_field_staff_cannot_create_residents(cast):
    with pytest.raises(PermissionDenied):
        people.create_resident(actor=cast.actor("technician"), name="x", mobile="13700000008")
    assert not Resident.objects.filter(mobile="13700000008").exists()


def test_staff_creation_roster_and_on_shift(cast):
    actor = cast.actor("project_manager")
    tech_role = Role.objects.get(company=cast.company, code="technician")
    member = staff.create_staff_member(
        actor=actor,
        username="wang.tech",
        name="王师傅",
        employee_no="T100",
        password="s3cret-pass",
        roles=[tech_role],
        communities=[cast.community_x],
    )
    with pytest.raises(ValidationError):
        staff.create_staff_member(
            actor=actor,
            username="wang.tech",
            name="重名",
            employee_no="T101",
            roles=[tech_role],
        )
    with pytest.raises(PermissionDenied):  # community Y is outside the manager's scope
        staff.create_staff_member(
            actor=actor,
            username="li.tech",
            name="李师傅",
            employee_no="T102",
            roles=[tech_role],
            communities=[cast.community_y],
        )

    night = Shift.objects.get(company=cast.company, name="中班")  # 16:00–24:00
    day = datetime.date(2026, 11, 27)
    staff.assign_shift(
        actor=actor, member=member, date=day, shift=night, community=cast.community_x
    )
    with pytest.raises(ValidationError):
        staff.assign_shift(
            actor=actor, member=member, date=day, shift=night, community=cast.community_x
        )
    with pytest.raises(ValidationError):  # not a member of Y
        staff.assign_shift(
            actor=cast.actor("company_admin"),
            member=member,
            date=day,
            shift=night,
            community=cast.community_y,
        )
    assert RosterEntry.objects.filter(staff=member).count() == 1

    tz = datetime.timezone(datetime.timedelta(hours=8))
    at = datetime.datetime(2026, 11, 27, 20, 0, tzinfo=tz)
    assert member in on_shift(community_id=cast.community_x.id, at=at)
    morning = datetime.datetime(2026, 11, 27, 9, 0, tzinfo=tz)
    assert member not in on_shift(community_id=cast.community_x.id, at=morning)
    staff.set_duty_status(actor=actor, member=member, status="off_duty")
    assert member not in on_shift(community_id=cast.community_x.id, at=at)


def test_overnight_shift_counts_after_midnight(cast):
    actor = cast.actor("project_manager")
    member = cast.staff["guard"]
    overnight = Shift.objects.create(
        company=cast.company,
        name="大夜班",
        start_time=datetime.time(22),
        end_time=datetime.time(6),
    )
    staff.assign_shift(
        actor=actor,
        member=member,
        date=datetime.date(2026, 11, 27),
        shift=overnight,
        community=cast.community_x,
    )
    tz = datetime.timezone(datetime.timedelta(hours=8))
    assert member in on_shift(
        community_id=cast.community_x.id, at=datetime.datetime(2026, 11, 28, 3, tzinfo=tz)
    )
    assert member not in on_shift(
        community_id=cast.community_x.id, at=datetime.datetime(2026, 11, 28, 7, tzinfo=tz)
    )


def test_api_token_secret_is_hashed_and_revocable(cast):
    actor = cast.actor("dispatcher")
    token, secret = accounts.create_api_token(actor=actor, name="小程序")
    assert secret.startswith("wy_") and secret not in token.key_hash
    assert accounts.user_for_token(secret) == cast.users["dispatcher"]
    accounts.revoke_api_token(actor=actor, token=token)
    assert accounts.user_for_token(secret) is None
    assert accounts.user_for_token("wy_not-a-token") is None
    with pytest.raises(ValidationError):
        accounts.create_api_token(actor=actor, name="  ")
    assert ApiToken.objects.filter(user=cast.users["dispatcher"]).count() == 1


def test_sms_code_login_limits_attempts(cast, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "wuye.notifications.providers.LoggingSmsProvider.send",
        lambda self, mobile, message: sent.append((mobile, message.text)),
    )
    accounts.send_login_code(mobile="13800000001")
    accounts.send_login_code(mobile="13000000000")  # unknown: nothing sent, no error
    assert len(sent) == 1
    code = re.search(r"\d{6}", sent[0][1]).group()
    for _ in range(5):
        wrong = "000000" if code != "000000" else "111111"
        assert accounts.verify_login_code(mobile="13800000001", code=wrong) is None
    assert accounts.verify_login_code(mobile="13800000001", code=code) is None  # locked
    accounts.send_login_code(mobile="13800000001")
    code = re.search(r"\d{6}", sent[-1][1]).group()
    assert accounts.verify_login_code(mobile="13800000001", code=code) == cast.users["resident_a"]
    assert accounts.verify_login_code(mobile="13800000001", code=code) is None  # single use
    assert SmsCode.objects.filter(mobile="13800000001").count() == 2
