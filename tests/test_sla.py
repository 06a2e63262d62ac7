"""SLA calendars and deadline arithmetic (wuye.sla)."""

import datetime
import json
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from wuye.accounts.actor import Actor
from wuye.core.services import full_clean
from wuye.estates.models import Community, Company
from wuye.sla import clock
from wuye.sla.clock import WALL_CLOCK, Schedule, breach_minutes, deadline, elapsed, extend
from wuye.sla.holidays import HOLIDAY, PRC_CALENDAR, WORKDAY
from wuye.sla.models import (
    BusinessCalendar,
    CalendarDay,
    CommunityCalendar,
    SlaPolicy,
    WorkingPeriod,
)
from wuye.sla.selectors import calendar_for_community, load_schedule, schedule_for
from wuye.sla.services import seed_company_calendars


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read messages in English; Chinese is covered by the catalogue check."""
    settings.LANGUAGE_CODE = "en"


SH = ZoneInfo("Asia/Shanghai")
T = datetime.time
OFFICE = [(T(8, 30), T(12, 0)), (T(13, 30), T(18, 0))]  # 8 h with a lunch break


def at(month, day, hour, minute=0, second=0, year=2026):
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=SH)


def office_schedule() -> Schedule:
    """Mon–Fri office hours with the 2026 PRC holidays and 调休 days, built without the DB."""
    rows = PRC_CALENDAR[2026]
    return Schedule.build(
        weekly={weekday: OFFICE for weekday in range(5)},
        holidays=[date for date, kind, _ in rows if kind == HOLIDAY],
        workdays={date: 0 for date, kind, _ in rows if kind == WORKDAY},
    )


OFFICE_2026 = office_schedule()


# --- deadline ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "expected", "why"),
    [
        (at(11, 23, 10), 60, at(11, 23, 11), "inside one period"),
        (at(11, 23, 17), 120, at(11, 24, 9, 30), "across a night"),
        (at(11, 27, 17), 120, at(11, 30, 9, 30), "Friday evening across the weekend"),
        (at(11, 24, 11), 120, at(11, 24, 14, 30), "across the lunch break"),
        (at(11, 24, 12, 30), 30, at(11, 24, 14), "start in the lunch break"),
        (at(11, 23, 7), 30, at(11, 23, 9), "start before opening"),
        (at(11, 23, 18), 60, at(11, 24, 9, 30), "start exactly at closing"),
        (at(11, 23, 21), 60, at(11, 24, 9, 30), "start at night"),
        (at(11, 28, 10), 60, at(11, 30, 9, 30), "start on a Saturday"),
        (at(11, 23, 17), 60, at(11, 23, 18), "lands exactly at closing: stays that day"),
        (at(11, 23, 11), 60, at(11, 23, 12), "lands exactly at lunch closing"),
        (at(11, 23, 10, 0, 30), 1, at(11, 23, 10, 1, 30), "seconds are kept"),
        (at(11, 23, 10), 0, at(11, 23, 10), "zero minutes"),
    ],
)
def test_deadline_on_office_hours(start, minutes, expected, why):
    assert deadline(OFFICE_2026, start, minutes) == expected, why


def test_national_day_week_is_skipped_and_the_make_up_saturday_counts():
    # 国庆节 1–7 Oct 2026 off; Sat 10 Oct is a 调休 working day.
    assert deadline(OFFICE_2026, at(9, 30, 17), 120) == at(10, 8, 9, 30)
    assert deadline(OFFICE_2026, at(10, 9, 17), 120) == at(10, 10, 9, 30)
    # Five working days from the morning before the holiday: 30 Sep (450 min), 8, 9, 10 Oct
    # (480 each), Sun 11 Oct off, Mon 12 Oct (480), 30 min on Tue 13 Oct.
    assert deadline(OFFICE_2026, at(9, 30, 9), 2400) == at(10, 13, 9)
    assert elapsed(OFFICE_2026, at(9, 30, 9), at(10, 13, 9)) == 2400


def test_mid_autumn_friday_and_the_make_up_sunday_before_national_day():
    # 中秋节 Fri 25 Sep off; Sun 20 Sep is a 调休 working day.
    assert deadline(OFFICE_2026, at(9, 24, 17), 120) == at(9, 28, 9, 30)
    assert deadline(OFFICE_2026, at(9, 19, 10), 30) == at(9, 20, 9)


def test_spring_festival_nine_days_off():
    # 春节 15–23 Feb off, Sat 14 Feb and Sat 28 Feb worked.
    assert deadline(OFFICE_2026, at(2, 13, 17), 60) == at(2, 13, 18)
    assert deadline(OFFICE_2026, at(2, 13, 17), 61) == at(2, 14, 8, 31)
    assert deadline(OFFICE_2026, at(2, 14, 18), 1) == at(2, 24, 8, 31)


def test_make_up_day_works_the_hours_of_the_chosen_weekday():
    schedule = Schedule.build(
        weekly={0: [(T(9), T(17))], 4: [(T(9), T(12))]},
        workdays={datetime.date(2026, 10, 10): 4},  # a Saturday worked as a short Friday
    )
    assert deadline(schedule, at(10, 10, 8), 180) == at(10, 10, 12)
    assert deadline(schedule, at(10, 10, 8), 181) == at(10, 12, 9, 1)


def test_start_given_in_another_zone_is_read_in_the_calendars_zone():
    start = datetime.datetime(2026, 11, 23, 1, 0, tzinfo=datetime.UTC)  # 09:00 in Shanghai
    due = deadline(OFFICE_2026, start, 60)
    assert due == at(11, 23, 10)
    assert due.utcoffset() == datetime.timedelta(hours=8)


def test_asia_shanghai_has_no_daylight_saving_shift():
    # 8 Mar and 1 Nov 2026 are DST changes in America; Shanghai stays at +08:00 all year.
    for month, day in [(3, 8), (3, 29), (10, 25), (11, 1)]:
        start = at(month, day, 0) - datetime.timedelta(days=2)
        assert deadline(WALL_CLOCK, start, 4 * 1440) == start + datetime.timedelta(days=4)
        assert deadline(WALL_CLOCK, start, 4 * 1440).utcoffset() == datetime.timedelta(hours=8)
    monday = Schedule.build(weekly={0: [(T(8), T(20))]})
    assert elapsed(monday, at(3, 2, 0), at(3, 16, 0)) == 2 * 720


def test_period_ending_at_midnight_and_overlapping_periods():
    night = Schedule.build(weekly={0: [(T(20), T(0))]})
    assert deadline(night, at(11, 23, 23), 120) == at(11, 30, 21)
    merged = Schedule.build(weekly={0: [(T(11), T(14)), (T(8), T(12))]})
    assert merged.periods(datetime.date(2026, 11, 23)) == (
        (datetime.timedelta(hours=8), datetime.timedelta(hours=14)),
    )


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(OFFICE_2026, datetime.datetime(2026, 11, 23, 10), 60)
    with pytest.raises(ValueError, match="negative"):
        deadline(OFFICE_2026, at(11, 23, 10), -1)
    with pytest.raises(ValueError, match="at least one working period"):
        Schedule.build(weekly={})
    with pytest.raises(ValueError, match="ends before it starts"):
        Schedule.build(weekly={0: [(T(18), T(8))]})
    with pytest.raises(ValueError, match="pause cannot end before"):
        extend(OFFICE_2026, at(11, 24, 10), at(11, 23, 12), at(11, 23, 11))


def test_a_calendar_without_enough_working_time_fails_loudly():
    only_one_date = Schedule.build(
        weekly={0: [(T(9), T(10))]},
        holidays=[datetime.date(2026, 11, 23) + datetime.timedelta(weeks=n) for n in range(300)],
    )
    with pytest.raises(ValueError, match="too little working time"):
        deadline(only_one_date, at(11, 23, 9), 60)


# --- elapsed -------------------------------------------------------------------


def test_elapsed_counts_only_working_minutes():
    assert elapsed(OFFICE_2026, at(11, 23, 17), at(11, 24, 9, 30)) == 120
    assert elapsed(OFFICE_2026, at(11, 27, 17), at(11, 30, 9, 30)) == 120
    assert elapsed(OFFICE_2026, at(11, 24, 11), at(11, 24, 14, 30)) == 120
    assert elapsed(OFFICE_2026, at(11, 23, 10, 0, 0), at(11, 23, 10, 0, 30)) == 0.5
    assert elapsed(OFFICE_2026, at(10, 1, 0), at(10, 8, 0)) == 0
    assert elapsed(OFFICE_2026, at(11, 24, 10), at(11, 23, 10)) == 0
    assert elapsed(WALL_CLOCK, at(11, 27, 17), at(11, 30, 9, 30)) == 60 * 64.5


# --- pauses --------------------------------------------------------------------


def test_pause_over_a_night_on_business_hours_costs_only_its_working_minutes():
    due = deadline(OFFICE_2026, at(11, 23, 10), 480)
    assert due == at(11, 24, 10)
    # paused 17:00 Mon → 09:00 Tue: 60 + 30 working minutes
    assert extend(OFFICE_2026, due, at(11, 23, 17), at(11, 24, 9)) == at(11, 24, 11, 30)
    # a pause wholly outside working time moves nothing
    assert extend(OFFICE_2026, due, at(11, 23, 19), at(11, 24, 8)) == due


def test_pause_over_a_night_on_the_wall_clock_costs_its_whole_length():
    due = deadline(WALL_CLOCK, at(11, 23, 10), 1440)
    assert due == at(11, 24, 10)
    assert extend(WALL_CLOCK, due, at(11, 23, 17), at(11, 24, 9)) == at(11, 25, 2)


def test_pause_spanning_the_deadline_and_pause_after_the_breach():
    due = at(11, 24, 10)
    # 90 working minutes were left at 17:00 Mon + 08:30–10:00 Tue … counted from Wed 09:00
    assert extend(OFFICE_2026, due, at(11, 23, 17), at(11, 25, 9)) == at(11, 25, 11, 30)
    # already breached: pausing cannot undo it
    assert extend(OFFICE_2026, due, at(11, 24, 10), at(11, 24, 15)) == due
    assert extend(OFFICE_2026, due, at(11, 24, 11), at(11, 24, 15)) == due


def test_pause_resumed_at_night_restarts_at_the_next_opening():
    due = at(11, 23, 17)
    assert extend(OFFICE_2026, due, at(11, 23, 16), at(11, 23, 22)) == at(11, 24, 9, 30)


# --- 24×7 ----------------------------------------------------------------------


def test_wall_clock_ignores_nights_weekends_and_holidays():
    assert deadline(WALL_CLOCK, at(11, 28, 23, 50), 30) == at(11, 29, 0, 20)
    assert deadline(WALL_CLOCK, at(10, 1, 3), 15) == at(10, 1, 3, 15)
    assert deadline(Schedule.always(), at(9, 30, 23, 45), 30) == at(10, 1, 0, 15)
    assert elapsed(WALL_CLOCK, at(10, 1, 0), at(10, 8, 0)) == 7 * 1440


# --- states and lateness -------------------------------------------------------


def test_sla_state_in_business_time(time_machine):
    started, due = at(11, 23, 10), at(11, 24, 10)  # 480 business minutes
    risk = clock.at_risk_at(OFFICE_2026, started, 480, 80)
    assert risk == at(11, 23, 17, 54)  # 384 minutes: 120 + 264
    expectations = [
        (at(11, 23, 17, 53), clock.ON_TRACK),
        (at(11, 23, 17, 54), clock.AT_RISK),
        (at(11, 23, 23), clock.AT_RISK),
        (at(11, 24, 10), clock.AT_RISK),  # the deadline instant is still on time
        (at(11, 24, 10, 0, 1), clock.BREACHED),
    ]
    for now, state in expectations:
        time_machine.move_to(now, tick=False)
        assert (
            clock.sla_state(
                timezone.now(),
                started=started,
                due=due,
                at_risk_percent=80,
                schedule=OFFICE_2026,
            )
            == state
        ), now


def test_sla_state_on_the_wall_clock(time_machine):
    started = at(11, 23, 23, 50)
    due = deadline(WALL_CLOCK, started, 30)
    states = []
    for minute in (0, 23, 24, 30, 31):
        time_machine.move_to(started + datetime.timedelta(minutes=minute), tick=False)
        states.append(clock.sla_state(timezone.now(), started=started, due=due, at_risk_percent=80))
    assert states == ["on_track", "on_track", "at_risk", "at_risk", "breached"]
    assert clock.at_risk_at(WALL_CLOCK, started, 30, 80) == started + datetime.timedelta(minutes=24)


def test_breach_minutes_are_wall_minutes_rounded_up():
    due = at(11, 27, 18)
    assert breach_minutes(due, due) == 0
    assert breach_minutes(due, at(11, 27, 17)) == 0
    assert breach_minutes(due, at(11, 27, 18, 0, 1)) == 1
    assert breach_minutes(due, at(11, 30, 8, 31)) == 62 * 60 + 31


def test_a_deadline_computation_is_fast():
    import timeit

    per_call = timeit.timeit(lambda: deadline(OFFICE_2026, at(9, 30, 9), 2400), number=200) / 200
    assert per_call < 0.001  # ~10 µs in practice; far below the budget of a creation


# --- holiday data --------------------------------------------------------------


def test_2026_holiday_data_matches_the_state_council_notice():
    rows = PRC_CALENDAR[2026]
    holidays = [date for date, kind, _ in rows if kind == HOLIDAY]
    workdays = sorted(date for date, kind, _ in rows if kind == WORKDAY)
    assert len(holidays) == len(set(holidays)) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert workdays == [
        datetime.date(2026, 1, 4),
        datetime.date(2026, 2, 14),
        datetime.date(2026, 2, 28),
        datetime.date(2026, 5, 9),
        datetime.date(2026, 9, 20),
        datetime.date(2026, 10, 10),
    ]
    assert all(day.weekday() >= 5 for day in workdays)  # make-up days are weekend days
    assert set(holidays).isdisjoint(workdays)


# --- database: models, seeding, resolution ------------------------------------


@pytest.fixture
def seeded(cast):
    """create_company seeds calendars; seeding again must change nothing."""
    seed_company_calendars(company=cast.company)
    return cast


@pytest.fixture
def bare_company(db):
    """A company made without create_company, so nothing is seeded yet."""
    company = Company.objects.create(name="空白物业", code="bare")
    community = Community.objects.create(company=company, name="空白小区", code="bare")
    return company, community


def _calendar(company, name):
    return BusinessCalendar.objects.get(company=company, name=name)


def test_seeding_creates_calendars_holidays_and_policies(bare_company):
    company, _community = bare_company
    assert not BusinessCalendar.objects.filter(company=company).exists()
    seed_company_calendars(company=company)
    calendars = BusinessCalendar.objects.filter(company=company)
    assert sorted(calendars.values_list("name", flat=True)) == ["全天候 24×7", "工作日", "服务中心"]
    assert list(calendars.filter(is_default=True).values_list("name", flat=True)) == ["服务中心"]
    office = _calendar(company, "工作日")
    assert office.days.filter(kind="holiday").count() == 33
    assert office.days.filter(kind="workday").count() == 6
    assert office.periods.count() == 10
    assert _calendar(company, "服务中心").periods.count() == 7
    policies = {p.code: p for p in SlaPolicy.objects.filter(company=company)}
    assert set(policies) == {"normal", "complaint", "urgent", "elevator"}
    assert policies["elevator"].clock == "wall"
    assert policies["elevator"].arrival_minutes == 15
    assert policies["urgent"].arrival_minutes == 30
    assert policies["normal"].calendar is None


def test_create_company_seeds_calendars(cast):
    for company in (cast.company, cast.other_company):
        assert BusinessCalendar.objects.filter(company=company).count() == 3
        assert SlaPolicy.objects.filter(company=company).count() == 4


def test_seeding_is_idempotent_and_keeps_edits(seeded):
    company = seeded.company
    office = _calendar(company, "工作日")
    office.days.filter(date=datetime.date(2026, 10, 7)).delete()
    SlaPolicy.objects.filter(company=company, code="normal").update(response_minutes=600)
    counts = (
        BusinessCalendar.objects.count(),
        WorkingPeriod.objects.count(),
        CalendarDay.objects.count(),
        SlaPolicy.objects.count(),
    )
    seed_company_calendars(company=company)
    assert counts == (
        BusinessCalendar.objects.count(),
        WorkingPeriod.objects.count(),
        CalendarDay.objects.count(),
        SlaPolicy.objects.count(),
    )
    assert SlaPolicy.objects.get(company=company, code="normal").response_minutes == 600
    assert not office.days.filter(date=datetime.date(2026, 10, 7)).exists()


def test_seeding_keeps_a_company_default_chosen_before(bare_company):
    company, _community = bare_company
    own = BusinessCalendar.objects.create(company=company, name="自定义", is_default=True)
    seed_company_calendars(company=company)
    assert list(BusinessCalendar.objects.filter(company=company, is_default=True)) == [own]
    assert BusinessCalendar.objects.filter(company=company).count() == 4


def test_seeded_office_calendar_loads_into_the_same_schedule(seeded):
    schedule = load_schedule(_calendar(seeded.company, "工作日"))
    assert deadline(schedule, at(9, 30, 9), 2400) == at(10, 13, 9)
    assert deadline(schedule, at(10, 9, 17), 120) == at(10, 10, 9, 30)
    desk = load_schedule(_calendar(seeded.company, "服务中心"))
    assert deadline(desk, at(11, 28, 21), 720) == at(11, 29, 20)  # one desk day
    assert load_schedule(_calendar(seeded.company, "全天候 24×7")).always_open


def test_calendar_without_periods_and_missing_calendar_run_24x7(cast):
    empty = BusinessCalendar.objects.create(company=cast.company, name="空")
    assert load_schedule(empty).always_open
    assert load_schedule(None) is WALL_CLOCK


def test_community_calendar_falls_back_to_company_default_then_24x7(seeded, bare_company):
    x, y = seeded.community_x, seeded.community_y
    desk = _calendar(seeded.company, "服务中心")
    office = _calendar(seeded.company, "工作日")
    CommunityCalendar.objects.create(community=y, calendar=office)
    assert calendar_for_community(x) == desk
    assert calendar_for_community(y) == office
    _company, bare_community = bare_company
    assert calendar_for_community(bare_community) is None  # no default → built-in 24×7
    snapshot = {"clock": "business", "calendar_id": None}
    assert schedule_for(snapshot, bare_community) is WALL_CLOCK


def test_schedule_for_a_frozen_policy(seeded):
    company, x = seeded.company, seeded.community_x
    policies = {p.code: p for p in SlaPolicy.objects.filter(company=company)}
    assert schedule_for(policies["elevator"].snapshot(), x) is WALL_CLOCK
    complaint = schedule_for(policies["complaint"].snapshot(), x)
    assert deadline(complaint, at(9, 30, 17), 120) == at(10, 8, 9, 30)  # 工作日
    normal = schedule_for(policies["normal"].snapshot(), x)
    assert deadline(normal, at(10, 1, 19), 120) == at(10, 2, 9, 0)  # 服务中心 opens 08:00


def test_snapshot_is_plain_json_and_frozen(seeded):
    policy = SlaPolicy.objects.get(company=seeded.company, code="urgent")
    frozen = json.loads(json.dumps(policy.snapshot()))
    policy.response_minutes = 5
    policy.save()
    assert frozen == {
        "policy_id": policy.pk,
        "code": "urgent",
        "name": "紧急",
        "clock": "wall",
        "calendar_id": _calendar(seeded.company, "全天候 24×7").pk,
        "response_minutes": 15,
        "arrival_minutes": 30,
        "resolution_minutes": 240,
        "at_risk_percent": 80,
    }


def test_validation_names_the_field(seeded):
    company, other = seeded.company, seeded.other_company
    office = _calendar(company, "工作日")
    with pytest.raises(ValidationError) as err:
        full_clean(WorkingPeriod(calendar=office, weekday=0, start=T(18), end=T(8)))
    assert "A working period must end after it starts." in str(err.value)
    full_clean(WorkingPeriod(calendar=office, weekday=6, start=T(20), end=T(0)))
    with pytest.raises(ValidationError) as err:
        full_clean(CalendarDay(calendar=office, date=datetime.date(2026, 10, 1), kind="holiday"))
    assert "This date is already in the calendar." in str(err.value)
    with pytest.raises(ValidationError) as err:
        full_clean(BusinessCalendar(company=company, name="第二个默认", is_default=True))
    assert "The company already has a default calendar." in str(err.value)
    with pytest.raises(ValidationError) as err:
        full_clean(BusinessCalendar(company=company, name="火星", timezone="Mars/Olympus"))
    assert "timezone" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        full_clean(CommunityCalendar(community=seeded.other_community, calendar=office))
    assert "calendar" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        full_clean(
            SlaPolicy(company=other, code="x", name="x", resolution_minutes=60, calendar=office)
        )
    assert "calendar" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        full_clean(
            SlaPolicy(
                company=company, code="y", name="y", resolution_minutes=60, at_risk_percent=100
            )
        )
    assert "at_risk_percent" in err.value.message_dict


def test_calendars_and_policies_are_scoped_to_the_company(seeded):
    seed_company_calendars(company=seeded.other_company)
    for name in ("company_admin", "dispatcher", "technician_y"):
        actor = Actor(seeded.users[name])
        assert set(
            BusinessCalendar.objects.visible_to(actor).values_list("company", flat=True)
        ) == {seeded.company.pk}, name
        assert set(SlaPolicy.objects.visible_to(actor).values_list("company", flat=True)) == {
            seeded.company.pk
        }, name
    for name in ("resident_a", "nobody"):
        actor = Actor(seeded.users[name])
        assert not BusinessCalendar.objects.visible_to(actor).exists(), name
        assert not SlaPolicy.objects.visible_to(actor).exists(), name


def test_admin_pages_render_and_save_a_calendar_with_periods_and_days(seeded):
    root = get_user_model().objects.create_superuser("root", password="root-pass-123")
    client = Client()
    client.force_login(root)
    office = _calendar(seeded.company, "工作日")
    policy = SlaPolicy.objects.get(company=seeded.company, code="normal")
    for url in (
        reverse("admin:sla_businesscalendar_changelist"),
        reverse("admin:sla_businesscalendar_change", args=[office.pk]),
        reverse("admin:sla_businesscalendar_add"),
        reverse("admin:sla_slapolicy_changelist"),
        reverse("admin:sla_slapolicy_change", args=[policy.pk]),
    ):
        assert client.get(url).status_code == 200, url
    form = {
        "company": seeded.company.pk,
        "name": "物业前台",
        "timezone": "Asia/Shanghai",
        "periods-TOTAL_FORMS": 2,
        "periods-INITIAL_FORMS": 0,
        "periods-0-weekday": 5,
        "periods-0-start": "09:00",
        "periods-0-end": "12:00",
        "periods-1-weekday": 5,
        "periods-1-start": "14:00",
        "periods-1-end": "00:00",
        "days-TOTAL_FORMS": 1,
        "days-INITIAL_FORMS": 0,
        "days-0-date": "2027-01-01",
        "days-0-kind": "holiday",
        "days-0-name": "元旦",
        "days-0-works_as": 0,
        "community_links-TOTAL_FORMS": 1,
        "community_links-INITIAL_FORMS": 0,
        "community_links-0-community": seeded.community_y.pk,
    }
    response = client.post(reverse("admin:sla_businesscalendar_add"), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    desk = BusinessCalendar.objects.get(company=seeded.company, name="物业前台")
    assert calendar_for_community(seeded.community_y) == desk
    schedule = load_schedule(desk)
    assert deadline(schedule, at(1, 2, 11, 30, year=2027), 60) == at(1, 2, 14, 30, year=2027)
    assert deadline(schedule, at(1, 1, 11, year=2027), 60) == at(1, 2, 10, year=2027)
    bad = {**form, "name": "坏的", "periods-1-end": "13:00", "periods-1-start": "14:00"}
    bad["community_links-TOTAL_FORMS"] = 0
    response = client.post(reverse("admin:sla_businesscalendar_add"), bad)
    assert response.status_code == 200
    assert "A working period must end after it starts." in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="坏的").exists()
