"""/api/v1 staff, roles, trades, shifts, roster and the on-duty toggle."""

import pytest
from api_helpers import get, ids, post, results, send

from wuye.accounts.models import User
from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade


def test_staff_list_scoping(cast):
    x_staff = {m.id for n, m in cast.staff.items() if n not in ("technician_y", "manager_y")}
    x_staff.discard(cast.staff["other_admin"].id)
    admin = ids(get(cast.client("company_admin"), "/staff"))
    assert admin == x_staff | {cast.staff["technician_y"].id, cast.staff["manager_y"].id}
    # The dispatcher (community X) sees colleagues of X only.
    assert ids(get(cast.client("dispatcher"), "/staff")) == x_staff
    assert ids(get(cast.client("other_admin"), "/staff")) == {cast.staff["other_admin"].id}
    # A technician has no staff.view: only themself.
    assert ids(get(cast.client("technician"), "/staff")) == {cast.staff["technician"].id}
    assert ids(get(cast.client("resident_a"), "/staff")) == set()
    tech_y = cast.staff["technician_y"].id
    assert get(cast.client("dispatcher"), f"/staff/{tech_y}").status_code == 404
    body = get(cast.client("company_admin"), f"/staff/{tech_y}").json()
    assert body["roles"][0]["code"] == "technician"
    assert body["community_ids"] == [cast.community_y.id]


def test_staff_filters(cast):
    client = cast.client("company_admin")
    techs = {cast.staff["technician"].id, cast.staff["technician_y"].id}
    assert ids(get(client, "/staff", {"role": "technician"})) == techs
    assert ids(get(client, "/staff", {"community": cast.community_y.id})) == {
        cast.staff["technician_y"].id,
        cast.staff["manager_y"].id,
    }
    assert ids(get(client, "/staff", {"q": "technician_y"})) == {cast.staff["technician_y"].id}
    cast.staff["technician"].trades.set(Trade.objects.filter(code="elevator"))
    assert ids(get(client, "/staff", {"trade": "elevator"})) == {cast.staff["technician"].id}
    assert ids(get(client, "/staff", {"status": "off_duty"})) == set()


def test_master_data_lists_are_per_company(cast):
    roles = ids(get(cast.client("technician"), "/roles"))
    assert roles == set(Role.objects.filter(company=cast.company).values_list("id", flat=True))
    assert ids(get(cast.client("other_admin"), "/trades")) == set(
        Trade.objects.filter(company=cast.other_company).values_list("id", flat=True)
    )
    assert len(results(get(cast.client("dispatcher"), "/shifts"))) == 4
    assert ids(get(cast.client("resident_a"), "/shifts")) == set()
    other_role = Role.objects.filter(company=cast.other_company).first()
    assert get(cast.client("company_admin"), f"/roles/{other_role.id}").status_code == 404


def test_create_staff_member(cast):
    client = cast.client("company_admin")
    role = Role.objects.get(company=cast.company, code="technician")
    trade = Trade.objects.get(company=cast.company, code="pipes")
    data = {
        "username": "new_tech",
        "name": "孙强",
        "employee_no": "T-100",
        "mobile": "13511112222",
        "role_ids": [role.id],
        "community_ids": [cast.community_y.id],
        "trade_ids": [trade.id],
        "password": "a-long-password-1",
    }
    response = post(client, "/staff", data)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["community_ids"] == [cast.community_y.id] and body["trade_ids"] == [trade.id]
    assert User.objects.get(username="new_tech").check_password("a-long-password-1")


@pytest.mark.parametrize(
    ("who", "change", "status", "field"),
    [
        ("dispatcher", {}, 403, None),  # no staff.manage
        ("company_admin", {"role_ids": []}, 400, "roles"),
        ("company_admin", {"username": "dispatcher"}, 400, "username"),  # taken
        ("company_admin", {"community_ids": ["other"]}, 422, None),
        ("company_admin", {"mobile": "123"}, 400, "mobile"),
        ("company_admin", {"role_ids": "all"}, 422, None),
        ("company_admin", {"role_ids": [10**9]}, 400, "role_ids"),
        ("project_manager", {"community_ids": ["y"]}, 400, "community_ids"),  # not own scope
        ("other_admin", {}, 400, "role_ids"),  # company A's role
    ],
)
def test_create_staff_member_refusals(cast, who, change, status, field):
    role = Role.objects.get(company=cast.company, code="technician")
    y = cast.community_y.id
    data = {
        "username": "new_tech",
        "name": "孙强",
        "employee_no": "T-100",
        "role_ids": [role.id],
        "community_ids": [cast.community_x.id],
        **change,
    }
    if data["community_ids"] == ["y"]:
        data["community_ids"] = [y]
    before = StaffMember.objects.count(), User.objects.count()
    response = post(cast.client(who), "/staff", data)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["detail"]
    assert (StaffMember.objects.count(), User.objects.count()) == before


def test_duty_toggle_own_and_others(cast):
    tech = cast.staff["technician"]
    response = post(cast.client("technician"), f"/staff/{tech.id}/duty", {"status": "off_duty"})
    assert response.status_code == 200 and response.json()["status"] == "off_duty"
    tech.refresh_from_db()
    assert tech.status == "off_duty"
    # A colleague without staff.manage may not switch someone else.
    response = post(cast.client("dispatcher"), f"/staff/{tech.id}/duty", {"status": "on_duty"})
    assert response.status_code == 403
    # Another community's manager cannot even see them.
    response = post(cast.client("manager_y"), f"/staff/{tech.id}/duty", {"status": "on_duty"})
    assert response.status_code == 404
    response = post(cast.client("technician"), f"/staff/{tech.id}/duty", {"status": "asleep"})
    assert response.status_code == 422
    tech.refresh_from_db()
    assert tech.status == "off_duty"
    response = post(cast.client("project_manager"), f"/staff/{tech.id}/duty", {"status": "on_duty"})
    assert response.status_code == 200
    tech.refresh_from_db()
    assert tech.status == "on_duty"


def test_roster_create_list_delete(cast):
    client = cast.client("project_manager")  # community X, staff.manage
    shift = Shift.objects.get(company=cast.company, name="早班")
    tech = cast.staff["technician"]
    data = {
        "staff_id": tech.id,
        "date": "2026-03-02",
        "shift_id": shift.id,
        "community_id": cast.community_x.id,
    }
    response = post(client, "/roster", data)
    assert response.status_code == 201, response.content
    entry_id = response.json()["id"]
    assert response.json()["shift_name"] == "早班"
    assert post(client, "/roster", data).status_code == 400  # already on this shift
    listed = get(client, "/roster", {"date_from": "2026-03-01", "date_to": "2026-03-31"})
    assert ids(listed) == {entry_id}
    assert ids(get(client, "/roster", {"date_from": "2026-04-01"})) == set()
    assert ids(get(cast.client("manager_y"), "/roster")) == set()
    assert get(cast.client("other_admin"), f"/roster/{entry_id}").status_code == 404
    assert send(cast.client("dispatcher"), "delete", f"/roster/{entry_id}").status_code == 403
    assert send(cast.client("manager_y"), "delete", f"/roster/{entry_id}").status_code == 404
    assert RosterEntry.objects.filter(pk=entry_id).exists()
    assert send(client, "delete", f"/roster/{entry_id}").status_code == 204
    assert not RosterEntry.objects.filter(pk=entry_id).exists()


def test_roster_refusals_write_nothing(cast):
    shift = Shift.objects.get(company=cast.company, name="早班")
    other_shift = Shift.objects.filter(company=cast.other_company).first()
    tech, tech_y = cast.staff["technician"], cast.staff["technician_y"]
    base = {"date": "2026-03-02", "shift_id": shift.id, "community_id": cast.community_x.id}
    cases = [
        ("project_manager", {**base, "staff_id": tech_y.id}, 400),  # not visible to X manager
        ("project_manager", {**base, "staff_id": tech.id, "shift_id": other_shift.id}, 400),
        ("company_admin", {**base, "staff_id": tech_y.id}, 400),  # does not work in X
        ("dispatcher", {**base, "staff_id": tech.id}, 403),
        ("project_manager", {**base, "staff_id": tech.id, "date": "2026-02-30"}, 422),
    ]
    for who, data, status in cases:
        response = post(cast.client(who), "/roster", data)
        assert response.status_code == status, (who, data, response.content)
    assert RosterEntry.objects.count() == 0


def test_shift_create_and_role_update(cast):
    client = cast.client("company_admin")
    data = {"name": "夜巡", "start_time": "22:00", "end_time": "06:00"}
    response = post(client, "/shifts", data)
    assert response.status_code == 201, response.content
    assert response.json()["crosses_midnight"] is True
    assert post(client, "/shifts", data).status_code == 400  # name taken
    assert Shift.objects.filter(company=cast.company, name="夜巡").count() == 1
    assert post(client, "/shifts", {**data, "start_time": "25:00"}).status_code == 422
    role = Role.objects.get(company=cast.company, code="cleaner")
    body = {"name": "保洁员", "company_wide": False, "permissions": ["estates.view", "staff.view"]}
    response = send(client, "put", f"/roles/{role.id}", body)
    assert response.status_code == 200, response.content
    role.refresh_from_db()
    assert role.name == "保洁员" and role.permissions == ["estates.view", "staff.view"]
    bad = {**body, "permissions": ["root"]}
    assert send(client, "put", f"/roles/{role.id}", bad).status_code == 400
    # A community-scoped manager may not widen roles.
    response = send(cast.client("project_manager"), "put", f"/roles/{role.id}", body)
    assert response.status_code == 403
    role.refresh_from_db()
    assert role.permissions == ["estates.view", "staff.view"]
