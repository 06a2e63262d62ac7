"""Billing: fee items and their price history, 计费起止 per house, bill runs and bills.

Money is ``Decimal`` everywhere (never float); the rules that turn prices into amounts
live in ``wuye.billing.money`` (pure) and are configured per company by ``BillingPolicy``.

The ``Bill`` (the one row payments, arrears, receipts and statements build on)
-----------------------------------------------------------------------------
One bill is one line: a house × a fee item × a period. Fields:

- ``company``, ``community``, ``house``, ``fee_item`` (FKs, PROTECT);
- ``run`` (the ``BillRun`` that wrote it; null for one-off charges and opening balances);
- ``origin``: ``run`` | ``one_off`` | ``opening`` (imported opening balance);
- ``reference``: free key for one-off charges (e.g. ``workorder:42``), unique per company
  when not blank, so a retried one-off charge is not written twice;
- ``period_start``, ``period_end`` (dates, natural months, both inclusive; for a one-off
  charge both are the charge date);
- ``amount`` Decimal(12,2) ≥ 0: what the bill said when issued, never edited afterwards;
- ``adjusted_amount`` Decimal(12,2): the sum of approved adjustments (debits positive,
  credit notes negative), kept by ``wuye.billing.services``;
- ``paid_amount`` Decimal(12,2) ≥ 0: what payments allocated to it so far;
- balance (``Bill.balance``, ``BillQuerySet.with_balance()``) =
  ``amount + adjusted_amount − paid_amount``; the database checks
  ``0 ≤ paid_amount ≤ amount + adjusted_amount``;
- ``due_date``: period start + the fee item's ``due_days``;
- ``status``: ``open`` → ``partially_paid`` → ``paid`` as ``paid_amount`` grows (and back
  on a refund); ``void`` only while nothing is paid;
- ``detail`` JSON: how the amount came about (area or usage, rates, days per month,
  the exact amount before rounding and the rounding mode) — shown to the resident;
- ``created_at``, ``updated_at``.

Constraint ``bill_once_per_period``: UNIQUE(house, fee_item, period_start) for run and
opening bills, which makes a rerun of a bill run write nothing new. Indexes serve arrears
by community / company and due date (open and partially paid bills only) and a house's
bills by due date (payment allocation: oldest due date first, then oldest id).
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from wuye.core.scoping import ScopedQuerySet

ZERO = Decimal("0")
BILLING_PERMISSIONS = ("billing.view", "billing.manage", "billing.collect")


def _staff_q(actor, perms=BILLING_PERMISSIONS, via: str = ""):
    """Rows of the actor's communities (company-wide roles: the company's) when one of
    ``perms`` is granted; else nothing."""
    perm = next((p for p in perms if actor.has_perm(p)), None)
    if perm is None:
        return Q(pk__in=[])
    return actor.staff_q(community=f"{via}community_id", company=f"{via}company_id", perm=perm)


class Rounding(models.TextChoices):
    HALF_UP = "half_up", _("Half up (0.005 → 0.01)")
    HALF_EVEN = "half_even", _("Half even (banker's rounding)")


class BillingPolicy(models.Model):
    """A company's money and time conventions (one row per company, ``policy_for``).

    Defaults, and the fixed rules that are not settings:

    - ``rounding`` half up, to 0.01 yuan, once per bill line after proration (a quarter's
      months are added exactly, then rounded once);
    - ``proration_basis`` actual days of the month (14 of February's 28 days = 14/28);
      the alternative counts every month as 30 days (30/360: a full month is 30, the 31st
      is free, the last day of February counts up to the 30th);
    - ``bill_move_in_day`` / ``bill_move_out_day`` yes: charging intervals are inclusive;
    - fixed: a quarter or a year is prorated per natural month, each month its own
      fraction of its own days, at the price effective on that month's first day;
    - ``tier_mode`` each band at its own price; tiers are monthly bands of the usage
      read in the period and are not shortened in a part month;
    - fixed: 公摊 leftover cents go by largest remainder, ties to the lower house id;
    - payments go to the oldest due date first; ``allocation_tie`` says how bills sharing
      a due date share a payment: oldest bill id first (default) or in proportion to
      their balances (largest remainder, ties to the lower id);
    - late fees (滞纳金) off; when on: ``late_fee_daily_rate`` of the unpaid principal per
      day, none within ``late_fee_grace_days`` after the due date, then counted from the
      end of the grace period (or from the due date), the payment day counted or not,
      capped at ``late_fee_cap_ratio`` × principal.
    """

    class ProrationBasis(models.TextChoices):
        ACTUAL_DAYS = "actual_days", _("Actual days of the month")
        THIRTY_DAYS = "thirty_days", _("30-day months")

    class TierMode(models.TextChoices):
        PER_BAND = "per_band", _("Each band at its own price")
        HIGHEST_BAND = "highest_band", _("Whole usage at the highest band reached")

    class AllocationTie(models.TextChoices):
        OLDEST_ID = "oldest_id", _("Oldest bill first")
        PROPORTIONAL = "proportional", _("In proportion to the balances")

    class LateFeeFrom(models.TextChoices):
        AFTER_GRACE = "after_grace", _("Days after the grace period")
        DUE_DATE = "due_date", _("Days after the due date, once the grace period has passed")

    company = models.OneToOneField(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="billing_policy",
        verbose_name=_("company"),
    )
    rounding = models.CharField(
        _("rounding"), max_length=12, choices=Rounding, default=Rounding.HALF_UP
    )
    proration_basis = models.CharField(
        _("proration basis"),
        max_length=12,
        choices=ProrationBasis,
        default=ProrationBasis.ACTUAL_DAYS,
    )
    bill_move_in_day = models.BooleanField(_("bill the move-in day"), default=True)
    bill_move_out_day = models.BooleanField(_("bill the move-out day"), default=True)
    tier_mode = models.CharField(
        _("tiered prices"), max_length=14, choices=TierMode, default=TierMode.PER_BAND
    )
    allocation_tie = models.CharField(
        _("bills due the same day"),
        max_length=14,
        choices=AllocationTie,
        default=AllocationTie.OLDEST_ID,
    )
    late_fee_enabled = models.BooleanField(_("charge late fees"), default=False)
    late_fee_daily_rate = models.DecimalField(
        _("late fee per day"),
        max_digits=8,
        decimal_places=6,
        default=Decimal("0.000500"),
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("0.01"))],
        help_text=_("Share of the unpaid amount per day, e.g. 0.0005 (0.05 %)."),
    )
    late_fee_grace_days = models.PositiveSmallIntegerField(
        _("grace days"), default=0, validators=[MaxValueValidator(365)]
    )
    late_fee_from = models.CharField(
        _("late days counted"),
        max_length=12,
        choices=LateFeeFrom,
        default=LateFeeFrom.AFTER_GRACE,
    )
    late_fee_payment_day_counts = models.BooleanField(
        _("the payment day counts as a late day"), default=False
    )
    late_fee_cap_ratio = models.DecimalField(
        _("late fee cap"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("10"))],
        help_text=_("At most this many times the unpaid amount; 1 = the amount itself."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("billing policy")
        verbose_name_plural = _("billing policies")

    def __str__(self):
        return str(self.company)


class FeeItemQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Billing staff by community; residents see the fee items of their communities
        (the published price list)."""
        resident_q = Q(community_id__in=actor.resident_community_ids())
        return self.filter(_staff_q(actor) | resident_q)


class FeeItem(models.Model):
    """收费项目 of a community: 物业费, 垃圾清运费, 水费, 车位费, 装修押金 …"""

    class Kind(models.TextChoices):
        AREA = "area", _("By area (per m² per month)")
        FIXED = "fixed", _("Fixed amount per month")
        METERED = "metered", _("Metered (water, electricity, gas)")
        PARKING = "parking", _("Parking space (per month)")
        ONE_OFF = "one_off", _("One-off charge")
        DEPOSIT = "deposit", _("Refundable deposit")

    class AreaBasis(models.TextChoices):
        BUILT = "built", _("Built-up area")
        INDOOR = "indoor", _("Indoor area")

    class Cycle(models.TextChoices):
        MONTH = "month", _("Monthly")
        QUARTER = "quarter", _("Quarterly")
        YEAR = "year", _("Yearly")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="fee_items",
        verbose_name=_("community"),
    )
    code = models.SlugField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    area_basis = models.CharField(
        _("area basis"), max_length=8, choices=AreaBasis, default=AreaBasis.BUILT
    )
    cycle = models.CharField(_("billing cycle"), max_length=8, choices=Cycle, default=Cycle.MONTH)
    house_kinds = models.JSONField(
        _("applies to house kinds"), default=list, help_text=_("House kinds billed.")
    )
    due_days = models.PositiveSmallIntegerField(
        _("due days"),
        default=15,
        validators=[MaxValueValidator(366)],
        help_text=_("Days after the period start when the bill falls due."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = FeeItemQuerySet.as_manager()

    PERIODIC = (Kind.AREA, Kind.FIXED, Kind.METERED, Kind.PARKING)

    class Meta:
        verbose_name = _("fee item")
        verbose_name_plural = _("fee items")
        ordering = ["community_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="fee_item_code_unique"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_periodic(self) -> bool:
        return self.kind in self.PERIODIC

    def clean(self):
        from wuye.estates.models import House

        kinds = self.house_kinds
        if not isinstance(kinds, list) or not kinds or set(kinds) - set(House.Kind.values):
            raise ValidationError({"house_kinds": _("Choose at least one kind of house.")})


class FeeRate(models.Model):
    """A price of a fee item from a date on. A price change is a new row, never an edit;
    the rate for a month is the latest one effective on that month's first day.

    ``unit_price``: yuan per m² per month (area), per month (fixed, parking), per unit of
    usage (metered, unless ``tiers``), or the amount (one-off, deposit). ``multiplier``
    (倍率) scales metered usage. ``tiers``: ``[{"up_to": "180", "price": "0.56"}, …,
    {"up_to": null, "price": "0.86"}]``, ascending, the last band open-ended.
    """

    fee_item = models.ForeignKey(
        FeeItem, on_delete=models.PROTECT, related_name="rates", verbose_name=_("fee item")
    )
    effective_from = models.DateField(_("effective from"))
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=4,
        validators=[MinValueValidator(ZERO)],
    )
    multiplier = models.DecimalField(
        _("multiplier"),
        max_digits=10,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.0001"))],
    )
    tiers = models.JSONField(_("tiered prices"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fee rate")
        verbose_name_plural = _("fee rates")
        ordering = ["fee_item_id", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["fee_item", "effective_from"],
                name="fee_rate_once_per_date",
                violation_error_message=_("This fee item already has a price from that date."),
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0),
                name="fee_rate_price_not_negative",
                violation_error_message=_("A price cannot be negative."),
            ),
            models.CheckConstraint(
                condition=Q(multiplier__gt=0),
                name="fee_rate_multiplier_positive",
                violation_error_message=_("The multiplier must be greater than zero."),
            ),
        ]

    def __str__(self):
        return f"{self.fee_item} {self.effective_from} {self.unit_price}"

    def clean(self):
        from wuye.billing.money import parse_tiers

        try:
            parse_tiers(self.tiers)
        except ValueError as exc:
            raise ValidationError({"tiers": str(exc)}) from exc


class Charging(models.Model):
    """计费起止: a house is charged a fee item from ``start`` to ``end`` (inclusive; open
    when ``end`` is empty). Move-in, move-out and mid-period changes are rows here; the
    intervals of one house and fee item never overlap."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    house = models.ForeignKey(
        "estates.House", on_delete=models.PROTECT, related_name="chargings", verbose_name=_("house")
    )
    fee_item = models.ForeignKey(
        FeeItem, on_delete=models.PROTECT, related_name="chargings", verbose_name=_("fee item")
    )
    start = models.DateField(_("charged from"))
    end = models.DateField(_("charged until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("charging")
        verbose_name_plural = _("chargings")
        ordering = ["fee_item_id", "house_id", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="charging_end_after_start",
                violation_error_message=_("Charging cannot end before it starts."),
            ),
        ]
        indexes = [
            # The bill run streams one fee item's houses in id order.
            models.Index(fields=["fee_item", "house", "start"], name="charging_item_house_idx"),
            models.Index(fields=["house", "fee_item"], name="charging_house_idx"),
        ]

    def __str__(self):
        return f"{self.house_id}/{self.fee_item_id} {self.start}–{self.end or ''}"


class MeterReadingQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Billing staff of the house's community; residents their own houses' readings."""
        return self.filter(_staff_q(actor) | actor.resident_q("house_id"))


class MeterReading(models.Model):
    """A meter reading of a house for a metered fee item. ``previous`` is the reading it
    continues from (the new meter's start when ``replaced``); usage = value − previous."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    house = models.ForeignKey(
        "estates.House",
        on_delete=models.PROTECT,
        related_name="meter_readings",
        verbose_name=_("house"),
    )
    fee_item = models.ForeignKey(
        FeeItem, on_delete=models.PROTECT, related_name="readings", verbose_name=_("fee item")
    )
    reading_date = models.DateField(_("reading date"))
    value = models.DecimalField(_("reading"), max_digits=14, decimal_places=2)
    previous = models.DecimalField(_("previous reading"), max_digits=14, decimal_places=2)
    replaced = models.BooleanField(_("meter replaced"), default=False)
    # A usage far above the house's usual one is held for a person to confirm before
    # any bill counts it (a misread digit costs a resident real money).
    needs_review = models.BooleanField(_("needs review"), default=False)
    review_note = models.CharField(_("review note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = MeterReadingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")
        ordering = ["house_id", "fee_item_id", "reading_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["house", "fee_item", "reading_date"], name="meter_reading_once_a_day"
            ),
            models.CheckConstraint(
                condition=Q(value__gte=F("previous")),
                name="meter_reading_not_backwards",
                violation_error_message=_("A reading cannot be lower than the previous one."),
            ),
        ]
        indexes = [
            models.Index(fields=["fee_item", "reading_date"], name="meter_reading_item_date_idx"),
        ]

    def __str__(self):
        return f"{self.house_id} {self.reading_date} {self.value}"

    @property
    def usage(self) -> Decimal:
        return self.value - self.previous


class BillRunQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Billing staff of the run's community; company-wide runs: company-wide staff."""
        return self.filter(_staff_q(actor, ("billing.view", "billing.manage")))


class BillRun(models.Model):
    """出账: one period's bills for a community or the whole company.

    previewed → issuing → issued; a crash leaves it issuing or failed, and issuing it again
    resumes from its checkpoint (bills already written are skipped by the unique key)."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Queued")
        ISSUING = "issuing", _("Issuing")
        ISSUED = "issued", _("Issued")
        FAILED = "failed", _("Failed (can be resumed)")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bill_runs",
        verbose_name=_("community"),
        help_text=_("Empty for the whole company."),
    )
    period_kind = models.CharField(_("period"), max_length=8, choices=FeeItem.Cycle)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    state = models.CharField(
        _("state"), max_length=10, choices=State, default=State.PREVIEWED, db_index=True
    )
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    bills_planned = models.PositiveIntegerField(_("bills planned"), default=0)
    amount_planned = models.DecimalField(
        _("amount planned"), max_digits=16, decimal_places=2, default=ZERO
    )
    lines_done = models.PositiveIntegerField(_("lines processed"), default=0)
    bills_created = models.PositiveIntegerField(_("bills created"), default=0)
    bills_skipped = models.PositiveIntegerField(
        _("bills already there"), default=0, help_text=_("Bills of these houses written before.")
    )
    amount_issued = models.DecimalField(
        _("amount issued"), max_digits=16, decimal_places=2, default=ZERO
    )
    checkpoint = models.JSONField(_("checkpoint"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        _("last progress"),
        null=True,
        blank=True,
        help_text=_("When the worker last reported progress; a run silent too long is failed."),
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = BillRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("bill run")
        verbose_name_plural = _("bill runs")
        ordering = ["-period_start", "-id"]
        indexes = [
            models.Index(fields=["company", "period_start"], name="bill_run_period_idx"),
        ]

    def __str__(self):
        return f"{self.get_period_kind_display()} {self.period_start}"


class BillRunEvent(models.Model):
    """One step of a bill run: previewed, started, resumed, failed, issued."""

    class Kind(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        QUEUED = "queued", _("Queued to issue")
        STARTED = "started", _("Issuing started")
        RESUMED = "resumed", _("Issuing resumed")
        FAILED = "failed", _("Failed")
        ISSUED = "issued", _("Issued")

    run = models.ForeignKey(
        BillRun, on_delete=models.CASCADE, related_name="events", verbose_name=_("bill run")
    )
    kind = models.CharField(_("event"), max_length=10, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_state = models.CharField(_("from"), max_length=10, choices=BillRun.State, blank=True)
    to_state = models.CharField(_("to"), max_length=10, choices=BillRun.State, blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("bill run event")
        verbose_name_plural = _("bill run events")
        ordering = ["run_id", "id"]

    def __str__(self):
        return f"{self.run_id} {self.kind}"


class BillQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Billing staff by community (company-wide roles: the company); a resident the
        bills of the houses they currently live in."""
        return self.filter(_staff_q(actor) | actor.resident_q("house_id"))

    def unsettled(self):
        return self.filter(status__in=[Bill.Status.OPEN, Bill.Status.PARTIALLY_PAID])

    def with_balance(self):
        return self.annotate(
            balance_due=F("amount") + F("adjusted_amount") - F("paid_amount"),
        )


class Bill(models.Model):
    """One line of what a house owes: a fee item for a period (see the module docstring)."""

    class Origin(models.TextChoices):
        RUN = "run", _("Bill run")
        ONE_OFF = "one_off", _("One-off charge")
        OPENING = "opening", _("Opening balance")
        LATE_FEE = "late_fee", _("Late fee")

    class Status(models.TextChoices):
        OPEN = "open", _("Unpaid")
        PARTIALLY_PAID = "partially_paid", _("Partially paid")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    house = models.ForeignKey(
        "estates.House", on_delete=models.PROTECT, related_name="bills", verbose_name=_("house")
    )
    fee_item = models.ForeignKey(
        FeeItem, on_delete=models.PROTECT, related_name="bills", verbose_name=_("fee item")
    )
    run = models.ForeignKey(
        BillRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
        verbose_name=_("bill run"),
    )
    origin = models.CharField(_("origin"), max_length=8, choices=Origin, default=Origin.RUN)
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    adjusted_amount = models.DecimalField(
        _("adjustments"), max_digits=12, decimal_places=2, default=ZERO
    )
    paid_amount = models.DecimalField(_("paid"), max_digits=12, decimal_places=2, default=ZERO)
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.OPEN)
    detail = models.JSONField(_("how it was computed"), default=dict, blank=True)
    source_bill = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="late_fees",
        verbose_name=_("late fee for"),
        help_text=_("For a late-fee bill: the overdue bill it was charged on."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BillQuerySet.as_manager()

    UNSETTLED = (Status.OPEN, Status.PARTIALLY_PAID)

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        ordering = ["due_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["house", "fee_item", "period_start"],
                condition=Q(origin__in=["run", "opening"]),
                name="bill_once_per_period",
                violation_error_message=_("This house already has a bill for that period."),
            ),
            models.UniqueConstraint(
                fields=["company", "reference"],
                condition=~Q(reference=""),
                name="bill_reference_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bill_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0)
                & Q(paid_amount__lte=F("amount") + F("adjusted_amount")),
                name="bill_paid_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="bill_period_order"
            ),
        ]
        indexes = [
            # Arrears and dunning: unsettled bills of a community / company by due date.
            models.Index(
                fields=["community", "due_date"],
                condition=Q(status__in=["open", "partially_paid"]),
                name="bill_arrears_community_idx",
            ),
            models.Index(
                fields=["company", "due_date"],
                condition=Q(status__in=["open", "partially_paid"]),
                name="bill_arrears_company_idx",
            ),
            # A house's statement and payment allocation (oldest due date, then id).
            models.Index(fields=["house", "due_date", "id"], name="bill_house_due_idx"),
            models.Index(fields=["community", "period_start"], name="bill_community_period_idx"),
        ]

    def __str__(self):
        return f"{self.house_id} {self.fee_item_id} {self.period_start}"

    @property
    def payable(self) -> Decimal:
        return self.amount + self.adjusted_amount

    @property
    def balance(self) -> Decimal:
        return self.amount + self.adjusted_amount - self.paid_amount


class Adjustment(models.Model):
    """A correction of an issued bill: a credit note (减免/冲红) or a debit (补收).
    Issued bills are never edited; an approved adjustment moves ``Bill.adjusted_amount``.
    Proposed by one person, approved by another with ``billing.manage``."""

    class Kind(models.TextChoices):
        CREDIT = "credit", _("Credit note")
        DEBIT = "debit", _("Debit")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, related_name="adjustments", verbose_name=_("bill")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    amount = models.DecimalField(
        _("amount"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["bill_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="adjustment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount}"

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.kind == self.Kind.DEBIT else -self.amount


# --- payments ---
#
# A payment (收款) is allocated to bills (``Allocation``); what is left over goes to the
# house's prepaid account (预存) as a ``PrepaidEntry``. A bill's ``paid_amount`` is always
# Σ its allocations (net of refunds) + Σ prepaid deductions for it; a prepaid account's
# ``balance`` is always Σ its entries. Writes are in ``wuye.billing.payments``.


class PaymentQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Billing staff by community (company-wide roles: the company); residents the
        payments of the houses they currently live in."""
        return self.filter(_staff_q(actor) | actor.resident_q("house_id"))


class Payment(models.Model):
    """Money received for a house, with a receipt number ``SJ-<company>-<YYYYMM>-<nnnnnn>``
    unique and gapless per company and month."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        TRANSFER = "transfer", _("Bank transfer")
        POS = "pos", _("POS card")
        ONLINE = "online", _("Online")

    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
        REFUNDED = "refunded", _("Refunded")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    house = models.ForeignKey(
        "estates.House", on_delete=models.PROTECT, related_name="payments", verbose_name=_("house")
    )
    payer = models.CharField(_("payer"), max_length=50, blank=True)
    method = models.CharField(_("method"), max_length=10, choices=Method)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(
        _("refunded"), max_digits=12, decimal_places=2, default=ZERO
    )
    received_at = models.DateTimeField(_("received at"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    reference = models.CharField(
        _("reference"), max_length=64, blank=True, help_text=_("Bank or POS slip number.")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.COMPLETED)
    receipt_no = models.CharField(_("receipt number"), max_length=60)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "receipt_no"], name="payment_receipt_no_unique"
            ),
            models.UniqueConstraint(
                fields=["company", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="payment_idempotency_key_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["house", "received_at"], name="payment_house_idx"),
            models.Index(fields=["community", "received_at"], name="payment_community_idx"),
            models.Index(fields=["company", "received_at"], name="payment_company_idx"),
        ]

    def __str__(self):
        return self.receipt_no


class ReceiptCounter(models.Model):
    """The last receipt number of a company in a month; locked while a number is taken,
    so numbers are unique and leave no gaps (a rolled-back payment rolls the count back)."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    month = models.DateField(_("month"))
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("receipt counter")
        verbose_name_plural = _("receipt counters")
        constraints = [
            models.UniqueConstraint(fields=["company", "month"], name="receipt_counter_month"),
        ]

    def __str__(self):
        return f"{self.company_id} {self.month:%Y%m} {self.last_number}"


class Allocation(models.Model):
    """The part of a payment applied to a bill; ``refunded_amount`` is what refunds took
    back from it (the row itself is never edited otherwise)."""

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("payment")
    )
    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("bill")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(
        _("refunded"), max_digits=12, decimal_places=2, default=ZERO
    )

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["payment_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "bill"], name="allocation_once_per_bill"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("amount")),
                name="allocation_refund_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["bill"], name="allocation_bill_idx")]

    def __str__(self):
        return f"{self.payment_id}→{self.bill_id} {self.amount}"


class PrepaidAccountQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        return self.filter(_staff_q(actor) | actor.resident_q("house_id"))


class PrepaidAccount(models.Model):
    """预存: money a house has paid ahead. ``fee_item`` empty = general prepayment usable
    for any bill; otherwise only for that fee item's bills. Balance = Σ entries ≥ 0."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    house = models.ForeignKey(
        "estates.House",
        on_delete=models.PROTECT,
        related_name="prepaid_accounts",
        verbose_name=_("house"),
    )
    fee_item = models.ForeignKey(
        FeeItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("fee item"),
        help_text=_("Empty: usable for any bill of the house."),
    )
    balance = models.DecimalField(_("balance"), max_digits=12, decimal_places=2, default=ZERO)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PrepaidAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("prepaid account")
        verbose_name_plural = _("prepaid accounts")
        ordering = ["house_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["house"],
                condition=Q(fee_item__isnull=True),
                name="prepaid_general_once_per_house",
            ),
            models.UniqueConstraint(
                fields=["house", "fee_item"],
                condition=Q(fee_item__isnull=False),
                name="prepaid_item_once_per_house",
            ),
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="prepaid_balance_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.house_id}/{self.fee_item_id or '-'} {self.balance}"


class PrepaidEntry(models.Model):
    """One movement of a prepaid account: a deposit (+), a deduction for a bill (−) or
    money paid back by a refund (−). The ledger the balance is proven from."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", _("Deposit")
        DEDUCTION = "deduction", _("Deducted for a bill")
        REFUND = "refund", _("Refunded")

    account = models.ForeignKey(
        PrepaidAccount,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("prepaid account"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prepaid_entries",
        verbose_name=_("payment"),
    )
    bill = models.ForeignKey(
        Bill,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prepaid_entries",
        verbose_name=_("bill"),
    )
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("prepaid entry")
        verbose_name_plural = _("prepaid entries")
        ordering = ["account_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="deposit") & Q(amount__gt=0))
                | (Q(kind__in=["deduction", "refund"]) & Q(amount__lt=0)),
                name="prepaid_entry_sign",
            ),
            models.CheckConstraint(
                condition=~Q(kind="deduction") | Q(bill__isnull=False),
                name="prepaid_deduction_has_bill",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount}"


class Refund(models.Model):
    """A refund of (part of) a payment: requested → approved (by someone else with
    ``billing.manage``) or rejected → paid. Approval takes the money back from the
    payment's unspent prepaid deposit first, then from its allocations newest first."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PAID = "paid", _("Paid out")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    provider_refund_id = models.CharField(_("provider refund id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self):
        return f"{self.payment_id} {self.amount}"


class ProviderOrder(models.Model):
    """An online payment started by a resident: our ``out_trade_no`` sent to the provider
    (WeChat Pay / Alipay shaped), for ``bill_ids`` of ``house``. Paid once, by the first
    verified notification for it."""

    class Status(models.TextChoices):
        CREATED = "created", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CLOSED = "closed", _("Closed")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    house = models.ForeignKey(
        "estates.House", on_delete=models.PROTECT, related_name="+", verbose_name=_("house")
    )
    provider = models.CharField(_("provider"), max_length=20)
    out_trade_no = models.CharField(_("order number"), max_length=64, unique=True)
    bill_ids = models.JSONField(_("bills"), default=list)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.CREATED)
    transaction_id = models.CharField(_("provider transaction id"), max_length=64, blank=True)
    payment = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="provider_order",
        verbose_name=_("payment"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("online payment order")
        verbose_name_plural = _("online payment orders")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="provider_order_amount_positive"
            ),
        ]

    def __str__(self):
        return self.out_trade_no


class ProviderEvent(models.Model):
    """A payment notification from a provider, kept once per provider event id: a replay
    of the same notification hits the unique key and changes nothing."""

    provider = models.CharField(_("provider"), max_length=20)
    event_id = models.CharField(_("event id"), max_length=64)
    order = models.ForeignKey(
        ProviderOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("order"),
    )
    payload = models.TextField(_("raw payload"))
    verified = models.BooleanField(_("signature verified"), default=False)
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once"),
        ]

    def __str__(self):
        return f"{self.provider} {self.event_id}"


# --- dunning (催缴) ---


class DunningNoticeQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Billing staff by community (company-wide roles: the company)."""
        return self.filter(_staff_q(actor))


class DunningNotice(models.Model):
    """催缴记录: one reminder to a house about what it owes, by in-app notice, SMS, a
    printed letter, a phone call or a visit. The amounts are what was owed when it was
    sent, so the record still says what the house was told after it pays."""

    class Channel(models.TextChoices):
        NOTICE = "notice", _("In-app notice")
        SMS = "sms", _("SMS")
        LETTER = "letter", _("Letter")
        PHONE = "phone", _("Phone call")
        VISIT = "visit", _("Home visit")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    house = models.ForeignKey(
        "estates.House",
        on_delete=models.PROTECT,
        related_name="dunning_notices",
        verbose_name=_("house"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel)
    amount_due = models.DecimalField(_("amount owed"), max_digits=12, decimal_places=2)
    bills_count = models.PositiveIntegerField(_("unpaid bills"), default=0)
    oldest_due_date = models.DateField(_("oldest due date"), null=True, blank=True)
    recipients_count = models.PositiveIntegerField(
        _("recipients"), default=0, help_text=_("Residents the notice or SMS went to.")
    )
    batch = models.CharField(
        _("batch"), max_length=32, blank=True, help_text=_("Reminders sent together.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    sent_at = models.DateTimeField(_("sent at"))

    objects = DunningNoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("dunning notice")
        verbose_name_plural = _("dunning notices")
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["house", "-sent_at"], name="dunning_house_idx"),
            models.Index(fields=["community", "-sent_at"], name="dunning_community_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_due__gte=0), name="dunning_amount_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.house_id} {self.channel} {self.sent_at:%Y-%m-%d}"


# --- discounts and waivers (减免) ---


class DiscountRuleQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        return self.filter(_staff_q(actor, ("billing.view", "billing.manage")))


class DiscountRule(models.Model):
    """减免规则 of a community: a vacant house (空置房) or a house that prepays
    ``min_months`` months (预交优惠) may get ``rate`` off a fee item, once a waiver for it
    is approved."""

    class Kind(models.TextChoices):
        VACANT = "vacant", _("Vacant house")
        PREPAY = "prepay", _("Prepayment")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    fee_item = models.ForeignKey(
        FeeItem, on_delete=models.PROTECT, related_name="discount_rules", verbose_name=_("fee item")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    name = models.CharField(_("name"), max_length=50)
    rate = models.DecimalField(
        _("discount rate"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal("1"))],
        help_text=_("Share of the fee taken off: 0.5 is half, 1 is all of it."),
    )
    min_months = models.PositiveSmallIntegerField(
        _("minimum months"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
        help_text=_("Vacant: months the house must stay empty; prepayment: months paid ahead."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = DiscountRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("discount rule")
        verbose_name_plural = _("discount rules")
        ordering = ["community_id", "fee_item_id", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate__gt=0) & Q(rate__lte=1), name="discount_rule_rate_range"
            ),
        ]

    def __str__(self):
        return self.name


class WaiverQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Billing staff by community; a resident the waivers of their current houses."""
        return self.filter(
            _staff_q(actor, ("billing.view", "billing.manage")) | actor.resident_q("house_id")
        )


class Waiver(models.Model):
    """减免申请: ``rate`` off a house's fee item for the whole months ``start``..``end``
    under a discount rule. Proposed by one person and approved by another with
    ``billing.manage``; an approved waiver discounts the bills a run issues for those
    months and credits the bills already issued for them."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    house = models.ForeignKey(
        "estates.House", on_delete=models.PROTECT, related_name="waivers", verbose_name=_("house")
    )
    rule = models.ForeignKey(
        DiscountRule, on_delete=models.PROTECT, related_name="waivers", verbose_name=_("rule")
    )
    fee_item = models.ForeignKey(
        FeeItem, on_delete=models.PROTECT, related_name="waivers", verbose_name=_("fee item")
    )
    start = models.DateField(_("from month"))
    end = models.DateField(_("to month"))
    rate = models.DecimalField(_("discount rate"), max_digits=5, decimal_places=4)
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_note = models.CharField(_("decision note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = WaiverQuerySet.as_manager()

    class Meta:
        verbose_name = _("waiver")
        verbose_name_plural = _("waivers")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["house", "fee_item", "status"], name="waiver_house_item_idx"),
            models.Index(fields=["community", "status"], name="waiver_community_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="waiver_month_order"),
            models.CheckConstraint(
                condition=Q(rate__gt=0) & Q(rate__lte=1), name="waiver_rate_range"
            ),
        ]

    def __str__(self):
        return f"{self.house_id} {self.fee_item_id} {self.start}..{self.end}"


# --- 收支公示 ---


class DisclosureQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Billing staff by community; residents the published reports of the communities
        they live in."""
        residents = (
            Q(state=Disclosure.State.PUBLISHED, community_id__in=actor.resident_community_ids())
            if actor.is_resident
            else Q(pk__in=[])
        )
        return self.filter(_staff_q(actor, ("billing.view", "billing.manage")) | residents)


class Disclosure(models.Model):
    """收支公示: a community's income and expenses over a period. Income lines are taken
    from the payments received; expense lines are entered by finance. Drafts are seen by
    staff only; publishing shows it to the community's residents (and freezes it)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    title = models.CharField(_("title"), max_length=100)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.DRAFT)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    objects = DisclosureQuerySet.as_manager()

    class Meta:
        verbose_name = _("income and expense report")
        verbose_name_plural = _("income and expense reports")
        ordering = ["-period_start", "-id"]
        indexes = [
            models.Index(fields=["community", "state", "-period_start"], name="disclosure_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="disclosure_period_order"
            ),
        ]

    def __str__(self):
        return self.title


class DisclosureLine(models.Model):
    """One line of a 收支公示: an income (by fee item) or an expense category."""

    class Side(models.TextChoices):
        INCOME = "income", _("Income")
        EXPENSE = "expense", _("Expense")

    disclosure = models.ForeignKey(
        Disclosure, on_delete=models.CASCADE, related_name="lines", verbose_name=_("report")
    )
    side = models.CharField(_("side"), max_length=8, choices=Side)
    category = models.CharField(_("category"), max_length=50)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("report line")
        verbose_name_plural = _("report lines")
        ordering = ["disclosure_id", "side", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="disclosure_line_amount_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.side} {self.category} {self.amount}"
