"""Emergencies (应急处理): reporting calls the playbook's responders and tells the
residents of the affected area (after commit, in bulk), the state machine with its
timeline, scoping of pages and API, and bad input that writes nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import make_house, make_resident, make_staff
from wuye.estates.models import Building, Unit
from wuye.facilities import services as fac
from wuye.facilities.models import AssetCategory
from wuye.incidents import services
from wuye.incidents.models import EventKind, Incident, IncidentEvent, Kind, Status
from wuye.notifications.models import Notification
from wuye.staff.models import Trade


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    """Run the after-commit callbacks (the notification task) of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def recipients(kind_prefix="incident.") -> set[str]:
    return set(
        Notification.objects.filter(kind__startswith=kind_prefix).values_list(
            "recipient__username", flat=True
        )
    )


def report(cast, who="dispatcher", **kwargs):
    kwargs.setdefault("community", cast.community_x)
    kwargs.setdefault("kind", Kind.WATER_OUTAGE)
    kwargs.setdefault("description", "2栋水管爆裂，全楼停水")
    return services.report_incident(actor=cast.actor(who), **kwargs)


def snapshot():
    return (
        Incident.objects.count(),
        IncidentEvent.objects.count(),
        Notification.objects.count(),
    )


@pytest.fixture
def second_building(cast):
    """Building 2 of X with resident 赵六 (house 0201)."""
    building = Building.objects.create(community=cast.community_x, name="2栋", sort_order=2)
    unit = Unit.objects.create(building=building, name="1单元")
    house = make_house(building, unit, "0201", floor=2)
    make_resident(cast.company, house, "赵六", "13800000003")
    return building


def elevator_technician(cast, name="lift_tech"):
    member = make_staff(cast.company, name, ["technician"], [cast.community_x])
    member.trades.set([Trade.objects.get(company=cast.company, code="elevator")])
    return member


# --- who is called ------------------------------------------------------------------------
def test_lift_entrapment_calls_elevator_technicians_manager_and_dispatcher(cast, run_commits):
    elevator_technician(cast)
    with run_commits():
        incident = report(cast, "guard", kind=Kind.LIFT_ENTRAPMENT, description="1栋2号梯困人")
    # the plain technician has no elevator trade; technician_y works in Y; residents are
    # not told of an entrapment by default.
    assert recipients() == {"lift_tech", "project_manager", "dispatcher"}
    event = incident.events.get(kind=EventKind.STAFF_NOTIFIED)
    assert event.payload["count"] == 3
    assert event.payload["roles"] == ["维修工", "项目经理", "客服/调度"]
    row = Notification.objects.get(recipient__username="lift_tech")
    assert row.url == reverse("incidents:detail", args=[incident.pk])
    assert "People trapped in a lift" in row.title and "翠湖花园" in row.title


def test_without_the_trade_every_technician_of_the_community_is_called(cast, run_commits):
    with run_commits():
        report(cast, kind=Kind.LIFT_ENTRAPMENT)
    assert recipients() == {"technician", "project_manager"}  # the dispatcher reported it


def test_fire_calls_guards_manager_and_company_admin_and_tells_residents(cast, run_commits):
    make_resident(cast.company, cast.house_y, "孙七", "13800000004")  # lives in Y
    with run_commits():
        incident = report(cast, "technician", kind=Kind.FIRE, description="地下车库烟雾报警")
    staff = {"guard", "project_manager", "company_admin"}
    assert recipients() == staff | {"13800000001", "13800000002"}
    told = incident.events.get(kind=EventKind.RESIDENTS_NOTIFIED)
    assert told.payload["count"] == 2
    notice = Notification.objects.get(recipient=cast.users["resident_a"])
    assert notice.url == ""  # residents have no incident page
    assert "do not use the lifts" in notice.body


def test_critical_severity_also_calls_the_company_admins(cast, run_commits):
    with run_commits():
        report(cast, kind=Kind.WATER_OUTAGE, severity="critical", tell_residents=False)
    assert "company_admin" in recipients()


def test_only_residents_of_the_chosen_buildings_are_told(cast, run_commits, second_building):
    with run_commits():
        incident = report(cast, buildings=[second_building], residents_message="预计18:00恢复供水")
    assert incident.scope == "buildings"
    residents = recipients() - set(cast.users)
    assert residents == {"13800000003"}
    assert not Notification.objects.filter(recipient=cast.users["resident_a"]).exists()
    notice = Notification.objects.get(recipient__username="13800000003")
    assert notice.body == "预计18:00恢复供水"
    assert "翠湖花园 2栋" in notice.title


def test_moved_out_residents_and_other_companies_hear_nothing(cast, run_commits):
    tie = cast.resident_b.residencies.get()
    tie.move_out = datetime.date(2025, 1, 1)
    tie.save()
    with run_commits():
        report(cast, kind=Kind.POWER_OUTAGE)
    heard = recipients()
    assert "13800000001" in heard
    assert "13800000002" not in heard and "13900000009" not in heard
    assert "other_admin" not in heard and "technician_y" not in heard


def test_a_staff_member_living_in_the_area_is_told_once(cast, run_commits):
    guard = cast.users["guard"]
    resident = make_resident(cast.company, cast.house_a, "保安住户", "13800000005")
    resident.user = guard
    resident.save()
    with run_commits():
        report(cast, kind=Kind.FIRE)
    assert Notification.objects.filter(recipient=guard).count() == 1


def test_notifications_wait_for_the_commit(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        report(cast)
    assert Notification.objects.count() == 0
    assert len(callbacks) == 1  # one delivery task for staff and residents together
    callbacks[0]()
    assert Notification.objects.filter(kind="incident.reported").count() == 4


# --- bad input writes nothing -----------------------------------------------------------
@pytest.mark.parametrize(
    "change, field",
    [
        (lambda c: {"description": "  "}, "description"),
        (lambda c: {"kind": "earthquake"}, "kind"),
        (lambda c: {"severity": "apocalyptic"}, "severity"),
        (lambda c: {"buildings": [Building.objects.get(community=c.community_y)]}, "buildings"),
        (lambda c: {"location": "x" * 201}, "location"),
        (lambda c: {"residents_message": "x" * 2001}, "residents_message"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    cast, django_capture_on_commit_callbacks, change, field
):
    before = snapshot()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError) as exc:
        report(cast, **change(cast))
    assert field in exc.value.message_dict
    assert snapshot() == before
    assert callbacks == []


def test_equipment_of_another_community_is_refused(cast):
    pump = fac.create_asset(
        actor=cast.actor("company_admin"),
        community=cast.community_y,
        category=AssetCategory.objects.get(company=cast.company, code="elevator"),
        name="Y 1号梯",
    )
    with pytest.raises(ValidationError) as exc:
        report(cast, kind=Kind.LIFT_ENTRAPMENT, asset=pump)
    assert "asset" in exc.value.message_dict
    assert Incident.objects.count() == 0


@pytest.mark.parametrize("who", ["resident_a", "nobody", "technician_y", "other_admin", "quality"])
def test_only_staff_of_the_community_with_the_permission_may_report(cast, who):
    with pytest.raises(PermissionDenied):
        report(cast, who)
    assert Incident.objects.count() == 0


# --- the state machine --------------------------------------------------------------------
def test_the_whole_life_with_its_timeline(cast, run_commits):
    with run_commits():
        incident = report(cast)
        services.respond_to_incident(
            actor=cast.actor("technician"), incident=incident, note="已关闭总阀"
        )
        services.post_update(
            actor=cast.actor("dispatcher"),
            incident=incident,
            note="预计18:00恢复",
            tell_residents=True,
        )
        services.resolve_incident(
            actor=cast.actor("project_manager"), incident=incident, note="更换管段，已恢复供水"
        )
        incident = services.close_incident(actor=cast.actor("dispatcher"), incident=incident)
    assert incident.status == Status.CLOSED
    assert incident.responded_at and incident.resolved_at and incident.closed_at
    kinds = list(incident.events.order_by("id").values_list("kind", "to_status"))
    assert kinds == [
        ("reported", ""),
        ("staff_notified", ""),
        ("residents_notified", ""),
        ("responding", "responding"),
        ("update", ""),
        ("residents_notified", ""),
        ("resolved", "resolved"),
        ("staff_notified", ""),
        ("residents_notified", ""),  # told before, so they hear the all-clear
        ("closed", "closed"),
    ]
    all_clear = Notification.objects.get(
        recipient=cast.users["resident_a"], kind="incident.resolved"
    )
    assert all_clear.body == "The water supply has been restored. Thank you for your patience."
    assert Notification.objects.filter(
        recipient=cast.users["resident_a"], kind="incident.update", body="预计18:00恢复"
    ).exists()


@pytest.mark.parametrize(
    "action, run",
    [
        ("close", lambda a, i: services.close_incident(actor=a, incident=i)),
        ("respond twice", None),
    ],
)
def test_moves_the_status_does_not_allow_change_nothing(cast, action, run):
    incident = report(cast, tell_residents=False)
    manager = cast.actor("project_manager")
    if run is None:
        services.respond_to_incident(actor=manager, incident=incident)
        run = lambda a, i: services.respond_to_incident(actor=a, incident=i)  # noqa: E731
    before = snapshot()
    with pytest.raises(services.InvalidTransition):
        run(manager, incident)
    assert snapshot() == before


def test_a_false_alarm_stands_everyone_down(cast, run_commits):
    with run_commits():
        incident = report(cast, "guard", kind=Kind.FIRE)
        incident = services.cancel_incident(
            actor=cast.actor("dispatcher"), incident=incident, reason="烟感误报"
        )
    assert incident.status == Status.CANCELLED and incident.closed_at
    assert Notification.objects.filter(
        recipient=cast.users["resident_a"], kind="incident.cancelled"
    ).exists()
    with pytest.raises(services.InvalidTransition):
        services.post_update(actor=cast.actor("dispatcher"), incident=incident, note="再看看")


def test_field_staff_respond_and_update_but_managers_end_it(cast):
    incident = report(cast)
    technician = cast.actor("technician")
    assert services.allowed_actions(technician, incident) == ["respond", "update"]
    with pytest.raises(PermissionDenied):
        services.resolve_incident(actor=technician, incident=incident, note="好了")
    with pytest.raises(PermissionDenied):
        services.post_update(actor=technician, incident=incident, note="x", tell_residents=True)
    assert services.allowed_actions(cast.actor("technician_y"), incident) == []
    manager = cast.actor("project_manager")
    assert services.allowed_actions(manager, incident) == ["respond", "resolve", "cancel", "update"]


def test_a_resolution_needs_a_note(cast):
    incident = report(cast)
    with pytest.raises(ValidationError) as exc:
        services.resolve_incident(actor=cast.actor("dispatcher"), incident=incident, note=" ")
    assert "note" in exc.value.message_dict
    incident.refresh_from_db()
    assert incident.status == Status.REPORTED


# --- console pages --------------------------------------------------------------------------
def test_the_list_shows_active_ones_first_and_only_in_scope(cast):
    done = report(cast, kind=Kind.LEAK)
    services.cancel_incident(actor=cast.actor("dispatcher"), incident=done, reason="误报")
    active = report(cast, kind=Kind.POWER_OUTAGE)
    in_y = report(cast, "manager_y", community=cast.community_y)
    body = cast.client("dispatcher").get(reverse("incidents:list")).content.decode()
    assert body.index(active.number) < body.index(done.number)
    assert in_y.number not in body
    filtered = cast.client("dispatcher").get(reverse("incidents:list"), {"status": "active"})
    assert done.number not in filtered.content.decode()
    assert (
        in_y.number in cast.client("company_admin").get(reverse("incidents:list")).content.decode()
    )


@pytest.mark.parametrize("who", ["manager_y", "other_admin", "resident_a", "quality"])
def test_others_do_not_reach_the_incident(cast, who):
    incident = report(cast)
    response = cast.client(who).get(reverse("incidents:detail", args=[incident.pk]))
    assert response.status_code in (403, 404)


def test_report_page_creates_and_shows_the_timeline(cast, run_commits, second_building):
    client = cast.client("dispatcher")
    page = client.get(reverse("incidents:report"), {"community": cast.community_x.pk})
    assert "2栋" in page.content.decode()  # the community's buildings to choose from
    with run_commits():
        response = client.post(
            reverse("incidents:report"),
            {
                "community": cast.community_x.pk,
                "kind": "water_outage",
                "severity": "major",
                "buildings": [second_building.pk],
                "description": "2栋停水",
                "residents": "auto",
            },
        )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("incidents:detail", args=[incident.pk])
    detail = client.get(response.url).content.decode()
    assert "Staff notified" in detail and "Residents notified" in detail
    assert Notification.objects.filter(recipient__username="13800000003").exists()


def test_report_page_names_a_wrong_equipment_code_and_writes_nothing(cast):
    response = cast.client("dispatcher").post(
        reverse("incidents:report"),
        {
            "community": cast.community_x.pk,
            "kind": "lift_entrapment",
            "severity": "major",
            "asset_code": "DT-9999",
            "description": "困人",
            "residents": "auto",
        },
    )
    assert response.status_code == 200
    assert "No equipment with this code in this community." in response.content.decode()
    assert Incident.objects.count() == 0


def test_field_staff_get_the_phone_pages(cast):
    client = cast.client("guard")
    page = client.get(reverse("incidents:report"))
    assert "mobile/base.html" in [t.name for t in page.templates]
    incident = report(cast)
    detail = client.get(reverse("incidents:detail", args=[incident.pk]))
    assert "incidents/mobile/detail.html" in [t.name for t in detail.templates]


def test_console_actions_and_their_errors(cast):
    incident = report(cast, tell_residents=False)
    client = cast.client("dispatcher")
    url = reverse("incidents:transition", args=[incident.pk, "resolve"])
    response = client.post(url, {"resolve-note": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post(url, {"resolve-note": "已恢复"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.RESOLVED
    response = client.post(url, {"resolve-note": "again"}, follow=True)
    assert "This emergency changed meanwhile" in response.content.decode()
    update = client.post(reverse("incidents:update", args=[incident.pk]), {"update-note": "复盘"})
    assert update.status_code == 302
    assert (
        cast.client("technician")
        .post(reverse("incidents:transition", args=[incident.pk, "close"]), {})
        .status_code
        == 403
    )
    assert (
        client.post(reverse("incidents:transition", args=[incident.pk, "explode"]), {}).status_code
        == 404
    )


# --- API ------------------------------------------------------------------------------------
def test_api_report_list_detail_and_transitions(cast, run_commits):
    client = cast.client("dispatcher")
    with run_commits():
        response = client.post(
            "/api/v1/incidents",
            {
                "community_id": cast.community_x.pk,
                "kind": "gas_leak",
                "description": "3楼燃气味",
                "building_ids": [cast.building_x1.pk],
            },
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["scope"] == "buildings" and body["building_ids"] == [cast.building_x1.pk]
    assert [e["kind"] for e in body["events"]] == [
        "reported",
        "staff_notified",
        "residents_notified",
    ]
    assert "resolve" in body["actions"]
    pk = body["id"]
    listed = client.get("/api/v1/incidents", {"active": True}).json()["results"]
    assert [row["id"] for row in listed] == [pk]
    conflict = client.post(
        f"/api/v1/incidents/{pk}/transitions", {"action": "close"}, content_type="application/json"
    )
    assert conflict.status_code == 409
    bad = client.post(
        f"/api/v1/incidents/{pk}/transitions",
        {"action": "resolve"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "note" in bad.json()["detail"]
    done = client.post(
        f"/api/v1/incidents/{pk}/transitions",
        {"action": "resolve", "note": "已关阀通风"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    for _attempt in range(2):  # a phone retrying on a flaky network posts once
        update = client.post(
            f"/api/v1/incidents/{pk}/updates",
            {"note": "燃气公司已检修"},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="update-1",
        )
        assert update.status_code == 201 and update.json()["kind"] == "update"
    events = client.get(f"/api/v1/incidents/{pk}").json()["events"]
    assert [e["note"] for e in events if e["kind"] == "update"] == ["燃气公司已检修"]


@pytest.mark.parametrize("who", ["manager_y", "other_admin", "resident_a"])
def test_api_others_get_nothing(cast, who):
    incident = report(cast)
    client = cast.client(who)
    assert client.get("/api/v1/incidents").json()["results"] == []
    assert client.get(f"/api/v1/incidents/{incident.pk}").status_code == 404
    response = client.post(
        f"/api/v1/incidents/{incident.pk}/transitions",
        {"action": "cancel", "note": "x"},
        content_type="application/json",
    )
    assert response.status_code == 404
    incident.refresh_from_db()
    assert incident.status == Status.REPORTED


@pytest.mark.parametrize("who", ["dispatcher", "company_admin"])
def test_api_refuses_a_building_of_another_community(cast, who):
    """The dispatcher of X does not see Y's building; the admin does, but it is not X's."""
    response = cast.client(who).post(
        "/api/v1/incidents",
        {
            "community_id": cast.community_x.pk,
            "kind": "water_outage",
            "description": "停水",
            "building_ids": [Building.objects.get(community=cast.community_y).pk],
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "building_ids" in response.json()["detail"]
    assert Incident.objects.count() == 0


def test_the_list_costs_the_same_however_many_rows(cast):
    client = cast.client("dispatcher")
    url = reverse("incidents:list")
    report(cast, tell_residents=False)
    client.get(url)  # session, actor and caches warm

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for _ in range(10):
        report(cast, kind=Kind.LEAK, tell_residents=False)
    assert queries() == few
