"""The SLA badge on the mobile pages: staff see the state and the next deadline,
residents only the promised time (workorders/_sla_badge.html, ``{% sla_badge %}``)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel, SlaState
from wuye.workorders.sweep import sweep_sla
from wuye.workorders.templatetags.workorder_sla import badge

CST = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=CST)  # a Friday
STATE_WORDS = ("On track", "At risk", "Breached", "overdue", "left")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def leak(cast):
    """An urgent leak (wall clock: respond 15 min, on site 30 min, done in 4 h),
    accepted and dispatched to the technician at 10:00."""
    order = wo.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.get(company=cast.company, code="water_leak"),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="厨房水槽下水管漏水，地板已经湿了",
    )
    desk = cast.actor("dispatcher")
    order = wo.accept_order(actor=desk, order=order)
    if order.assignee_id != cast.staff["technician"].pk:
        order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    return order


def at(clock, minutes):
    clock.move_to(NOW + datetime.timedelta(minutes=minutes), tick=False)
    sweep_sla()


def page(cast, who, name, *args):
    response = cast.client(who).get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode().replace("\xa0", " ")  # timeuntil's no-break spaces


def test_the_technician_sees_the_state_and_what_is_left(cast, clock):
    order = leak(cast)
    tasks = page(cast, "technician", "orders_field:tasks")
    assert "sla-badge sla-on_track" in tasks
    assert "On track" in tasks and "on-site arrival 30 minutes left" in tasks

    at(clock, 25)  # at risk from 80 % of the 30 minutes
    tasks = page(cast, "technician", "orders_field:tasks")
    assert "sla-badge sla-at_risk" in tasks
    assert "At risk" in tasks and "on-site arrival 5 minutes left" in tasks
    detail = page(cast, "technician", "orders_field:order_detail", order.pk)
    assert "At risk" in detail and 'title="Due today 10:30"' in detail

    at(clock, 150)
    detail = page(cast, "technician", "orders_field:order_detail", order.pk)
    assert "sla-badge sla-breached" in detail
    assert "Breached" in detail and "on-site arrival 2 hours overdue" in detail

    me = cast.actor("technician")
    wo.arrive(actor=me, order=wo.take_order(actor=me, order=order))
    detail = page(cast, "technician", "orders_field:order_detail", order.pk)
    # Arrival was late (the state stays breached); the resolution clock runs on.
    assert "Breached" in detail and "resolution 1 hour left" in detail


def test_the_resident_sees_the_promise_but_no_state_words(cast, clock):
    order = leak(cast)
    at(clock, 25)
    for html in (
        page(cast, "resident_a", "orders_resident:my_orders"),
        page(cast, "resident_a", "orders_resident:order_detail", order.pk),
    ):
        assert "Expected on site by today 10:30" in html
        assert "sla-badge" not in html
        assert not [word for word in STATE_WORDS if word in html]

    at(clock, 45)
    html = page(cast, "resident_a", "orders_resident:order_detail", order.pk)
    assert "Promised by today 10:30; sorry for the wait" in html
    assert "sla-promise late" in html
    assert not [word for word in STATE_WORDS if word in html]


def test_a_submitted_order_promises_a_response(cast, clock):
    order = wo.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.get(company=cast.company, code="windows_glass"),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="窗户关不严",
    )
    # The normal policy runs on desk hours (08:00–20:00): 12 desk hours from Friday
    # 10:00 is Saturday 10:00.
    html = page(cast, "resident_a", "orders_resident:order_detail", order.pk)
    assert "We will respond by tomorrow 10:00" in html
    staff = badge(order, "staff", now=NOW)
    assert staff["state"] == SlaState.ON_TRACK
    assert staff["relative"].replace("\xa0", " ") == "response 1 day left"


def test_paused_and_finished_orders(cast, clock):
    order = leak(cast)
    me = cast.actor("technician")
    order = wo.arrive(actor=me, order=wo.take_order(actor=me, order=order))
    order = wo.pause_order(actor=me, order=order, reason="等配件")
    assert badge(order, "staff", now=NOW)["relative"] == "clock paused"
    assert badge(order, "resident", now=NOW) is None
    order = wo.resume_order(actor=me, order=order)
    order = wo.complete_order(actor=me, order=order, resolution="换了下水管")
    assert badge(order, "staff", now=NOW) is None
    assert badge(order, "resident", now=NOW) is None
    html = page(cast, "technician", "orders_field:order_detail", order.pk)
    assert "sla-badge" not in html


def test_a_deadline_passed_before_the_sweep_already_shows_breached(cast, clock):
    order = leak(cast)
    later = NOW + datetime.timedelta(minutes=31)
    assert order.sla_state == SlaState.ON_TRACK  # no sweep has run
    shown = badge(order, "staff", now=later)
    shown["relative"] = shown["relative"].replace("\xa0", " ")
    assert shown["state"] == SlaState.BREACHED and shown["label"] == "Breached"
    assert shown["relative"] == "on-site arrival 1 minute overdue"


def test_the_badge_costs_no_queries(cast, clock):
    leak(cast)
    client = cast.client("technician")
    url = reverse("orders_field:tasks")
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    leak(cast)
    leak(cast)
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).content.decode().count("sla-badge sla-") == 3
    assert len(three) == len(one)
