"""Service quality (服务质量评估): rollups for the KPI dashboard, the household care
score, staff conduct spot checks (品质巡查), training, and the monthly service reports.

- ``QualitySettings`` — per company: the five dimension weights (the seed's 32/22/19/16/11
  as defaults), the complaint-iceberg factor and the care-score threshold.
- ``DailyRollup`` / ``MonthlyRollup`` — work-order measures summed per community, day (or
  month) and request type, and broken down by one of category, channel or complaint root
  cause, so a dashboard over ten million orders reads thousands of rows, not millions
  (``wuye.quality.rollups``).
- ``CareSnapshot`` — one house's care score on one day with its reasons (houses without a
  signal have no row: their score is 0).
- ``ConductItem`` / ``SpotCheck`` / ``SpotCheckMark`` — the conduct code as editable
  checklist items and a supervisor's scored spot check of one staff member.
- ``Course`` / ``QuizQuestion`` / ``TrainingSession`` / ``Attendance`` / ``QuizAttempt`` —
  training with attendance and scored quizzes.
- ``MonthlyReport`` — the generated PDF and Excel of one community's month.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.scoping import ScopedQuerySet
from wuye.staff.models import CompanyOwnedQuerySet

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


class QualitySettings(models.Model):
    """A company's quality parameters. Absent: the defaults below apply."""

    company = models.OneToOneField(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="quality_settings",
        verbose_name=_("company"),
    )
    # The seed's five factors of service quality (决定服务质量的5个要素), in percent.
    weight_reliability = models.DecimalField(
        _("professionalism (专业性) %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("32"),
        validators=PERCENT,
    )
    weight_responsiveness = models.DecimalField(
        _("responsibility (责任心) %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("22"),
        validators=PERCENT,
    )
    weight_assurance = models.DecimalField(
        _("appearance (仪表) %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("19"),
        validators=PERCENT,
    )
    weight_empathy = models.DecimalField(
        _("empathy (人情味) %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("16"),
        validators=PERCENT,
    )
    weight_tangibles = models.DecimalField(
        _("facilities (软硬件) %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("11"),
        validators=PERCENT,
    )
    iceberg_factor = models.PositiveSmallIntegerField(
        _("silently dissatisfied per complaint"),
        default=25,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_(
            "The complaint iceberg: one complaint stands for this many dissatisfied "
            "households (TARP studies; the seed says 25). An estimate, not a count."
        ),
    )
    care_threshold = models.PositiveSmallIntegerField(
        _("care score that flags a household"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("quality settings")
        verbose_name_plural = _("quality settings")

    def __str__(self):
        return str(self.company)


# --- rollups ---------------------------------------------------------------------------
# Durations are kept as counts per band so medians and p90s can be estimated from the
# summed bands of any scope; the upper bounds in minutes (the last band is open-ended).
DURATION_BANDS = (30, 60, 120, 240, 480, 1440, 2880, 4320, 10080, None)
CLOCKS = ("response", "arrival", "resolution")
RATED_DIMENSIONS = ("professionalism", "responsibility", "appearance", "empathy", "tangibles")

COUNT_MEASURES = (
    "created",
    "completed",
    "cancelled",
    "reopened",
    "first_time_fixed",
    "rated",
    "rating_sum",
    "rated_good",
    "rated_low",
    "repeat_complaints",
    *(f"{dim}_{part}" for dim in RATED_DIMENSIONS for part in ("sum", "n")),
    *(f"{clock}_{part}" for clock in CLOCKS for part in ("met", "missed", "n")),
    *(f"{clock}_b{band}" for clock in CLOCKS for band in range(len(DURATION_BANDS))),
)


# Summed durations (for the means), one per clock.
TIME_MEASURES = tuple(f"{clock}_time" for clock in CLOCKS)
MEASURES = (*COUNT_MEASURES, *TIME_MEASURES)


def _measure_fields() -> dict:
    return {
        **{name: models.BigIntegerField(default=0) for name in COUNT_MEASURES},
        **{name: models.DurationField(default=datetime.timedelta(0)) for name in TIME_MEASURES},
    }


# Sixty-odd columns generated from MEASURES: one list names them for the
# rollup's writer and reader alike.
RollupMeasures = type(
    "RollupMeasures",
    (models.Model,),
    {
        "__module__": __name__,
        "Meta": type("Meta", (), {"abstract": True}),
        **_measure_fields(),
    },
)


class RollupQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        return self.filter(
            actor.staff_q(community="community_id", company="company_id", perm="quality.view")
        )


class RollupDimension(models.TextChoices):
    """What a rollup row is broken down by besides community, day and request type.
    One dimension per row keeps the table small: a day of a community has a handful of
    rows per dimension, where a row per category × channel × cause would be one per order."""

    NONE = "", "—"
    CATEGORY = "category", "category"
    CHANNEL = "channel", "channel"
    ROOT_CAUSE = "root_cause", "root cause"


class RollupKeys(models.Model):
    # Derived data, rewritten wholesale: no foreign-key constraints to check per row.
    company = models.ForeignKey(
        "estates.Company", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    request_type = models.CharField(max_length=16)
    dimension = models.CharField(max_length=12, choices=RollupDimension, blank=True)
    # The category id, channel or root cause the row is for ("" for dimension NONE).
    value = models.CharField(max_length=24, blank=True)

    objects = RollupQuerySet.as_manager()

    class Meta:
        abstract = True


class DailyRollup(RollupKeys, RollupMeasures):
    """Work orders submitted on ``day`` (local date), with what has happened to them so far."""

    day = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["community", "dimension", "day"], name="rollup_day_community_idx"),
            models.Index(fields=["company", "dimension", "day"], name="rollup_day_company_idx"),
        ]

    def __str__(self):
        return f"{self.community_id} {self.day}"


class MonthlyRollup(RollupKeys, RollupMeasures):
    """The days of one month summed (``month`` is its first day)."""

    month = models.DateField()

    class Meta:
        indexes = [
            models.Index(
                fields=["community", "dimension", "month"], name="rollup_month_community_idx"
            ),
            models.Index(fields=["company", "dimension", "month"], name="rollup_month_company_idx"),
        ]

    def __str__(self):
        return f"{self.community_id} {self.month:%Y-%m}"


class RollupState(models.Model):
    """Where the incremental refresh left off (one row)."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    events_seen_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"rollups refreshed at {self.refreshed_at}"


# --- household care score --------------------------------------------------------------
class CareSnapshotQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        return self.filter(
            actor.staff_q(community="community_id", company="company_id", perm="quality.view")
        )


class CareSnapshot(models.Model):
    """A house's care score (业主关怀指数) on one day: 0 (no signal) to 100, with the
    reasons that make it up (``wuye.quality.care``)."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("community"),
    )
    house = models.ForeignKey(
        "estates.House", on_delete=models.CASCADE, related_name="+", verbose_name=_("house")
    )
    day = models.DateField(_("day"))
    score = models.PositiveSmallIntegerField(_("care score"))
    reasons = models.JSONField(_("reasons"), default=list)
    visit_order = models.ForeignKey(
        "workorders.WorkOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proactive visit"),
    )

    objects = CareSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("care score")
        verbose_name_plural = _("care scores")
        constraints = [
            models.UniqueConstraint(fields=["house", "day"], name="care_snapshot_house_day_unique")
        ]
        indexes = [
            models.Index(fields=["community", "day", "-score"], name="care_community_day_idx"),
            models.Index(fields=["company", "day", "-score"], name="care_company_day_idx"),
        ]

    def __str__(self):
        return f"{self.house_id} {self.day}: {self.score}"


# --- conduct spot checks ---------------------------------------------------------------
class ConductAspect(models.TextChoices):
    """The seed's four points of service awareness (服务意识的四个要点)."""

    APPEARANCE = "appearance", _("Appearance (服务仪表)")
    SPEECH = "speech", _("Speech (服务言谈)")
    BEHAVIOUR = "behaviour", _("Behaviour (服务举止)")
    ETIQUETTE = "etiquette", _("Etiquette (服务礼仪)")


class ConductItem(models.Model):
    """One line of the conduct checklist a spot check scores; editable per company."""

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="conduct_items",
        verbose_name=_("company"),
    )
    aspect = models.CharField(_("aspect"), max_length=12, choices=ConductAspect)
    rule_set = models.CharField(
        _("rule set"),
        max_length=20,
        blank=True,
        help_text=_("e.g. 六不, 五要, 四勤, 三个注意, 两个尊重"),
    )
    text = models.CharField(_("item"), max_length=200)
    points = models.PositiveSmallIntegerField(
        _("points"), default=1, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("conduct item")
        verbose_name_plural = _("conduct items")
        ordering = ["company_id", "sort_order", "id"]

    def __str__(self):
        return self.text


class SpotCheckQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Quality viewers see their communities' checks; staff see the checks of themselves."""
        own = Q(subject_id=actor.staff.pk) if actor.staff else Q(pk__in=[])
        return self.filter(
            actor.staff_q(community="community_id", company="company_id", perm="quality.view") | own
        )


class SpotCheck(models.Model):
    """品质巡查: a supervisor scores one staff member against the conduct checklist."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("community"),
    )
    subject = models.ForeignKey(
        "staff.StaffMember",
        on_delete=models.PROTECT,
        related_name="spot_checks",
        verbose_name=_("staff member checked"),
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("checked by"),
    )
    place = models.CharField(_("place"), max_length=100, blank=True)
    checked_at = models.DateTimeField(_("checked at"))
    score = models.DecimalField(
        _("score"),
        max_digits=5,
        decimal_places=1,
        help_text=_("Points kept ÷ points checked × 100."),
    )
    note = models.TextField(_("notes"), max_length=1000, blank=True)
    photos = models.ManyToManyField(
        "core.Photo", related_name="+", blank=True, verbose_name=_("photos")
    )

    objects = SpotCheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("spot check")
        verbose_name_plural = _("spot checks")
        ordering = ["-checked_at", "-id"]
        indexes = [
            models.Index(fields=["community", "checked_at"], name="spotcheck_community_idx"),
            models.Index(fields=["subject", "checked_at"], name="spotcheck_subject_idx"),
        ]

    def __str__(self):
        return f"{self.subject} {self.checked_at:%Y-%m-%d}"


class SpotCheckMark(models.Model):
    """One checklist line of a spot check: kept or not, copied so later edits of the
    checklist do not change past checks."""

    spot_check = models.ForeignKey(
        SpotCheck, on_delete=models.CASCADE, related_name="marks", verbose_name=_("spot check")
    )
    item = models.ForeignKey(
        ConductItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    aspect = models.CharField(_("aspect"), max_length=12, choices=ConductAspect)
    text = models.CharField(_("item"), max_length=200)
    points = models.PositiveSmallIntegerField(_("points"))
    kept = models.BooleanField(_("kept"))
    note = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("spot-check line")
        verbose_name_plural = _("spot-check lines")
        ordering = ["spot_check_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["spot_check", "item"], name="spotcheck_item_unique")
        ]

    def __str__(self):
        return self.text


# --- training --------------------------------------------------------------------------
class Course(models.Model):
    """A training course (the seed's 物业服务意识 is the first one)."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    code = models.SlugField(_("code"), max_length=40)
    title = models.CharField(_("title"), max_length=100)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    content = models.TextField(_("course material"), blank=True)
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark (%)"), default=80, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["company_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="course_code_unique"),
        ]

    def __str__(self):
        return self.title


class QuizQuestion(models.Model):
    """A single-choice question; ``answer`` is the index of the right choice."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="questions", verbose_name=_("course")
    )
    text = models.CharField(_("question"), max_length=300)
    choices = models.JSONField(_("choices"), default=list)
    answer = models.PositiveSmallIntegerField(_("right choice (from 0)"))
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("quiz question")
        verbose_name_plural = _("quiz questions")
        ordering = ["course_id", "sort_order", "id"]

    def __str__(self):
        return self.text


class TrainingSessionQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Quality viewers see their communities' and company-wide sessions; staff see
        the sessions they are on the list of."""
        mine = Q(attendances__staff_id=actor.staff.pk) if actor.staff else Q(pk__in=[])
        scoped = actor.staff_q(community="community_id", company="company_id", perm="quality.view")
        company_wide = actor.staff_q(
            community=None, company="company_id", perm="quality.view", any_scope=True
        ) & Q(community__isnull=True)
        return self.filter(scoped | company_wide | mine).distinct()


class TrainingSession(models.Model):
    """A class of a course on a date, for one community or the whole company."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("course")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
        help_text=_("Empty: for the whole company."),
    )
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    trainer = models.CharField(_("trainer"), max_length=50, blank=True)
    note = models.TextField(_("notes"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = TrainingSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-starts_at", "-id"]

    def __str__(self):
        return f"{self.course} {self.starts_at:%Y-%m-%d}"


class Attendance(models.Model):
    session = models.ForeignKey(
        TrainingSession,
        on_delete=models.CASCADE,
        related_name="attendances",
        verbose_name=_("session"),
    )
    staff = models.ForeignKey(
        "staff.StaffMember",
        on_delete=models.PROTECT,
        related_name="training_attendances",
        verbose_name=_("staff member"),
    )
    present = models.BooleanField(_("present"), default=False)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["session_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "staff"], name="attendance_unique")
        ]

    def __str__(self):
        return f"{self.session_id} {self.staff_id}"


class QuizAttemptQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        own = Q(staff_id=actor.staff.pk) if actor.staff else Q(pk__in=[])
        return self.filter(
            actor.staff_q(community=None, company="company_id", perm="quality.view") | own
        )


class QuizAttempt(models.Model):
    """A staff member's answers to a course's quiz, scored at once."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="attempts", verbose_name=_("course")
    )
    staff = models.ForeignKey(
        "staff.StaffMember",
        on_delete=models.PROTECT,
        related_name="quiz_attempts",
        verbose_name=_("staff member"),
    )
    session = models.ForeignKey(
        TrainingSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attempts",
        verbose_name=_("session"),
    )
    answers = models.JSONField(_("answers"), default=dict)
    score = models.PositiveSmallIntegerField(_("score (%)"), validators=PERCENT)
    passed = models.BooleanField(_("passed"))
    submitted_at = models.DateTimeField(_("submitted at"))

    objects = QuizAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["staff", "course"], name="quiz_attempt_staff_idx")]

    def __str__(self):
        return f"{self.staff_id} {self.course_id}: {self.score}"


# --- monthly reports -------------------------------------------------------------------
class MonthlyReportQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        return self.filter(
            actor.staff_q(community="community_id", company="company_id", perm="quality.view")
        )


class MonthlyReport(models.Model):
    """One community's monthly service report, generated by the scheduler (or on demand)."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("community"),
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    pdf = models.FileField(_("PDF"), upload_to="quality/reports/%Y/%m/")
    xlsx = models.FileField(_("Excel"), upload_to="quality/reports/%Y/%m/")
    generated_at = models.DateTimeField(_("generated at"))
    emailed_to = models.JSONField(_("emailed to"), default=list, blank=True)

    objects = MonthlyReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly service report")
        verbose_name_plural = _("monthly service reports")
        ordering = ["-month", "community_id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "month"], name="monthly_report_unique")
        ]

    def __str__(self):
        return f"{self.community} {self.month:%Y-%m}"
