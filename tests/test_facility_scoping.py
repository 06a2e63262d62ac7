"""Who sees which plans and round tasks: overseers by community, field staff their own
tasks, other communities and companies nothing."""

import datetime

import pytest

from tests.facility_helpers import make_pump_round
from wuye.facilities.models import Asset, Plan, Task

DAY = datetime.date(2026, 11, 30)


@pytest.fixture
def rounds_x_and_y(cast):
    x = make_pump_round(cast, DAY)
    y = make_pump_round(cast, DAY, community=cast.community_y, assignee="technician_y")
    return x, y


@pytest.mark.parametrize(
    ("name", "plans", "tasks"),
    [
        ("company_admin", {"x", "y"}, {"x", "y"}),
        ("quality", {"x", "y"}, {"x", "y"}),  # company-wide viewer
        ("project_manager", {"x"}, {"x"}),
        ("manager_y", {"y"}, {"y"}),
        ("dispatcher", {"x"}, {"x"}),
        ("technician", set(), {"x"}),  # own task only, never the plans
        ("technician_y", set(), {"y"}),
        ("guard", set(), set()),  # works in X but has no task
        ("finance", set(), set()),
        ("other_admin", set(), set()),
        ("resident_a", set(), set()),
        ("nobody", set(), set()),
    ],
)
def test_plan_and_task_visibility(cast, rounds_x_and_y, name, plans, tasks):
    x, y = rounds_x_and_y
    label = {x["plan"].pk: "x", y["plan"].pk: "y"}
    actor = cast.actor(name)
    assert {label[p.pk] for p in Plan.objects.visible_to(actor)} == plans
    assert {label[t.plan_id] for t in Task.objects.visible_to(actor)} == tasks


def test_field_staff_lose_their_task_when_moved_out_of_the_community(cast, rounds_x_and_y):
    cast.staff["technician"].communities.clear()
    assert not Task.objects.visible_to(cast.actor("technician")).exists()


def test_places_are_seen_by_field_staff_of_the_community_only(cast, rounds_x_and_y):
    x, _y = rounds_x_and_y
    assert set(Asset.objects.visible_to(cast.actor("guard"))) == {x["pump"]}
    assert not Asset.objects.visible_to(cast.actor("other_admin")).exists()
    assert not Asset.objects.visible_to(cast.actor("resident_a")).exists()
