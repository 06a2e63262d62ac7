"""/api/v1/facilities: a whole round from a phone (scan → answers → finish) with a bearer
token, the work order an abnormal answer opens, all-or-nothing answers naming the item,
one message for unknown and foreign codes, acceptance, the ledger and certificates,
plans for overseers only, and scoping (own tasks, other communities and companies,
residents)."""

import datetime
import io

import pytest
from api_helpers import bearer_client, get, ids, post, results
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from tests.facility_helpers import make_pump_round
from wuye.facilities import rounds
from wuye.facilities import services as fac
from wuye.facilities.models import (
    Answer,
    Asset,
    AssetCategory,
    Certificate,
    Checkpoint,
    Downtime,
    Task,
    Visit,
)
from wuye.workorders.models import WorkOrder

CST = datetime.timezone(datetime.timedelta(hours=8))
DAY = datetime.date(2026, 11, 30)
NOT_OURS = {"code": ["This QR code is not one of your community's."]}


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(datetime.datetime(2026, 11, 30, 9, 30, tzinfo=CST), tick=False)
    return time_machine


@pytest.fixture
def pump_round(cast, frozen):
    """The technician's pump-room inspection today 09:00–11:00 at pump SB-0001."""
    return make_pump_round(cast, DAY)


@pytest.fixture
def tech(cast):
    return bearer_client(cast.users["technician"])


def scan(client, pump_round, **extra):
    return post(client, "/facilities/scan", {"code": pump_round["pump"].qr_token}, **extra)


def answer(client, visit_id, answers, photos=None):
    body = {"answers": {str(k): v for k, v in answers.items()}}
    if photos is not None:
        body["photos"] = {str(k): v for k, v in photos.items()}
    return post(client, f"/facilities/visits/{visit_id}/answers", body)


def normal(pump_round):
    return {pump_round["pressure"].id: "0.45 MPa", pump_round["noise"].id: True}


def done_visit(cast, pump_round) -> Visit:
    """Checked in and answered through the services."""
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    rounds.record_answers(actor=me, visit=visit, answers=normal(pump_round))
    return visit


# --- a round from the phone -------------------------------------------------------------
def test_a_round_by_bearer_token_scan_answers_finish(cast, pump_round, tech):
    task = pump_round["task"]
    listed = results(get(tech, "/facilities/tasks"))
    assert [(t["id"], t["status"], t["stop_count"], t["visited_count"]) for t in listed] == [
        (task.id, "pending", 1, 0)
    ]
    detail = get(tech, f"/facilities/tasks/{task.id}").json()
    assert [(s["name"], s["visit"]) for s in detail["stops"]] == [("SB-0001 1号生活水泵", None)]
    pressure = detail["items"][0]
    assert pressure == {
        "id": pump_round["pressure"].id,
        "position": 1,
        "label": "出水压力",
        "type": "number",
        "unit": "MPa",
        "min_value": "0.300",
        "max_value": "0.600",
        "choices": [],
        "abnormal_choices": [],
        "required": True,
        "photo_required": False,
        "creates_order": True,
    }
    assert detail["items"][1]["type"] == "ok_abnormal"

    label_link = f"https://wuye.example.com/q/{pump_round['pump'].qr_token}/"
    scanned = post(
        tech,
        "/facilities/scan",
        {"code": label_link, "latitude": 30.274084, "longitude": 120.15507},
        **{"Idempotency-Key": "scan-1"},
    )
    assert scanned.status_code == 201, scanned.content
    visit = scanned.json()
    assert visit["task_id"] == task.id and visit["timing"] == "on_time"
    assert visit["stop"]["asset_id"] == pump_round["pump"].id
    assert [i["label"] for i in visit["items"]] == ["出水压力", "运行声音"]
    assert visit["answers"] == [] and visit["latitude"] == "30.274084"
    replay = post(tech, "/facilities/scan", {"code": label_link}, **{"Idempotency-Key": "scan-1"})
    assert replay.status_code == 422  # the same key with another body
    again = post(
        tech,
        "/facilities/scan",
        {"code": label_link, "latitude": 30.274084, "longitude": 120.15507},
        **{"Idempotency-Key": "scan-1"},
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert Visit.objects.count() == 1

    answered = answer(tech, visit["id"], normal(pump_round))
    assert answered.status_code == 200, answered.content
    assert [
        (a["label"], a["value"], a["is_abnormal"], a["work_order_id"])
        for a in answered.json()["answers"]
    ] == [("出水压力", "0.450", False, None), ("运行声音", True, False, None)]

    stops = get(tech, f"/facilities/tasks/{task.id}").json()["stops"]
    assert stops[0]["visit"]["answered"] is True and stops[0]["visit"]["id"] == visit["id"]
    finished = post(tech, f"/facilities/tasks/{task.id}/finish")
    assert finished.status_code == 200, finished.content
    assert finished.json()["status"] == "done" and finished.json()["visited_count"] == 1
    assert not WorkOrder.objects.exists()


def upload_photo(client) -> int:
    buffer = io.BytesIO()
    Image.effect_noise((320, 240), 60).convert("RGB").save(buffer, "JPEG")
    upload = SimpleUploadedFile("leak.jpg", buffer.getvalue(), content_type="image/jpeg")
    response = client.post("/api/v1/photos", {"file": upload})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_an_abnormal_answer_returns_the_work_order_it_opened(cast, pump_round, tech):
    photo_id = upload_photo(tech)
    visit = scan(tech, pump_round).json()
    pressure, noise = pump_round["pressure"].id, pump_round["noise"].id
    response = answer(tech, visit["id"], {pressure: "0.2", noise: "异常"}, {pressure: [photo_id]})
    assert response.status_code == 200, response.content
    by_item = {a["item_id"]: a for a in response.json()["answers"]}
    order = WorkOrder.objects.get()
    assert by_item[pressure]["is_abnormal"] is True
    assert by_item[pressure]["work_order_id"] == order.id
    assert by_item[pressure]["work_order_number"] == order.number
    assert [p["id"] for p in by_item[pressure]["photos"]] == [photo_id]
    assert by_item[noise]["is_abnormal"] is True and by_item[noise]["work_order_id"] is None
    assert order.asset == pump_round["pump"]
    assert get(tech, "/facilities/tasks").json()["results"][0]["abnormal_count"] == 2


def test_a_wrong_unit_names_the_item_and_saves_nothing(cast, pump_round, tech):
    visit = scan(tech, pump_round).json()
    pressure, noise = pump_round["pressure"].id, pump_round["noise"].id
    response = answer(tech, visit["id"], {pressure: "45 kPa", noise: "正常"})
    assert response.status_code == 400
    assert response.json()["detail"] == {f"items[{pressure}]": ["Enter the value in MPa, not kPa."]}
    stray = answer(tech, visit["id"], {**normal(pump_round), 999999: "1"})
    assert stray.status_code == 400 and list(stray.json()["detail"]) == ["items[999999]"]
    someone_elses = upload_photo(cast.client("guard"))
    foreign_photo = answer(tech, visit["id"], normal(pump_round), {pressure: [someone_elses]})
    assert foreign_photo.status_code == 400
    assert list(foreign_photo.json()["detail"]) == [f"photos[{pressure}]"]
    assert answer(tech, visit["id"], {pressure: "0.4\x00"}).status_code == 422
    assert not Answer.objects.exists() and not WorkOrder.objects.exists()
    not_done = post(tech, f"/facilities/tasks/{pump_round['task'].id}/finish")
    assert not_done.status_code == 400 and "__all__" in not_done.json()["detail"]
    assert Task.objects.get().status == Task.Status.IN_PROGRESS


def test_unknown_and_foreign_codes_get_the_same_400(cast, pump_round, tech):
    y_pump = make_pump_round(cast, DAY, community=cast.community_y, assignee="technician_y")
    y_gate = Checkpoint.objects.create(
        company=cast.company, community=cast.community_y, name="北门"
    )
    for code in ("nonsense", y_pump["pump"].qr_token, y_gate.qr_token, " "):
        response = post(tech, "/facilities/scan", {"code": code})
        assert response.status_code == 400, code
        assert response.json()["detail"] == NOT_OURS
    twice = scan(tech, pump_round), scan(tech, pump_round)
    assert twice[0].status_code == 201 and twice[1].status_code == 400
    assert "code" in twice[1].json()["detail"]
    assert Visit.objects.count() == 1


def test_maintenance_waits_for_the_supervisors_acceptance(cast, pump_round, tech):
    pump_round["plan"].requires_acceptance = True
    pump_round["plan"].save()
    done_visit(cast, pump_round)
    task_id = pump_round["task"].id
    finished = post(tech, f"/facilities/tasks/{task_id}/finish")
    assert finished.json()["status"] == "awaiting_acceptance"
    assert finished.json()["requires_acceptance"] is True
    assert post(tech, f"/facilities/tasks/{task_id}/accept").status_code == 403
    for outsider in ("manager_y", "other_admin"):
        assert post(cast.client(outsider), f"/facilities/tasks/{task_id}/accept").status_code == 404
    assert Task.objects.get().status == Task.Status.AWAITING_ACCEPTANCE
    accepted = post(cast.client("project_manager"), f"/facilities/tasks/{task_id}/accept")
    assert accepted.status_code == 200 and accepted.json()["status"] == "done"


# --- who sees what ----------------------------------------------------------------------
def test_tasks_are_scoped_to_their_people_and_communities(cast, pump_round):
    guard_round = make_pump_round(cast, DAY, assignee="guard")
    y_round = make_pump_round(cast, DAY, community=cast.community_y, assignee="technician_y")
    x_task, guard_task, y_task = pump_round["task"], guard_round["task"], y_round["task"]

    tech = cast.client("technician")
    assert ids(get(tech, "/facilities/tasks")) == {x_task.id}
    assert ids(get(tech, "/facilities/tasks", {"mine": True})) == {x_task.id}
    assert get(tech, f"/facilities/tasks/{guard_task.id}").status_code == 404
    assert ids(get(tech, "/facilities/plans")) == set()  # plans are office work
    assert get(tech, f"/facilities/plans/{pump_round['plan'].id}").status_code == 404

    manager = cast.client("project_manager")
    assert ids(get(manager, "/facilities/tasks")) == {x_task.id, guard_task.id}
    assert ids(get(manager, "/facilities/tasks", {"community": cast.community_y.id})) == set()
    assert ids(get(manager, "/facilities/tasks", {"date": "2026-12-01"})) == set()
    assert ids(
        get(manager, "/facilities/tasks", {"date_from": "2026-11-01", "status": "pending"})
    ) == {x_task.id, guard_task.id}
    assert ids(get(manager, "/facilities/tasks", {"status": "done"})) == set()

    manager_y = cast.client("manager_y")
    assert ids(get(manager_y, "/facilities/tasks")) == {y_task.id}
    assert ids(get(manager_y, "/facilities/plans")) == {y_round["plan"].id}
    assert ids(get(manager_y, "/facilities/assets")) == {y_round["pump"].id}
    for path in (
        f"/facilities/tasks/{x_task.id}",
        f"/facilities/plans/{pump_round['plan'].id}",
        f"/facilities/assets/{pump_round['pump'].id}",
    ):
        assert get(manager_y, path).status_code == 404, path
        assert get(cast.client("other_admin"), path).status_code == 404, path
        assert get(cast.client("resident_a"), path).status_code == 404, path
    for path in ("/facilities/tasks", "/facilities/plans", "/facilities/assets"):
        assert ids(get(cast.client("other_admin"), path)) == set()
        assert ids(get(cast.client("resident_a"), path)) == set()
        assert get(cast.client(None), path).status_code == 401


def test_residents_and_office_staff_cannot_do_rounds(cast, pump_round):
    for who in ("resident_a", "project_manager", "nobody"):
        response = scan(cast.client(who), pump_round)
        assert response.status_code == 403, who
    visit = rounds.scan(actor=cast.actor("technician"), token=pump_round["pump"].qr_token)
    assert answer(cast.client("project_manager"), visit.id, normal(pump_round)).status_code == 403
    for who in ("guard", "technician_y", "other_admin", "resident_a"):
        assert answer(cast.client(who), visit.id, normal(pump_round)).status_code == 404, who
    task_id = pump_round["task"].id
    assert (
        post(cast.client("project_manager"), f"/facilities/tasks/{task_id}/finish").status_code
        == 403
    )
    assert not Answer.objects.exists() and Task.objects.get().status == Task.Status.IN_PROGRESS


def test_plan_detail_lists_stops_and_checklist(cast, pump_round):
    plan = pump_round["plan"]
    body = get(cast.client("dispatcher"), f"/facilities/plans/{plan.id}").json()
    assert body["name"] == plan.name and body["window_start"] == "09:00:00"
    assert body["assignee_name"] == cast.staff["technician"].name
    assert [(s["position"], s["asset_id"], s["name"]) for s in body["stops"]] == [
        (1, pump_round["pump"].id, "SB-0001 1号生活水泵")
    ]
    assert [i["label"] for i in body["items"]] == ["出水压力", "运行声音"]


def test_the_task_list_costs_the_same_queries_for_more_tasks(cast, pump_round):
    manager = cast.client("project_manager")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert results(get(manager, "/facilities/tasks"))
        return len(captured)

    one = queries()
    for _ in range(3):
        make_pump_round(cast, DAY)
    assert queries() == one


# --- the ledger -------------------------------------------------------------------------
def water_pumps(cast, company=None):
    return AssetCategory.objects.get(company=company or cast.company, code="water_pump")


def test_register_an_asset_list_it_and_stop_it(cast, frozen):
    manager = cast.client("project_manager")
    data = {
        "community_id": cast.community_x.id,
        "category_id": water_pumps(cast).id,
        "name": "2号生活水泵",
        "building_id": cast.building_x1.id,
        "brand": "格兰富",
        "installed_on": "2024-05-01",
    }
    created = post(manager, "/facilities/assets", data, **{"Idempotency-Key": "asset-1"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["code"] == "SB-0001" and body["status"] == "running"
    assert body["certificates"] == [] and body["open_downtime"] is None
    retried = post(manager, "/facilities/assets", data, **{"Idempotency-Key": "asset-1"})
    assert retried.json() == body
    assert Asset.objects.count() == 1

    asset_id = body["id"]
    for query, found in [
        ({"community": cast.community_x.id}, {asset_id}),
        ({"community": cast.community_y.id}, set()),
        ({"category": water_pumps(cast).id, "status": "running"}, {asset_id}),
        ({"status": "stopped"}, set()),
        ({"q": "SB-00"}, {asset_id}),
        ({"q": "2号"}, {asset_id}),
        ({"q": "电梯"}, set()),
    ]:
        assert ids(get(manager, "/facilities/assets", query)) == found, query
    assert ids(get(cast.client("technician"), "/facilities/assets")) == {asset_id}  # they scan

    no_reason = post(manager, f"/facilities/assets/{asset_id}/status", {"status": "repairing"})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["detail"]
    stopped = post(
        manager, f"/facilities/assets/{asset_id}/status", {"status": "repairing", "reason": "漏水"}
    )
    assert stopped.status_code == 200, stopped.content
    assert stopped.json()["status"] == "repairing"
    assert stopped.json()["open_downtime"]["reason"] == "漏水"
    refused = {"status": "running"}
    for who, status in [("technician", 403), ("manager_y", 404), ("other_admin", 404)]:
        response = post(cast.client(who), f"/facilities/assets/{asset_id}/status", refused)
        assert response.status_code == status, who
    assert Downtime.objects.get().ended_at is None


@pytest.mark.parametrize(
    ("who", "change", "field", "status"),
    [
        ("project_manager", {"category_id": "other_category"}, "category_id", 400),
        ("project_manager", {"building_id": "building_y"}, "building_id", 400),
        ("project_manager", {"community_id": "other_community"}, "community_id", 400),
        ("project_manager", {"name": "  "}, "name", 400),
        ("project_manager", {"warranty_until": "2020-01-01"}, "__all__", 400),
        ("project_manager", {"importance": "vital"}, None, 422),
        ("manager_y", {}, "community_id", 400),
        ("technician", {}, None, 403),
        ("other_admin", {}, "community_id", 400),
    ],
)
def test_bad_registrations_change_nothing(cast, who, change, field, status):
    refs = {
        "other_category": water_pumps(cast, cast.other_company).id,
        "building_y": cast.community_y.buildings.get().id,
        "other_community": cast.other_community.id,
    }
    data = {
        "community_id": cast.community_x.id,
        "category_id": water_pumps(cast).id,
        "name": "水泵",
        "installed_on": "2024-05-01",
    }
    data.update({k: refs.get(v, v) for k, v in change.items()})
    response = post(cast.client(who), "/facilities/assets", data)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["detail"]
    assert not Asset.objects.exists()


def test_certificates_expiring_soon(cast, pump_round):
    manager = cast.actor("project_manager")
    pump = pump_round["pump"]
    soon = fac.add_certificate(
        actor=manager, asset=pump, kind="water", expires_on=DAY + datetime.timedelta(days=20)
    )
    later = fac.add_certificate(
        actor=manager, asset=pump, kind="special", expires_on=DAY + datetime.timedelta(days=200)
    )
    expired = fac.add_certificate(
        actor=manager, asset=pump, kind="other", expires_on=DAY - datetime.timedelta(days=1)
    )
    client = cast.client("dispatcher")
    assert ids(get(client, "/facilities/certificates")) == {soon.id, later.id, expired.id}
    expiring = results(get(client, "/facilities/certificates", {"expiring_within": 30}))
    assert {(c["id"], c["days_left"]) for c in expiring} == {(soon.id, 20), (expired.id, -1)}
    assert expiring[0]["asset_code"] == "SB-0001"
    assert ids(get(client, "/facilities/certificates", {"kind": "special"})) == {later.id}
    assert get(client, "/facilities/certificates", {"expiring_within": -1}).status_code == 422
    for outsider in ("manager_y", "other_admin", "resident_a"):
        assert ids(get(cast.client(outsider), "/facilities/certificates")) == set()
    detail = get(client, f"/facilities/assets/{pump.id}").json()
    assert [c["id"] for c in detail["certificates"]] == [expired.id, soon.id, later.id]
    assert Certificate.objects.count() == 3
