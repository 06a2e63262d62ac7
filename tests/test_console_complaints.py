"""Complaints, desk resolution, root causes, replies and service recovery in the office
console (issue 3, parts 5, 6 and 8)."""

import datetime

import pytest
from django.urls import reverse

from wuye.workorders import services as wo
from wuye.workorders.models import (
    Category,
    Channel,
    Complaint,
    ComplaintParty,
    EventType,
    RootCause,
    Status,
    WorkOrder,
)

CST = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=CST)
INTAKE = reverse("orders_console:intake")
VISITS = reverse("orders_console:return_visits")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def category(cast, code):
    return Category.objects.get(company=cast.company, code=code)


def act(client, order, action, data=None):
    return client.post(reverse("orders_console:order_action", args=[order.pk, action]), data or {})


def detail(client, order):
    return client.get(reverse("orders_console:order_detail", args=[order.pk]))


def intake_data(cast, **overrides):
    data = {
        "channel": "phone",
        "place": "house",
        "community": cast.community_x.id,
        "building": cast.building_x1.id,
        "unit": cast.unit_x1.id,
        "number": "0102",
        "category_group": category(cast, "service").id,
        "category": category(cast, "service_attitude").id,
        "description": "保安说话很冲",
        "contact_name": "李娜",
        "contact_mobile": "13800000002",
        "party_kind": "staff",
        "party_staff": cast.staff["guard"].id,
        "demand": "要求当面道歉",
        "is_dispute": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def phone_complaint(cast, who="dispatcher"):
    return wo.submit_order(
        actor=cast.actor(who),
        category=category(cast, "service_attitude"),
        house=cast.house_a,
        channel=Channel.PHONE,
        description="保洁员态度差",
        contact_name="王芳",
        contact_mobile="13800000001",
        complaint={"party_kind": ComplaintParty.DEPARTMENT, "party_name": "保洁部"},
    )


def test_intake_shows_complaint_fields_only_for_complaint_categories(cast, frozen):
    client = cast.client("dispatcher")
    repair = client.get(INTAKE, {"category_group": category(cast, "water_electric").id})
    assert 'name="demand"' not in repair.content.decode()
    page = client.get(
        INTAKE,
        {"category_group": category(cast, "service").id, "community": cast.community_x.id},
    ).content.decode()
    assert 'name="demand"' in page and 'name="is_dispute"' in page
    assert cast.staff["guard"].name in page  # the community's staff to name
    assert cast.staff["technician_y"].name not in page


def test_intake_records_a_complaint_with_its_details(cast, frozen):
    response = cast.client("dispatcher").post(INTAKE, intake_data(cast))
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    assert order.status == Status.ACCEPTED  # the desk accepts and dispatches complaints
    details = Complaint.objects.get(order=order)
    assert details.party_staff == cast.staff["guard"] and details.is_dispute
    assert details.demand == "要求当面道歉"


def test_intake_complaint_naming_no_staff_is_a_form_error(cast, frozen):
    response = cast.client("dispatcher").post(INTAKE, intake_data(cast, party_staff=""))
    assert response.status_code == 200
    assert "Choose the staff member complained about." in response.content.decode()
    assert not WorkOrder.objects.exists()


def test_detail_shows_the_complaint_and_the_supervisors_actions(cast, frozen):
    order = phone_complaint(cast)
    page = detail(cast.client("service_supervisor"), order).content.decode()
    assert "保洁部" in page and "required before closing" in page
    assert 'id="action-resolve"' in page and 'id="action-cause"' in page
    desk_page = detail(cast.client("dispatcher"), order).content.decode()
    assert 'id="action-dispatch"' in desk_page
    assert 'id="action-resolve"' not in desk_page and 'id="action-cause"' not in desk_page
    assert (
        act(cast.client("dispatcher"), order, "resolve", {"resolve-resolution": "x"}).status_code
        == 403
    )
    assert (
        act(cast.client("dispatcher"), order, "cause", {"cause-root_cause": "fees"}).status_code
        == 403
    )
    assert not Complaint.objects.exclude(root_cause="").exists()


def test_supervisor_resolves_with_a_root_cause_then_closes_by_return_visit(cast, frozen):
    order = phone_complaint(cast)
    client = cast.client("service_supervisor")
    response = act(client, order, "resolve", {"resolve-resolution": "已向住户道歉"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert WorkOrder.objects.get(pk=order.pk).status == Status.ACCEPTED
    response = act(
        client,
        order,
        "resolve",
        {"resolve-resolution": "已向住户道歉", "resolve-root_cause": RootCause.ATTITUDE},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.COMPLETED
    page = detail(client, order).content.decode()
    assert "Service attitude" in page

    assert order.number in client.get(VISITS).content.decode()
    assert order.number not in cast.client("dispatcher").get(VISITS).content.decode()
    response = act(
        client, order, "return_visit", {"source": "visits", f"v{order.pk}-satisfied": "yes"}
    )
    assert response.status_code == 200 and "recorded" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.CLOSED and order.close_reason == "return_visit"


def test_root_cause_can_be_corrected_until_closing(cast, frozen):
    order = phone_complaint(cast)
    client = cast.client("service_supervisor")
    act(client, order, "cause", {"cause-root_cause": "fees"})
    act(client, order, "cause", {"cause-root_cause": "quality", "cause-root_cause_note": "返工"})
    details = Complaint.objects.get(order=order)
    assert (details.root_cause, details.root_cause_note) == ("quality", "返工")
    assert order.events.filter(type=EventType.CAUSE_RECORDED).count() == 2
    response = act(client, order, "cause", {"cause-root_cause": "made-up"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Complaint.objects.get(order=order).root_cause == "quality"


def test_reply_to_a_rating_from_the_console(cast, frozen):
    order = wo.submit_order(
        actor=cast.actor("resident_a"),
        category=category(cast, "lighting"),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="门口灯坏了",
    )
    desk, tech = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.accept_order(actor=desk, order=order)
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    order = wo.arrive(actor=tech, order=wo.take_order(actor=tech, order=order))
    order = wo.complete_order(actor=tech, order=order, resolution="换灯泡")
    order = wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=1, comment="太慢")

    client = cast.client("dispatcher")
    page = detail(client, order).content.decode()
    assert 'id="action-reply"' in page and "Service recovery due" in page
    assert 'id="action-reply"' not in detail(cast.client("quality"), order).content.decode()
    response = act(client, order, "reply", {"reply-reply": "抱歉，已安排主管上门"})
    assert response.status_code == 302
    assert order.feedback.__class__.objects.get(order=order).staff_reply == "抱歉，已安排主管上门"
    assert act(cast.client("technician"), order, "reply", {"reply-reply": "x"}).status_code == 403

    visits = client.get(VISITS).content.decode()
    assert order.number in visits and "Recovery by" in visits


def test_export_carries_the_complaint_columns(cast, frozen):
    import io

    import openpyxl

    order = phone_complaint(cast)
    wo.record_root_cause(actor=cast.actor("service_supervisor"), order=order, root_cause="fees")
    response = cast.client("dispatcher").get(reverse("orders_console:export"))
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    header, row = list(book.active.iter_rows(values_only=True))
    columns = dict(zip(header, row, strict=True))
    assert columns["Complained about"] == "A department: 保洁部"
    assert columns["Dispute"] == "No" and columns["Root cause"] == "Fees and charges"
    assert columns["SLA state"] == "On track" and columns["Closed by"] is None


def test_board_and_export_filter_by_sla_state(cast, frozen):
    late = phone_complaint(cast)
    WorkOrder.objects.filter(pk=late.pk).update(sla_state="breached")
    fine = phone_complaint(cast)
    client = cast.client("dispatcher")
    board = client.get(reverse("orders_console:board"), {"sla_state": "breached"}).content.decode()
    assert late.number in board and fine.number not in board
    bad = client.get(reverse("orders_console:board"), {"sla_state": "late"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_intake_attaches_photos_and_refuses_bad_files(cast, frozen, settings, tmp_path):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from wuye.core.models import Photo

    settings.MEDIA_ROOT = tmp_path / "media"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "teal").save(buffer, "JPEG")
    good = SimpleUploadedFile("a.jpg", buffer.getvalue(), content_type="image/jpeg")
    bad = SimpleUploadedFile("b.jpg", b"not a photo" * 50, content_type="image/jpeg")
    client = cast.client("dispatcher")

    response = client.post(INTAKE, {**intake_data(cast), "photos": [bad]})
    assert response.status_code == 200 and "b.jpg" in response.content.decode()
    assert not WorkOrder.objects.exists() and not Photo.objects.exists()

    response = client.post(INTAKE, {**intake_data(cast), "photos": [good]})
    assert response.status_code == 302
    order = WorkOrder.objects.get()
    photos = order.events.get(type=EventType.SUBMITTED).photos.all()
    assert [p.uploaded_by for p in photos] == [cast.users["dispatcher"]]


def test_board_shows_each_rows_sla_state(cast, frozen):
    late = phone_complaint(cast)
    WorkOrder.objects.filter(pk=late.pk).update(sla_state="breached")
    fine = phone_complaint(cast)
    body = cast.client("dispatcher").get(reverse("orders_console:board")).content.decode()
    assert (
        f'id="order-{late.pk}" class="urgency-normal status-accepted" data-sla="breached"' in body
    )
    assert (
        f'id="order-{fine.pk}" class="urgency-normal status-accepted" data-sla="on_track"' in body
    )
    assert body.count('class="sla-badge sla-breached"') == 1
    assert body.count('class="sla-badge sla-on_track"') == 1


def test_admin_shows_a_complaints_details(cast, frozen):
    from django.contrib.auth import get_user_model
    from django.test import Client

    order = phone_complaint(cast)
    root = get_user_model().objects.create_superuser("root", password="root-pass-123")
    client = Client()
    client.force_login(root)
    page = client.get(reverse("admin:workorders_workorder_change", args=[order.pk]))
    assert page.status_code == 200 and "保洁部" in page.content.decode()
    listing = client.get(reverse("admin:workorders_workorder_changelist") + "?sla_state=on_track")
    assert listing.status_code == 200 and order.number in listing.content.decode()
