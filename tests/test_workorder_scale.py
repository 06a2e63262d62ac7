"""The work-order engine's fast paths (bench/workorders.py) decide exactly what the
plain versions decide: the SLA sweep's batched notifications, and pick() choosing in
Python among candidates read once."""

import datetime
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import make_staff
from wuye.notifications.models import Notification
from wuye.staff.models import RosterEntry, Shift, StaffMember, Trade
from wuye.workorders import services as wo
from wuye.workorders.dispatch import candidates, pick
from wuye.workorders.models import (
    Category,
    Channel,
    DispatchMode,
    EventType,
    SlaState,
    Status,
    WorkOrder,
    WorkOrderEvent,
)
from wuye.workorders.notices import announce
from wuye.workorders.sweep import sweep_sla

CST = datetime.timezone(datetime.timedelta(hours=8))
FRIDAY_10 = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=CST)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(FRIDAY_10, tick=False)
    return time_machine


def minutes(n):
    return FRIDAY_10 + datetime.timedelta(minutes=n)


def report(cast, code="water_leak", house=None, actor="resident_a"):
    return wo.submit_order(
        actor=cast.actor(actor),
        category=Category.objects.get(company=cast.company, code=code),
        house=house or cast.house_a,
        channel=Channel.RESIDENT_H5 if actor.startswith("resident") else Channel.PHONE,
        description="需要处理",
        **(
            {}
            if actor.startswith("resident")
            else {"contact_name": "业主", "contact_mobile": "13800000003"}
        ),
    )


def inbox():
    return sorted(
        Notification.objects.values_list(
            "recipient_id", "dedupe_key", "kind", "title", "body", "url", "object_id"
        )
    )


# --- the SLA sweep ------------------------------------------------------------------
def test_a_sweep_notifies_each_recipient_once_as_announcing_each_event_would(
    cast, clock, settings, django_capture_on_commit_callbacks
):
    settings.WORKORDER_ESCALATE_AFTER_MINUTES = 60
    desk = cast.actor("dispatcher")
    orders = [report(cast) for _ in range(4)] + [report(cast, "windows_glass")]
    orders.append(report(cast, house=cast.house_y, actor="company_admin"))  # community Y
    for order, name in zip(orders[:2], ("technician", "cleaner"), strict=True):
        order = wo.accept_order(actor=desk, order=order)
        wo.dispatch_order(actor=desk, order=order, assignee=cast.staff[name])
    Notification.objects.all().delete()

    clock.move_to(minutes(80), tick=False)  # breached and escalated in one pass
    due = WorkOrder.objects.filter(sla_next_check__lte=minutes(80)).count()
    assert due >= 5
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        swept = sweep_sla(batch=2)
    assert swept == due
    assert len(callbacks) == (due + 1) // 2  # one delivery task per batch of two orders
    batched = inbox()
    events = WorkOrderEvent.objects.filter(type__startswith="sla_").order_by("id")
    kinds = set(events.values_list("type", flat=True))
    assert {EventType.SLA_BREACHED, EventType.SLA_ESCALATED} <= kinds
    # Assignees on the field app, the desk of X and company-wide managers on the console,
    # nobody of community Y's staff for X's orders and nobody twice per event.
    users = {name: user.pk for name, user in cast.users.items()}
    recipients = {row[0] for row in batched}
    assert {users["technician"], users["cleaner"], users["dispatcher"]} <= recipients
    assert users["resident_a"] not in recipients
    field = {row[5].split("/")[1] for row in batched if row[0] == users["technician"]}
    assert field == {"m"}
    assert len({(row[0], row[1]) for row in batched}) == len(batched)
    assert {row[1] for row in batched} == {f"workorder-event:{e.pk}" for e in events}

    for callback in callbacks:  # every task runs again: nothing new
        callback()
    assert inbox() == batched

    Notification.objects.all().delete()
    for event in events:  # the plain path, one event at a time
        with django_capture_on_commit_callbacks(execute=True):
            announce(event)
    assert inbox() == batched


def test_sweep_queries_per_batch_do_not_grow_with_due_orders(cast, clock):
    desk = cast.actor("dispatcher")
    techs = [
        make_staff(cast.company, f"tech{n}", ["technician"], [cast.community_x]) for n in range(6)
    ]

    def due_orders(count):
        """``count`` orders of different technicians, the clock moved to when all are due."""
        made = []
        for tech in techs[:count]:
            order = wo.accept_order(actor=desk, order=report(cast))
            made.append(wo.dispatch_order(actor=desk, order=order, assignee=tech))
        clock.move_to(max(order.sla_next_check for order in made), tick=False)
        return made

    def sweep_queries(**kwargs):
        due = WorkOrder.objects.filter(sla_next_check__lte=timezone.now()).count()
        with CaptureQueriesContext(connection) as queries:
            assert sweep_sla(**kwargs) == due
        return due, len(queries)

    due_orders(1)
    few = sweep_queries()
    due_orders(6)
    many = sweep_queries()
    assert (few[0], many[0]) >= (1, 6)
    assert many[1] == few[1] <= 16
    # Batches of two: the per-batch queries once per batch, not per order.
    due_orders(6)
    swept, queries = sweep_queries(batch=2)
    assert swept >= 6 and queries <= (swept + 1) // 2 * few[1]


@pytest.mark.parametrize("later", [13, 16, 80])
def test_sweep_stores_exactly_what_evaluate_computed(cast, clock, settings, later):
    from wuye.workorders.sla import evaluate

    settings.WORKORDER_ESCALATE_AFTER_MINUTES = 60
    clock.move_to(FRIDAY_10 + datetime.timedelta(microseconds=654321), tick=False)
    desk = cast.actor("dispatcher")
    order = wo.accept_order(actor=desk, order=report(cast))
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    other = report(cast)
    clock.move_to(minutes(later) + datetime.timedelta(microseconds=123457), tick=False)
    expected = {}
    for each in (order, other):
        each = WorkOrder.objects.get(pk=each.pk)
        changes = evaluate(each, now=timezone.now())
        escalations = [c for c in changes if c[0] == EventType.SLA_ESCALATED]
        expected[each.pk] = (
            each.sla,
            each.sla_state,
            each.sla_next_check,
            each.priority + len(escalations),
        )
    assert sweep_sla() == sum(
        1 for o in (order, other) if o.sla_next_check and o.sla_next_check <= timezone.now()
    )
    assert any(values[2] and values[2].microsecond for values in expected.values())
    for pk, values in expected.items():
        swept = WorkOrder.objects.get(pk=pk)
        assert (swept.sla, swept.sla_state, swept.sla_next_check, swept.priority) == values
    assert WorkOrder.objects.get(pk=other.pk).sla_state != SlaState.ON_TRACK
    assert sweep_sla() == 0


# --- automatic and round-robin picks ------------------------------------------------
def on_shift(cast, member):
    member.trades.add(Trade.objects.get(company=cast.company, code="plumbing_electric"))
    RosterEntry.objects.create(
        staff=member,
        community=cast.community_x,
        date=FRIDAY_10.date(),
        shift=Shift.objects.get(company=cast.company, name="常白班"),
    )


def sql_choice(order):
    """What pick() chose before it chose in Python: the ORDER BY on candidates()."""
    from django.db.models import F

    idle = F("last_assigned").asc(nulls_first=True)
    ordering = (
        [idle, "id"] if order.dispatch_mode == DispatchMode.ROUND_ROBIN else ["load", idle, "id"]
    )
    return candidates(order).order_by(*ordering).first()


@pytest.mark.parametrize("mode", [DispatchMode.AUTO, DispatchMode.ROUND_ROBIN])
def test_pick_chooses_what_ordering_candidates_in_sql_chooses(cast, clock, settings, mode):
    settings.WORKORDER_MAX_OPEN_PER_ASSIGNEE = 3
    techs = [
        make_staff(cast.company, f"rr{n}", ["technician"], [cast.community_x]) for n in range(6)
    ]
    for tech in techs:
        on_shift(cast, tech)
    Category.objects.filter(company=cast.company, code="water_leak").update(dispatch_mode=mode)
    held = [report(cast) for _ in range(12)]  # orders handed out below
    order = report(cast)
    rng = random.Random(7)
    statuses = [Status.DISPATCHED, Status.TAKEN, Status.IN_PROGRESS, Status.PAUSED, Status.CLOSED]
    instants = [None, minutes(-30), minutes(-30), minutes(-10), minutes(-5)]  # with a tie
    for _round in range(25):
        for held_order in held:
            WorkOrder.objects.filter(pk=held_order.pk).update(
                assignee=rng.choice([*techs, None]),
                status=rng.choice(statuses),
                dispatched_at=rng.choice(instants),
            )
        expected = sql_choice(order)
        chosen = pick(order)
        assert chosen == expected
        if expected is not None:
            assert (chosen.load, chosen.last_assigned) == (expected.load, expected.last_assigned)
    # Everyone at the cap: nobody.
    for n, held_order in enumerate(held):
        WorkOrder.objects.filter(pk=held_order.pk).update(
            assignee=techs[n % 4], status=Status.DISPATCHED
        )
    StaffMember.objects.filter(pk__in=[t.pk for t in techs[4:]]).update(
        status=StaffMember.Status.OFF_DUTY
    )
    assert pick(order) is None and sql_choice(order) is None


def test_pick_takes_the_same_queries_whatever_the_number_of_technicians(cast, clock):
    order = report(cast)
    counts = []
    for n in range(8):
        on_shift(cast, make_staff(cast.company, f"many{n}", ["technician"], [cast.community_x]))
        with CaptureQueriesContext(connection) as queries:
            assert pick(order) is not None
        counts.append(len(queries))
    # The company's field roles (a subquery on PostgreSQL), then the choice.
    assert counts == [1 if connection.vendor == "postgresql" else 2] * 8
