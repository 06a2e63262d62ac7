"""Business calendars and SLA policies (the arithmetic is in ``wuye.sla.clock``).

Representation:

- ``BusinessCalendar`` — per company; ``is_24x7`` calendars ignore periods and days.
  One calendar per company may be the default (``is_default``), used by communities
  without their own calendar; a company without a default falls back to a built-in 24×7.
- ``WorkingPeriod`` — weekly hours: several per weekday allowed (08:30–12:00 and
  13:30–18:00 is a lunch break). An end of 00:00 means midnight at the end of the day.
- ``CalendarDay`` — a dated exception: ``holiday`` (no working time that day) or
  ``workday`` (调休 make-up working day) which works the hours of weekday ``works_as``,
  Monday by default. No per-date periods: a make-up day is an ordinary working day.
- ``CommunityCalendar`` — a community's own calendar (owned here; the estate registry is
  not touched).
- ``SlaPolicy`` — three clocks (response 受理, on-site arrival, resolution) in minutes,
  on the ``business`` clock of a calendar or on the ``wall`` clock.
"""

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wuye.sla.clock import DEFAULT_TIMEZONE
from wuye.staff.models import CompanyOwnedQuerySet

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("Unknown time zone %(value)s."), code="invalid", params={"value": value}
        ) from exc


class BusinessCalendar(models.Model):
    """工作日历: weekly working hours plus holidays and make-up working days."""

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="business_calendars",
        verbose_name=_("company"),
    )
    name = models.CharField(_("name"), max_length=50)
    is_24x7 = models.BooleanField(
        _("24×7"), default=False, help_text=_("Every minute counts; hours and days are ignored.")
    )
    is_default = models.BooleanField(
        _("company default"),
        default=False,
        help_text=_("Used by communities that have no calendar of their own."),
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default=DEFAULT_TIMEZONE, validators=[validate_timezone]
    )

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["company_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="calendar_name_unique"),
            models.UniqueConstraint(
                fields=["company"],
                condition=Q(is_default=True),
                name="calendar_one_default",
                violation_error_message=_("The company already has a default calendar."),
            ),
        ]

    def __str__(self):
        return self.name


class WorkingPeriod(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="periods",
        verbose_name=_("calendar"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAYS)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"), help_text=_("00:00 means midnight at the end of the day."))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["calendar_id", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="period_weekday_range"),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")) | Q(end=datetime.time(0)),
                name="period_ends_after_start",
                violation_error_message=_("A working period must end after it starts."),
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"


class CalendarDay(models.Model):
    """A dated exception to the weekly hours: a public holiday or a 调休 make-up workday."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (no working time)")
        WORKDAY = "workday", _("Make-up working day (调休)")

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days", verbose_name=_("calendar")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    name = models.CharField(_("name"), max_length=50, blank=True, help_text=_("e.g. 国庆节"))
    works_as = models.PositiveSmallIntegerField(
        _("works the hours of"),
        choices=WEEKDAYS,
        default=0,
        help_text=_("For a make-up working day: whose weekday hours apply."),
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar_id", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"],
                name="calendar_day_unique",
                violation_error_message=_("This date is already in the calendar."),
            ),
            models.CheckConstraint(condition=Q(works_as__lte=6), name="day_works_as_range"),
        ]

    def __str__(self):
        return f"{self.date} {self.name or self.get_kind_display()}"


class CommunityCalendar(models.Model):
    """The calendar a community works by, when not the company default."""

    community = models.OneToOneField(
        "estates.Community",
        on_delete=models.CASCADE,
        related_name="sla_calendar",
        verbose_name=_("community"),
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="community_links",
        verbose_name=_("calendar"),
    )

    class Meta:
        verbose_name = _("community calendar")
        verbose_name_plural = _("community calendars")

    def __str__(self):
        return f"{self.community} → {self.calendar}"

    def clean(self):
        if (
            self.community_id
            and self.calendar_id
            and self.community.company_id != self.calendar.company_id
        ):
            raise ValidationError({"calendar": _("Choose a calendar of the community's company.")})


class SlaPolicy(models.Model):
    """How fast a request must be accepted, reached on site and resolved.

    ``clock = business``: minutes are working minutes of the calendar (this policy's, else
    the community's, else the company default). ``clock = wall``: real elapsed minutes, for
    emergencies. The default of 1440 response minutes is the seed's 24-hour standard.
    """

    class Clock(models.TextChoices):
        BUSINESS = "business", _("Business hours")
        WALL = "wall", _("Wall clock (24×7)")

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="sla_policies",
        verbose_name=_("company"),
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=50)
    response_minutes = models.PositiveIntegerField(
        _("response within (minutes)"), default=1440, validators=[MinValueValidator(1)]
    )
    arrival_minutes = models.PositiveIntegerField(
        _("on site within (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Leave empty when on-site arrival has no deadline."),
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolved within (minutes)"), validators=[MinValueValidator(1)]
    )
    clock = models.CharField(_("clock"), max_length=8, choices=Clock, default=Clock.BUSINESS)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="policies",
        verbose_name=_("calendar"),
        help_text=_("Empty: the community's calendar."),
    )
    at_risk_percent = models.PositiveSmallIntegerField(
        # xgettext:no-python-format
        _("at risk after (% of the time used)"),
        default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["company_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="sla_policy_code_unique"),
            models.UniqueConstraint(fields=["company", "name"], name="sla_policy_name_unique"),
            models.CheckConstraint(
                condition=Q(at_risk_percent__gte=1, at_risk_percent__lte=99),
                name="sla_policy_at_risk_range",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.calendar_id and self.company_id and self.calendar.company_id != self.company_id:
            raise ValidationError({"calendar": _("Choose a calendar of the policy's company.")})

    def snapshot(self) -> dict:
        """Plain JSON frozen on a work order at creation; later edits leave the order alone."""
        return {
            "policy_id": self.pk,
            "code": self.code,
            "name": self.name,
            "clock": self.clock,
            "calendar_id": self.calendar_id,
            "response_minutes": self.response_minutes,
            "arrival_minutes": self.arrival_minutes,
            "resolution_minutes": self.resolution_minutes,
            "at_risk_percent": self.at_risk_percent,
        }
