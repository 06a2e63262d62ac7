"""SLA clocks on work orders and the sweep (issue 3, part 4), with frozen time."""

import datetime

import pytest

from wuye.sla.models import SlaPolicy
from wuye.workorders import services as wo
from wuye.workorders.models import Category, Channel, EventType, SlaState, WorkOrder
from wuye.workorders.sweep import sweep_sla

CST = datetime.timezone(datetime.timedelta(hours=8))
FRIDAY_10 = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=CST)


def at(day, hour, minute=0):
    return datetime.datetime(2026, 11, day, hour, minute, tzinfo=CST)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(FRIDAY_10, tick=False)
    return time_machine


def report(cast, code):
    return wo.submit_order(
        actor=cast.actor("resident_a"),
        category=Category.objects.get(company=cast.company, code=code),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="需要处理",
    )


def events(order, *types):
    return list(order.events.filter(type__in=types).values_list("type", "payload__clock"))


def test_normal_request_runs_on_the_service_desk_hours(cast, clock):
    order = report(cast, "windows_glass")  # normal policy: 720 desk minutes to respond
    assert order.sla["policy"]["code"] == "normal"
    # Desk open 08:00–20:00: 10 h on Friday, 2 h on Saturday.
    assert order.response_due == at(28, 10)
    assert order.arrival_due is None  # the normal policy has no on-site deadline
    # 2160 desk minutes = 3 desk days.
    assert order.resolution_due == at(30, 10)
    assert order.sla_state == SlaState.ON_TRACK
    # The at-risk point (80 % of 12 desk hours = 9 h 36 min) comes first.
    assert order.sla_next_check == at(27, 19, 36)


def test_emergency_runs_on_the_wall_clock(cast, clock):
    order = report(cast, "water_leak")  # urgent: 15 / 30 / 240 wall minutes
    assert order.sla["policy"]["code"] == "urgent"
    assert order.response_due == at(27, 10, 15)
    assert order.arrival_due == at(27, 10, 30)
    assert order.resolution_due == at(27, 14, 0)


def test_the_policy_is_frozen_at_creation(cast, clock):
    order = report(cast, "water_leak")
    SlaPolicy.objects.filter(company=cast.company, code="urgent").update(response_minutes=999)
    order.refresh_from_db()
    assert order.sla["policy"]["response_minutes"] == 15
    assert order.response_due == at(27, 10, 15)


def test_late_acceptance_is_recorded_as_a_breach(cast, clock):
    order = report(cast, "water_leak")
    clock.move_to(at(27, 10, 25), tick=False)
    order = wo.accept_order(actor=cast.actor("dispatcher"), order=order)
    assert order.sla["clocks"]["response"]["late"] == 10
    assert order.sla_state == SlaState.BREACHED


def test_a_pause_stops_the_clocks_and_resuming_extends_them(cast, clock):
    order = report(cast, "water_leak")
    desk, me = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.accept_order(actor=desk, order=order)
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    order = wo.take_order(actor=me, order=order)
    clock.move_to(at(27, 10, 20), tick=False)
    order = wo.pause_order(actor=me, order=order, reason="等住户回家")
    assert order.sla_next_check is None
    clock.move_to(at(27, 12, 20), tick=False)
    assert sweep_sla() == 0  # paused orders are not swept
    order = wo.resume_order(actor=me, order=order)
    # Two paused hours push the on-site and resolution deadlines by two hours.
    assert order.arrival_due == at(27, 12, 30)
    assert order.resolution_due == at(27, 16, 0)


def test_sweep_marks_at_risk_then_breached_then_escalates_once(cast, clock, settings):
    settings.WORKORDER_ESCALATE_AFTER_MINUTES = 60
    order = report(cast, "water_leak")
    untouched = report(cast, "windows_glass")  # its first check is hours away
    clock.move_to(at(27, 10, 13), tick=False)  # 13 of 15 minutes used: at risk
    assert sweep_sla() == 1
    order.refresh_from_db()
    assert order.sla_state == SlaState.AT_RISK
    assert events(order, EventType.SLA_AT_RISK) == [("sla_at_risk", "response")]
    assert sweep_sla() == 0  # idempotent: nothing is due again yet

    clock.move_to(at(27, 10, 16), tick=False)
    sweep_sla()
    order.refresh_from_db()
    assert order.sla_state == SlaState.BREACHED
    assert ("sla_breached", "response") in events(order, EventType.SLA_BREACHED)

    clock.move_to(at(27, 11, 20), tick=False)
    sweep_sla()
    sweep_sla()
    order.refresh_from_db()
    assert events(order, EventType.SLA_ESCALATED).count(("sla_escalated", "response")) == 1
    assert order.priority >= 1
    untouched.refresh_from_db()
    assert untouched.sla_state == SlaState.ON_TRACK
    assert not untouched.events.filter(type__startswith="sla_").exists()


def test_completed_orders_leave_the_sweep(cast, clock):
    order = report(cast, "water_leak")
    desk, me = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.accept_order(actor=desk, order=order)
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    order = wo.take_order(actor=me, order=order)
    order = wo.arrive(actor=me, order=order)
    order = wo.complete_order(actor=me, order=order, resolution="关阀换管")
    assert order.sla_next_check is None
    assert all(c["stopped"] for c in order.sla["clocks"].values())
    clock.move_to(at(28, 10), tick=False)
    assert sweep_sla() == 0
    assert WorkOrder.objects.get(pk=order.pk).sla_state == SlaState.ON_TRACK


def test_reopen_restarts_the_on_site_and_resolution_clocks(cast, clock):
    order = report(cast, "water_leak")
    desk, me = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.accept_order(actor=desk, order=order)
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    order = wo.take_order(actor=me, order=order)
    order = wo.arrive(actor=me, order=order)
    order = wo.complete_order(actor=me, order=order, resolution="ok")
    clock.move_to(at(27, 18), tick=False)
    order = wo.reopen_order(actor=cast.actor("resident_a"), order=order, reason="又漏了")
    assert order.arrival_due == at(27, 18, 30)
    assert order.resolution_due == at(27, 22)
    assert order.sla_next_check is not None


def test_a_sweep_exactly_at_the_deadline_finishes_and_breaches_just_after(cast, clock):
    order = report(cast, "water_leak")
    clock.move_to(at(27, 10, 13), tick=False)
    sweep_sla()
    order.refresh_from_db()
    due = order.response_due
    clock.move_to(due, tick=False)
    assert sweep_sla() == 0  # at the deadline itself nothing is late yet
    order.refresh_from_db()
    assert order.sla_state == SlaState.AT_RISK and order.sla_next_check > due
    clock.move_to(due + datetime.timedelta(seconds=1), tick=False)
    assert sweep_sla() == 1
    order.refresh_from_db()
    assert order.sla_state == SlaState.BREACHED
