"""SLA deadlines of generated orders, computed by PostgreSQL on the real business calendars.

``wuye.sla.clock`` walks a calendar day by day in Python; ten million orders need the
same answers inside one ``INSERT … SELECT``. The default calendars open and close on
the half hour, so business time is a step function over half-hour slots:

- ``cum[i]``: business minutes from the origin ``T0`` to the start of slot ``i``;
- ``ws[k]``: where (minutes from ``T0``) the ``k``-th working slot starts.

A start ``t`` has used ``B(t) = cum[i] + (cum[i+1] − cum[i]) · (minutes into slot i) / 30``
(a start outside working time counts from the next opening), and ``m`` business
minutes later is the ``k = ceil((B + m) / 30)``-th working slot plus the rest, which lands
on the closing instant when it is exact — the conventions of ``wuye.sla.clock``. Both
arrays are built from the calendar with ``Schedule.periods`` and baked as constants
into a temporary SQL function per calendar, which PostgreSQL inlines (it only does for a
function whose arguments are cheap, hence minutes in and out rather than timestamps).
"""

import datetime

from django.db import connection

from wuye.sla.clock import Schedule

SLOT = 30  # minutes; every default opening and closing time is on the half hour
_HALF_HOUR = datetime.timedelta(minutes=SLOT)


def _slots(schedule: Schedule, origin: datetime.datetime, days: int) -> list[bool]:
    """Whether each half-hour slot from local midnight ``origin`` is working time."""
    working = []
    for offset in range(days):
        day = (origin + datetime.timedelta(days=offset)).date()
        periods = schedule.periods(day)
        for slot in range(48):
            start = datetime.timedelta(minutes=SLOT * slot)
            inside = any(lo <= start and start + _HALF_HOUR <= hi for lo, hi in periods)
            partial = any(lo < start + _HALF_HOUR and start < hi for lo, hi in periods)
            if partial and not inside:
                raise ValueError("a working period does not start or end on the half hour")
            working.append(inside)
    return working


def arrays(schedule: Schedule, origin: datetime.datetime, days: int) -> tuple[list, list]:
    """(cum, ws) for ``days`` days from ``origin`` (see the module docstring)."""
    working = _slots(schedule, origin, days)
    cum, total, starts = [], 0, []
    for index, is_working in enumerate(working):
        cum.append(total)
        if is_working:
            total += SLOT
            starts.append(index * SLOT)
    cum.append(total)
    return cum, starts


def _int_array(values) -> str:
    return "('{" + ",".join(str(v) for v in values) + "}'::int[])"


def create_function(name: str, schedule: Schedule | None, origin: datetime.datetime, days: int):
    """``pg_temp.<name>(x float8, m float8)``: with ``x`` a start in minutes after ``origin``,
    the deadline ``m`` schedule minutes later, also in minutes after ``origin`` (wall clock
    when ``schedule`` is None or always open). Pure float and array arithmetic, so that
    PostgreSQL inlines it; callers turn times into minutes once per row (``minutes``)."""
    if schedule is None or schedule.always_open:
        body = "SELECT x + m"
    else:
        cum, starts = arrays(schedule, origin, days)
        i = f"floor(x / {SLOT})::int"
        c = _int_array(cum)
        used = f"({c}[{i} + 1] + ({c}[{i} + 2] - {c}[{i} + 1]) * (x - {SLOT} * {i}) / {SLOT})"
        target = f"({used} + m)"
        k = f"greatest(1, ceil({target} / {SLOT})::int)"
        body = f"SELECT ({_int_array(starts)}[{k}] + {target} - {SLOT} * ({k} - 1))::float8"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION pg_temp.{name}(x float8, m float8) "
            f"RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$ {body} $fn$"
        )


def minutes(moment: str, origin: datetime.datetime) -> str:
    """SQL: minutes from ``origin`` to the timestamp ``moment`` (float8)."""
    return f"(date_part('epoch', ({moment}) - '{origin.isoformat()}'::timestamptz) / 60)"


def instant(value: str, origin: datetime.datetime) -> str:
    """SQL: the timestamp ``value`` minutes after ``origin``."""
    return f"('{origin.isoformat()}'::timestamptz + ({value}) * interval '1 minute')"
