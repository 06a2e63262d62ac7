"""Complaints, desk resolution, root causes, replies, SLA filters and recovery over the
API (issue 3, parts 5–8)."""

import datetime

import pytest
from api_helpers import bearer_client, get, ids, post
from workorder_helpers import completed_repair

from wuye.workorders import services as wo
from wuye.workorders.models import Category, Complaint, Status, WorkOrder

CST = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=CST)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def category_id(cast, code):
    return Category.objects.get(company=cast.company, code=code).id


def submit_complaint(client, cast, **complaint):
    return post(
        client,
        "/work-orders",
        {
            "category_id": category_id(cast, "noise_neighbour"),
            "house_id": cast.house_a.id,
            "description": "楼上每晚十一点后还在拖椅子",
            "contact_name": "王芳",
            "contact_mobile": "13800000001",
            "channel": "phone",
            "complaint": complaint,
        },
    )


def test_a_resident_files_a_complaint_and_never_sees_its_root_cause(cast, frozen):
    resident = bearer_client(cast.users["resident_a"])
    response = submit_complaint(
        resident, cast, party_kind="neighbour", party_name="1栋1单元0201", demand="请物业协调"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["complaint"] == {
        "party_kind": "neighbour",
        "party_staff_id": None,
        "party": "1栋1单元0201",
        "demand": "请物业协调",
        "is_dispute": False,
        "root_cause": None,
        "root_cause_note": "",
    }
    order = WorkOrder.objects.get(pk=body["id"])
    wo.record_root_cause(
        actor=cast.actor("service_supervisor"), order=order, root_cause="neighbour", note="内部"
    )
    mine = get(resident, f"/work-orders/{order.id}").json()["complaint"]
    assert mine["root_cause"] is None and mine["root_cause_note"] == ""
    staff = get(bearer_client(cast.users["dispatcher"]), f"/work-orders/{order.id}").json()
    assert staff["complaint"]["root_cause"] == "neighbour"
    assert staff["complaint"]["root_cause_note"] == "内部"


def test_complaint_input_is_checked_and_nothing_is_written(cast, frozen):
    resident = bearer_client(cast.users["resident_a"])
    # Residents cannot name staff by id (they have no staff directory).
    response = submit_complaint(
        resident, cast, party_kind="staff", party_staff_id=cast.staff["guard"].id
    )
    assert response.status_code == 400
    assert "complaint.party_staff_id" in response.json()["detail"]
    response = submit_complaint(resident, cast, party_kind="martians")
    assert response.status_code == 422
    desk = bearer_client(cast.users["dispatcher"])
    foreign = submit_complaint(
        desk, cast, party_kind="staff", party_staff_id=cast.staff["other_admin"].id
    )
    assert foreign.status_code == 400
    repair = post(
        resident,
        "/work-orders",
        {
            "category_id": category_id(cast, "taps_toilets"),
            "house_id": cast.house_a.id,
            "description": "漏水",
            "complaint": {"demand": "赔偿"},
        },
    )
    assert repair.status_code == 400 and "category" in repair.json()["detail"]
    assert not WorkOrder.objects.exists() and not Complaint.objects.exists()


def test_staff_name_a_colleague_and_the_supervisor_resolves(cast, frozen):
    desk = bearer_client(cast.users["dispatcher"])
    response = submit_complaint(
        desk, cast, party_kind="staff", party_staff_id=cast.staff["guard"].id, is_dispute=True
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "accepted" and body["complaint"]["party"] == "guard"
    assert "resolve" not in body["allowed_actions"]
    order_id = body["id"]
    refused = post(desk, f"/work-orders/{order_id}/resolve", {"resolution": "已处理"})
    assert refused.status_code == 403

    supervisor = bearer_client(cast.users["service_supervisor"])
    assert "resolve" in get(supervisor, f"/work-orders/{order_id}").json()["allowed_actions"]
    missing = post(supervisor, f"/work-orders/{order_id}/resolve", {"resolution": "已道歉"})
    assert missing.status_code == 400 and "root_cause" in missing.json()["detail"]
    cause = post(supervisor, f"/work-orders/{order_id}/root-cause", {"root_cause": "attitude"})
    assert cause.status_code == 200 and cause.json()["complaint"]["root_cause"] == "attitude"
    done = post(
        supervisor,
        f"/work-orders/{order_id}/resolve",
        {"resolution": "已道歉", "root_cause": "attitude", "root_cause_note": "新人"},
    )
    assert done.status_code == 200 and done.json()["status"] == "completed"
    again = post(
        supervisor,
        f"/work-orders/{order_id}/resolve",
        {"resolution": "再次", "root_cause": "attitude"},
    )
    assert again.status_code == 409

    visit = post(
        supervisor, f"/work-orders/{order_id}/return-visit", {"satisfied": True, "note": "满意"}
    )
    assert visit.status_code == 200
    assert visit.json()["status"] == "closed" and visit.json()["close_reason"] == "return_visit"


def test_reply_recovery_and_sla_filter(cast, frozen):
    order = completed_repair(cast)
    resident = bearer_client(cast.users["resident_a"])
    rated = post(resident, f"/work-orders/{order.id}/rate", {"overall": 1, "comment": "太慢"})
    assert rated.status_code == 200
    body = rated.json()
    assert body["status"] == "rated" and body["recovery_due"].startswith("2026-11-27T14:00")

    desk = bearer_client(cast.users["dispatcher"])
    assert post(resident, f"/work-orders/{order.id}/reply", {"reply": "x"}).status_code == 403
    other = bearer_client(cast.users["other_admin"])
    assert post(other, f"/work-orders/{order.id}/reply", {"reply": "x"}).status_code == 404
    reply = post(desk, f"/work-orders/{order.id}/reply", {"reply": "抱歉，主管下午上门"})
    assert reply.status_code == 200
    feedback = reply.json()["feedback"]
    assert feedback["staff_reply"] == "抱歉，主管下午上门" and feedback["replied_at"]

    WorkOrder.objects.filter(pk=order.pk).update(sla_state="breached")
    fine = completed_repair(cast)
    assert ids(get(desk, "/work-orders", {"sla_state": "breached"})) == {order.id}
    assert fine.id in ids(get(desk, "/work-orders", {"sla_state": "on_track"}))
    assert get(desk, "/work-orders", {"sla_state": "late"}).status_code == 422


def test_unrated_auto_close_shows_in_the_api(cast, frozen, settings):
    from wuye.workorders.timeouts import run_timeouts

    order = completed_repair(cast)
    frozen.move_to(NOW + datetime.timedelta(hours=49), tick=False)
    run_timeouts()
    body = get(bearer_client(cast.users["resident_a"]), f"/work-orders/{order.id}").json()
    assert body["status"] == Status.CLOSED and body["close_reason"] == "not_rated"
    assert body["feedback"] is None


def test_staff_intake_still_needs_a_contact_mobile(cast, frozen):
    desk = bearer_client(cast.users["dispatcher"])
    response = post(
        desk,
        "/work-orders",
        {
            "category_id": category_id(cast, "lighting"),
            "house_id": cast.house_a.id,
            "description": "楼道灯坏了",
            "contact_name": "王芳",
            "channel": "phone",
        },
    )
    assert response.status_code == 400 and "contact_mobile" in response.json()["detail"]
    assert not WorkOrder.objects.exists()
