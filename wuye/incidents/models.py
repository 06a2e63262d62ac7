"""Emergencies (应急处理): 停水, 停电, 电梯困人, 火警, 漏水, 燃气泄漏 … in a community or
some of its buildings, with a typed timeline.

The status only changes inside the transition functions of
``wuye.incidents.services``; each change, each round of notifications and each update
appends an ``IncidentEvent`` in the same transaction. That timeline is the record of
how the emergency was handled.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.core.scoping import ScopedQuerySet


class Kind(models.TextChoices):
    WATER_OUTAGE = "water_outage", _("Water outage")
    POWER_OUTAGE = "power_outage", _("Power outage")
    LIFT_ENTRAPMENT = "lift_entrapment", _("People trapped in a lift")
    FIRE = "fire", _("Fire alarm")
    LEAK = "leak", _("Leak or flooding")
    GAS_LEAK = "gas_leak", _("Gas leak")
    OTHER = "other", _("Other emergency")


class Severity(models.TextChoices):
    """一般 / 较大 / 重大, the levels of Chinese emergency plans."""

    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class Scope(models.TextChoices):
    COMMUNITY = "community", _("The whole community")
    BUILDINGS = "buildings", _("Chosen buildings")


class Status(models.TextChoices):
    REPORTED = "reported", pgettext_lazy("emergency", "Reported")
    RESPONDING = "responding", pgettext_lazy("emergency", "Responding")
    RESOLVED = "resolved", pgettext_lazy("emergency", "Resolved")
    CLOSED = "closed", pgettext_lazy("emergency", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("emergency", "Cancelled (false alarm)")


ACTIVE_STATUSES = (Status.REPORTED, Status.RESPONDING)
INCIDENT_PERMISSIONS = ("incidents.report", "incidents.manage")


class IncidentQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Staff who report or manage emergencies see those of their communities
        (company-wide roles: the company's). Residents hear about an emergency through
        their notifications; they see no incident rows."""
        perm = next((p for p in INCIDENT_PERMISSIONS if actor.has_perm(p)), None)
        if perm is None:
            return self.none()
        return self.filter(actor.staff_q(community="community_id", company="company_id", perm=perm))

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)


class Incident(models.Model):
    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("community"),
    )
    number = models.CharField(_("number"), max_length=24, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity, default=Severity.MAJOR
    )
    scope = models.CharField(
        _("affected area"), max_length=10, choices=Scope, default=Scope.COMMUNITY
    )
    buildings = models.ManyToManyField(
        "estates.Building", related_name="+", blank=True, verbose_name=_("affected buildings")
    )
    asset = models.ForeignKey(
        "facilities.Asset",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        verbose_name=_("equipment"),
    )
    location = models.CharField(
        _("exact spot"),
        max_length=200,
        blank=True,
        help_text=_("e.g. 3栋 lift 2, car park B2"),
    )
    description = models.TextField(_("description"), max_length=2000)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.REPORTED)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reported_at = models.DateTimeField(_("reported at"))
    responded_at = models.DateTimeField(_("responding since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("emergency")
        verbose_name_plural = _("emergencies")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["community", "status", "id"], name="incident_community_idx"),
            models.Index(fields=["company", "id"], name="incident_company_idx"),
        ]

    def __str__(self):
        return f"{self.number} {self.get_kind_display()}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class EventKind(models.TextChoices):
    REPORTED = "reported", pgettext_lazy("emergency", "Reported")
    STAFF_NOTIFIED = "staff_notified", pgettext_lazy("emergency", "Staff notified")
    RESIDENTS_NOTIFIED = "residents_notified", pgettext_lazy("emergency", "Residents notified")
    RESPONDING = "responding", pgettext_lazy("emergency", "Response under way")
    UPDATE = "update", pgettext_lazy("emergency", "Update")
    RESOLVED = "resolved", pgettext_lazy("emergency", "Resolved")
    CLOSED = "closed", pgettext_lazy("emergency", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("emergency", "Cancelled (false alarm)")


class IncidentEvent(models.Model):
    """One step of the emergency's record: who did what, when, and to which status."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="events", verbose_name=_("emergency")
    )
    kind = models.CharField(_("event"), max_length=20, choices=EventKind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_status = models.CharField(_("from"), max_length=12, choices=Status, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Status, blank=True)
    note = models.TextField(_("note"), blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("emergency event")
        verbose_name_plural = _("emergency events")
        ordering = ["incident_id", "id"]
        indexes = [models.Index(fields=["incident", "id"], name="incident_event_idx")]

    def __str__(self):
        return f"{self.incident_id} {self.kind}"

    @property
    def recipient_count(self) -> int | None:
        return (self.payload or {}).get("count")
