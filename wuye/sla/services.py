"""Seeding a company's calendars and SLA policies.

Choices (documented per DESIGN.md, all editable in the admin afterwards):

- 服务中心 (company default): the property service desk, open every day 08:00–20:00.
  Residential 客服中心 work weekends; public holidays are not closed by default
  (a company that closes adds holiday rows). Emergencies never wait for it: they run on
  the wall clock.
- 工作日: office hours Monday–Friday 08:30–12:00 and 13:30–18:00 (8 h), closed on PRC
  public holidays and open on 调休 make-up days (``wuye.sla.holidays``). Used by work the
  office handles (complaints and suggestions).
- 全天候: 24×7.

Policies (minutes):

- normal 普通 — business clock on the community's calendar: response 720, i.e. one
  desk day (12 h of desk time = the seed's "24 h" for a request made during opening
  hours; one made at night is due by closing the next day); resolution 2160 (3 desk days).
- complaint 投诉建议 — business clock on 工作日: response 480 (1 working day), resolution
  2400 (5 working days).
- urgent 紧急 (漏水, 停电 …) — wall clock: response 15, on site 30, resolution 240.
- elevator 电梯困人 — wall clock: response 5, on site 15, resolution 60.
"""

import datetime

from django.apps import apps as installed_apps
from django.db import transaction

from wuye.core.seeding import create_missing
from wuye.sla.holidays import PRC_CALENDAR

_T = datetime.time
DESK_HOURS = [(_T(8, 0), _T(20, 0))]
OFFICE_HOURS = [(_T(8, 30), _T(12, 0)), (_T(13, 30), _T(18, 0))]

DESK, OFFICE, ALWAYS = "服务中心", "工作日", "全天候 24×7"

BUSINESS, WALL = "business", "wall"  # SlaPolicy.Clock, spelled out for migrations

# (calendar name, weekdays, hours, with PRC holidays, 24×7, default)
DEFAULT_CALENDARS = [
    (DESK, range(7), DESK_HOURS, False, False, True),
    (OFFICE, range(5), OFFICE_HOURS, True, False, False),
    (ALWAYS, (), (), False, True, False),
]

# code: (name, clock, calendar name or None, response, arrival, resolution)
DEFAULT_POLICIES = {
    "normal": ("普通", BUSINESS, None, 720, None, 2160),
    "complaint": ("投诉建议", BUSINESS, OFFICE, 480, None, 2400),
    "urgent": ("紧急", WALL, ALWAYS, 15, 30, 240),
    "elevator": ("电梯困人", WALL, ALWAYS, 5, 15, 60),
}


@transaction.atomic
def seed_company_calendars(*, company, apps=installed_apps) -> None:
    """Default calendars, PRC holidays and SLA policies for a company (idempotent).

    Existing calendars and policies are left as edited; only missing ones are created
    (matched by calendar name and policy code), and a holiday data year added to
    ``wuye.sla.holidays`` later is filled into 工作日 if it has no days in that year.
    ``apps`` is the model registry; migrations pass their historical one.
    """
    BusinessCalendar = apps.get_model("sla", "BusinessCalendar")
    WorkingPeriod = apps.get_model("sla", "WorkingPeriod")
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    has_default = BusinessCalendar.objects.filter(company=company, is_default=True).exists()
    calendars = {}
    for name, weekdays, hours, public_holidays, always, default in DEFAULT_CALENDARS:
        calendar, created = BusinessCalendar.objects.get_or_create(
            company=company,
            name=name,
            defaults={"is_24x7": always, "is_default": default and not has_default},
        )
        calendars[name] = calendar
        if created:
            WorkingPeriod.objects.bulk_create(
                WorkingPeriod(calendar=calendar, weekday=day, start=start, end=end)
                for day in weekdays
                for start, end in hours
            )
        if public_holidays:
            _add_public_holidays(calendar, apps.get_model("sla", "CalendarDay"))
    create_missing(
        SlaPolicy,
        company=company,
        key="code",
        rows={
            code: {
                "name": name,
                "clock": clock,
                "calendar": calendars[calendar_name] if calendar_name else None,
                "response_minutes": response,
                "arrival_minutes": arrival,
                "resolution_minutes": resolution,
            }
            for code, (
                name,
                clock,
                calendar_name,
                response,
                arrival,
                resolution,
            ) in DEFAULT_POLICIES.items()
        },
    )


def _add_public_holidays(calendar, CalendarDay) -> None:
    """Add the data years the calendar has no days of yet; a year already present was
    seeded before or entered by hand, and deliberate deletions in it are kept."""
    known = set(calendar.days.values_list("date", flat=True))
    present = {day.year for day in known}
    CalendarDay.objects.bulk_create(
        CalendarDay(calendar=calendar, date=date, kind=kind, name=name)
        for year, rows in PRC_CALENDAR.items()
        if year not in present
        for date, kind, name in rows
        if date not in known  # a 元旦 break may start in the December before
    )
