"""The work-order state machine, dispatch and feedback (issue 3, parts 1–3 and 5)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from wuye.accounts.actor import Actor
from wuye.staff.models import RosterEntry, Shift, StaffMember, Trade
from wuye.workorders import services as wo
from wuye.workorders.dispatch import candidates, pick
from wuye.workorders.models import (
    Category,
    Channel,
    DispatchMode,
    EventType,
    Feedback,
    Status,
    WorkOrder,
    WorkOrderEvent,
)
from wuye.workorders.services import TRANSITIONS, InvalidTransition

NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def category(cast, code):
    return Category.objects.get(company=cast.company, code=code)


def on_shift(cast, member, trade_code="plumbing_electric"):
    member.trades.add(Trade.objects.get(company=member.company, code=trade_code))
    RosterEntry.objects.create(
        staff=member,
        community=cast.community_x,
        date=NOW.date(),
        shift=Shift.objects.get(company=member.company, name="常白班"),
    )


def resident_order(cast, code="windows_glass", who="resident_a", **kwargs):
    return wo.submit_order(
        actor=cast.actor(who),
        category=category(cast, code),
        house=getattr(cast, "house_a" if who == "resident_a" else "house_b"),
        channel=Channel.RESIDENT_H5,
        description="厨房水龙头一直滴水",
        **kwargs,
    )


def statuses(order):
    return list(
        WorkOrderEvent.objects.filter(order=order).values_list("type", "from_status", "to_status")
    )


def test_resident_submits_desk_accepts_dispatches_and_the_job_is_done(cast, frozen):
    order = resident_order(cast)
    assert order.status == Status.SUBMITTED
    assert order.number.startswith("20261127")
    assert order.reporter == cast.users["resident_a"]
    assert order.contact_mobile == "13800000001"

    desk = cast.actor("dispatcher")
    order = wo.accept_order(actor=desk, order=order)
    tech = cast.staff["technician"]
    order = wo.dispatch_order(actor=desk, order=order, assignee=tech)
    me = cast.actor("technician")
    order = wo.take_order(actor=me, order=order)
    order = wo.arrive(actor=me, order=order)
    order = wo.pause_order(actor=me, order=order, reason="等配件")
    assert order.paused_from == Status.IN_PROGRESS
    order = wo.resume_order(actor=me, order=order)
    assert order.status == Status.IN_PROGRESS and order.paused_from == ""
    order = wo.complete_order(
        actor=me,
        order=order,
        resolution="更换阀芯",
        materials=[{"name": "阀芯", "quantity": "1", "unit_price": "35.50"}],
        labour_amount="50",
    )
    assert order.total_amount == Decimal("85.50")
    order = wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=5, empathy=5)
    assert order.status == Status.CLOSED  # rated well: no return visit by policy
    assert [e[0] for e in statuses(order)] == [
        "submitted",
        "accepted",
        "dispatched",
        "taken",
        "arrived",
        "paused",
        "resumed",
        "completed",
        "rated",
        "closed",
    ]
    assert statuses(order)[5] == ("paused", "in_progress", "paused")
    assert statuses(order)[6] == ("resumed", "paused", "in_progress")


def test_phone_intake_is_accepted_at_once_and_needs_the_desk_scope(cast, frozen):
    desk = cast.actor("dispatcher")
    order = wo.submit_order(
        actor=desk,
        category=category(cast, "drain_blocked"),
        house=cast.house_b,
        channel=Channel.PHONE,
        description="下水道堵了",
        contact_name="李娜",
        contact_mobile="13800000002",
    )
    assert order.status == Status.ACCEPTED and order.channel == Channel.PHONE
    assert order.reporter is None and order.created_by == cast.users["dispatcher"]
    with pytest.raises(PermissionDenied):  # house of community Y
        wo.submit_order(
            actor=desk,
            category=category(cast, "drain_blocked"),
            house=cast.house_y,
            channel=Channel.PHONE,
            description="x",
            contact_name="x",
            contact_mobile="13800000003",
        )


def test_residents_report_only_for_their_own_houses(cast, frozen):
    before = WorkOrder.objects.count()
    with pytest.raises(PermissionDenied):
        wo.submit_order(
            actor=cast.actor("resident_a"),
            category=category(cast, "taps_toilets"),
            house=cast.house_b,
            channel=Channel.RESIDENT_H5,
            description="x",
        )
    with pytest.raises(ValidationError):  # another company's category
        wo.submit_order(
            actor=cast.actor("resident_a"),
            category=Category.objects.get(company=cast.other_company, code="taps_toilets"),
            house=cast.house_a,
            channel=Channel.RESIDENT_H5,
            description="x",
        )
    with pytest.raises(ValidationError):  # a top-level category
        resident_order(cast, code="water_electric")
    with pytest.raises(ValidationError) as exc:  # empty description
        wo.submit_order(
            actor=cast.actor("resident_a"),
            category=category(cast, "taps_toilets"),
            house=cast.house_a,
            channel=Channel.RESIDENT_H5,
            description="  ",
        )
    assert "description" in exc.value.message_dict
    assert WorkOrder.objects.count() == before


def test_common_area_report_by_a_resident_of_that_community(cast, frozen):
    area = cast.community_x.common_areas.get()
    order = wo.submit_order(
        actor=cast.actor("resident_b"),
        category=category(cast, "lighting"),
        common_area=area,
        channel=Channel.RESIDENT_H5,
        description="大堂灯不亮",
    )
    assert order.community == cast.community_x and order.house is None
    with pytest.raises(PermissionDenied):
        wo.submit_order(
            actor=cast.actor("other_resident"),
            category=category(cast, "lighting"),
            common_area=area,
            channel=Channel.RESIDENT_H5,
            description="x",
        )


# Which action may start from which status is the table; everything else is refused.
def _as_inquiry(order):
    """Desk resolution (办结) is for requests other than repairs."""
    WorkOrder.objects.filter(pk=order.pk).update(request_type="inquiry")
    order.request_type = "inquiry"
    return order


def _as_grab(order):
    WorkOrder.objects.filter(pk=order.pk).update(dispatch_mode=DispatchMode.GRAB)
    order.dispatch_mode = DispatchMode.GRAB
    return order


ACTION_CALLS = {
    "accept": lambda c, o: wo.accept_order(actor=c.actor("dispatcher"), order=o),
    "dispatch": lambda c, o: wo.dispatch_order(
        actor=c.actor("dispatcher"), order=o, assignee=c.staff["technician"]
    ),
    "grab": lambda c, o: wo.grab_order(actor=c.actor("guard"), order=_as_grab(o)),
    "take": lambda c, o: wo.take_order(actor=c.actor("technician"), order=o),
    "return": lambda c, o: wo.return_order(actor=c.actor("dispatcher"), order=o, reason="忙"),
    "transfer": lambda c, o: wo.transfer_order(
        actor=c.actor("dispatcher"), order=o, assignee=c.staff["guard"], reason="换人"
    ),
    "arrive": lambda c, o: wo.arrive(actor=c.actor("technician"), order=o),
    "pause": lambda c, o: wo.pause_order(actor=c.actor("technician"), order=o, reason="等配件"),
    "resume": lambda c, o: wo.resume_order(actor=c.actor("technician"), order=o),
    "complete": lambda c, o: wo.complete_order(
        actor=c.actor("technician"), order=o, resolution="done"
    ),
    "resolve": lambda c, o: wo.resolve_order(
        actor=c.actor("dispatcher"), order=_as_inquiry(o), resolution="已答复"
    ),
    "expire": lambda c, o: wo.expire_dispatch(
        order=o, now=timezone.now() + datetime.timedelta(days=1)
    ),
    "rate": lambda c, o: wo.rate_order(actor=c.actor("resident_a"), order=o, overall=3),
    "return_visit": lambda c, o: wo.return_visit(
        actor=c.actor("dispatcher"), order=o, satisfied=True
    ),
    "cancel": lambda c, o: wo.cancel_order(actor=c.actor("resident_a"), order=o),
    "reject": lambda c, o: wo.reject_order(actor=c.actor("dispatcher"), order=o, reason="重复"),
    "reopen": lambda c, o: wo.reopen_order(actor=c.actor("dispatcher"), order=o, reason="又坏了"),
}
# ``close`` is the system's: after a good rating (test_resident_submits_…) and the
# unrated auto-close (tests/test_workorder_timeouts.py).
assert set(ACTION_CALLS) == set(TRANSITIONS) - {"close"}


def order_in(cast, status):
    """A fresh order of resident A driven to ``status`` through the real transitions."""
    order = resident_order(cast)
    path = {
        Status.SUBMITTED: [],
        Status.ACCEPTED: ["accept"],
        Status.DISPATCHED: ["accept", "dispatch"],
        Status.TAKEN: ["accept", "dispatch", "take"],
        Status.IN_PROGRESS: ["accept", "dispatch", "take", "arrive"],
        Status.PAUSED: ["accept", "dispatch", "take", "pause"],
        Status.COMPLETED: ["accept", "dispatch", "take", "arrive", "complete"],
        Status.RATED: ["accept", "dispatch", "take", "arrive", "complete", "rate"],
        Status.CLOSED: ["accept", "dispatch", "take", "arrive", "complete", "return_visit"],
        Status.CANCELLED: ["cancel"],
        Status.REJECTED: ["reject"],
    }[status]
    for action in path:
        order = ACTION_CALLS[action](cast, order)
    assert order.status == status
    return order


@pytest.mark.parametrize("action", sorted(ACTION_CALLS))
@pytest.mark.parametrize("status", list(Status))
def test_transition_table_is_enforced(cast, frozen, action, status):
    order = order_in(cast, status)
    events = WorkOrderEvent.objects.filter(order=order).count()
    sources, target = TRANSITIONS[action]
    if status in sources:
        moved = ACTION_CALLS[action](cast, order)
        assert moved.status == (target or order.paused_from)
        assert WorkOrderEvent.objects.filter(order=order).count() > events
    else:
        with pytest.raises(InvalidTransition):
            ACTION_CALLS[action](cast, order)
        order.refresh_from_db()
        assert order.status == status
        assert WorkOrderEvent.objects.filter(order=order).count() == events


def test_only_the_assignee_works_the_order(cast, frozen):
    order = order_in(cast, Status.DISPATCHED)
    for outsider in ("guard", "technician_y", "resident_a", "dispatcher"):
        with pytest.raises(PermissionDenied):
            wo.take_order(actor=cast.actor(outsider), order=order)
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED


def test_dispatch_checks_the_assignee(cast, frozen):
    order = order_in(cast, Status.ACCEPTED)
    with pytest.raises(ValidationError):  # works in community Y only
        wo.dispatch_order(
            actor=cast.actor("dispatcher"), order=order, assignee=cast.staff["technician_y"]
        )
    with pytest.raises(ValidationError):  # another company
        wo.dispatch_order(
            actor=cast.actor("dispatcher"), order=order, assignee=cast.staff["other_admin"]
        )
    with pytest.raises(PermissionDenied):  # manager of Y
        wo.dispatch_order(
            actor=cast.actor("manager_y"), order=order, assignee=cast.staff["technician"]
        )
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED and order.assignee is None


def test_return_and_transfer_need_a_reason(cast, frozen):
    order = order_in(cast, Status.TAKEN)
    me = cast.actor("technician")
    with pytest.raises(ValidationError):
        wo.return_order(actor=me, order=order, reason=" ")
    order = wo.return_order(actor=me, order=order, reason="不是我的工种")
    assert order.status == Status.ACCEPTED and order.assignee is None
    order = wo.dispatch_order(
        actor=cast.actor("dispatcher"), order=order, assignee=cast.staff["technician"]
    )
    colleague = cast.staff["guard"]
    order = wo.transfer_order(actor=me, order=order, assignee=colleague, reason="换人")
    assert order.assignee == colleague and order.status == Status.DISPATCHED
    with pytest.raises(ValidationError):
        wo.transfer_order(
            actor=cast.actor("dispatcher"), order=order, assignee=colleague, reason="x"
        )


def test_pause_needs_a_reason_and_resumes_where_it_was(cast, frozen):
    order = order_in(cast, Status.TAKEN)
    with pytest.raises(ValidationError):
        wo.pause_order(actor=cast.actor("technician"), order=order, reason="")
    order = wo.pause_order(actor=cast.actor("technician"), order=order, reason="等住户在家")
    order = wo.resume_order(actor=cast.actor("dispatcher"), order=order)
    assert order.status == Status.TAKEN


def test_free_categories_refuse_materials_and_bad_amounts(cast, frozen):
    order = resident_order(cast, code="water_leak")  # free
    for action in ("accept", "dispatch", "take", "arrive"):
        order = ACTION_CALLS[action](cast, order)
    me = cast.actor("technician")
    with pytest.raises(ValidationError):
        wo.complete_order(
            actor=me,
            order=order,
            resolution="ok",
            materials=[{"name": "x", "quantity": "1", "unit_price": "1"}],
        )
    with pytest.raises(ValidationError):
        wo.complete_order(actor=me, order=order, resolution="")
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS and not order.materials.exists()

    paid = order_in(cast, Status.IN_PROGRESS)
    with pytest.raises(ValidationError) as exc:
        wo.complete_order(
            actor=me,
            order=paid,
            resolution="ok",
            materials=[{"name": "阀芯", "quantity": "-1", "unit_price": "3"}],
        )
    assert "materials[0].quantity" in exc.value.message_dict
    with pytest.raises(ValidationError):
        wo.complete_order(actor=me, order=paid, resolution="ok", labour_amount="abc")


def test_low_rating_waits_for_a_return_visit_and_unsatisfied_reopens(cast, frozen):
    order = order_in(cast, Status.COMPLETED)
    order = wo.rate_order(
        actor=cast.actor("resident_a"), order=order, overall=2, comment="还在滴", reasons=["没修好"]
    )
    assert order.status == Status.RATED
    assert Feedback.objects.get(order=order).overall == 2
    with pytest.raises(PermissionDenied):
        wo.return_visit(actor=cast.actor("technician"), order=order, satisfied=True)
    order = wo.return_visit(
        actor=cast.actor("dispatcher"), order=order, satisfied=False, note="住户说仍漏水"
    )
    assert order.status == Status.ACCEPTED
    assert order.priority == 1 and order.reopen_count == 1 and order.assignee is None


def test_rating_is_the_requesters_and_validated(cast, frozen):
    order = order_in(cast, Status.COMPLETED)
    with pytest.raises(PermissionDenied):
        wo.rate_order(actor=cast.actor("resident_b"), order=order, overall=5)
    with pytest.raises(ValidationError):
        wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=6)
    with pytest.raises(ValidationError):
        wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=5, speed=5)
    order.refresh_from_db()
    assert order.status == Status.COMPLETED and not Feedback.objects.exists()


def test_reopen_by_the_resident_within_seven_days_only(cast, frozen):
    order = order_in(cast, Status.COMPLETED)
    order = wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=5)
    frozen.move_to(NOW + datetime.timedelta(days=8), tick=False)
    with pytest.raises(ValidationError):
        wo.reopen_order(actor=cast.actor("resident_a"), order=order, reason="又坏了")
    frozen.move_to(NOW + datetime.timedelta(days=2), tick=False)
    order = wo.reopen_order(actor=cast.actor("resident_a"), order=order, reason="又坏了")
    assert order.status == Status.ACCEPTED and order.priority == 1


def test_cancel_before_dispatch_only_and_reject_as_duplicate(cast, frozen):
    order = order_in(cast, Status.DISPATCHED)
    with pytest.raises(InvalidTransition):
        wo.cancel_order(actor=cast.actor("resident_a"), order=order)
    first = resident_order(cast)
    second = resident_order(cast)
    with pytest.raises(PermissionDenied):
        wo.cancel_order(actor=cast.actor("resident_b"), order=first)
    second = wo.reject_order(
        actor=cast.actor("dispatcher"), order=second, reason="重复报修", duplicate_of=first
    )
    assert second.status == Status.REJECTED and second.merged_into == first


def test_urges_are_logged_and_limited(cast, frozen):
    order = resident_order(cast)
    for _ in range(3):
        order = wo.urge_order(actor=cast.actor("resident_a"), order=order)
    assert order.urge_count == 3
    with pytest.raises(ValidationError):
        wo.urge_order(actor=cast.actor("resident_a"), order=order)
    frozen.move_to(NOW + datetime.timedelta(hours=2), tick=False)
    assert wo.urge_order(actor=cast.actor("resident_a"), order=order).urge_count == 4
    with pytest.raises(PermissionDenied):
        wo.urge_order(actor=cast.actor("resident_b"), order=order)


# --- dispatch modes ------------------------------------------------------------------
def test_automatic_dispatch_picks_the_least_loaded_on_shift_technician(cast, frozen):
    tech = cast.staff["technician"]
    on_shift(cast, tech)
    order = resident_order(cast, code="water_leak")  # 水电: automatic
    assert order.dispatch_mode == DispatchMode.AUTO
    order = wo.accept_order(actor=cast.actor("dispatcher"), order=order)
    assert order.status == Status.DISPATCHED and order.assignee == tech
    assert statuses(order)[-1][0] == EventType.DISPATCHED


def test_automatic_dispatch_skips_off_duty_off_shift_and_full_staff(cast, frozen, settings):
    tech = cast.staff["technician"]
    order = resident_order(cast, code="water_leak")
    assert list(candidates(order)) == []  # not rostered
    on_shift(cast, tech)
    assert list(candidates(order)) == [tech]
    StaffMember.objects.filter(pk=tech.pk).update(status=StaffMember.Status.OFF_DUTY)
    assert list(candidates(order)) == []
    StaffMember.objects.filter(pk=tech.pk).update(status=StaffMember.Status.ON_DUTY)
    settings.WORKORDER_MAX_OPEN_PER_ASSIGNEE = 1
    busy = order_in(cast, Status.DISPATCHED)
    assert busy.assignee == tech
    assert list(candidates(order)) == []
    order = wo.accept_order(actor=cast.actor("dispatcher"), order=order)
    assert order.status == Status.ACCEPTED and order.assignee is None
    assert statuses(order)[-1][0] == EventType.COMMENTED  # left for the dispatcher


def test_round_robin_takes_turns(cast, frozen):
    first, second = cast.staff["technician"], cast.staff["guard"]
    on_shift(cast, first)
    on_shift(cast, second)
    water = category(cast, "water_leak")
    water.dispatch_mode = DispatchMode.ROUND_ROBIN
    water.save()
    picked = []
    for minute in range(4):
        frozen.move_to(NOW + datetime.timedelta(minutes=minute), tick=False)
        order = wo.accept_order(
            actor=cast.actor("dispatcher"), order=resident_order(cast, code="water_leak")
        )
        picked.append(order.assignee_id)
    assert picked == [first.id, second.id, first.id, second.id]


def test_grab_pool_one_winner(cast, frozen):
    order = resident_order(cast, code="drain_blocked")  # 管道疏通: grab
    order = wo.accept_order(actor=cast.actor("dispatcher"), order=order)
    assert order.status == Status.ACCEPTED
    tech = cast.actor("technician")
    assert WorkOrder.objects.visible_to(tech).filter(pk=order.pk).exists()  # in the pool
    assert not WorkOrder.objects.visible_to(cast.actor("technician_y")).filter(pk=order.pk).exists()
    order = wo.grab_order(actor=tech, order=order)
    assert order.status == Status.TAKEN and order.assignee == cast.staff["technician"]
    with pytest.raises(InvalidTransition):
        wo.grab_order(actor=cast.actor("guard"), order=order)
    with pytest.raises(PermissionDenied):
        wo.grab_order(actor=cast.actor("technician_y"), order=order)


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_grabs_have_exactly_one_winner(cast):
    if connection.vendor == "sqlite":
        pytest.skip("needs concurrent connections (runs on PostgreSQL in CI)")
    order = wo.accept_order(
        actor=cast.actor("dispatcher"), order=resident_order(cast, code="drain_blocked")
    )
    techs = []
    for n in range(50):
        from tests.conftest import make_staff

        techs.append(make_staff(cast.company, f"grabber{n}", ["technician"], [cast.community_x]))
    barrier = threading.Barrier(50)
    outcomes = []

    def grab(member):
        barrier.wait()
        try:
            wo.grab_order(actor=Actor(member.user), order=order)
            outcomes.append("won")
        except InvalidTransition:
            outcomes.append("lost")
        finally:
            connection.close()

    threads = [threading.Thread(target=grab, args=(m,)) for m in techs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes).count("won") == 1 and len(outcomes) == 50
    assert WorkOrderEvent.objects.filter(order=order, type=EventType.GRABBED).count() == 1


# --- scoping -------------------------------------------------------------------------
def test_who_sees_which_order(cast, frozen):
    mine = resident_order(cast)
    complaint = resident_order(cast, code="noise_neighbour")
    other = resident_order(cast, who="resident_b")

    def visible(name):
        return set(WorkOrder.objects.visible_to(cast.actor(name)).values_list("id", flat=True))

    assert visible("resident_a") == {mine.id, complaint.id}
    assert visible("resident_b") == {other.id}
    assert visible("dispatcher") == {mine.id, complaint.id, other.id}
    assert visible("manager_y") == set()
    assert visible("other_admin") == set()
    assert visible("technician") == set()  # nothing assigned, nothing in the pool
    assert visible("nobody") == set()


def test_candidates_query_count_is_flat(cast, frozen, django_assert_max_num_queries):
    on_shift(cast, cast.staff["technician"])
    order = resident_order(cast, code="water_leak")
    with django_assert_max_num_queries(3):
        pick(order)


def test_pick_uses_now_when_not_given(cast, frozen):
    on_shift(cast, cast.staff["technician"])
    order = resident_order(cast, code="water_leak")
    assert pick(order) == cast.staff["technician"]
    assert pick(order, at=timezone.now() + datetime.timedelta(hours=12)) is None


# --- notifications -------------------------------------------------------------------
def test_events_notify_the_people_concerned_once(cast, frozen, django_capture_on_commit_callbacks):
    from wuye.notifications.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        order = resident_order(cast)
    desk_inbox = Notification.objects.filter(recipient=cast.users["dispatcher"])
    assert desk_inbox.count() == 1
    assert order.number in desk_inbox.get().title
    assert desk_inbox.get().url == f"/console/orders/{order.pk}/"
    # Not the company-wide admin, not staff of community Y, not the reporter herself.
    for name in ("company_admin", "manager_y", "resident_a", "technician"):
        assert not Notification.objects.filter(recipient=cast.users[name]).exists(), name

    with django_capture_on_commit_callbacks(execute=True):
        order = wo.accept_order(actor=cast.actor("dispatcher"), order=order)
        order = wo.dispatch_order(
            actor=cast.actor("dispatcher"), order=order, assignee=cast.staff["technician"]
        )
    tech_inbox = Notification.objects.filter(recipient=cast.users["technician"])
    assert tech_inbox.count() == 1 and tech_inbox.get().url == f"/m/orders/{order.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        wo.take_order(actor=cast.actor("technician"), order=order)
    resident_inbox = Notification.objects.filter(recipient=cast.users["resident_a"])
    assert resident_inbox.count() == 1
    assert resident_inbox.get().url == f"/h5/orders/{order.pk}/"


def test_nothing_is_announced_when_the_transition_fails(
    cast, frozen, django_capture_on_commit_callbacks
):
    from wuye.notifications.models import Notification

    order = resident_order(cast)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(InvalidTransition):
        wo.take_order(actor=cast.actor("technician"), order=order)
    assert not Notification.objects.exists()


# --- photos --------------------------------------------------------------------------
def _photo(cast, owner, company=None):
    from wuye.core.models import Photo

    return Photo.objects.create(
        company=company or cast.company,
        uploaded_by=cast.users[owner],
        file="photos/x.jpg",
        width=10,
        height=10,
        sha256="0" * 64,
    )


def test_photos_attach_to_the_submission_and_completion_events(cast, frozen):
    mine = _photo(cast, "resident_a")
    order = wo.submit_order(
        actor=cast.actor("resident_a"),
        category=category(cast, "windows_glass"),
        house=cast.house_a,
        channel=Channel.RESIDENT_H5,
        description="玻璃裂了",
        photos=[mine],
    )
    assert list(order.events.get(type=EventType.SUBMITTED).photos.all()) == [mine]
    for action in ("accept", "dispatch", "take", "arrive"):
        order = ACTION_CALLS[action](cast, order)
    done = _photo(cast, "technician")
    order = wo.complete_order(
        actor=cast.actor("technician"), order=order, resolution="换玻璃", photos=[done]
    )
    assert list(order.events.get(type=EventType.COMPLETED).photos.all()) == [done]


def test_someone_elses_or_too_many_photos_are_refused(cast, frozen):
    before = WorkOrder.objects.count()
    for photos in (
        [_photo(cast, "resident_b")],
        [_photo(cast, "other_resident", company=cast.other_company)],
        [_photo(cast, "resident_a") for _ in range(10)],
    ):
        with pytest.raises(ValidationError) as exc:
            wo.submit_order(
                actor=cast.actor("resident_a"),
                category=category(cast, "windows_glass"),
                house=cast.house_a,
                channel=Channel.RESIDENT_H5,
                description="x",
                photos=photos,
            )
        assert "photos" in exc.value.message_dict
    assert WorkOrder.objects.count() == before
