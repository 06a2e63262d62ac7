"""Plans: recurrence, roster-aware assignment and idempotent task generation (issue 4,
part 4)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from wuye.facilities.models import ChecklistTemplate, Plan, RoundKind, Task
from wuye.facilities.plans import create_plan, generate_tasks, occurs_on
from wuye.staff.models import RosterEntry, Shift, Trade

CST = datetime.timezone(datetime.timedelta(hours=8))
MONDAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def template(cast, company=None):
    return ChecklistTemplate.objects.get_or_create(
        company=company or cast.company,
        name="安全巡逻",
        defaults={"kind": RoundKind.PATROL},
    )[0]


def plan(cast, **fields):
    fields.setdefault("window_start", datetime.time(9))
    fields.setdefault("window_end", datetime.time(11))
    fields.setdefault("starts_on", MONDAY)
    if "trade" not in fields:
        fields.setdefault("assignee", cast.staff["guard"])
    return create_plan(
        actor=cast.actor("project_manager"),
        community=cast.community_x,
        template=template(cast),
        name=fields.pop("name", "白班巡逻"),
        **fields,
    )


def rostered(cast, name, day, shift="常白班"):
    member = cast.staff[name]
    RosterEntry.objects.create(
        staff=member,
        community=cast.community_x,
        date=day,
        shift=Shift.objects.get(company=cast.company, name=shift),
    )


def unsaved(**fields) -> Plan:
    return Plan(starts_on=MONDAY, **fields)


@pytest.mark.parametrize(
    ("fields", "dates"),
    [
        ({"recurrence": "daily"}, [30, 1, 2, 3, 4, 5, 6]),
        ({"recurrence": "weekdays"}, [30, 1, 2, 3, 4]),
        ({"recurrence": "weekly", "days": [1, 4]}, [30, 3]),
        ({"recurrence": "monthly", "days": [1, 31]}, [30, 1]),  # 31 = the month's last day
        ({"recurrence": "every_n_days", "interval_days": 3}, [30, 3, 6]),
    ],
)
def test_recurrence(fields, dates):
    week = [MONDAY + datetime.timedelta(days=n) for n in range(7)]
    assert [d.day for d in week if occurs_on(unsaved(**fields), d)] == dates


def test_every_n_days_from_the_last_completion():
    every_3 = unsaved(recurrence="every_n_days", interval_days=3, anchor="completion")
    done = MONDAY + datetime.timedelta(days=1)  # completed a day late
    days = [MONDAY + datetime.timedelta(days=n) for n in range(8)]
    assert [d.day for d in days if occurs_on(every_3, d, last_done=done)] == [4, 7]


def test_plan_bounds():
    bounded = unsaved(recurrence="daily", ends_on=MONDAY + datetime.timedelta(days=1))
    assert not occurs_on(bounded, MONDAY - datetime.timedelta(days=1))
    assert not occurs_on(bounded, MONDAY + datetime.timedelta(days=2))


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"recurrence": "weekly"}, "days"),
        ({"recurrence": "weekly", "days": [0, 8]}, "days"),
        ({"recurrence": "monthly", "days": [32]}, "days"),
        ({"recurrence": "daily", "days": [1]}, "days"),
        ({"recurrence": "every_n_days"}, "interval_days"),
        ({"recurrence": "daily", "interval_days": 3}, "interval_days"),
        ({"window_start": datetime.time(11), "window_end": datetime.time(9)}, "__all__"),
        ({"ends_on": MONDAY - datetime.timedelta(days=1)}, "__all__"),
    ],
)
def test_bad_plans_are_refused_with_the_field_named(cast, fields, field):
    with pytest.raises(ValidationError) as exc:
        plan(cast, **fields)
    assert field in exc.value.message_dict
    assert not Plan.objects.exists()


def test_plans_need_staff_of_the_community_and_a_manager(cast):
    with pytest.raises(ValidationError) as exc:
        plan(cast, assignee=cast.staff["technician_y"])
    assert "assignee" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        create_plan(
            actor=cast.actor("project_manager"),
            community=cast.community_x,
            template=template(cast),
            name="无人",
            window_start=datetime.time(9),
            window_end=datetime.time(10),
            starts_on=MONDAY,
        )
    assert "Choose an assignee or a team." in str(exc.value)
    with pytest.raises(ValidationError) as exc:
        create_plan(
            actor=cast.actor("project_manager"),
            community=cast.community_x,
            template=template(cast, company=cast.other_company),
            name="x",
            assignee=cast.staff["guard"],
            window_start=datetime.time(9),
            window_end=datetime.time(10),
            starts_on=MONDAY,
        )
    assert "template" in exc.value.message_dict
    for who in ("guard", "dispatcher", "manager_y", "resident_a"):
        with pytest.raises(PermissionDenied):
            create_plan(
                actor=cast.actor(who),
                community=cast.community_x,
                template=template(cast),
                name="x",
                assignee=cast.staff["guard"],
                window_start=datetime.time(9),
                window_end=datetime.time(10),
                starts_on=MONDAY,
            )
    assert not Plan.objects.exists()


def test_generation_is_idempotent_and_times_are_local(cast):
    patrol = plan(cast)
    rostered(cast, "guard", MONDAY)
    assert generate_tasks(start=MONDAY, days=2) == 2
    assert generate_tasks(start=MONDAY, days=2) == 0
    assert generate_tasks(start=MONDAY, days=3) == 1  # only the new day
    first = Task.objects.get(plan=patrol, date=MONDAY)
    assert first.opens_at == datetime.datetime(2026, 11, 30, 9, tzinfo=CST)
    assert first.closes_at == datetime.datetime(2026, 11, 30, 11, tzinfo=CST)
    assert first.assignee == cast.staff["guard"] and first.kind == RoundKind.PATROL
    off = Task.objects.get(plan=patrol, date=MONDAY + datetime.timedelta(days=1))
    assert off.assignee is None  # the guard is not rostered that day and there is no team


def test_off_shift_assignees_are_replaced_by_an_on_shift_team_member(cast):
    cleaning = Trade.objects.create(company=cast.company, code="cleaning", name="保洁")
    for name in ("cleaner", "gardener"):
        cast.staff[name].trades.add(cleaning)
    rounds = plan(cast, name="楼道保洁", assignee=cast.staff["cleaner"], trade=cleaning)
    second = plan(cast, name="大堂保洁", trade=cleaning)
    rostered(cast, "gardener", MONDAY)  # the cleaner is off today
    rostered(cast, "guard", MONDAY)  # on shift but not in the team
    generate_tasks(start=MONDAY, days=1)
    assert Task.objects.get(plan=rounds).assignee == cast.staff["gardener"]
    assert Task.objects.get(plan=second).assignee == cast.staff["gardener"]
    tuesday = MONDAY + datetime.timedelta(days=1)
    rostered(cast, "cleaner", tuesday)
    rostered(cast, "gardener", tuesday)
    generate_tasks(start=tuesday, days=1)
    assert Task.objects.get(plan=rounds, date=tuesday).assignee == cast.staff["cleaner"]
    # the team member given fewest tasks that day takes the team-only plan
    assert Task.objects.get(plan=second, date=tuesday).assignee == cast.staff["gardener"]


def test_night_shifts_count_across_midnight(cast):
    night = plan(cast, name="夜间巡逻", window_start=datetime.time(2), window_end=datetime.time(4))
    rostered(cast, "guard", MONDAY - datetime.timedelta(days=1), shift="中班")  # 16:00–24:00
    rostered(cast, "guard", MONDAY, shift="夜班")  # 00:00–08:00
    generate_tasks(start=MONDAY, days=1)
    assert Task.objects.get(plan=night).assignee == cast.staff["guard"]


def test_inactive_and_ended_plans_make_no_tasks(cast):
    plan(cast, name="停用", is_active=False)
    plan(cast, name="已结束", ends_on=MONDAY)
    generate_tasks(start=MONDAY + datetime.timedelta(days=1), days=2)
    assert not Task.objects.exists()
