"""SLA deadline arithmetic on business calendars — no database access.

A ``Schedule`` is a calendar loaded into memory once (``wuye.sla.selectors.load_schedule``);
the functions below then cost a few microseconds per day they walk over.

Conventions (DESIGN.md, "Money and time conventions must be explicit"):

- Business time is the union of a day's working periods. A day's periods come from, in
  order: a holiday row (no working time), a make-up workday row (调休上班: the periods of
  the weekday it ``works_as``, Monday by default), else the ordinary weekly hours.
- A start outside working time counts from the next opening.
- A deadline that lands exactly at closing time stays at that closing instant (it does
  not roll over to the next opening): 60 business minutes from 17:00 on an 18:00-closing
  day are due at 18:00 that day.
- "N minutes" of a policy on the ``business`` clock are business minutes of the
  schedule; on the ``wall`` clock (or a 24×7 calendar) they are elapsed real minutes.
- A pause stops the clock: the time left at ``paused_from`` (measured on the same
  schedule) is counted again from ``resumed_at``. On a business schedule a pause over a
  night therefore only costs its working minutes; on the wall clock the whole length.
  A pause that starts at or after the deadline does not move it (a breach stays a breach).
- Arithmetic happens in the schedule's local wall time. That is exact for zones without
  daylight saving such as Asia/Shanghai (the default); elsewhere a transition day may be
  off by the shift.
- Lateness (``breach_minutes``) is wall-clock minutes, rounded up, so any breach is at
  least 1 minute late even when it happened outside working time.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"
ON_TRACK = "on_track"
AT_RISK = "at_risk"
BREACHED = "breached"

_ONE_DAY = datetime.timedelta(days=1)
_ZERO = datetime.timedelta(0)
_MAX_DAYS = 366 * 5  # a deadline further out than this means a calendar without working time
_MIDNIGHT = datetime.time(0)

Period = tuple[datetime.timedelta, datetime.timedelta]  # offsets from local midnight


def _offset(value: datetime.time) -> datetime.timedelta:
    return datetime.timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _normalise(periods: Iterable[tuple[datetime.time, datetime.time]]) -> tuple[Period, ...]:
    """Sort and merge a day's periods; an end of 00:00 means midnight at the end of the day."""
    spans = []
    for start, end in periods:
        lo = _offset(start)
        hi = _ONE_DAY if end == _MIDNIGHT else _offset(end)
        if hi <= lo:
            raise ValueError(f"working period {start}–{end} ends before it starts")
        spans.append((lo, hi))
    merged: list[Period] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


@dataclasses.dataclass(frozen=True, slots=True)
class Schedule:
    """Working time of one calendar, in memory. Build with ``Schedule.build`` or ``always()``."""

    tz: ZoneInfo
    always_open: bool = False
    weekly: tuple[tuple[Period, ...], ...] = ((),) * 7  # Monday = 0
    holidays: frozenset[datetime.date] = frozenset()
    workdays: Mapping[datetime.date, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def always(cls, timezone: str = DEFAULT_TIMEZONE) -> Schedule:
        """24×7: every minute counts; equivalent to the wall clock."""
        return cls(tz=ZoneInfo(timezone), always_open=True)

    @classmethod
    def build(
        cls,
        *,
        weekly: Mapping[int, Iterable[tuple[datetime.time, datetime.time]]],
        holidays: Iterable[datetime.date] = (),
        workdays: Mapping[datetime.date, int] | None = None,
        timezone: str = DEFAULT_TIMEZONE,
    ) -> Schedule:
        """``weekly`` maps weekday (0 = Monday) to (start, end) periods; ``workdays`` maps a
        make-up working date to the weekday whose hours it works."""
        days = tuple(_normalise(weekly.get(weekday, ())) for weekday in range(7))
        workdays = dict(workdays or {})
        holidays = frozenset(holidays) - workdays.keys()
        if not any(days):
            raise ValueError("a business calendar needs at least one working period")
        return cls(tz=ZoneInfo(timezone), weekly=days, holidays=holidays, workdays=workdays)

    def periods(self, day: datetime.date) -> tuple[Period, ...]:
        if self.always_open:
            return ((_ZERO, _ONE_DAY),)
        if day in self.holidays:
            return ()
        weekday = self.workdays.get(day)
        return self.weekly[day.weekday() if weekday is None else weekday]

    def _local(self, value: datetime.datetime) -> datetime.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("SLA arithmetic needs timezone-aware datetimes")
        return value.astimezone(self.tz)

    def _add(self, start: datetime.datetime, amount: datetime.timedelta) -> datetime.datetime:
        if amount < _ZERO:
            raise ValueError("an SLA duration cannot be negative")
        local = self._local(start)
        if self.always_open:
            return (local.astimezone(datetime.UTC) + amount).astimezone(self.tz)
        day = local.date()
        for _ in range(_MAX_DAYS):
            midnight = datetime.datetime.combine(day, _MIDNIGHT, tzinfo=self.tz)
            for lo, hi in self.periods(day):
                closing = midnight + hi
                if closing < local:
                    continue
                begin = max(midnight + lo, local)
                available = closing - begin
                if amount <= available:
                    return begin + amount
                amount -= available
            day += _ONE_DAY
        raise ValueError("the calendar has too little working time for this duration")

    def _between(self, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
        start, end = self._local(start), self._local(end)
        if end <= start:
            return _ZERO
        if self.always_open:
            return end.astimezone(datetime.UTC) - start.astimezone(datetime.UTC)
        total = _ZERO
        day = start.date()
        while day <= end.date():
            midnight = datetime.datetime.combine(day, _MIDNIGHT, tzinfo=self.tz)
            for lo, hi in self.periods(day):
                begin, finish = max(midnight + lo, start), min(midnight + hi, end)
                if finish > begin:
                    total += finish - begin
            day += _ONE_DAY
        return total


WALL_CLOCK = Schedule.always()


def _minutes(value: datetime.timedelta) -> float:
    return value / datetime.timedelta(minutes=1)


def deadline(schedule: Schedule, start: datetime.datetime, minutes: float) -> datetime.datetime:
    """The instant ``minutes`` (≥ 0) schedule minutes after ``start``, in the schedule's zone."""
    return schedule._add(start, datetime.timedelta(minutes=minutes))


def elapsed(schedule: Schedule, start: datetime.datetime, end: datetime.datetime) -> float:
    """Schedule minutes (fractional) from ``start`` to ``end``; 0 when ``end`` is not later."""
    return _minutes(schedule._between(start, end))


def extend(
    schedule: Schedule,
    due: datetime.datetime,
    paused_from: datetime.datetime,
    resumed_at: datetime.datetime,
) -> datetime.datetime:
    """The deadline after a pause: the time left at ``paused_from`` counts again from
    ``resumed_at``. Apply it to every stored deadline (and ``at_risk_at``) of the order."""
    if resumed_at < paused_from:
        raise ValueError("a pause cannot end before it starts")
    if paused_from >= due:
        return due
    return schedule._add(resumed_at, schedule._between(paused_from, due))


def at_risk_at(
    schedule: Schedule, start: datetime.datetime, minutes: float, at_risk_percent: int
) -> datetime.datetime:
    """When ``at_risk_percent`` % of the ``minutes`` budget will have been used — store it on
    the order next to the deadline so the sweep is an indexed ``at_risk_at <= now`` query."""
    return deadline(schedule, start, minutes * at_risk_percent / 100)


def sla_state(
    now: datetime.datetime,
    *,
    started: datetime.datetime,
    due: datetime.datetime,
    at_risk_percent: int,
    schedule: Schedule = WALL_CLOCK,
) -> str:
    """``breached`` after the deadline, ``at_risk`` once ``at_risk_percent`` % of the
    started→due schedule time has passed, else ``on_track``. The deadline instant itself is
    still on time. (Pauses already extended ``due``; the paused time then counts as used.)"""
    if now > due:
        return BREACHED
    budget = schedule._between(started, due)
    used = schedule._between(started, now)
    if budget > _ZERO and used * 100 >= budget * at_risk_percent:
        return AT_RISK
    return ON_TRACK


def breach_minutes(due: datetime.datetime, at: datetime.datetime) -> int:
    """How late ``at`` is for ``due``: wall-clock minutes rounded up; 0 when on time."""
    if at <= due:
        return 0
    return math.ceil(_minutes(at - due))
