"""The office console for service requests (issue 3, parts 7 and 8): dispatch board,
order detail with its actions, phone intake, return visits, export, and the admin."""

import datetime
import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wuye.staff.models import Role
from wuye.workorders import services as wo
from wuye.workorders import views_console
from wuye.workorders.models import Category, Channel, Status, Urgency, WorkOrder, WorkOrderEvent


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read messages in English; Chinese is covered by the catalogue check."""
    settings.LANGUAGE_CODE = "en"


NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
BOARD = reverse("orders_console:board")
INTAKE = reverse("orders_console:intake")
LOOKUP = reverse("orders_console:intake_lookup")
VISITS = reverse("orders_console:return_visits")
EXPORT = reverse("orders_console:export")


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def category(cast, code, company=None):
    return Category.objects.get(company=company or cast.company, code=code)


def phone_order(cast, *, who="dispatcher", house=None, code="lighting", **kwargs):
    """A phone request taken by the desk: accepted at once (assign-mode category)."""
    kwargs.setdefault("description", "楼道灯不亮")
    return wo.submit_order(
        actor=cast.actor(who),
        category=category(cast, code),
        house=house or cast.house_a,
        channel=Channel.PHONE,
        contact_name="张伟",
        contact_mobile="13800000001",
        **kwargs,
    )


def resident_order(cast, code="lighting", **kwargs):
    return wo.submit_order(
        actor=cast.actor("resident_a"),
        category=category(cast, code),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description=kwargs.pop("description", "门口灯坏了"),
        **kwargs,
    )


def completed(cast, order, who="technician"):
    desk = cast.actor("dispatcher")
    if order.status == Status.SUBMITTED:
        order = wo.accept_order(actor=desk, order=order)
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff[who])
    me = cast.actor(who)
    order = wo.take_order(actor=me, order=order)
    order = wo.arrive(actor=me, order=order)
    return wo.complete_order(actor=me, order=order, resolution="换了灯泡")


def fresh(order):
    return WorkOrder.objects.get(pk=order.pk)


def act(client, order, action, data=None, **extra):
    url = reverse("orders_console:order_action", args=[order.pk, action])
    return client.post(url, data or {}, **extra)


def events(order):
    return WorkOrderEvent.objects.filter(order=order).count()


# --- board ----------------------------------------------------------------------------
def test_board_shows_open_orders_of_the_scope_most_urgent_first(cast, frozen):
    normal = phone_order(cast)
    frozen.shift(60)
    emergency = phone_order(cast, urgency=Urgency.EMERGENCY, description="电梯困人")
    frozen.shift(60)
    urgent = phone_order(cast, urgency=Urgency.URGENT, description="漏水")
    frozen.shift(60)
    done = wo.cancel_order(actor=cast.actor("dispatcher"), order=phone_order(cast), reason="重复")
    in_y = phone_order(cast, who="manager_y", house=cast.house_y)

    body = cast.client("dispatcher").get(BOARD).content.decode()
    positions = [body.index(o.number) for o in (emergency, urgent, normal)]
    assert positions == sorted(positions)
    assert done.number not in body and in_y.number not in body
    assert 'class="urgency-emergency' in body
    # The hook the SLA colours hang on carries the order's stored state.
    assert (
        f'id="order-{normal.pk}" class="urgency-normal status-accepted" data-sla="on_track"' in body
    )

    body_y = cast.client("manager_y").get(BOARD).content.decode()
    assert in_y.number in body_y and normal.number not in body_y
    other = cast.client("other_admin").get(BOARD)
    assert other.status_code == 200 and normal.number not in other.content.decode()
    for name in ("technician", "resident_a", "nobody"):
        assert cast.client(name).get(BOARD).status_code == 403
    assert cast.client(None).get(BOARD).status_code == 302


def test_board_raised_priority_comes_first_within_an_urgency(cast, frozen):
    first = phone_order(cast)
    second = phone_order(cast)
    WorkOrder.objects.filter(pk=second.pk).update(priority=1)
    body = cast.client("dispatcher").get(BOARD).content.decode()
    assert body.index(second.number) < body.index(first.number)


def test_board_filters(cast, frozen):
    lamp = phone_order(cast)
    frozen.shift(datetime.timedelta(days=2))
    leak = phone_order(cast, code="water_leak", description="卫生间漏水", house=cast.house_b)
    closed = wo.cancel_order(
        actor=cast.actor("dispatcher"), order=phone_order(cast, description="已处理"), reason="x"
    )
    client = cast.client("dispatcher")

    def numbers(**params):
        response = client.get(BOARD, params)
        assert response.status_code == 200
        body = response.content.decode()
        return {o.number for o in (lamp, leak, closed) if o.number in body}

    assert numbers() == {lamp.number, leak.number}
    assert numbers(q="漏水") == {leak.number}
    assert numbers(q=leak.number[:-1]) >= {leak.number}
    assert numbers(q=leak.number) == {leak.number}
    assert numbers(category=category(cast, "water_electric").id) == {leak.number}
    assert numbers(category=category(cast, "lighting").id) == {lamp.number}
    assert numbers(urgency="urgent") == {leak.number}
    assert numbers(status="all") == {lamp.number, leak.number, closed.number}
    assert numbers(status="cancelled") == {closed.number}
    assert numbers(request_type="complaint") == set()
    assert numbers(date_from=NOW.date().isoformat(), date_to=NOW.date().isoformat()) == {
        lamp.number
    }
    assert numbers(community=cast.community_x.id) == {lamp.number, leak.number}
    wo.dispatch_order(actor=cast.actor("dispatcher"), order=lamp, assignee=cast.staff["guard"])
    params = {"community": cast.community_x.id, "assignee": cast.staff["guard"].id}
    assert numbers(**params) == {lamp.number}

    # Bad filters: the form says so and lists nothing.
    for bad in (
        {"community": cast.community_y.id},  # not the dispatcher's community
        {"category": category(cast, "lighting", cast.other_company).id},
        {"date_from": "2026-12-01", "date_to": "2026-11-01"},
        {"after": "1; drop table"},
        {"assignee": cast.staff["technician_y"].id},
    ):
        response = client.get(BOARD, bad)
        assert response.status_code == 200
        assert "Correct the filters" in response.content.decode(), bad


def test_board_pages_by_keyset(cast, frozen, monkeypatch):
    monkeypatch.setattr(views_console, "BOARD_PAGE_SIZE", 2)
    orders = [phone_order(cast, urgency=u) for u in ("normal", "emergency", "normal", "urgent")]
    orders.append(phone_order(cast))
    client = cast.client("dispatcher")
    seen, url, pages = [], BOARD, 0
    while url:
        response = client.get(url)
        body = response.content.decode()
        seen += sorted(
            (body.index(o.number), o.number) for o in orders if f">{o.number}</a>" in body
        )
        page = response.context["page"]
        url = f"{BOARD}?{page.next_query()}" if page.has_next else None
        pages += 1
    assert pages == 3
    expected = [orders[1], orders[3], orders[0], orders[2], orders[4]]
    assert [number for _pos, number in seen] == [o.number for o in expected]


def test_board_query_count_is_flat(cast, frozen):
    client = cast.client("dispatcher")
    for _ in range(3):
        phone_order(cast)
    client.get(BOARD)  # warm caches (session, content types)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(BOARD).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(12):
        phone_order(cast, house=cast.house_b if i % 2 else cast.house_a)
        resident_order(cast)
    wo.dispatch_order(
        actor=cast.actor("dispatcher"),
        order=WorkOrder.objects.filter(status=Status.ACCEPTED).first(),
        assignee=cast.staff["technician"],
    )
    assert count() == few


def test_board_quick_accept_and_dispatch(cast, frozen):
    order = resident_order(cast)
    client = cast.client("dispatcher")
    response = act(client, order, "accept", {"source": "board"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith("<tr") and order.number in body
    assert fresh(order).status == Status.ACCEPTED
    assert f'name="o{order.pk}-assignee"' in body  # the dispatch select comes next

    tech = cast.staff["technician"]
    response = act(client, order, "dispatch", {"source": "board", f"o{order.pk}-assignee": tech.id})
    assert response.status_code == 200
    order = fresh(order)
    assert order.status == Status.DISPATCHED and order.assignee == tech

    again = resident_order(cast)
    wo.accept_order(actor=cast.actor("dispatcher"), order=again)
    before = events(again)
    # Staff of another community is not a candidate: a row error, nothing changed.
    outsider = cast.staff["technician_y"].id
    response = act(
        client, again, "dispatch", {"source": "board", f"o{again.pk}-assignee": outsider}
    )
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert fresh(again).status == Status.ACCEPTED and events(again) == before


def test_dispatch_select_lists_only_field_staff_of_the_community_with_their_load(cast, frozen):
    order = phone_order(cast)
    busy = phone_order(cast)
    cast.staff["technician"].trades.add(category(cast, "lighting").trade)
    cast.staff["cleaner"].status = "off_duty"
    cast.staff["cleaner"].save()
    wo.dispatch_order(actor=cast.actor("dispatcher"), order=busy, assignee=cast.staff["guard"])
    body = cast.client("dispatcher").get(reverse("orders_console:order_detail", args=[order.pk]))
    dispatch = next(f for a, f in body.context["forms"] if a.name == "dispatch")
    labels = dict(dispatch.fields["assignee"].choices)
    names = {label.split(" · ")[0] for key, label in labels.items() if key}
    assert names == {"technician", "guard", "cleaner", "gardener", "company_admin"}
    assert "technician_y" not in names and "dispatcher" not in names
    assert "1 open" in labels[cast.staff["guard"].id]
    assert labels[cast.staff["technician"].id] == "technician · 0 open · trade ✓"
    assert labels[cast.staff["cleaner"].id].startswith("cleaner · 0 open · ")  # · 离岗 / off duty
    assert labels[cast.staff["guard"].id] == "guard · 1 open"


# --- order detail ---------------------------------------------------------------------
def test_detail_access_and_contents(cast, frozen):
    order = resident_order(cast)
    desk = cast.actor("dispatcher")
    wo.accept_order(actor=desk, order=order)
    wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    wo.return_order(actor=cast.actor("technician"), order=order, reason="不是我的工种")
    url = reverse("orders_console:order_detail", args=[order.pk])

    response = cast.client("dispatcher").get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "不是我的工种" in body and "Staff only" in body
    assert "13800000001" in body  # people.view shows the contact's mobile
    assert {a.name for a, _f in response.context["forms"]} == {
        "dispatch",
        "reject",
        "cancel",
    }
    assert cast.client("quality").get(url).context["forms"] == []  # views only
    for name in ("manager_y", "other_admin"):
        assert cast.client(name).get(url).status_code == 404
    for name in ("technician", "resident_a"):
        assert cast.client(name).get(url).status_code == 403


def test_detail_masks_the_mobile_without_people_view(cast, frozen):
    role = Role.objects.get(company=cast.company, code="quality")
    role.permissions = [p for p in role.permissions if p != "people.view"]
    role.save()
    order = phone_order(cast)
    body = cast.client("quality").get(reverse("orders_console:order_detail", args=[order.pk]))
    text = body.content.decode()
    assert "138****0001" in text and "13800000001" not in text


def test_detail_shows_materials_and_feedback(cast, frozen):
    order = resident_order(cast, code="windows_glass")
    desk = cast.actor("dispatcher")
    order = wo.accept_order(actor=desk, order=order)
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    me = cast.actor("technician")
    order = wo.arrive(actor=me, order=wo.take_order(actor=me, order=order))
    order = wo.complete_order(
        actor=me,
        order=order,
        resolution="换玻璃",
        materials=[{"name": "玻璃", "quantity": "2", "unit_price": "40.00"}],
        labour_amount="30",
    )
    wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=2, comment="太慢")
    body = cast.client("dispatcher").get(reverse("orders_console:order_detail", args=[order.pk]))
    text = body.content.decode()
    assert "玻璃" in text and "80.00" in text and "110.00" in text
    assert "太慢" in text and "2/5" in text
    assert "return_visit" in {a.name for a, _f in body.context["forms"]}


# --- actions ------------------------------------------------------------------------------
def test_accept_twice_is_a_friendly_error(cast, frozen):
    order = resident_order(cast)
    client = cast.client("dispatcher")
    assert act(client, order, "accept").status_code == 302
    before = events(order)
    response = act(client, order, "accept")
    assert response.status_code == 200
    assert "changed meanwhile" in response.content.decode()
    assert events(order) == before and fresh(order).status == Status.ACCEPTED


def test_dispatch_transfer_return_through_the_console(cast, frozen):
    order = phone_order(cast)
    client = cast.client("dispatcher")
    before = events(order)
    response = act(client, order, "dispatch", {"dispatch-assignee": ""})
    assert response.status_code == 200 and events(order) == before
    assert response.context["forms"][0][1].errors
    response = act(client, order, "dispatch", {"dispatch-assignee": cast.staff["technician_y"].id})
    assert response.status_code == 200 and events(order) == before
    response = act(client, order, "dispatch", {"dispatch-assignee": cast.staff["technician"].id})
    assert response.status_code == 302
    assert fresh(order).assignee == cast.staff["technician"]

    before = events(order)
    response = act(client, order, "transfer", {"transfer-assignee": cast.staff["guard"].id})
    assert response.status_code == 200 and "transfer-reason" in response.content.decode()
    assert events(order) == before
    response = act(  # the current assignee is not offered
        client,
        order,
        "transfer",
        {"transfer-assignee": cast.staff["technician"].id, "transfer-reason": "换人"},
    )
    assert response.status_code == 200 and events(order) == before
    response = act(
        client,
        order,
        "transfer",
        {"transfer-assignee": cast.staff["guard"].id, "transfer-reason": "换人"},
    )
    assert response.status_code == 302 and fresh(order).assignee == cast.staff["guard"]

    before = events(order)
    assert act(client, order, "return", {"return-reason": "  "}).status_code == 200
    assert events(order) == before
    assert act(client, order, "return", {"return-reason": "重新派"}).status_code == 302
    order = fresh(order)
    assert order.status == Status.ACCEPTED and order.assignee is None


def test_reject_and_duplicate(cast, frozen):
    original = phone_order(cast)
    dup = phone_order(cast)
    other = phone_order(cast)
    other_company = wo.submit_order(
        actor=cast.actor("other_admin"),
        category=category(cast, "lighting", cast.other_company),
        house=cast.other_house,
        channel=Channel.PHONE,
        description="x",
        contact_name="王芳",
        contact_mobile="13900000009",
    )
    client = cast.client("dispatcher")
    before = events(dup)
    for data in (
        {"reject-reason": ""},
        {"reject-reason": "重复", "reject-duplicate_of": "20990101000001"},
        {"reject-reason": "重复", "reject-duplicate_of": other_company.number},
        {"reject-reason": "重复", "reject-duplicate_of": dup.number},  # itself
    ):
        response = act(client, dup, "reject", data)
        assert response.status_code == 200, data
        assert events(dup) == before and fresh(dup).status == Status.ACCEPTED
    data = {"reject-reason": "重复", "reject-duplicate_of": original.number}
    assert act(client, dup, "reject", data).status_code == 302
    dup = fresh(dup)
    assert dup.status == Status.REJECTED and dup.merged_into == original
    assert act(client, other, "reject", {"reject-reason": "不属于物业"}).status_code == 302
    assert fresh(other).status == Status.REJECTED and fresh(other).merged_into is None


def test_pause_is_the_assignees_and_resume_the_desks(cast, frozen):
    order = phone_order(cast)
    admin = cast.staff["company_admin"]
    order = wo.dispatch_order(actor=cast.actor("dispatcher"), order=order, assignee=admin)
    order = wo.take_order(actor=cast.actor("company_admin"), order=order)
    before = events(order)
    assert (
        act(cast.client("dispatcher"), order, "pause", {"pause-reason": "等配件"}).status_code
        == 403
    )
    assert events(order) == before
    admin_client = cast.client("company_admin")
    assert act(admin_client, order, "pause", {"pause-reason": ""}).status_code == 200
    assert events(order) == before
    assert act(admin_client, order, "pause", {"pause-reason": "等配件"}).status_code == 302
    assert fresh(order).status == Status.PAUSED
    assert act(cast.client("dispatcher"), order, "resume").status_code == 302
    assert fresh(order).status == Status.TAKEN


def test_cancel_needs_a_reason(cast, frozen):
    order = phone_order(cast)
    client = cast.client("dispatcher")
    before = events(order)
    assert act(client, order, "cancel", {"cancel-reason": ""}).status_code == 200
    assert events(order) == before
    assert act(client, order, "cancel", {"cancel-reason": "住户自行解决"}).status_code == 302
    assert fresh(order).status == Status.CANCELLED
    # A cancelled order offers nothing; posting anyway is a friendly error.
    response = act(client, order, "cancel", {"cancel-reason": "again"})
    assert response.status_code == 200 and "changed meanwhile" in response.content.decode()


def test_return_visit_and_reopen(cast, frozen):
    happy = completed(cast, phone_order(cast))
    unhappy = completed(cast, phone_order(cast))
    client = cast.client("dispatcher")
    before = events(happy)
    assert (
        act(client, happy, "return_visit", {"return_visit-satisfied": "maybe"}).status_code == 200
    )
    assert events(happy) == before
    data = {"return_visit-satisfied": "yes", "return_visit-note": "住户满意"}
    assert act(client, happy, "return_visit", data).status_code == 302
    assert fresh(happy).status == Status.CLOSED
    data = {"return_visit-satisfied": "no", "return_visit-note": "还是不亮"}
    assert act(client, unhappy, "return_visit", data).status_code == 302
    unhappy = fresh(unhappy)
    assert unhappy.status == Status.ACCEPTED and unhappy.priority == 1

    before = events(happy)
    assert act(client, happy, "reopen", {"reopen-reason": ""}).status_code == 200
    assert events(happy) == before
    assert act(client, happy, "reopen", {"reopen-reason": "又坏了"}).status_code == 302
    assert fresh(happy).status == Status.ACCEPTED


def test_actions_refuse_the_wrong_people_and_unknown_names(cast, frozen):
    order = resident_order(cast)
    before = events(order)
    assert act(cast.client("quality"), order, "accept").status_code == 403
    assert act(cast.client("finance"), order, "accept").status_code == 403
    assert act(cast.client("manager_y"), order, "accept").status_code == 404
    assert act(cast.client("other_admin"), order, "accept").status_code == 404
    assert act(cast.client("technician"), order, "accept").status_code == 403
    assert act(cast.client("resident_a"), order, "cancel").status_code == 403
    assert act(cast.client("dispatcher"), order, "complete").status_code == 404
    assert act(cast.client("dispatcher"), order, "grab").status_code == 404
    url = reverse("orders_console:order_action", args=[order.pk, "accept"])
    assert cast.client("dispatcher").get(url).status_code == 405
    assert events(order) == before and fresh(order).status == Status.SUBMITTED


# --- intake ------------------------------------------------------------------------------
def intake_data(cast, **overrides):
    data = {
        "channel": "phone",
        "place": "house",
        "community": cast.community_x.id,
        "building": cast.building_x1.id,
        "unit": cast.unit_x1.id,
        "number": "0102",
        "category_group": category(cast, "water_electric").id,
        "category": category(cast, "water_leak").id,
        "urgency": "",
        "description": "楼上漏水到我家",
        "preferred_time": "今晚",
        "may_enter": "on",
        "contact_name": "李娜",
        "contact_mobile": "13800000002",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_intake_records_a_phone_request_accepted_at_once(cast, frozen):
    client = cast.client("dispatcher")
    assert client.get(INTAKE).status_code == 200
    response = client.post(INTAKE, intake_data(cast))
    order = WorkOrder.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("orders_console:order_detail", args=[order.pk])
    assert order.house == cast.house_b and order.channel == Channel.PHONE
    assert order.status == Status.ACCEPTED and order.urgency == Urgency.URGENT  # category default
    assert order.may_enter and order.preferred_time == "今晚"
    assert order.contact_mobile == "13800000002" and order.created_by == cast.users["dispatcher"]


def test_intake_for_a_common_area_at_the_front_desk(cast, frozen):
    area = cast.community_x.common_areas.get()
    data = intake_data(
        cast,
        channel="walk_in",
        place="common_area",
        common_area=area.id,
        building=None,
        unit=None,
        number=None,
        category_group=category(cast, "public_facilities").id,
        category=category(cast, "lighting").id,
        urgency="emergency",
    )
    assert cast.client("dispatcher").post(INTAKE, data).status_code == 302
    order = WorkOrder.objects.get()
    assert order.common_area == area and order.house is None
    assert order.channel == Channel.WALK_IN and order.urgency == Urgency.EMERGENCY


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (lambda c: {"building": c.house_y.building_id, "unit": c.house_y.unit_id}, "building"),
        (lambda c: {"community": c.community_y.id}, "community"),
        (lambda c: {"number": "9999"}, "number"),
        (lambda c: {"description": "  "}, "description"),
        (lambda c: {"category": category(c, "water_leak", c.other_company).id}, "category"),
        (lambda c: {"category": category(c, "drain_blocked").id}, "category"),  # other group
        (
            lambda c: {"category_group": category(c, "water_electric", c.other_company).id},
            "category_group",
        ),
        (lambda c: {"contact_mobile": "12345"}, "contact_mobile"),
        (lambda c: {"place": "common_area"}, "common_area"),
        (
            lambda c: {
                "place": "common_area",
                "common_area": c.community_y.common_areas.get().id,
            },
            "common_area",
        ),
        (lambda c: {"channel": "api"}, "channel"),
    ],
)
def test_intake_bad_input_is_a_form_error_and_no_order(cast, frozen, overrides, field):
    response = cast.client("dispatcher").post(INTAKE, intake_data(cast, **overrides(cast)))
    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert not WorkOrder.objects.exists()


def test_intake_needs_create_and_view(cast, frozen):
    for name in ("technician", "quality", "finance", "resident_a"):
        assert cast.client(name).get(INTAKE).status_code == 403
        assert cast.client(name).post(INTAKE, intake_data(cast)).status_code == 403
    assert cast.client("manager_y").post(INTAKE, intake_data(cast)).status_code == 200
    assert not WorkOrder.objects.exists()


def test_intake_cascades_and_prefills_from_a_found_house(cast, frozen):
    client = cast.client("dispatcher")
    group = category(cast, "pipes")
    response = client.get(INTAKE, {"category_group": group.id, "community": cast.community_x.id})
    choices = dict(response.context["form"].fields["category"].widget.choices)
    assert set(choices) - {""} == set(group.children.values_list("id", flat=True))
    assert cast.building_x1.name in response.content.decode()
    params = {"house": cast.house_a.id, "contact_name": "张伟", "contact_mobile": "13800000001"}
    form = client.get(INTAKE, params).context["form"]
    assert form["number"].value() == "0101" and form["building"].value() == cast.building_x1.id
    assert form["contact_name"].value() == "张伟"
    form = client.get(INTAKE, {"house": cast.house_y.id}).context["form"]  # not in scope
    assert not form["number"].value()


def test_mobile_lookup_lists_the_callers_houses_in_scope(cast, frozen):
    client = cast.client("dispatcher")
    body = client.get(LOOKUP, {"mobile": "13800000001"}).content.decode()
    assert cast.house_a.address in body and "张伟" in body
    assert "Use this house" in body
    body = client.get(LOOKUP, {"mobile": "13900000009"}).content.decode()  # other company
    assert "他山" not in body and "No resident" in body
    body = client.get(LOOKUP, {"mobile": "138000"}).content.decode()
    assert 'class="error"' in body
    assert cast.client("technician").get(LOOKUP, {"mobile": "13800000001"}).status_code == 403
    assert cast.client("quality").get(LOOKUP, {"mobile": "13800000001"}).status_code == 403
    assert (
        "他山"
        not in cast.client("manager_y").get(LOOKUP, {"mobile": "13800000001"}).content.decode()
    )
    assert cast.house_a.address not in (
        cast.client("manager_y").get(LOOKUP, {"mobile": "13800000001"}).content.decode()
    )


# --- return visits -------------------------------------------------------------------------
def test_return_visits_list_and_inline_form(cast, frozen):
    desk_order = completed(cast, phone_order(cast))  # phone: nobody rates it in the app
    app_order = completed(cast, resident_order(cast))  # the resident may still rate it
    rated_low = completed(cast, resident_order(cast))
    wo.rate_order(actor=cast.actor("resident_a"), order=rated_low, overall=2)
    fees = completed(cast, phone_order(cast, code="fee_question"))  # policy: never
    in_y = phone_order(cast, who="manager_y", house=cast.house_y)

    body = cast.client("dispatcher").get(VISITS).content.decode()
    assert desk_order.number in body and rated_low.number in body
    assert app_order.number not in body and fees.number not in body and in_y.number not in body
    for name in ("quality", "technician", "finance"):
        assert cast.client(name).get(VISITS).status_code == 403
    assert desk_order.number not in cast.client("manager_y").get(VISITS).content.decode()

    client = cast.client("dispatcher")
    data = {"source": "visits", f"v{desk_order.pk}-satisfied": "yes"}
    response = act(client, desk_order, "return_visit", data)
    assert response.status_code == 200 and "recorded" in response.content.decode()
    assert fresh(desk_order).status == Status.CLOSED
    before = events(rated_low)
    response = act(client, rated_low, "return_visit", {"source": "visits"})
    assert response.status_code == 200 and 'class="error"' in response.content.decode()
    assert events(rated_low) == before


# --- export ------------------------------------------------------------------------------
def _rows(response):
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return list(book.active.iter_rows(values_only=True))


def test_export_of_the_service_record(cast, frozen):
    open_order = phone_order(cast)
    done = completed(cast, phone_order(cast, description="已修好"))
    in_y = phone_order(cast, who="manager_y", house=cast.house_y)
    response = cast.client("dispatcher").get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = _rows(response)
    numbers = [row[0] for row in rows[1:]]
    assert numbers == [open_order.number, done.number]  # all statuses, not Y's
    assert in_y.number not in numbers
    header = rows[0]
    assert "Asia/Shanghai" in header[11]
    done_row = rows[2]
    assert done_row[9] == "138****0001"  # the dispatcher may not see full mobiles
    assert done_row[11] == datetime.datetime(2026, 11, 27, 10, 0)
    assert done_row[15] == "换了灯泡" and done_row[10] == "technician"

    manager_rows = _rows(cast.client("project_manager").get(EXPORT, {"status": "completed"}))
    assert [row[0] for row in manager_rows[1:]] == [done.number]
    assert manager_rows[1][9] == "13800000001"  # people.view_sensitive


def test_export_refuses_bad_filters_and_other_people(cast, frozen):
    response = cast.client("dispatcher").get(EXPORT, {"date_from": "not-a-date"})
    assert response.status_code == 400
    for name in ("technician", "resident_a", "nobody"):
        assert cast.client(name).get(EXPORT).status_code == 403
    phone_order(cast)
    assert _rows(cast.client("other_admin").get(EXPORT))[1:] == []


# --- admin ---------------------------------------------------------------------------------
def test_admin_lists_and_never_deletes(cast, frozen):
    order = phone_order(cast)
    root = get_user_model().objects.create_superuser("root", password="root-pass-123")
    from django.test import Client

    client = Client()
    client.force_login(root)
    for url in (
        reverse("admin:workorders_category_changelist") + "?request_type__exact=repair",
        reverse("admin:workorders_workorder_changelist") + f"?q={order.number}",
        reverse("admin:workorders_workorder_change", args=[order.pk]),
        reverse("admin:workorders_workorderevent_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    assert (
        order.number
        in client.get(
            reverse("admin:workorders_workorder_changelist") + f"?q={order.number}"
        ).content.decode()
    )
    delete = reverse("admin:workorders_workorder_delete", args=[order.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert WorkOrder.objects.filter(pk=order.pk).exists()
