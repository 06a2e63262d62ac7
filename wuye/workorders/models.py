"""Service requests (报修/投诉/咨询/建议/表扬) as work orders with a typed event timeline.

The order's status only changes inside the transition functions of
``wuye.workorders.services``; each change appends a ``WorkOrderEvent`` in the same
transaction. That timeline is the service record (服务记录).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.scoping import ScopedQuerySet
from wuye.people.models import mobile_validator


class RequestType(models.TextChoices):
    REPAIR = "repair", _("Repair")
    COMPLAINT = "complaint", _("Complaint")
    INQUIRY = "inquiry", _("Inquiry")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")
    EMERGENCY = "emergency", _("Emergency")


URGENCY_RANK = {Urgency.NORMAL: 0, Urgency.URGENT: 1, Urgency.EMERGENCY: 2}


class DispatchMode(models.TextChoices):
    ASSIGN = "assign", _("Assigned by the dispatcher")
    GRAB = "grab", _("Grab pool")
    ROUND_ROBIN = "round_robin", _("Round robin")
    AUTO = "auto", _("Automatic")


class ReturnVisitPolicy(models.TextChoices):
    NEVER = "never", _("Never")
    UNLESS_RATED_WELL = "unless_rated_well", _("Unless rated 4 or 5")
    ALWAYS = "always", _("Always")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    WALK_IN = "walk_in", _("Front desk")
    RESIDENT_H5 = "resident_h5", _("Resident app")
    API = "api", _("API / mini-program")
    INSPECTION = "inspection", _("Inspection")
    STAFF = "staff", _("Reported by staff")


class Category(models.Model):
    """A two-level category (e.g. 水电 › 水管漏水) with its handling rules."""

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.PROTECT,
        related_name="request_categories",
        verbose_name=_("company"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=50)
    request_type = models.CharField(
        _("request type"), max_length=16, choices=RequestType, default=RequestType.REPAIR
    )
    dispatch_mode = models.CharField(
        _("dispatch mode"), max_length=16, choices=DispatchMode, default=DispatchMode.ASSIGN
    )
    trade = models.ForeignKey(
        "staff.Trade",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handling trade"),
    )
    default_urgency = models.CharField(
        _("default urgency"), max_length=16, choices=Urgency, default=Urgency.NORMAL
    )
    is_paid = models.BooleanField(_("paid service"), default=False)
    return_visit = models.CharField(
        _("return visit"),
        max_length=20,
        choices=ReturnVisitPolicy,
        default=ReturnVisitPolicy.UNLESS_RATED_WELL,
    )
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA policy"),
        help_text=_("Empty: chosen by urgency and request type."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("request category")
        verbose_name_plural = _("request categories")
        ordering = ["company_id", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="category_code_unique"),
        ]

    def __str__(self):
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DISPATCHED = "dispatched", _("Dispatched")
    TAKEN = "taken", _("Taken")
    IN_PROGRESS = "in_progress", _("In progress")
    PAUSED = "paused", _("Paused")
    COMPLETED = "completed", _("Completed")
    RATED = "rated", _("Rated")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")


class CloseReason(models.TextChoices):
    RATED = "rated", _("Rated by the requester")
    RETURN_VISIT = "return_visit", _("Return visit")
    NOT_RATED = "not_rated", _("Closed automatically, not rated")


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")


OPEN_STATUSES = (
    Status.SUBMITTED,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.TAKEN,
    Status.IN_PROGRESS,
    Status.PAUSED,
)
# Orders that count against a technician's cap of open orders.
ASSIGNED_STATUSES = (Status.DISPATCHED, Status.TAKEN, Status.IN_PROGRESS, Status.PAUSED)


class WorkOrderQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Office staff see orders of their communities; field staff see their own
        orders and the grab pool of their communities; residents see what they
        reported and the non-complaint orders of their houses."""
        staff_q = actor.staff_q(
            community="community_id", company="company_id", perm="workorders.view"
        )
        own_q = Q(assignee_id=actor.staff.pk) if actor.staff else Q(pk__in=[])
        pool_q = Q(pk__in=[])
        if actor.staff and actor.has_perm("workorders.work"):
            pool_q = Q(
                status=Status.ACCEPTED,
                assignee__isnull=True,
                dispatch_mode=DispatchMode.GRAB,
                community_id__in=sorted(actor.community_ids),
            )
        reporter_q = Q(reporter_id=actor.user.pk) if actor.is_authenticated else Q(pk__in=[])
        household_q = actor.resident_q("house_id") & ~Q(request_type=RequestType.COMPLAINT)
        return self.filter(staff_q | own_q | pool_q | reporter_q | household_q)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class WorkOrder(models.Model):
    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="work_orders",
        verbose_name=_("community"),
    )
    house = models.ForeignKey(
        "estates.House",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("house"),
    )
    common_area = models.ForeignKey(
        "estates.CommonArea",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("common area"),
    )
    asset = models.ForeignKey(
        "facilities.Asset",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("asset"),
    )
    number = models.CharField(_("order number"), max_length=24, unique=True, editable=False)
    request_type = models.CharField(_("request type"), max_length=16, choices=RequestType)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="orders", verbose_name=_("category")
    )
    dispatch_mode = models.CharField(_("dispatch mode"), max_length=16, choices=DispatchMode)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel)
    urgency = models.CharField(_("urgency"), max_length=16, choices=Urgency)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=0, help_text=_("Raised on reopen and escalation.")
    )
    description = models.TextField(_("description"), max_length=2000)
    preferred_time = models.CharField(_("preferred visit time"), max_length=100, blank=True)
    may_enter = models.BooleanField(_("may enter when nobody is home"), default=False)
    contact_name = models.CharField(_("contact name"), max_length=50)
    # Blank only for orders nobody called in (a fault found on a round); forms and the
    # API ask callers for it.
    contact_mobile = models.CharField(
        _("contact mobile"), max_length=11, blank=True, validators=[mobile_validator]
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_orders",
        verbose_name=_("reported by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.SUBMITTED)
    assignee = models.ForeignKey(
        "staff.StaffMember",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_orders",
        verbose_name=_("assignee"),
    )
    paused_from = models.CharField(max_length=16, choices=Status, blank=True, editable=False)
    pause_reason = models.CharField(_("pause reason"), max_length=200, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_reason = models.CharField(
        _("closed by"), max_length=16, choices=CloseReason, blank=True, editable=False
    )
    resolution = models.TextField(_("resolution notes"), blank=True)
    labour_amount = models.DecimalField(
        _("labour (¥)"), max_digits=10, decimal_places=2, default=Decimal("0.00")
    )
    urge_count = models.PositiveSmallIntegerField(_("urged"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("reopened"), default=0)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged into"),
    )
    # SLA: the policy frozen at creation and the clocks' deadlines and breach facts
    # (``sla`` JSON); the columns below copy what lists, filters and the sweep need.
    sla = models.JSONField(_("SLA"), default=dict, blank=True, editable=False)
    response_due = models.DateTimeField(_("response due"), null=True, blank=True)
    arrival_due = models.DateTimeField(_("on site due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    sla_state = models.CharField(
        _("SLA state"), max_length=10, choices=SlaState, default=SlaState.ON_TRACK
    )
    sla_next_check = models.DateTimeField(null=True, blank=True, editable=False)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)

    objects = WorkOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["community", "status", "id"], name="wo_community_status_idx"),
            models.Index(fields=["company", "id"], name="wo_company_id_idx"),
            # A community's orders by submission day: quality rollups and raw figures.
            models.Index(fields=["community", "submitted_at"], name="wo_community_submitted_idx"),
            # A house's earlier complaints (a repeat complaint, in the quality rollups).
            models.Index(
                fields=["house", "submitted_at"],
                name="wo_house_complaints_idx",
                condition=Q(request_type="complaint"),
            ),
            # Open orders by age (the quality dashboard's backlog) in one range scan,
            # company-wide too.
            models.Index(
                fields=["company", "submitted_at"],
                name="wo_open_age_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # A company's or a community's complaints of a range (the complaint
            # analysis): what its grouped queries read, without the other orders' rows.
            *(
                models.Index(
                    fields=[scope, "submitted_at"],
                    include=["id", "house", "contact_mobile", "completed_at"],
                    name=f"wo_{scope}_complaints_idx",
                    condition=Q(request_type="complaint"),
                )
                for scope in ("company", "community")
            ),
            models.Index(fields=["assignee", "status"], name="wo_assignee_status_idx"),
            # A technician's open load (dispatch.pick counts it for every candidate):
            # one index descent per member instead of one per assigned status.
            models.Index(
                fields=["assignee"],
                name="wo_assignee_open_idx",
                condition=Q(status__in=ASSIGNED_STATUSES),
            ),
            models.Index(fields=["assignee", "dispatched_at"], name="wo_assignee_dispatched_idx"),
            models.Index(fields=["reporter", "id"], name="wo_reporter_idx"),
            models.Index(fields=["house", "id"], name="wo_house_idx"),
            # The SLA sweep reads only rows whose next check has come.
            models.Index(
                fields=["sla_next_check"],
                name="wo_sla_next_check_idx",
                condition=Q(sla_next_check__isnull=False),
            ),
            # The minute jobs of wuye.workorders.timeouts: dispatched orders nobody took,
            # completed orders nobody rated.
            models.Index(
                fields=["dispatched_at"],
                name="wo_waiting_take_idx",
                condition=Q(status="dispatched"),
            ),
            models.Index(
                fields=["completed_at"],
                name="wo_waiting_rating_idx",
                condition=Q(status="completed"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(house__isnull=False)
                | Q(common_area__isnull=False)
                | Q(asset__isnull=False),
                name="wo_has_place",
                violation_error_message=_("Choose a house, a common area or an asset."),
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def place(self) -> str:
        if self.house_id:
            return self.house.address
        where = f"{self.community.name} {self.common_area.name}" if self.common_area_id else ""
        if self.asset_id:  # the equipment names the spot better than its room alone
            return f"{where or self.community.name} · {self.asset}"
        return where

    @property
    def materials_amount(self) -> Decimal:
        return sum((m.amount for m in self.materials.all()), Decimal("0.00"))

    @property
    def total_amount(self) -> Decimal:
        return self.labour_amount + self.materials_amount


class EventType(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DISPATCHED = "dispatched", _("Dispatched")
    GRABBED = "grabbed", _("Grabbed from the pool")
    TAKEN = "taken", _("Taken")
    RETURNED = "returned", _("Returned")
    TRANSFERRED = "transferred", _("Transferred")
    ARRIVED = "arrived", _("Arrived on site")
    PAUSED = "paused", _("Paused")
    RESUMED = "resumed", _("Resumed")
    COMPLETED = "completed", _("Completed")
    RATED = "rated", _("Rated")
    RETURN_VISITED = "return_visited", _("Return visit")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    REJECTED = "rejected", _("Rejected")
    REOPENED = "reopened", _("Reopened")
    URGED = "urged", _("Urged")
    COMMENTED = "commented", _("Comment")
    DISPATCH_EXPIRED = "dispatch_expired", _("Not taken in time")
    CAUSE_RECORDED = "cause_recorded", _("Root cause recorded")
    REPLIED = "replied", _("Reply to the rating")
    RECOVERY_OPENED = "recovery_opened", _("Service recovery opened")
    SLA_AT_RISK = "sla_at_risk", _("SLA at risk")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    SLA_ESCALATED = "sla_escalated", _("Escalated")


class WorkOrderEvent(models.Model):
    """One entry of the service record: who did what, when, from which status to which."""

    order = models.ForeignKey(
        WorkOrder, on_delete=models.PROTECT, related_name="events", verbose_name=_("work order")
    )
    type = models.CharField(_("event"), max_length=20, choices=EventType)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_status = models.CharField(_("from"), max_length=16, choices=Status, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Status, blank=True)
    note = models.TextField(_("note"), blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    is_public = models.BooleanField(_("shown to the resident"), default=True)
    photos = models.ManyToManyField(
        "core.Photo", related_name="+", blank=True, verbose_name=_("photos")
    )
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("work-order event")
        verbose_name_plural = _("work-order events")
        ordering = ["order_id", "id"]
        indexes = [
            models.Index(fields=["order", "id"], name="wo_event_order_idx"),
            # The quality rollup's refresh reads the events since its last run.
            models.Index(fields=["created_at"], name="wo_event_created_idx"),
        ]

    def __str__(self):
        return f"{self.order_id} {self.type}"

    @property
    def root_cause_label(self) -> str:
        code = (self.payload or {}).get("root_cause")
        return RootCause(code).label if code in RootCause.values else ""


class Material(models.Model):
    """A material used on a paid repair; amount = quantity × unit price."""

    order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="materials", verbose_name=_("work order")
    )
    name = models.CharField(_("item"), max_length=100)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100000"))],
    )
    unit_price = models.DecimalField(
        _("unit price (¥)"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000000"))],
    )

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["order_id", "id"]

    def __str__(self):
        return self.name

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


def _score(label) -> models.PositiveSmallIntegerField:
    """An optional 1–5 rating of one of the seed's five service-quality dimensions."""
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )


class Feedback(models.Model):
    """The resident's rating: overall 1–5 and the seed's five quality dimensions."""

    DIMENSIONS = ("professionalism", "responsibility", "appearance", "empathy", "tangibles")

    order = models.OneToOneField(
        WorkOrder, on_delete=models.PROTECT, related_name="feedback", verbose_name=_("work order")
    )
    overall = models.PositiveSmallIntegerField(
        _("overall"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    professionalism = _score(_("professionalism (专业性)"))
    responsibility = _score(_("responsibility (责任心)"))
    appearance = _score(_("appearance (仪表)"))
    empathy = _score(_("empathy (人情味)"))
    tangibles = _score(_("facilities (软硬件)"))
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    staff_reply = models.TextField(_("staff reply"), max_length=1000, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replied by"),
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    created_at = models.DateTimeField(_("rated at"))

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")

    def __str__(self):
        return f"{self.order_id}: {self.overall}"


class ComplaintParty(models.TextChoices):
    STAFF = "staff", _("A staff member")
    DEPARTMENT = "department", _("A department")
    NEIGHBOUR = "neighbour", _("A neighbour")
    VENDOR = "vendor", _("A vendor")
    OTHER = "other", _("Other / not stated")


class RootCause(models.TextChoices):
    """Root-cause categories of complaints, for 投诉分类统计与原因分析."""

    ATTITUDE = "attitude", _("Service attitude")
    QUALITY = "quality", _("Quality of work")
    DELAY = "delay", _("Slow response or handling")
    FACILITIES = "facilities", _("Facilities and equipment")
    FEES = "fees", _("Fees and charges")
    ENVIRONMENT = "environment", _("Cleaning and greenery")
    SECURITY = "security", _("Security and order")
    NEIGHBOUR = "neighbour", _("Dispute between neighbours")
    MANAGEMENT = "management", _("Rules and management")
    UNFOUNDED = "unfounded", _("Not substantiated")
    OTHER = "other", _("Other")


class Complaint(models.Model):
    """The complaint-only facts of a 投诉 order; handled by 客服主管
    (``workorders.complaints``)."""

    order = models.OneToOneField(
        WorkOrder,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="complaint",
        verbose_name=_("work order"),
    )
    party_kind = models.CharField(
        _("complained about"), max_length=12, choices=ComplaintParty, default=ComplaintParty.OTHER
    )
    party_staff = models.ForeignKey(
        "staff.StaffMember",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_against",
        verbose_name=_("staff member complained about"),
    )
    party_name = models.CharField(
        _("party"),
        max_length=100,
        blank=True,
        help_text=_("The department, neighbour (house) or vendor complained about."),
    )
    demand = models.TextField(_("demand (诉求)"), max_length=1000, blank=True)
    is_dispute = models.BooleanField(_("dispute (纠纷)"), default=False)
    root_cause = models.CharField(
        _("root cause"), max_length=16, choices=RootCause, blank=True, db_index=True
    )
    root_cause_note = models.CharField(_("root-cause notes"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        constraints = [
            models.CheckConstraint(
                condition=~Q(party_kind="staff") | Q(party_staff__isnull=False),
                name="complaint_staff_named",
                violation_error_message=_("Choose the staff member complained about."),
            ),
        ]

    def __str__(self):
        return f"{self.order_id}"

    @property
    def party(self) -> str:
        if self.party_staff_id:
            return self.party_staff.name
        return self.party_name
