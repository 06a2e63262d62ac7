"""Complaints on the work-order engine, desk resolution, replies to ratings and
service recovery (issue 3, parts 5 and 6)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from workorder_helpers import completed_repair

from wuye.notifications.models import Notification
from wuye.workorders import selectors
from wuye.workorders import services as wo
from wuye.workorders.models import (
    Category,
    Channel,
    CloseReason,
    Complaint,
    ComplaintParty,
    EventType,
    Feedback,
    RootCause,
    SlaState,
    Status,
    WorkOrder,
)
from wuye.workorders.sweep import sweep_sla

CST = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=CST)  # a Friday, office hours


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def category(cast, code):
    return Category.objects.get(company=cast.company, code=code)


def complaint(cast, *, actor="resident_a", **details):
    return wo.submit_order(
        actor=cast.actor(actor),
        category=category(cast, "service_attitude"),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5 if actor.startswith("resident") else Channel.PHONE,
        description="保安态度恶劣",
        contact_name="王芳",
        contact_mobile="13800000001",
        complaint=details
        or {
            "party_kind": ComplaintParty.STAFF,
            "party_staff": cast.staff["guard"],
            "demand": "要求道歉",
            "is_dispute": True,
        },
    )


def test_a_complaint_records_party_demand_and_dispute(cast, frozen):
    order = complaint(cast)
    details = Complaint.objects.get(order=order)
    assert details.party_kind == ComplaintParty.STAFF
    assert details.party == cast.staff["guard"].name
    assert details.demand == "要求道歉" and details.is_dispute
    assert details.root_cause == ""


def test_complaint_details_are_validated_and_nothing_is_written(cast, frozen):
    before = WorkOrder.objects.count()
    with pytest.raises(ValidationError) as exc:
        complaint(cast, party_kind=ComplaintParty.STAFF, demand="x")  # no staff named
    assert "__all__" in exc.value.message_dict or "party_staff" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        complaint(cast, party_kind=ComplaintParty.STAFF, party_staff=cast.staff["other_admin"])
    assert "party_staff" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        complaint(cast, party_kind="aliens")
    assert "party_kind" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        wo.submit_order(
            actor=cast.actor("resident_a"),
            category=category(cast, "taps_toilets"),
            house=cast.house_a,
            channel=Channel.RESIDENT_H5,
            description="漏水",
            complaint={"demand": "赔偿"},
        )
    assert "category" in exc.value.message_dict
    assert WorkOrder.objects.count() == before
    assert not Complaint.objects.exists()


def test_the_desk_dispatches_but_only_the_supervisor_settles_a_complaint(cast, frozen):
    order = complaint(cast)
    desk = cast.actor("dispatcher")
    order = wo.accept_order(actor=desk, order=order)
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    assert order.status == Status.DISPATCHED
    for outsider in ("dispatcher", "technician", "quality", "resident_a"):
        with pytest.raises(PermissionDenied):
            wo.resolve_order(
                actor=cast.actor(outsider),
                order=order,
                resolution="已道歉",
                root_cause=RootCause.ATTITUDE,
            )
        with pytest.raises(PermissionDenied):
            wo.record_root_cause(
                actor=cast.actor(outsider), order=order, root_cause=RootCause.ATTITUDE
            )
    assert "resolve" not in selectors.actions_for(desk, order)
    supervisor = cast.actor("service_supervisor")
    assert "resolve" in selectors.actions_for(supervisor, order)
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED
    assert not order.events.filter(type=EventType.CAUSE_RECORDED).exists()


def test_resolving_a_complaint_needs_its_root_cause(cast, frozen):
    supervisor = cast.actor("service_supervisor")
    order = wo.accept_order(actor=supervisor, order=complaint(cast))
    with pytest.raises(ValidationError) as exc:
        wo.resolve_order(actor=supervisor, order=order, resolution="已道歉")
    assert "root_cause" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        wo.resolve_order(actor=supervisor, order=order, resolution="已道歉", root_cause="luck")
    assert "root_cause" in exc.value.message_dict
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED
    order = wo.resolve_order(
        actor=supervisor,
        order=order,
        resolution="当面道歉，保安调岗",
        root_cause=RootCause.ATTITUDE,
        root_cause_note="新员工未培训",
    )
    assert order.status == Status.COMPLETED and order.completed_at == NOW
    details = Complaint.objects.get(order=order)
    assert (details.root_cause, details.root_cause_note) == ("attitude", "新员工未培训")
    assert order.sla_state == SlaState.ON_TRACK and order.sla["clocks"]["resolution"]["stopped"]


def test_a_complaint_closes_on_the_complainants_confirmation(cast, frozen):
    supervisor = cast.actor("service_supervisor")
    order = wo.accept_order(actor=supervisor, order=complaint(cast))
    order = wo.resolve_order(
        actor=supervisor, order=order, resolution="已道歉", root_cause=RootCause.ATTITUDE
    )
    # "service" complaints always ask for a return visit by policy; a good rating
    # from the complainant still leaves it for the supervisor's call.
    order = wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=5)
    assert order.status == Status.RATED
    assert order in selectors.awaiting_return_visit(WorkOrder.objects.all())
    order = wo.return_visit(actor=supervisor, order=order, satisfied=True, note="满意")
    assert order.status == Status.CLOSED and order.close_reason == CloseReason.RETURN_VISIT


def test_a_return_visit_closes_a_complaint_only_with_a_root_cause(cast, frozen):
    supervisor = cast.actor("service_supervisor")
    desk = cast.actor("dispatcher")
    order = wo.accept_order(actor=desk, order=complaint(cast))
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    tech = cast.actor("technician")
    order = wo.take_order(actor=tech, order=order)
    order = wo.arrive(actor=tech, order=order)
    order = wo.complete_order(actor=tech, order=order, resolution="已沟通")
    assert order in selectors.awaiting_return_visit(WorkOrder.objects.all())  # unrated complaint
    with pytest.raises(PermissionDenied):
        wo.return_visit(actor=desk, order=order, satisfied=True)
    with pytest.raises(ValidationError) as exc:
        wo.return_visit(actor=supervisor, order=order, satisfied=True)
    assert "root_cause" in exc.value.message_dict
    order.refresh_from_db()
    assert order.status == Status.COMPLETED
    order = wo.return_visit(
        actor=supervisor, order=order, satisfied=True, root_cause=RootCause.QUALITY
    )
    assert order.status == Status.CLOSED
    assert Complaint.objects.get(order=order).root_cause == RootCause.QUALITY
    with pytest.raises(wo.InvalidTransition):
        wo.record_root_cause(actor=supervisor, order=order, root_cause=RootCause.OTHER)


def test_the_desk_resolves_an_inquiry_but_never_a_repair(cast, frozen):
    desk = cast.actor("dispatcher")
    inquiry = wo.submit_order(
        actor=desk,
        category=category(cast, "fee_question"),
        house=cast.house_a,
        channel=Channel.PHONE,
        description="物业费怎么算",
        contact_name="王芳",
        contact_mobile="13800000001",
    )
    assert "resolve" in selectors.actions_for(desk, inquiry)
    inquiry = wo.resolve_order(actor=desk, order=inquiry, resolution="按建筑面积×单价，已解释")
    assert inquiry.status == Status.COMPLETED
    assert inquiry.events.get(type=EventType.COMPLETED).payload == {"at_desk": True}

    repair = wo.submit_order(
        actor=desk,
        category=category(cast, "taps_toilets"),
        house=cast.house_a,
        channel=Channel.PHONE,
        description="马桶漏水",
        contact_name="王芳",
        contact_mobile="13800000001",
    )
    assert "resolve" not in selectors.actions_for(desk, repair)
    with pytest.raises(ValidationError):
        wo.resolve_order(actor=desk, order=repair, resolution="x")
    repair.refresh_from_db()
    assert repair.status == Status.ACCEPTED


def test_staff_reply_to_a_rating_shows_on_the_residents_timeline(cast, frozen):
    order = wo.rate_order(
        actor=cast.actor("resident_a"), order=completed_repair(cast), overall=4, comment="还行"
    )
    with pytest.raises(PermissionDenied):
        wo.reply_to_feedback(actor=cast.actor("technician"), order=order, reply="谢谢")
    with pytest.raises(PermissionDenied):
        wo.reply_to_feedback(actor=cast.actor("manager_y"), order=order, reply="谢谢")
    with pytest.raises(ValidationError) as exc:
        wo.reply_to_feedback(actor=cast.actor("dispatcher"), order=order, reply="  ")
    assert "reply" in exc.value.message_dict
    feedback = wo.reply_to_feedback(actor=cast.actor("dispatcher"), order=order, reply="感谢评价")
    assert feedback.staff_reply == "感谢评价" and feedback.replied_at == NOW
    public = selectors.events_for(cast.actor("resident_a"), order)
    assert public.filter(type=EventType.REPLIED, note="感谢评价").exists()


def test_reply_needs_a_rating(cast, frozen):
    order = completed_repair(cast)
    with pytest.raises(wo.InvalidTransition):
        wo.reply_to_feedback(actor=cast.actor("dispatcher"), order=order, reply="感谢")


def test_a_low_rating_opens_service_recovery_on_a_short_clock(
    cast, frozen, settings, django_capture_on_commit_callbacks
):
    settings.WORKORDER_RECOVERY_MINUTES = 240
    done = completed_repair(cast)
    with django_capture_on_commit_callbacks(execute=True):
        order = wo.rate_order(actor=cast.actor("resident_a"), order=done, overall=2)
    assert order.status == Status.RATED  # stays open for the follow-up, whatever the policy
    recovery = order.sla["clocks"]["recovery"]
    assert recovery["due"] == "2026-11-27T14:00:00+08:00"  # 4 business hours
    assert order.events.filter(type=EventType.RECOVERY_OPENED).exists()
    assert order in selectors.awaiting_return_visit(WorkOrder.objects.all())
    desk_users = {cast.users["dispatcher"].pk, cast.users["service_supervisor"].pk}
    told = set(
        Notification.objects.filter(kind="workorder.rated").values_list("recipient_id", flat=True)
    )
    assert desk_users <= told

    # Nobody called back: the sweep breaches the recovery clock like any other.
    frozen.move_to(datetime.datetime(2026, 11, 27, 14, 5, tzinfo=CST), tick=False)
    sweep_sla()
    order.refresh_from_db()
    assert order.sla_state == SlaState.BREACHED
    assert order.events.filter(type=EventType.SLA_BREACHED, payload__clock="recovery").exists()

    order = wo.return_visit(
        actor=cast.actor("dispatcher"), order=order, satisfied=True, note="上门致歉"
    )
    assert order.status == Status.CLOSED
    assert order.sla["clocks"]["recovery"]["stopped"] and order.sla_next_check is None


def test_an_unsatisfied_recovery_visit_reopens_and_stops_the_recovery_clock(cast, frozen):
    order = wo.rate_order(actor=cast.actor("resident_a"), order=completed_repair(cast), overall=1)
    order = wo.return_visit(actor=cast.actor("dispatcher"), order=order, satisfied=False)
    assert order.status == Status.ACCEPTED and order.priority == 1
    assert order.sla["clocks"]["recovery"]["stopped"]
    assert order.close_reason == ""


def test_the_resident_hears_about_the_reply(cast, frozen, django_capture_on_commit_callbacks):
    order = wo.rate_order(actor=cast.actor("resident_a"), order=completed_repair(cast), overall=4)
    with django_capture_on_commit_callbacks(execute=True):
        wo.reply_to_feedback(actor=cast.actor("dispatcher"), order=order, reply="感谢")
    note = Notification.objects.get(kind="workorder.replied")
    assert note.recipient_id == cast.users["resident_a"].pk


def test_a_reopened_order_is_rated_again(cast, frozen):
    resident = cast.actor("resident_a")
    order = wo.rate_order(actor=resident, order=completed_repair(cast), overall=5, empathy=5)
    wo.reply_to_feedback(actor=cast.actor("dispatcher"), order=order, reply="谢谢")
    order = wo.reopen_order(actor=resident, order=order, reason="又坏了")
    desk, tech = cast.actor("dispatcher"), cast.actor("technician")
    order = wo.dispatch_order(actor=desk, order=order, assignee=cast.staff["technician"])
    order = wo.arrive(actor=tech, order=wo.take_order(actor=tech, order=order))
    order = wo.complete_order(actor=tech, order=order, resolution="换合页")
    order = wo.rate_order(actor=resident, order=order, overall=4)
    feedback = Feedback.objects.get(order=order)
    assert (feedback.overall, feedback.empathy, feedback.staff_reply) == (4, None, "")
    assert order.events.filter(type=EventType.RATED).count() == 2
