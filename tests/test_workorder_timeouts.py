"""The minute job besides the SLA sweep: take timeouts and the unrated auto-close
(issue 3, parts 3 and 5), with frozen time."""

import datetime

import pytest

from wuye.staff.models import RosterEntry, Shift, Trade
from wuye.workorders import services as wo
from wuye.workorders.models import (
    Category,
    Channel,
    CloseReason,
    DispatchMode,
    EventType,
    Feedback,
    Status,
)
from wuye.workorders.timeouts import run_timeouts

CST = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=CST)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def later(frozen, **delta):
    frozen.move_to(NOW + datetime.timedelta(**delta), tick=False)


def report(cast, code="windows_glass", *, actor="resident_a", channel=Channel.RESIDENT_H5):
    return wo.submit_order(
        actor=cast.actor(actor),
        category=Category.objects.get(company=cast.company, code=code),
        house=cast.house_a,
        channel=channel,
        description="需要处理",
        contact_name="王芳",
        contact_mobile="13800000001",
    )


def on_shift(cast, *names):
    trade = Trade.objects.get(company=cast.company, code="doors_windows")
    shift = Shift.objects.get(company=cast.company, name="常白班")
    for name in names:
        member = cast.staff[name]
        member.trades.add(trade)
        RosterEntry.objects.create(
            staff=member, community=cast.community_x, date=NOW.date(), shift=shift
        )


def dispatched(cast, assignee="technician"):
    desk = cast.actor("dispatcher")
    order = wo.accept_order(actor=desk, order=report(cast))
    return wo.dispatch_order(actor=desk, order=order, assignee=cast.staff[assignee])


def test_an_untaken_assigned_order_goes_back_to_the_dispatcher(cast, frozen, settings):
    settings.WORKORDER_TAKE_TIMEOUT_MINUTES = {"normal": 30, "urgent": 10, "emergency": 5}
    order = dispatched(cast)
    later(frozen, minutes=29)
    assert run_timeouts() == {"expired": 0, "closed": 0}
    later(frozen, minutes=31)
    assert run_timeouts() == {"expired": 1, "closed": 0}
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED and order.assignee is None
    event = order.events.get(type=EventType.DISPATCH_EXPIRED)
    assert event.payload == {"assignee": cast.staff["technician"].pk}
    assert not event.is_public
    assert run_timeouts() == {"expired": 0, "closed": 0}  # idempotent


def test_a_taken_order_never_expires(cast, frozen):
    order = dispatched(cast)
    order = wo.take_order(actor=cast.actor("technician"), order=order)
    later(frozen, hours=5)
    assert run_timeouts()["expired"] == 0
    order.refresh_from_db()
    assert order.status == Status.TAKEN


def test_emergencies_time_out_sooner(cast, frozen, settings):
    settings.WORKORDER_TAKE_TIMEOUT_MINUTES = {"normal": 30, "urgent": 10, "emergency": 5}
    order = dispatched(cast)
    order.urgency = "emergency"
    order.save(update_fields=["urgency"])
    normal = dispatched(cast, assignee="guard")
    later(frozen, minutes=6)
    assert run_timeouts()["expired"] == 1
    order.refresh_from_db()
    normal.refresh_from_db()
    assert order.status == Status.ACCEPTED and normal.status == Status.DISPATCHED


def test_automatic_orders_go_to_the_next_candidate_then_to_the_dispatcher(cast, frozen, settings):
    settings.WORKORDER_MAX_REDISPATCH = 1
    on_shift(cast, "technician", "guard")
    windows = Category.objects.get(company=cast.company, code="windows_glass")
    windows.dispatch_mode = DispatchMode.AUTO
    windows.save()
    order = wo.accept_order(actor=cast.actor("dispatcher"), order=report(cast))
    first = order.assignee
    assert first is not None
    later(frozen, minutes=31)
    run_timeouts()
    order.refresh_from_db()
    second = order.assignee
    assert order.status == Status.DISPATCHED and second not in (None, first)

    later(frozen, minutes=62)
    run_timeouts()
    order.refresh_from_db()
    # Both let it expire and the cap of one re-dispatch is used: the dispatcher decides.
    assert order.status == Status.ACCEPTED and order.assignee is None
    assert order.events.filter(type=EventType.DISPATCH_EXPIRED).count() == 2
    assert order.events.filter(type=EventType.COMMENTED).exists()


def test_grab_orders_go_back_to_the_pool(cast, frozen):
    windows = Category.objects.get(company=cast.company, code="windows_glass")
    windows.dispatch_mode = DispatchMode.GRAB
    windows.save()
    order = dispatched(cast)
    later(frozen, minutes=31)
    run_timeouts()
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED and order.assignee is None
    assert order.pk in {o.pk for o in order.__class__.objects.visible_to(cast.actor("guard"))}


def completed(cast, **kwargs):
    order = dispatched(cast)
    tech = cast.actor("technician")
    order = wo.take_order(actor=tech, order=order)
    order = wo.arrive(actor=tech, order=order)
    return wo.complete_order(actor=tech, order=order, resolution="已修好")


def test_unrated_orders_close_after_48_hours_marked_not_rated(cast, frozen, settings):
    settings.WORKORDER_AUTO_CLOSE_HOURS = 48
    order = completed(cast)
    later(frozen, hours=47)
    assert run_timeouts()["closed"] == 0
    later(frozen, hours=48, minutes=1)
    assert run_timeouts()["closed"] == 1
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert order.close_reason == CloseReason.NOT_RATED
    assert not Feedback.objects.filter(order=order).exists()
    assert order.events.get(type=EventType.CLOSED).payload == {"reason": "not_rated"}
    assert run_timeouts()["closed"] == 0


def test_orders_waiting_for_a_return_visit_do_not_auto_close(cast, frozen):
    phone = report(cast, actor="dispatcher", channel=Channel.PHONE)  # accepted at the desk
    desk, tech = cast.actor("dispatcher"), cast.actor("technician")
    phone = wo.dispatch_order(actor=desk, order=phone, assignee=cast.staff["technician"])
    phone = wo.take_order(actor=tech, order=phone)
    phone = wo.arrive(actor=tech, order=phone)
    phone = wo.complete_order(actor=tech, order=phone, resolution="已修好")
    rated = wo.rate_order(actor=cast.actor("resident_a"), order=completed(cast), overall=3)
    later(frozen, days=5)
    assert run_timeouts()["closed"] == 0
    phone.refresh_from_db()
    rated.refresh_from_db()
    assert phone.status == Status.COMPLETED and rated.status == Status.RATED


def test_a_late_rating_after_the_auto_close_is_refused(cast, frozen):
    order = completed(cast)
    later(frozen, days=3)
    run_timeouts()
    with pytest.raises(wo.InvalidTransition):
        wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=5)


def test_the_desk_hears_about_an_expired_dispatch(cast, frozen, django_capture_on_commit_callbacks):
    from wuye.notifications.models import Notification

    dispatched(cast)
    later(frozen, minutes=31)
    with django_capture_on_commit_callbacks(execute=True):
        run_timeouts()
    told = set(
        Notification.objects.filter(kind="workorder.dispatch_expired").values_list(
            "recipient_id", flat=True
        )
    )
    assert cast.users["dispatcher"].pk in told
    assert cast.users["technician"].pk not in told and cast.users["resident_a"].pk not in told
