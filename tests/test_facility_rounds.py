"""Doing rounds: QR check-in with timing, typed answers, abnormal → work order linked to
the asset, finishing, acceptance and missed tasks (issue 4, part 5)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.facility_helpers import make_pump_round
from wuye.facilities import rounds
from wuye.facilities.models import (
    Answer,
    Checkpoint,
    Task,
    Visit,
)
from wuye.workorders.models import Channel, Status, WorkOrder

CST = datetime.timezone(datetime.timedelta(hours=8))
DAY = datetime.date(2026, 11, 30)


def at(hour, minute=0):
    return datetime.datetime(2026, 11, 30, hour, minute, tzinfo=CST)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(at(9, 30), tick=False)
    return time_machine


@pytest.fixture
def pump_round(cast, frozen):
    """The technician's pump-room inspection today 09:00–11:00 at pump SB-0001."""
    return make_pump_round(cast, DAY)


def test_a_normal_round_end_to_end(cast, pump_round):
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    assert visit.timing == Visit.Timing.ON_TIME
    task = Task.objects.get()
    assert task.status == Task.Status.IN_PROGRESS and task.started_at == at(9, 30)
    answers = rounds.record_answers(
        actor=me,
        visit=visit,
        answers={pump_round["pressure"].pk: "0.45 MPa", pump_round["noise"].pk: "正常"},
    )
    assert [(a.value, a.is_abnormal) for a in answers] == [("0.450", False), (True, False)]
    task = rounds.finish(actor=me, task=task)
    assert task.status == Task.Status.DONE and not WorkOrder.objects.exists()


def test_an_out_of_range_reading_opens_a_repair_order_linked_to_the_pump(cast, pump_round):
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    rounds.record_answers(
        actor=me,
        visit=visit,
        answers={pump_round["pressure"].pk: "0.2", pump_round["noise"].pk: "异常"},
    )
    order = WorkOrder.objects.get()
    assert order.asset == pump_round["pump"] and order.channel == Channel.INSPECTION
    assert order.common_area == pump_round["pump"].common_area
    assert "出水压力" in order.description and "0.200MPa" in order.description
    assert order.status == Status.SUBMITTED  # the desk accepts and dispatches it as usual
    assert Answer.objects.get(item=pump_round["pressure"]).work_order == order
    assert Task.objects.get().abnormal_count == 2  # the noise is abnormal but opens nothing
    assert order in WorkOrder.objects.visible_to(cast.actor("dispatcher"))


def test_bad_answers_save_nothing(cast, pump_round):
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    with pytest.raises(ValidationError) as exc:
        rounds.record_answers(
            actor=me,
            visit=visit,
            answers={pump_round["pressure"].pk: "45 kPa", pump_round["noise"].pk: ""},
        )
    assert exc.value.message_dict == {
        f"items[{pump_round['pressure'].pk}]": ["Enter the value in MPa, not kPa."],
        f"items[{pump_round['noise'].pk}]": ["Answer “运行声音”."],
    }
    assert not Answer.objects.exists() and not WorkOrder.objects.exists()
    with pytest.raises(ValidationError):
        rounds.finish(actor=me, task=Task.objects.get())


def test_unknown_foreign_and_unplanned_codes_are_refused(cast, pump_round):
    me = cast.actor("technician")
    for token in ("", "not-a-code", "x" * 50):
        with pytest.raises(ValidationError) as exc:
            rounds.scan(actor=me, token=token)
        assert exc.value.message_dict == {"code": ["This QR code is not one of your community's."]}
    other_point = Checkpoint.objects.create(
        company=cast.company, community=cast.community_y, name="Y北门"
    )
    with pytest.raises(ValidationError):
        rounds.scan(actor=me, token=other_point.qr_token)  # another community's label
    lobby = Checkpoint.objects.create(company=cast.company, community=cast.community_x, name="大堂")
    with pytest.raises(ValidationError) as exc:
        rounds.scan(actor=me, token=lobby.qr_token)
    assert "You have no open task at 大堂 today." in str(exc.value)
    with pytest.raises(PermissionDenied):
        rounds.scan(actor=cast.actor("resident_a"), token=pump_round["pump"].qr_token)
    assert not Visit.objects.exists()


def test_early_and_late_scans_are_kept_with_their_timing(cast, pump_round, frozen):
    frozen.move_to(at(8, 40), tick=False)
    me = cast.actor("technician")
    assert rounds.scan(actor=me, token=pump_round["pump"].qr_token).timing == Visit.Timing.EARLY
    with pytest.raises(ValidationError) as exc:
        rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    assert "already checked in" in str(exc.value)


def test_only_the_assignee_answers(cast, pump_round):
    visit = rounds.scan(actor=cast.actor("technician"), token=pump_round["pump"].qr_token)
    with pytest.raises(PermissionDenied):
        rounds.record_answers(actor=cast.actor("guard"), visit=visit, answers={})


def test_maintenance_waits_for_acceptance(cast, pump_round):
    plan = pump_round["plan"]
    plan.requires_acceptance = True
    plan.save()
    me = cast.actor("technician")
    visit = rounds.scan(actor=me, token=pump_round["pump"].qr_token)
    rounds.record_answers(
        actor=me,
        visit=visit,
        answers={pump_round["pressure"].pk: "0.5", pump_round["noise"].pk: True},
    )
    task = rounds.finish(actor=me, task=Task.objects.get())
    assert task.status == Task.Status.AWAITING_ACCEPTANCE
    for who in ("technician", "dispatcher", "manager_y"):
        with pytest.raises(PermissionDenied):
            rounds.accept(actor=cast.actor(who), task=task)
    assert rounds.accept(actor=cast.actor("project_manager"), task=task).status == Task.Status.DONE


def test_tasks_left_open_after_their_window_are_missed(cast, pump_round, frozen):
    frozen.move_to(at(11, 59), tick=False)
    assert rounds.mark_missed() == 0
    frozen.move_to(at(12, 1), tick=False)
    assert rounds.mark_missed() == 1
    assert Task.objects.get().status == Task.Status.MISSED
    assert rounds.mark_missed() == 0
    with pytest.raises(ValidationError):
        rounds.scan(actor=cast.actor("technician"), token=pump_round["pump"].qr_token)
