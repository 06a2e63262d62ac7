"""Facilities: the equipment ledger (设备台账), vendors, statutory certificates and the
typed checklists that inspections, patrols and maintenance rounds fill in.

Assets belong to a community (optionally a building or common area) and carry a random
``qr_token``: the QR label encodes it, so a foreign or made-up code finds nothing.
Status changes go through ``wuye.facilities.services`` and keep downtime intervals, the
ground for downtime hours, MTBF and MTTR.
"""

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.scoping import ScopedQuerySet
from wuye.people.models import mobile_validator
from wuye.staff.models import CompanyOwnedQuerySet

MAX_REMIND_DAYS = 365


def new_qr_token() -> str:
    return secrets.token_urlsafe(12)


class Vendor(models.Model):
    """供应商: a maintenance contractor or supplier with its contract."""

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="vendors",
        verbose_name=_("company"),
    )
    name = models.CharField(_("name"), max_length=100)
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True)
    contact_mobile = models.CharField(
        _("contact mobile"), max_length=11, blank=True, validators=[mobile_validator]
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    contract_no = models.CharField(_("maintenance contract no."), max_length=50, blank=True)
    contract_start = models.DateField(_("contract start"), null=True, blank=True)
    contract_end = models.DateField(_("contract end"), null=True, blank=True)
    scope = models.CharField(_("scope of service"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        ordering = ["company_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="vendor_name_unique"),
            models.CheckConstraint(
                condition=Q(contract_end__isnull=True)
                | Q(contract_start__isnull=True)
                | Q(contract_end__gte=F("contract_start")),
                name="vendor_contract_dates",
                violation_error_message=_("The contract cannot end before it starts."),
            ),
        ]

    def __str__(self):
        return self.name


class AssetCategory(models.Model):
    """电梯, 供水泵, 配电, 消防 …: configurable per company, seeded with defaults."""

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="asset_categories",
        verbose_name=_("company"),
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=50)
    code_prefix = models.CharField(
        _("asset code prefix"), max_length=8, help_text=_("e.g. DT for 电梯: DT-0001.")
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("asset category")
        verbose_name_plural = _("asset categories")
        ordering = ["company_id", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="asset_category_code_unique"),
        ]

    def __str__(self):
        return self.name


FACILITY_PERMISSIONS = ("facilities.view", "facilities.manage", "facilities.work")


def _community_q(actor, perms, via: str = ""):
    """Rows of the actor's communities (company-wide roles: the company's) when one of
    ``perms`` is granted; else nothing. ``via`` leads to the row that has them
    (``"asset__"``)."""
    perm = next((p for p in perms if actor.has_perm(p)), None)
    if perm is None:
        return Q(pk__in=[])
    return actor.staff_q(community=f"{via}community_id", company=f"{via}company_id", perm=perm)


class PlaceQuerySet(ScopedQuerySet):
    """Assets and checkpoints: things with a QR label in a community."""

    def visible_to(self, actor):
        """Staff who view, manage or work the rounds see the places of their communities
        (field staff scan them)."""
        return self.filter(_community_q(actor, FACILITY_PERMISSIONS))


class PlanQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Plans are office work: those who view or manage facilities, by community."""
        return self.filter(_community_q(actor, FACILITY_PERMISSIONS[:2]))


class TaskQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Overseers see their communities' tasks; field staff see the tasks assigned to
        them (in communities they still work in)."""
        q = _community_q(actor, FACILITY_PERMISSIONS[:2])
        if actor.staff and actor.has_perm("facilities.work"):
            q |= Q(assignee_id=actor.staff.pk) & actor.staff_q(
                community="community_id", company="company_id", perm="facilities.work"
            )
        return self.filter(q)


class Asset(models.Model):
    class Importance(models.TextChoices):
        CRITICAL = "critical", _("Critical (A)")
        IMPORTANT = "important", _("Important (B)")
        NORMAL = "normal", _("Normal (C)")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        STOPPED = "stopped", _("Stopped")
        REPAIRING = "repairing", _("Under repair")
        SCRAPPED = "scrapped", _("Scrapped")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="assets",
        verbose_name=_("community"),
    )
    building = models.ForeignKey(
        "estates.Building",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assets",
        verbose_name=_("building"),
    )
    common_area = models.ForeignKey(
        "estates.CommonArea",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assets",
        verbose_name=_("common area"),
    )
    category = models.ForeignKey(
        AssetCategory, on_delete=models.PROTECT, related_name="assets", verbose_name=_("category")
    )
    code = models.CharField(_("asset code"), max_length=24)
    name = models.CharField(_("name"), max_length=100)
    location = models.CharField(_("location"), max_length=200, blank=True)
    brand = models.CharField(_("brand"), max_length=50, blank=True)
    model_no = models.CharField(_("model"), max_length=50, blank=True)
    serial_no = models.CharField(_("serial number"), max_length=50, blank=True)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    warranty_until = models.DateField(_("warranty until"), null=True, blank=True)
    vendor = models.ForeignKey(
        Vendor,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assets",
        verbose_name=_("maintenance vendor"),
    )
    importance = models.CharField(
        _("importance"), max_length=10, choices=Importance, default=Importance.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.RUNNING, editable=False
    )
    qr_token = models.CharField(max_length=24, unique=True, default=new_qr_token, editable=False)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("asset")
        verbose_name_plural = _("assets")
        ordering = ["community_id", "category_id", "code"]
        indexes = [
            models.Index(fields=["community", "category", "id"], name="asset_community_idx"),
            models.Index(fields=["company", "id"], name="asset_company_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="asset_code_unique"),
            models.CheckConstraint(
                condition=Q(warranty_until__isnull=True)
                | Q(installed_on__isnull=True)
                | Q(warranty_until__gte=F("installed_on")),
                name="asset_warranty_after_install",
                violation_error_message=_("The warranty cannot end before installation."),
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class Downtime(models.Model):
    """A stretch of time an asset was not running (停用 or 维修中): open while ``ended_at``
    is empty. Downtime hours, MTBF and MTTR are computed from these rows."""

    asset = models.ForeignKey(
        Asset, on_delete=models.CASCADE, related_name="downtimes", verbose_name=_("asset")
    )
    status = models.CharField(_("status"), max_length=10, choices=Asset.Status)
    started_at = models.DateTimeField(_("from"))
    ended_at = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("work order"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        verbose_name = _("downtime")
        verbose_name_plural = _("downtimes")
        ordering = ["asset_id", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset"],
                condition=Q(ended_at__isnull=True),
                name="downtime_one_open_per_asset",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="downtime_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.asset_id} {self.status} {self.started_at:%Y-%m-%d}"


class CertificateQuerySet(models.QuerySet):
    def current(self):
        """Certificates not yet replaced by a later one of the same kind on the same
        asset: last year's lift inspection stops counting once this year's is recorded."""
        newer = Certificate.objects.filter(
            asset_id=OuterRef("asset_id"),
            kind=OuterRef("kind"),
            expires_on__gt=OuterRef("expires_on"),
        )
        return self.filter(~Exists(newer))


class Certificate(models.Model):
    """A statutory certificate (电梯年检, 消防检测, 特种设备 …) with its expiry; reminders go
    out ``remind_days`` ahead."""

    class Kind(models.TextChoices):
        ELEVATOR = "elevator", _("Elevator annual inspection")
        FIRE = "fire", _("Fire-safety inspection")
        SPECIAL = "special", _("Special-equipment registration")
        PRESSURE = "pressure", _("Pressure-vessel inspection")
        LIGHTNING = "lightning", _("Lightning-protection test")
        WATER = "water", _("Secondary water-supply hygiene")
        OTHER = "other", _("Other")

    asset = models.ForeignKey(
        Asset, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("asset")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    number = models.CharField(_("certificate no."), max_length=50, blank=True)
    issuer = models.CharField(_("issued by"), max_length=100, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"))
    remind_days = models.PositiveSmallIntegerField(
        _("remind days ahead"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_REMIND_DAYS)],
    )
    reminded_on = models.DateField(_("last reminded on"), null=True, blank=True, editable=False)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["expires_on", "id"]
        indexes = [models.Index(fields=["expires_on"], name="certificate_expiry_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(expires_on__gte=F("issued_on")),
                name="certificate_expires_after_issue",
                violation_error_message=_("A certificate cannot expire before it is issued."),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}".strip()


class AttachmentQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Documents are office work: those who view or manage facilities in the asset's
        community (field staff who only scan the asset do not get its contracts)."""
        return self.filter(_community_q(actor, FACILITY_PERMISSIONS[:2], via="asset__"))


def attachment_path(attachment, filename: str) -> str:
    """``facility-files/2026/11/<random>.pdf``: the stored name says nothing about the
    file; its original name is kept in ``name``."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return timezone.now().strftime(f"facility-files/%Y/%m/{secrets.token_urlsafe(16)}.{extension}")


class AssetAttachment(models.Model):
    """A document kept with an asset: manual, maintenance contract, inspection report,
    drawing, photo. Private: served only through the ledger's scoped download view."""

    asset = models.ForeignKey(
        Asset, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("asset")
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("asset attachment")
        verbose_name_plural = _("asset attachments")
        ordering = ["asset_id", "-uploaded_at", "-id"]

    def __str__(self):
        return self.name


class RoundKind(models.TextChoices):
    """The five kinds of routine rounds; a checklist is written for one of them."""

    INSPECTION = "inspection", _("Equipment inspection (设备巡检)")
    PATROL = "patrol", _("Security patrol (安全巡逻)")
    CLEANING = "cleaning", _("Cleaning (环境卫生)")
    GREENING = "greening", _("Greening (绿化养护)")
    MAINTENANCE = "maintenance", _("Maintenance (设备保养)")


class ChecklistTemplate(models.Model):
    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="checklist_templates",
        verbose_name=_("company"),
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("round kind"), max_length=12, choices=RoundKind)
    asset_category = models.ForeignKey(
        AssetCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("for asset category"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = CompanyOwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        ordering = ["company_id", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="checklist_name_unique"),
        ]

    def __str__(self):
        return self.name


class ItemType(models.TextChoices):
    OK_ABNORMAL = "ok_abnormal", _("Normal / abnormal")
    NUMBER = "number", _("Number with an acceptable range")
    METER = "meter", _("Meter reading")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Text")
    PHOTO = "photo", _("Photo")


class ChecklistItem(models.Model):
    """One typed question. Numbers carry a unit and an acceptable range; choices list
    which answers count as abnormal. An abnormal answer may open a work order of
    ``order_category`` (by rule) or offer one (one tap)."""

    template = models.ForeignKey(
        ChecklistTemplate,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("checklist"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    label = models.CharField(_("item"), max_length=100)
    type = models.CharField(_("type"), max_length=12, choices=ItemType)
    unit = models.CharField(_("unit"), max_length=12, blank=True, help_text=_("e.g. MPa, ℃, A"))
    min_value = models.DecimalField(
        _("lowest acceptable"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("highest acceptable"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    choices = models.JSONField(_("choices"), default=list, blank=True)
    abnormal_choices = models.JSONField(_("abnormal choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=True)
    photo_required = models.BooleanField(_("photo required"), default=False)
    creates_order = models.BooleanField(_("an abnormal answer opens a work order"), default=False)
    order_category = models.ForeignKey(
        "workorders.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("work-order category"),
    )

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["template_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(max_value__gte=F("min_value")),
                name="checklist_item_range",
                violation_error_message=_("The highest value cannot be below the lowest."),
            ),
            models.CheckConstraint(
                condition=Q(creates_order=False) | Q(order_category__isnull=False),
                name="checklist_item_order_category",
                violation_error_message=_("Choose the work-order category to open."),
            ),
        ]

    def __str__(self):
        return self.label

    def clean(self):
        if self.type in (ItemType.SINGLE, ItemType.MULTIPLE):
            options = [str(c).strip() for c in self.choices or [] if str(c).strip()]
            if len(options) < 2:
                raise ValidationError({"choices": _("Give at least two choices.")})
            if len(set(options)) != len(options):
                raise ValidationError({"choices": _("Each choice must be different.")})
            unknown = set(self.abnormal_choices or []) - set(options)
            if unknown:
                raise ValidationError(
                    {"abnormal_choices": _("Abnormal answers must be among the choices.")}
                )
            self.choices = options
        elif self.choices or self.abnormal_choices:
            raise ValidationError({"choices": _("Only choice items have choices.")})
        if self.type not in (ItemType.NUMBER, ItemType.METER) and (
            self.min_value is not None or self.max_value is not None or self.unit
        ):
            raise ValidationError({"unit": _("Only number and meter items have a unit or range.")})
        if self.type == ItemType.NUMBER and self.min_value is None and self.max_value is None:
            raise ValidationError({"min_value": _("Give the acceptable range.")})

    def judge(self, value) -> bool:
        """Whether an already validated answer is abnormal."""
        if self.type == ItemType.OK_ABNORMAL:
            return value is False
        if self.type in (ItemType.NUMBER, ItemType.METER):
            if value is None:
                return False
            low, high = self.min_value, self.max_value
            return (low is not None and value < low) or (high is not None and value > high)
        if self.type == ItemType.SINGLE:
            return value in (self.abnormal_choices or [])
        if self.type == ItemType.MULTIPLE:
            return bool(set(value or []) & set(self.abnormal_choices or []))
        return False


ABSURD = Decimal("1000000000")  # readings beyond this are typing mistakes, not values


class Plan(models.Model):
    """A recurring round: which checklist, where (its stops), when (recurrence and a
    daily time window), who (a person, or the on-shift staff of a trade). Tasks are
    generated ahead by the scheduler (``wuye.facilities.plans``)."""

    class Recurrence(models.TextChoices):
        DAILY = "daily", _("Every day")
        WEEKDAYS = "weekdays", _("Monday to Friday")
        WEEKLY = "weekly", _("On days of the week")
        MONTHLY = "monthly", _("On days of the month")
        EVERY_N_DAYS = "every_n_days", _("Every N days")

    class Anchor(models.TextChoices):
        SCHEDULE = "schedule", _("From the schedule")
        COMPLETION = "completion", _("From the last completion")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("community"),
    )
    kind = models.CharField(_("round kind"), max_length=12, choices=RoundKind)
    name = models.CharField(_("name"), max_length=100)
    template = models.ForeignKey(
        ChecklistTemplate,
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("checklist"),
    )
    recurrence = models.CharField(
        _("recurrence"), max_length=14, choices=Recurrence, default=Recurrence.DAILY
    )
    days = models.JSONField(
        _("days"),
        default=list,
        blank=True,
        help_text=_("Weekly: 1 (Monday) to 7; monthly: 1 to 31 (31 means the month's last day)."),
    )
    interval_days = models.PositiveSmallIntegerField(
        _("every N days"), null=True, blank=True, validators=[MinValueValidator(2)]
    )
    anchor = models.CharField(_("counted"), max_length=10, choices=Anchor, default=Anchor.SCHEDULE)
    window_start = models.TimeField(_("window opens"))
    window_end = models.TimeField(_("window closes"))
    assignee = models.ForeignKey(
        "staff.StaffMember",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    trade = models.ForeignKey(
        "staff.Trade",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team (trade)"),
        help_text=_("When the assignee is off shift, an on-shift member of this trade."),
    )
    requires_acceptance = models.BooleanField(_("supervisor accepts the work"), default=False)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["community_id", "kind", "name"]
        indexes = [models.Index(fields=["is_active", "community"], name="plan_active_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_end__gt=F("window_start")),
                name="plan_window_order",
                violation_error_message=_("The window must close after it opens."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="plan_dates_order",
                violation_error_message=_("The plan cannot end before it starts."),
            ),
            models.CheckConstraint(
                condition=Q(assignee__isnull=False) | Q(trade__isnull=False),
                name="plan_has_staff",
                violation_error_message=_("Choose an assignee or a team."),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        days = self.days or []
        if self.recurrence in (self.Recurrence.WEEKLY, self.Recurrence.MONTHLY):
            high = 7 if self.recurrence == self.Recurrence.WEEKLY else 31
            if not days or any(not isinstance(d, int) or not 1 <= d <= high for d in days):
                raise ValidationError(
                    {"days": _("Give days between 1 and %(high)d.") % {"high": high}}
                )
            self.days = sorted(set(days))
        elif days:
            raise ValidationError({"days": _("Only weekly and monthly plans list days.")})
        if (self.recurrence == self.Recurrence.EVERY_N_DAYS) != bool(self.interval_days):
            raise ValidationError(
                {"interval_days": _("Give N for, and only for, an every-N-days plan.")}
            )


class Task(models.Model):
    """One generated occurrence of a plan, for one date and (usually) one person."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To do")
        IN_PROGRESS = "in_progress", _("In progress")
        AWAITING_ACCEPTANCE = "awaiting_acceptance", _("Awaiting acceptance")
        DONE = "done", _("Done")
        MISSED = "missed", _("Missed")

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community", on_delete=models.PROTECT, related_name="+", verbose_name=_("community")
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("plan")
    )
    kind = models.CharField(_("round kind"), max_length=12, choices=RoundKind)
    date = models.DateField(_("date"))
    opens_at = models.DateTimeField(_("window opens"))
    closes_at = models.DateTimeField(_("window closes"))
    assignee = models.ForeignKey(
        "staff.StaffMember",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="facility_tasks",
        verbose_name=_("assignee"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.PENDING, editable=False
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    abnormal_count = models.PositiveSmallIntegerField(_("abnormal items"), default=0)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("round task")
        verbose_name_plural = _("round tasks")
        ordering = ["opens_at", "id"]
        indexes = [
            models.Index(fields=["assignee", "date"], name="task_assignee_date_idx"),
            models.Index(fields=["community", "date"], name="task_community_date_idx"),
            # rounds.mark_missed reads only the open tasks, by when their window closed.
            models.Index(
                fields=["closes_at"],
                name="task_open_closes_idx",
                condition=Q(status__in=["pending", "in_progress"]),
            ),
        ]
        constraints = [
            # Generation is idempotent: one task per plan and date.
            models.UniqueConstraint(fields=["plan", "date"], name="task_plan_date_unique"),
        ]

    def __str__(self):
        return f"{self.plan_id} {self.date}"


class Checkpoint(models.Model):
    """巡更点 / a cleaning or greening area: a place with a QR label that is not an asset."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="checkpoints",
        verbose_name=_("community"),
    )
    common_area = models.ForeignKey(
        "estates.CommonArea",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checkpoints",
        verbose_name=_("common area"),
    )
    name = models.CharField(_("name"), max_length=100)
    qr_token = models.CharField(max_length=24, unique=True, default=new_qr_token, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        ordering = ["community_id", "name", "id"]

    def __str__(self):
        return self.name


class PlanStop(models.Model):
    """A plan's ordered stop: an asset to inspect or a checkpoint to pass."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="stops")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    asset = models.ForeignKey(
        Asset, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("stop")
        verbose_name_plural = _("stops")
        ordering = ["plan_id", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(asset__isnull=False, checkpoint__isnull=True)
                | Q(asset__isnull=True, checkpoint__isnull=False),
                name="stop_is_asset_or_checkpoint",
                violation_error_message=_("A stop is an asset or a checkpoint."),
            ),
        ]

    def __str__(self):
        return str(self.asset or self.checkpoint)

    @property
    def target(self):
        return self.asset or self.checkpoint


class Visit(models.Model):
    """A scan at a stop during a task: when, and whether inside the task's window."""

    class Timing(models.TextChoices):
        EARLY = "early", _("Early")
        ON_TIME = "on_time", _("On time")
        LATE = "late", _("Late")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="visits")
    stop = models.ForeignKey(PlanStop, on_delete=models.PROTECT, related_name="+")
    scanned_at = models.DateTimeField(_("scanned at"))
    timing = models.CharField(_("timing"), max_length=8, choices=Timing)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["task_id", "scanned_at"]
        constraints = [
            models.UniqueConstraint(fields=["task", "stop"], name="visit_once_per_stop"),
        ]

    def __str__(self):
        return f"{self.task_id} {self.stop_id} {self.timing}"


class Answer(models.Model):
    """One checklist answer at one stop; an abnormal one may have opened a work order."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+")
    value = models.JSONField(_("answer"), null=True, blank=True)
    is_abnormal = models.BooleanField(_("abnormal"), default=False)
    photos = models.ManyToManyField("core.Photo", related_name="+", blank=True)
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("work order"),
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["visit_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "item"], name="answer_once_per_item"),
        ]

    def __str__(self):
        return f"{self.item_id}: {self.value}"
