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
    """Three SQL functions of a calendar, in minutes after ``origin`` (wall clock when
    ``schedule`` is None or always open):

    - ``pg_temp.<name>_used(x)``: the business minutes used from ``origin`` to ``x``;
    - ``pg_temp.<name>_at(b)``: when ``b`` business minutes are used;
    - ``pg_temp.<name>(x, m)``: the deadline ``m`` business minutes after ``x``.

    Pure float and array arithmetic, so that PostgreSQL inlines them — it does only for
    cheap arguments, hence minutes in and out rather than timestamps (``minutes``,
    ``instant``), and ``_used`` once per start rather than once per deadline."""
    if schedule is None or schedule.always_open:
        used, at = "SELECT x", "SELECT b"
    else:
        cum, starts = arrays(schedule, origin, days)
        i = f"floor(x / {SLOT})::int"
        c = _int_array(cum)
        used = (
            f"SELECT ({c}[{i} + 1] + ({c}[{i} + 2] - {c}[{i} + 1]) * (x - {SLOT} * {i}) / {SLOT})"
        )
        k = f"greatest(1, ceil(b / {SLOT})::int)"
        at = f"SELECT ({_int_array(starts)}[{k}] + b - {SLOT} * ({k} - 1))::float8"
    with connection.cursor() as cursor:
        for signature, body in (
            (f"{name}_used(x float8)", used),
            (f"{name}_at(b float8)", at),
            (
                f"{name}(x float8, m float8)",
                f"SELECT pg_temp.{name}_at(pg_temp.{name}_used(x) + m)",
            ),
        ):
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION pg_temp.{signature} RETURNS float8 "
                f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$ {body}::float8 $fn$"
            )


def minutes(moment: str, origin: datetime.datetime) -> str:
    """SQL: minutes from ``origin`` to the timestamp ``moment`` (float8)."""
    return f"(date_part('epoch', ({moment}) - '{origin.isoformat()}'::timestamptz) / 60)"


def instant(value: str, origin: datetime.datetime) -> str:
    """SQL: the timestamp ``value`` minutes after ``origin``."""
    return f"('{origin.isoformat()}'::timestamptz + ({value}) * interval '1 minute')"
