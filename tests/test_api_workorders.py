"""/api/v1 work orders: intake with Idempotency-Key, every action, 409 on forbidden moves,
scoping (404 for other residents, communities and companies), bad input, the public vs
staff timeline, filters, the cursor walk and a flat query count on the list."""

import datetime
import json

import pytest
from api_helpers import API, bearer_client, get, ids, post, results
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wuye.workorders import services as wo
from wuye.workorders.models import (
    Category,
    Channel,
    EventType,
    Feedback,
    Material,
    Status,
    WorkOrder,
    WorkOrderEvent,
)

NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def category(cast, code, company=None):
    return Category.objects.get(company=company or cast.company, code=code)


def submit(cast, code="windows_glass", who="resident_a", house=None, description="窗户关不严"):
    return wo.submit_order(
        actor=cast.actor(who),
        category=category(cast, code),
        house=house or (cast.house_a if who == "resident_a" else cast.house_b),
        channel=Channel.RESIDENT_H5,
        description=description,
    )


STEPS = {
    Status.ACCEPTED: lambda c, o: wo.accept_order(actor=c.actor("dispatcher"), order=o),
    Status.DISPATCHED: lambda c, o: wo.dispatch_order(
        actor=c.actor("dispatcher"), order=o, assignee=c.staff["technician"]
    ),
    Status.TAKEN: lambda c, o: wo.take_order(actor=c.actor("technician"), order=o),
    Status.IN_PROGRESS: lambda c, o: wo.arrive(actor=c.actor("technician"), order=o),
    Status.COMPLETED: lambda c, o: wo.complete_order(
        actor=c.actor("technician"), order=o, resolution="修好了"
    ),
}


def order_in(cast, status, code="windows_glass"):
    """Resident A's order driven to ``status`` through the real transitions."""
    order = submit(cast, code)
    for move in STEPS.values():
        if order.status == status:
            break
        order = move(cast, order)
    assert order.status == status
    return order


def state(order):
    """What a refused request must leave untouched."""
    order.refresh_from_db()
    return (
        order.status,
        order.assignee_id,
        order.priority,
        order.urge_count,
        WorkOrderEvent.objects.filter(order=order).count(),
        Material.objects.filter(order=order).count(),
        Feedback.objects.filter(order=order).count(),
    )


def act(client, order, action, data=None):
    return post(client, f"/work-orders/{order.id}/{action}", data or {})


# --- intake -----------------------------------------------------------------------------
def test_resident_submits_and_a_replayed_key_creates_one_order(cast, frozen):
    client = cast.client("resident_a")
    data = {
        "category_id": category(cast, "taps_toilets").id,
        "house_id": cast.house_a.id,
        "description": "厨房水龙头一直滴水",
        "preferred_time": "工作日晚上",
        "may_enter": True,
    }
    first = post(client, "/work-orders", data, **{"Idempotency-Key": "wo-1"})
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["status"] == "submitted" and body["number"].startswith("20261127")
    assert body["channel"] == "api" and body["contact_mobile"] == "13800000001"
    assert body["place"] == "翠湖花园 1栋 1单元 0101"
    assert body["category_name"] == "水电 › 水龙头/马桶"
    assert body["allowed_actions"] == ["cancel", "urge"]
    again = post(client, "/work-orders", data, **{"Idempotency-Key": "wo-1"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == body["id"]
    assert WorkOrder.objects.count() == 1
    assert WorkOrderEvent.objects.filter(type=EventType.SUBMITTED).count() == 1
    changed = post(
        client, "/work-orders", {**data, "description": "别的"}, **{"Idempotency-Key": "wo-1"}
    )
    assert changed.status_code == 422 and WorkOrder.objects.count() == 1


def test_resident_reports_a_common_area(cast, frozen):
    area = cast.community_x.common_areas.get()
    response = post(
        cast.client("resident_b"),
        "/work-orders",
        {
            "category_id": category(cast, "lighting").id,
            "common_area_id": area.id,
            "description": "大堂灯不亮",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["place"] == "翠湖花园 翠湖花园大堂"


def test_desk_intake_by_phone_is_accepted_at_once(cast, frozen):
    response = post(
        cast.client("dispatcher"),
        "/work-orders",
        {
            "category_id": category(cast, "drain_blocked").id,
            "house_id": cast.house_b.id,
            "description": "下水道堵了",
            "channel": "phone",
            "contact_name": "李娜",
            "contact_mobile": "13800000002",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "accepted" and body["channel"] == "phone"
    assert body["urgency"] == "urgent"  # the category's default
    assert body["allowed_actions"] == ["dispatch", "cancel", "reject"]


@pytest.mark.parametrize(
    ("who", "change", "status", "field"),
    [
        ("resident_a", {"category_id": "other"}, 400, "category_id"),  # other company's
        ("resident_a", {"category_id": "parent"}, 400, "category"),  # not a sub-category
        ("resident_a", {"house_id": "house_b"}, 400, "house_id"),  # a neighbour's home
        ("resident_a", {"house_id": "other_house"}, 400, "house_id"),
        ("dispatcher", {"house_id": "house_y"}, 400, "house_id"),  # community Y: not the desk's
        ("resident_a", {"description": "   "}, 400, "description"),
        ("resident_a", {"description": None}, 422, None),
        ("resident_a", {"description": "x" * 2001}, 422, None),
        ("resident_a", {"house_id": None}, 400, "house"),  # neither house nor area
        ("resident_a", {"common_area_id": "area"}, 400, "common_area"),  # both
        ("resident_a", {"house_id": "abc"}, 422, None),
        ("resident_a", {"house_id": 2**70}, 422, None),
        ("resident_a", {"channel": "fax"}, 422, None),
        ("resident_a", {"urgency": "whenever"}, 422, None),
        ("resident_a", {"contact_mobile": "138000000011"}, 422, None),
        ("resident_a", {"contact_mobile": "12"}, 422, None),
        ("resident_a", {"description": "a\x00b"}, 422, None),
        ("nobody", {}, 400, "category_id"),
        ("dispatcher", {}, 400, "contact_name"),  # a phone request needs the caller's name
        ("technician_y", {}, 400, "house_id"),  # a field worker of Y reporting in X
    ],
)
def test_bad_submits_change_nothing(cast, who, change, status, field):
    refs = {
        "other": category(cast, "taps_toilets", cast.other_company).id,
        "parent": category(cast, "water_electric").id,
        "house_b": cast.house_b.id,
        "house_y": cast.house_y.id,
        "other_house": cast.other_house.id,
        "area": cast.community_x.common_areas.get().id,
    }
    data = {
        "category_id": category(cast, "taps_toilets").id,
        "house_id": cast.house_a.id,
        "description": "漏水",
    }
    data.update({k: refs.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
    data = {k: v for k, v in data.items() if v is not None}
    response = post(cast.client(who), "/work-orders", data)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["detail"]
    assert not WorkOrder.objects.exists() and not WorkOrderEvent.objects.exists()


# --- the lifecycle ------------------------------------------------------------------------
def test_every_action_over_the_api(cast, frozen):
    resident, desk, tech = (cast.client(n) for n in ("resident_a", "dispatcher", "technician"))
    order = submit(cast)
    path = f"/work-orders/{order.id}"
    assert get(desk, path).json()["allowed_actions"] == ["accept", "cancel", "reject"]
    assert act(desk, order, "accept").json()["status"] == "accepted"
    body = act(
        desk, order, "dispatch", {"assignee_id": cast.staff["technician"].id, "note": "尽快"}
    ).json()
    assert body["status"] == "dispatched" and body["assignee_name"] == "technician"
    assert get(tech, path).json()["allowed_actions"] == ["take", "return", "transfer"]
    assert act(tech, order, "take").json()["status"] == "taken"
    assert act(tech, order, "arrive").json()["status"] == "in_progress"
    body = act(tech, order, "pause", {"reason": "等配件"}).json()
    assert body["status"] == "paused" and body["pause_reason"] == "等配件"
    assert act(tech, order, "resume").json()["status"] == "in_progress"
    body = act(
        tech,
        order,
        "complete",
        {
            "resolution": "更换合页",
            "materials": [{"name": "合页", "quantity": "2", "unit_price": "12.50"}],
            "labour_amount": "30",
        },
    ).json()
    assert body["status"] == "completed"
    assert body["materials"] == [
        {
            "id": Material.objects.get().id,
            "name": "合页",
            "quantity": "2.00",
            "unit_price": "12.50",
            "amount": "25.00",
        }
    ]
    assert (body["labour_amount"], body["materials_amount"], body["total_amount"]) == (
        "30.00",
        "25.00",
        "55.00",
    )
    assert get(resident, path).json()["allowed_actions"] == ["rate", "reopen"]
    body = act(
        resident,
        order,
        "rate",
        {"overall": 2, "empathy": 4, "reasons": ["速度慢"], "comment": "等太久"},
    ).json()
    assert body["status"] == "rated"  # a low rating waits for a return visit
    assert body["feedback"]["overall"] == 2 and body["feedback"]["empathy"] == 4
    assert body["feedback"]["professionalism"] is None and body["feedback"]["reasons"] == ["速度慢"]
    body = act(desk, order, "return-visit", {"satisfied": True, "note": "住户满意"}).json()
    assert body["status"] == "closed" and body["closed_at"]
    types = list(WorkOrderEvent.objects.filter(order=order).values_list("type", flat=True))
    assert types == [
        "submitted",
        "accepted",
        "dispatched",
        "taken",
        "arrived",
        "paused",
        "resumed",
        "completed",
        "rated",
        "recovery_opened",
        "return_visited",
    ]


def test_grab_pool_mine_and_one_winner(cast, frozen):
    order = order_in(cast, Status.ACCEPTED, code="drain_blocked")  # 管道疏通: grab
    tech, guard = cast.client("technician"), cast.client("guard")
    assert ids(get(tech, "/work-orders", {"pool": True})) == {order.id}
    assert ids(get(cast.client("technician_y"), "/work-orders", {"pool": True})) == set()
    assert ids(get(tech, "/work-orders", {"mine": True})) == set()
    assert get(tech, f"/work-orders/{order.id}").json()["allowed_actions"] == ["grab"]
    body = act(tech, order, "grab").json()
    assert body["status"] == "taken" and body["assignee_id"] == cast.staff["technician"].id
    before = state(order)
    lost = act(guard, order, "grab")
    assert lost.status_code == 404  # out of the pool: no longer visible to the guard
    admin_try = act(cast.client("company_admin"), order, "grab")
    assert admin_try.status_code == 409
    assert state(order) == before
    assert ids(get(tech, "/work-orders", {"mine": True})) == {order.id}
    assert ids(get(tech, "/work-orders", {"pool": True})) == set()


def test_return_transfer_reopen_reject_cancel_and_urge(cast, frozen):
    desk, tech, resident = (cast.client(n) for n in ("dispatcher", "technician", "resident_a"))
    order = order_in(cast, Status.TAKEN)
    body = act(tech, order, "return", {"reason": "不是我的工种"}).json()
    assert body["status"] == "accepted" and body["assignee_id"] is None
    act(desk, order, "dispatch", {"assignee_id": cast.staff["technician"].id})
    body = act(tech, order, "transfer", {"assignee_id": cast.staff["guard"].id, "reason": "换人"})
    assert body.json()["assignee_id"] == cast.staff["guard"].id

    done = order_in(cast, Status.COMPLETED)
    body = act(resident, done, "reopen", {"reason": "又坏了"}).json()
    assert body["status"] == "accepted" and body["priority"] == 1 and body["reopen_count"] == 1

    first, second = submit(cast), submit(cast)
    body = act(desk, second, "reject", {"reason": "重复报修", "duplicate_of_id": first.id}).json()
    assert body["status"] == "rejected" and body["merged_into_id"] == first.id

    for _ in range(3):
        assert act(resident, first, "urge", {"note": "快点"}).json()["urge_count"] in (1, 2, 3)
    too_many = act(resident, first, "urge")
    assert too_many.status_code == 429 and int(too_many.headers["Retry-After"]) == 3600
    assert act(resident, first, "cancel").json()["status"] == "cancelled"
    third = submit(cast)
    no_reason = act(desk, third, "cancel")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["detail"]
    assert act(desk, third, "cancel", {"reason": "住户电话取消"}).json()["status"] == "cancelled"


def test_unsatisfied_return_visit_reopens(cast, frozen):
    order = order_in(cast, Status.COMPLETED)
    body = act(
        cast.client("dispatcher"), order, "return-visit", {"satisfied": False, "note": "仍漏"}
    )
    assert body.status_code == 200, body.content
    assert body.json()["status"] == "accepted" and body.json()["priority"] == 1


# --- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "who", "action", "data"),
    [
        (Status.ACCEPTED, "dispatcher", "accept", None),
        (Status.SUBMITTED, "dispatcher", "dispatch", "technician"),
        (Status.DISPATCHED, "resident_a", "cancel", None),
        (Status.DISPATCHED, "technician", "arrive", None),
        (Status.TAKEN, "technician", "complete", {"resolution": "x"}),
        (Status.TAKEN, "technician", "resume", None),
        (Status.IN_PROGRESS, "resident_a", "rate", {"overall": 5}),
        (Status.SUBMITTED, "resident_a", "reopen", {"reason": "x"}),
        (Status.SUBMITTED, "dispatcher", "return-visit", {"satisfied": True}),
        (Status.COMPLETED, "dispatcher", "reject", {"reason": "x"}),
        (Status.COMPLETED, "resident_a", "urge", None),
        (Status.IN_PROGRESS, "technician", "take", None),
    ],
)
def test_forbidden_transitions_are_409_and_change_nothing(cast, frozen, status, who, action, data):
    order = order_in(cast, status)
    if data == "technician":
        data = {"assignee_id": cast.staff["technician"].id}
    before = state(order)
    response = act(cast.client(who), order, action, data)
    assert response.status_code == 409, response.content
    assert response.json()["detail"]["__all__"]
    assert state(order) == before


@pytest.mark.parametrize(
    "who",
    [
        "resident_b",
        "other_resident",
        "manager_y",
        "technician_y",
        "other_admin",
        "nobody",
        "technician",
    ],
)
def test_outsiders_get_404_and_change_nothing(cast, frozen, who):
    order = submit(cast)  # resident A's, community X, not in any pool
    before = state(order)
    client = cast.client(who)
    assert get(client, f"/work-orders/{order.id}").status_code == 404
    assert get(client, f"/work-orders/{order.id}/events").status_code == 404
    assert order.id not in ids(get(client, "/work-orders"))
    for action, data in [
        ("accept", None),
        ("cancel", {"reason": "x"}),
        ("urge", None),
        ("reject", {"reason": "x"}),
        ("dispatch", {"assignee_id": cast.staff["technician"].id}),
    ]:
        assert act(client, order, action, data).status_code == 404, (who, action)
    assert state(order) == before


@pytest.mark.parametrize(
    ("who", "action", "data"),
    [
        ("resident_a", "accept", None),
        ("finance", "accept", None),  # sees the order, may not dispatch
        ("quality", "reject", {"reason": "x"}),
        ("resident_a", "reject", {"reason": "x"}),
    ],
)
def test_visible_but_not_allowed_is_403(cast, frozen, who, action, data):
    order = submit(cast)
    before = state(order)
    assert act(cast.client(who), order, action, data).status_code == 403
    assert state(order) == before


@pytest.mark.parametrize(
    ("status", "who", "action", "data", "code", "field"),
    [
        (
            Status.ACCEPTED,
            "dispatcher",
            "dispatch",
            {"assignee_id": "other_admin"},
            400,
            "assignee_id",
        ),
        (
            Status.ACCEPTED,
            "dispatcher",
            "dispatch",
            {"assignee_id": "technician_y"},
            400,
            "assignee",
        ),
        (Status.ACCEPTED, "dispatcher", "dispatch", {"assignee_id": "abc"}, 422, None),
        (Status.ACCEPTED, "dispatcher", "dispatch", {}, 422, None),
        (
            Status.ACCEPTED,
            "resident_a",
            "dispatch",
            {"assignee_id": "technician"},
            400,
            "assignee_id",
        ),
        (Status.TAKEN, "technician", "pause", {}, 422, None),
        (Status.TAKEN, "technician", "pause", {"reason": "  "}, 400, "reason"),
        (Status.TAKEN, "technician", "pause", {"reason": "x" * 201}, 422, None),
        (Status.TAKEN, "technician", "return", {"reason": ""}, 400, "reason"),
        (Status.TAKEN, "technician", "transfer", {"assignee_id": "guard"}, 422, None),
        (
            Status.TAKEN,
            "technician",
            "transfer",
            {"assignee_id": "other_admin", "reason": "x"},
            400,
            "assignee_id",
        ),
        (Status.IN_PROGRESS, "technician", "complete", {"resolution": " "}, 400, "resolution"),
        (
            Status.IN_PROGRESS,
            "technician",
            "complete",
            {"resolution": "ok", "labour_amount": "1e12"},
            400,
            "labour_amount",
        ),
        (
            Status.IN_PROGRESS,
            "technician",
            "complete",
            {"resolution": "ok", "labour_amount": "-1"},
            400,
            "labour_amount",
        ),
        (
            Status.IN_PROGRESS,
            "technician",
            "complete",
            {"resolution": "ok", "labour_amount": "abc"},
            422,
            None,
        ),
        (
            Status.IN_PROGRESS,
            "technician",
            "complete",
            {"resolution": "ok", "labour_amount": "NaN"},
            422,
            None,
        ),
        (
            Status.IN_PROGRESS,
            "technician",
            "complete",
            {
                "resolution": "ok",
                "materials": [{"name": "阀", "quantity": "-1", "unit_price": "3"}],
            },
            400,
            "materials[0].quantity",
        ),
        (
            Status.IN_PROGRESS,
            "technician",
            "complete",
            {
                "resolution": "ok",
                "materials": [{"name": "阀", "quantity": "1", "unit_price": "9999999999"}],
            },
            400,
            "materials[0].unit_price",
        ),
        (
            Status.IN_PROGRESS,
            "technician",
            "complete",
            {"resolution": "ok", "materials": [{"name": "阀"}]},
            422,
            None,
        ),
        (Status.COMPLETED, "resident_a", "rate", {"overall": 6}, 422, None),
        (Status.COMPLETED, "resident_a", "rate", {"overall": "great"}, 422, None),
        (Status.COMPLETED, "resident_a", "rate", {"overall": 5, "empathy": 0}, 422, None),
        (Status.COMPLETED, "resident_a", "rate", {"overall": 5, "reasons": ["x" * 51]}, 422, None),
        (Status.COMPLETED, "resident_b", "rate", {"overall": 5}, 404, None),
        (Status.COMPLETED, "dispatcher", "return-visit", {"satisfied": "maybe"}, 422, None),
        (Status.COMPLETED, "dispatcher", "reopen", {"reason": ""}, 400, "reason"),
        (
            Status.SUBMITTED,
            "dispatcher",
            "reject",
            {"reason": "dup", "duplicate_of_id": "other_order"},
            400,
            "duplicate_of_id",
        ),
        (
            Status.SUBMITTED,
            "dispatcher",
            "reject",
            {"reason": "dup", "duplicate_of_id": "self"},
            400,
            "duplicate_of",
        ),
    ],
)
def test_bad_action_input_changes_nothing(cast, frozen, status, who, action, data, code, field):
    order = order_in(cast, status)
    refs = {
        name: cast.staff[name].id for name in ("technician", "technician_y", "guard", "other_admin")
    }
    refs["self"] = order.id
    if data.get("duplicate_of_id") == "other_order":
        foreign = wo.submit_order(
            actor=cast.actor("other_resident"),
            category=category(cast, "taps_toilets", cast.other_company),
            house=cast.other_house,
            channel=Channel.RESIDENT_H5,
            description="别家的",
        )
        refs["other_order"] = foreign.id
    data = {k: refs.get(v, v) if isinstance(v, str) else v for k, v in data.items()}
    before = state(order)
    response = act(cast.client(who), order, action, data)
    assert response.status_code == code, response.content
    if field:
        assert field in response.json()["detail"]
    assert state(order) == before


def test_materials_are_refused_on_a_free_category(cast, frozen):
    order = order_in(cast, Status.IN_PROGRESS, code="drain_blocked")
    before = state(order)
    response = act(
        cast.client("technician"),
        order,
        "complete",
        {"resolution": "ok", "materials": [{"name": "x", "quantity": "1", "unit_price": "1"}]},
    )
    assert response.status_code == 400 and "materials" in response.json()["detail"]
    assert state(order) == before


# --- the timeline -------------------------------------------------------------------------
def test_residents_see_public_events_staff_see_all(cast, frozen):
    order = order_in(cast, Status.TAKEN)
    wo.return_order(actor=cast.actor("technician"), order=order, reason="缺工具")  # staff-only
    resident = results(get(cast.client("resident_a"), f"/work-orders/{order.id}/events"))
    staff = results(get(cast.client("dispatcher"), f"/work-orders/{order.id}/events"))
    assert [e["type"] for e in resident] == ["submitted", "accepted", "dispatched", "taken"]
    assert [e["type"] for e in staff] == [*[e["type"] for e in resident], "returned"]
    assert all(e["is_public"] for e in resident)
    returned = staff[-1]
    assert returned["note"] == "缺工具" and returned["actor_name"] == "technician"
    assert (returned["from_status"], returned["to_status"]) == ("taken", "accepted")
    assert staff[0]["from_status"] is None and staff[0]["actor_name"] == "张伟"


# --- categories ---------------------------------------------------------------------------
def test_request_categories_are_the_callers_companys_active_tree(cast):
    Category.objects.filter(company=cast.company, code="sewage").update(is_active=False)
    response = get(cast.client("resident_a"), "/request-categories")
    assert response.status_code == 200
    tree = {row["code"]: row for row in response.json()}
    assert [c["code"] for c in tree["pipes"]["children"]] == ["drain_blocked"]
    assert tree["water_electric"]["dispatch_mode"] == "auto"
    assert all(
        row["id"] in set(Category.objects.filter(company=cast.company).values_list("id", flat=True))
        for row in tree.values()
    )
    other = {row["id"] for row in get(cast.client("other_admin"), "/request-categories").json()}
    assert other == set(
        Category.objects.filter(company=cast.other_company, parent=None).values_list(
            "id", flat=True
        )
    )
    assert get(cast.client("nobody"), "/request-categories").json() == []


# --- the list -------------------------------------------------------------------------------
def test_list_scoping(cast, frozen):
    mine = submit(cast)
    complaint = submit(cast, code="noise_neighbour")
    neighbour = submit(cast, who="resident_b")
    assert ids(get(cast.client("resident_a"), "/work-orders")) == {mine.id, complaint.id}
    assert ids(get(cast.client("resident_b"), "/work-orders")) == {neighbour.id}
    assert ids(get(cast.client("dispatcher"), "/work-orders")) == {
        mine.id,
        complaint.id,
        neighbour.id,
    }
    assert ids(get(cast.client("manager_y"), "/work-orders")) == set()
    assert ids(get(cast.client("other_admin"), "/work-orders")) == set()


def test_list_filters(cast, frozen):
    client = cast.client("dispatcher")
    glass = submit(cast, description="窗户玻璃裂了")
    noise = submit(cast, code="noise_neighbour", description="楼上很吵")
    accepted = order_in(cast, Status.DISPATCHED, code="drain_blocked")
    frozen.move_to(NOW + datetime.timedelta(days=2), tick=False)
    later = submit(cast, who="resident_b", code="taps_toilets")

    def found(**params):
        return ids(get(client, "/work-orders", params))

    assert found(status="submitted") == {glass.id, noise.id, later.id}
    assert found(status=["submitted", "dispatched"]) == {glass.id, noise.id, accepted.id, later.id}
    assert found(request_type="complaint") == {noise.id}
    assert found(category=category(cast, "pipes").id) == {accepted.id}  # parent: its children
    assert found(category=category(cast, "taps_toilets").id) == {later.id}
    assert found(assignee=cast.staff["technician"].id) == {accepted.id}
    assert found(community=cast.community_y.id) == set()
    assert found(q="玻璃") == {glass.id}
    assert found(q=glass.number[:8]) == {glass.id, noise.id, accepted.id}
    assert found(q=later.number) == {later.id}
    assert found(date_from="2026-11-28") == {later.id}
    assert found(date_to="2026-11-27") == {glass.id, noise.id, accepted.id}
    assert found(date_from="2026-11-27", date_to="2026-11-27") == {glass.id, noise.id, accepted.id}
    assert found(mine=True) == set()  # the dispatcher holds nothing
    for bad in ({"status": "lost"}, {"date_from": "yesterday"}, {"q": "x" * 51}, {"community": 0}):
        assert get(client, "/work-orders", bad).status_code == 422, bad


def test_cursor_walk_is_newest_first_without_gaps(cast, frozen):
    made = [submit(cast).id for _ in range(23)]
    client = cast.client("dispatcher")
    response = get(client, "/work-orders", {"page_size": 5})
    seen, pages = [], 0
    while True:
        body = response.json()
        seen.extend(row["id"] for row in body["results"])
        pages += 1
        if not body["next"]:
            break
        previous_page = body
        response = client.get(body["next"])
    assert seen == sorted(made, reverse=True) and pages == 5
    back = client.get(response.json()["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in previous_page["results"]]
    assert get(client, "/work-orders", {"cursor": "!!!!"}).status_code == 422


def test_list_rows_are_the_details_list_fields(cast, frozen):
    """List rows are built from a narrowed query as plain dicts (``schemas.list_row``);
    the detail still goes through the schema's resolvers from the whole order. Both must
    give the same JSON for the same order, byte for byte, in the same key order."""
    for status in (Status.SUBMITTED, Status.DISPATCHED, Status.COMPLETED):
        order_in(cast, status)
    submit(cast, code="noise_neighbour", description="楼上很吵")
    wo.submit_order(
        actor=cast.actor("resident_b"),
        category=category(cast, "lighting"),
        common_area=cast.community_x.common_areas.get(),
        channel=Channel.RESIDENT_H5,
        description="大堂灯不亮",
    )
    for who in ("dispatcher", "resident_a", "technician"):
        client = cast.client(who)
        rows = results(get(client, "/work-orders"))
        assert rows
        for row in rows:
            detail = get(client, f"/work-orders/{row['id']}").json()
            assert json.dumps(row) == json.dumps({name: detail[name] for name in row})
    assert any(row["assignee_name"] for row in rows)
    dispatcher_rows = results(get(cast.client("dispatcher"), "/work-orders"))
    assert {row["place"] for row in dispatcher_rows} >= {"翠湖花园 翠湖花园大堂"}


@pytest.mark.parametrize(("who", "rows"), [("dispatcher", 5), ("resident_a", 5), ("technician", 4)])
def test_list_queries_do_not_grow_with_rows(cast, frozen, who, rows):
    for code in ("windows_glass", "lighting", "drain_blocked", "taps_toilets"):
        order = submit(cast, code=code)
        for status in (Status.ACCEPTED, Status.DISPATCHED):
            order = STEPS[status](cast, order)
    area = cast.community_x.common_areas.get()
    wo.submit_order(
        actor=cast.actor("resident_a"),
        category=category(cast, "lighting"),
        common_area=area,
        channel=Channel.RESIDENT_H5,
        description="灯",
    )
    client = bearer_client(cast.users[who])
    client.get(API + "/work-orders")  # the first use of a token records its last-used time
    with CaptureQueriesContext(connection) as one:
        first = client.get(API + "/work-orders", {"page_size": 1})
    with CaptureQueriesContext(connection) as many:
        full = client.get(API + "/work-orders", {"page_size": 200})
    assert len(first.json()["results"]) == 1 and len(full.json()["results"]) == rows
    assert len(one) == len(many)
    order_sql = [
        q["sql"] for q in many.captured_queries if 'FROM "workorders_workorder"' in q["sql"]
    ]
    ids, rows = order_sql  # the page's ids on the bare table, then those rows with joins
    assert "JOIN" not in ids and " IN (" in rows
    assert "COUNT(" not in (ids + rows).upper()


def test_detail_and_events_query_counts_are_fixed(cast, frozen, django_assert_max_num_queries):
    order = order_in(cast, Status.COMPLETED)
    client = bearer_client(cast.users["dispatcher"])
    client.get(API + f"/work-orders/{order.id}")
    # token, actor (staff, permissions, company-wide?, communities, homes), the order
    # with its small names joined in and its house fetched after, then its materials or
    # its page of events (ids, then rows; the events' photos in one query however many).
    with django_assert_max_num_queries(9):
        assert client.get(API + f"/work-orders/{order.id}").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(API + f"/work-orders/{order.id}/events").status_code == 200
