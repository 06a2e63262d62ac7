"""Console pages for staff, roles, shifts, the roster and duty status."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from wuye.accounts.models import User
from wuye.staff.forms import week_start
from wuye.staff.models import Role, RosterEntry, Shift, StaffMember, Trade
from wuye.staff.policy import PERMISSIONS

STAFF_VIEWERS = ["company_admin", "project_manager", "dispatcher", "quality"]
NO_STAFF_VIEW = ["technician", "finance", "resident_a", "nobody"]


def url(name, *args):
    return reverse(f"staff:{name}", args=args)


def member_post(cast, **overrides):
    data = {
        "name": "孙浩",
        "employee_no": "E1001",
        "mobile": "13700009999",
        "username": "sunhao",
        "password": "",
        "roles": [Role.objects.get(company=cast.company, code="technician").pk],
        "communities": [cast.community_x.pk],
        "trades": [Trade.objects.get(company=cast.company, code="elevator").pk],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def snapshot():
    return (
        StaffMember.objects.count(),
        User.objects.count(),
        list(Role.objects.order_by("id").values()),
        list(Shift.objects.order_by("id").values()),
        list(RosterEntry.objects.order_by("id").values()),
    )


# --- Members -------------------------------------------------------------------
@pytest.mark.parametrize("who", STAFF_VIEWERS)
def test_member_list(cast, who):
    response = cast.client(who).get(url("member_list"))
    assert response.status_code == 200
    names = {m.name for m in response.context["page"].items}
    assert {"technician", "dispatcher", "guard"} <= names
    assert "other_admin" not in names
    assert ("technician_y" in names) == (who in ("company_admin", "quality"))


@pytest.mark.parametrize("who", NO_STAFF_VIEW)
def test_staff_pages_forbidden_without_staff_view(cast, who):
    client = cast.client(who)
    for name in ("member_list", "role_list", "shift_list", "roster"):
        assert client.get(url(name)).status_code == 403
    assert client.get(url("member_detail", cast.staff["guard"].pk)).status_code == 403


def test_member_list_filters(cast):
    client = cast.client("company_admin")
    technician = Role.objects.get(company=cast.company, code="technician")
    elevator = Trade.objects.get(company=cast.company, code="elevator")
    cast.staff["technician"].trades.add(elevator)
    StaffMember.objects.filter(pk=cast.staff["guard"].pk).update(status="off_duty")

    def names(**params):
        return sorted(m.name for m in client.get(url("member_list"), params).context["page"].items)

    assert names(role=technician.pk) == ["technician", "technician_y"]
    assert names(role=technician.pk, community=cast.community_y.pk) == ["technician_y"]
    assert names(trade=elevator.pk) == ["technician"]
    assert names(status="off_duty") == ["guard"]
    other_role = Role.objects.get(company=cast.other_company, code="technician")
    response = client.get(url("member_list"), {"role": other_role.pk})
    assert response.context["page"] is None and "role" in response.context["form"].errors


def test_member_list_query_count(cast, django_assert_max_num_queries):
    client = cast.client("company_admin")
    with CaptureQueriesContext(connection) as few:
        client.get(url("member_list"))
    role = Role.objects.get(company=cast.company, code="guard")
    for i in range(40):
        user = User.objects.create(username=f"guard{i}")
        member = StaffMember.objects.create(
            company=cast.company, user=user, employee_no=f"G{i}", name=f"保安{i}"
        )
        member.roles.add(role)
        member.communities.add(cast.community_x)
    with CaptureQueriesContext(connection) as many:
        client.get(url("member_list"))
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_max_num_queries(15):
        client.get(url("member_list"), {"community": cast.community_x.pk})


def test_member_detail_and_scope(cast):
    tech = cast.staff["technician"]
    shift = Shift.objects.get(company=cast.company, name="早班")
    RosterEntry.objects.create(
        staff=tech, date=timezone.localdate(), shift=shift, community=cast.community_x
    )
    response = cast.client("dispatcher").get(url("member_detail", tech.pk))
    assert response.status_code == 200
    assert [e.shift.name for e in response.context["upcoming"]] == ["早班"]
    assert response.context["breadcrumbs"][-1] == ("technician", None)
    assert (
        cast.client("dispatcher")
        .get(url("member_detail", cast.staff["technician_y"].pk))
        .status_code
        == 404
    )
    assert cast.client("other_admin").get(url("member_detail", tech.pk)).status_code == 404


def test_member_create(cast):
    client = cast.client("project_manager")
    assert client.get(url("member_create")).status_code == 200
    response = client.post(url("member_create"), member_post(cast, password="Strong-pass-2026"))
    member = StaffMember.objects.get(employee_no="E1001")
    assert response.url == url("member_detail", member.pk)
    assert member.company_id == cast.company.id
    assert [r.code for r in member.roles.all()] == ["technician"]
    assert [c.pk for c in member.communities.all()] == [cast.community_x.pk]
    assert member.user.check_password("Strong-pass-2026")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"employee_no": "technician"}, "employee_no"),  # taken in the company
        ({"username": "dispatcher"}, "username"),
        ({"username": "has space"}, "username"),
        ({"mobile": "13800000001"}, "mobile"),  # a resident's login already uses it
        ({"mobile": "999"}, "mobile"),
        ({"roles": []}, "roles"),
        ({"roles": ["other"]}, "roles"),  # another company's role
        ({"communities": ["y"]}, "communities"),  # outside the manager's communities
        ({"communities": []}, "communities"),  # community-scoped role without communities
        ({"password": "123"}, "password"),
        ({"name": ""}, "name"),
    ],
)
def test_member_create_bad_input_writes_nothing(cast, overrides, field):
    ids = {
        "other": Role.objects.get(company=cast.other_company, code="technician").pk,
        "y": cast.community_y.pk,
    }
    overrides = {
        k: [ids.get(v, v) for v in value] if isinstance(value, list) else value
        for k, value in overrides.items()
    }
    before = snapshot()
    response = cast.client("project_manager").post(
        url("member_create"), member_post(cast, **overrides)
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert snapshot() == before


def test_member_create_needs_staff_manage(cast):
    before = snapshot()
    for who in ("dispatcher", "quality", "technician"):
        assert cast.client(who).post(url("member_create"), member_post(cast)).status_code == 403
    assert snapshot() == before


# --- Duty status ------------------------------------------------------------------
def test_duty_toggle_own_and_by_manager(cast):
    tech = cast.staff["technician"]
    response = cast.client("technician").post(url("duty_toggle", tech.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    tech.refresh_from_db()
    assert tech.status == "off_duty"
    assert 'id="duty-' in response.content.decode() and "<html" not in response.content.decode()
    response = cast.client("project_manager").post(url("duty_toggle", tech.pk))
    assert response.url == url("member_detail", tech.pk)
    tech.refresh_from_db()
    assert tech.status == "on_duty"


def test_duty_toggle_denied(cast):
    tech = cast.staff["technician"]
    assert cast.client("dispatcher").post(url("duty_toggle", tech.pk)).status_code == 403
    assert cast.client("manager_y").post(url("duty_toggle", tech.pk)).status_code == 404
    assert cast.client("other_admin").post(url("duty_toggle", tech.pk)).status_code == 404
    assert cast.client("project_manager").get(url("duty_toggle", tech.pk)).status_code == 405
    tech.refresh_from_db()
    assert tech.status == "on_duty"


# --- Roles ---------------------------------------------------------------------------
def test_role_list_and_edit(cast):
    response = cast.client("dispatcher").get(url("role_list"))
    assert response.status_code == 200
    roles = {r.code: r for r in response.context["roles"]}
    assert roles["technician"].member_count == 2
    assert PERMISSIONS["people.view"] in roles["dispatcher"].permission_labels
    assert not response.context["can_edit"]

    role = Role.objects.get(company=cast.company, code="quality")
    client = cast.client("company_admin")
    response = client.get(url("role_edit", role.pk))
    assert response.status_code == 200
    assert (
        'value="people.view_sensitive"' in response.content.decode()
    )  # one checkbox per permission
    response = client.post(
        url("role_edit", role.pk),
        {"name": "品质督导", "permissions": ["estates.view", "staff.view"]},
    )
    assert response.url == url("role_list")
    role.refresh_from_db()
    assert (role.name, role.company_wide, role.permissions) == (
        "品质督导",
        False,
        ["estates.view", "staff.view"],
    )


def test_role_edit_bad_input_and_denials(cast):
    role = Role.objects.get(company=cast.company, code="technician")
    before = snapshot()
    client = cast.client("company_admin")
    response = client.post(
        url("role_edit", role.pk), {"name": "维修", "permissions": ["root.everything"]}
    )
    assert "permissions" in response.context["form"].errors
    response = client.post(url("role_edit", role.pk), {"name": ""})
    assert "name" in response.context["form"].errors
    # A community-scoped manager must not widen roles; others cannot manage at all.
    data = {"name": "维修", "company_wide": "on", "permissions": ["staff.manage"]}
    assert cast.client("project_manager").post(url("role_edit", role.pk), data).status_code == 403
    assert cast.client("dispatcher").post(url("role_edit", role.pk), data).status_code == 403
    assert cast.client("other_admin").post(url("role_edit", role.pk), data).status_code == 404
    assert snapshot() == before


# --- Shifts -----------------------------------------------------------------------------
def test_shift_list_and_create(cast):
    response = cast.client("dispatcher").get(url("shift_list"))
    assert [s.name for s in response.context["shifts"]] == ["夜班", "早班", "常白班", "中班"]
    client = cast.client("project_manager")
    response = client.post(
        url("shift_create"),
        {"name": "24小时班", "start_time": "08:00", "end_time": "08:00", "color": "#0f766e"},
    )
    assert response.url == url("shift_list")
    shift = Shift.objects.get(company=cast.company, name="24小时班")
    assert shift.crosses_midnight


def test_shift_create_bad_input_and_denials(cast):
    client = cast.client("project_manager")
    before = snapshot()
    for data, field in (
        ({"name": "早班", "start_time": "07:00", "end_time": "15:00", "color": "#16a34a"}, "name"),
        (
            {"name": "午班", "start_time": "25:00", "end_time": "15:00", "color": "#16a34a"},
            "start_time",
        ),
        ({"name": "午班", "start_time": "11:00", "end_time": "", "color": "#16a34a"}, "end_time"),
        ({"name": "午班", "start_time": "11:00", "end_time": "15:00", "color": "red"}, "color"),
    ):
        response = client.post(url("shift_create"), data)
        assert field in response.context["form"].errors, data
    data = {"name": "午班", "start_time": "11:00", "end_time": "15:00", "color": "#16a34a"}
    assert cast.client("dispatcher").post(url("shift_create"), data).status_code == 403
    assert snapshot() == before


# --- Roster -----------------------------------------------------------------------------
def test_roster_week_grid(cast):
    shift = Shift.objects.get(company=cast.company, name="早班")
    monday = week_start(timezone.localdate())
    RosterEntry.objects.create(
        staff=cast.staff["guard"],
        date=monday + datetime.timedelta(days=2),
        shift=shift,
        community=cast.community_x,
    )
    response = cast.client("dispatcher").get(url("roster"), {"community": cast.community_x.pk})
    assert response.status_code == 200
    assert response.context["days"][0] == monday and len(response.context["days"]) == 7
    rows = {member.name: cells for member, cells in response.context["rows"]}
    assert "technician_y" not in rows and "guard" in rows
    assert [e.shift.name for e in rows["guard"][2]["entries"]] == ["早班"]
    assert all(not cell["entries"] for cell in rows["guard"][:2])
    assert not rows["guard"][0]["can_manage"]  # dispatchers read the roster only
    next_week = (monday + datetime.timedelta(days=7)).isoformat()
    assert f"week={next_week}" in response.context["next_url"]
    response = cast.client("dispatcher").get(
        url("roster"), {"community": cast.community_x.pk, "week": next_week}
    )
    assert response.context["days"][0].isoformat() == next_week
    assert not any(cell["entries"] for _m, cells in response.context["rows"] for cell in cells)


def test_roster_of_other_scope_is_a_form_error(cast):
    for who, community in (("dispatcher", "community_y"), ("other_admin", "community_x")):
        response = cast.client(who).get(url("roster"), {"community": getattr(cast, community).pk})
        assert response.status_code == 200
        assert "community" in response.context["form"].errors
        assert "rows" not in response.context


def test_roster_assign_and_remove_by_htmx(cast):
    client = cast.client("project_manager")
    shift = Shift.objects.get(company=cast.company, name="夜班")
    day = week_start(timezone.localdate())
    data = {
        "staff": cast.staff["guard"].pk,
        "community": cast.community_x.pk,
        "date": day.isoformat(),
        "shift": shift.pk,
    }
    response = client.post(url("roster_assign"), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<td") and "夜班" in body
    entry = RosterEntry.objects.get(staff=cast.staff["guard"], date=day, shift=shift)
    # The same shift twice: the cell reports it and nothing is added.
    response = client.post(url("roster_assign"), data, HTTP_HX_REQUEST="true")
    assert 'class="error"' in response.content.decode()
    assert RosterEntry.objects.filter(staff=cast.staff["guard"]).count() == 1
    response = client.post(url("roster_remove", entry.pk), HTTP_HX_REQUEST="true")
    assert (
        response.status_code == 200 and "夜班" not in response.content.decode().split("<select")[0]
    )
    assert not RosterEntry.objects.filter(pk=entry.pk).exists()


def test_roster_assign_bad_input_and_denials(cast):
    shift = Shift.objects.get(company=cast.company, name="夜班")
    other_shift = Shift.objects.get(company=cast.other_company, name="夜班")
    day = timezone.localdate().isoformat()
    good = {
        "staff": cast.staff["guard"].pk,
        "community": cast.community_x.pk,
        "date": day,
        "shift": shift.pk,
    }
    before = snapshot()
    client = cast.client("project_manager")
    for bad in (
        {"shift": other_shift.pk},
        {"staff": cast.staff["other_admin"].pk},
        {"community": cast.community_y.pk},
        {"date": "2025-13-40"},
        {"shift": ""},
    ):
        assert client.post(url("roster_assign"), good | bad).status_code == 400
    # A member who does not work in the community: refused by the service.
    admin = cast.client("company_admin")
    stranger = good | {"staff": cast.staff["technician_y"].pk}
    assert admin.post(url("roster_assign"), stranger).status_code == 400
    response = admin.post(url("roster_assign"), stranger, HTTP_HX_REQUEST="true")
    assert 'class="error"' in response.content.decode()
    assert cast.client("dispatcher").post(url("roster_assign"), good).status_code == 403
    assert snapshot() == before


def test_roster_remove_denials(cast):
    shift = Shift.objects.get(company=cast.company, name="早班")
    entry = RosterEntry.objects.create(
        staff=cast.staff["guard"],
        date=timezone.localdate(),
        shift=shift,
        community=cast.community_x,
    )
    assert cast.client("dispatcher").post(url("roster_remove", entry.pk)).status_code == 403
    assert cast.client("manager_y").post(url("roster_remove", entry.pk)).status_code == 404
    assert cast.client("other_admin").post(url("roster_remove", entry.pk)).status_code == 404
    assert RosterEntry.objects.filter(pk=entry.pk).exists()
    response = cast.client("project_manager").post(url("roster_remove", entry.pk))
    assert response.status_code == 302
    assert not RosterEntry.objects.filter(pk=entry.pk).exists()
