"""Reads for the work-order engine: which calendar applies, loaded into a ``Schedule``.

Resolution order for a business-clock policy: the policy's own calendar, else the
community's (``CommunityCalendar``), else the company default, else a built-in 24×7.
A wall-clock policy never looks at a calendar.
"""

from collections import defaultdict

from wuye.sla.clock import WALL_CLOCK, Schedule
from wuye.sla.models import BusinessCalendar, CalendarDay, CommunityCalendar, SlaPolicy


def calendar_for_community(community) -> BusinessCalendar | None:
    """The community's calendar, else its company's default; None means the built-in 24×7."""
    link = CommunityCalendar.objects.filter(community=community).select_related("calendar").first()
    if link is not None:
        return link.calendar
    return BusinessCalendar.objects.filter(company_id=community.company_id, is_default=True).first()


def load_schedule(calendar: BusinessCalendar | None) -> Schedule:
    """Load a calendar once (two queries) for any number of clock computations.

    None, a 24×7 calendar and a calendar without any working period (a configuration
    mistake that must not stop the clock for ever) all give the 24×7 schedule.
    """
    if calendar is None:
        return WALL_CLOCK
    if calendar.is_24x7:
        return Schedule.always(calendar.timezone)
    weekly = defaultdict(list)
    for weekday, start, end in calendar.periods.values_list("weekday", "start", "end"):
        weekly[weekday].append((start, end))
    if not weekly:
        return Schedule.always(calendar.timezone)
    holidays, workdays = [], {}
    for date, kind, works_as in calendar.days.values_list("date", "kind", "works_as"):
        if kind == CalendarDay.Kind.HOLIDAY:
            holidays.append(date)
        else:
            workdays[date] = works_as
    return Schedule.build(
        weekly=weekly, holidays=holidays, workdays=workdays, timezone=calendar.timezone
    )


def schedule_for(snapshot: dict, community) -> Schedule:
    """The schedule a frozen policy (``SlaPolicy.snapshot()``) runs on for an order in
    ``community``. The policy is frozen; the calendar's days are live data, so holidays
    entered later count for pauses resumed later."""
    if snapshot["clock"] == SlaPolicy.Clock.WALL:
        return WALL_CLOCK
    calendar = None
    if snapshot.get("calendar_id") is not None:
        calendar = BusinessCalendar.objects.filter(pk=snapshot["calendar_id"]).first()
    if calendar is None:
        calendar = calendar_for_community(community)
    return load_schedule(calendar)
