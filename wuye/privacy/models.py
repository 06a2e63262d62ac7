"""Personal information protection (个人信息保护法): who exported or saw what, residents'
deletion requests, and how long personal data is kept."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wuye.core.scoping import ScopedQuerySet

ERASED_NAME = "已注销住户"


class Action(models.TextChoices):
    EXPORT = "export", _("Export")
    VIEW_SENSITIVE = "view_sensitive", _("Viewed personal data")
    DATA_EXPORT = "data_export", _("Personal data copy")
    ERASURE = "erasure", _("Erasure")


class AccessLogQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """The audit log of the actor's company, for privacy.view_audit."""
        return self.filter(
            actor.staff_q(community=None, company="company_id", perm="privacy.view_audit")
        )


class AccessLog(models.Model):
    """One export, one look at unmasked personal data, one copy or erasure of it."""

    company = models.ForeignKey(
        "estates.Company",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("company"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    action = models.CharField(_("action"), max_length=16, choices=Action)
    what = models.CharField(_("what"), max_length=300)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["company", "-id"], name="accesslog_company_id_idx"),
            models.Index(fields=["company", "at"], name="accesslog_company_at_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.what}"


class DeletionState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    DONE = "done", _("Done")


class DeletionSource(models.TextChoices):
    RESIDENT = "resident", _("Resident's request")
    RETENTION = "retention", _("Retention period")


class DeletionRequestQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Staff with privacy.erasure in the community; the resident their own."""
        staff_q = actor.staff_q(
            community="community_id", company="company_id", perm="privacy.erasure"
        )
        own = Q(user_id=actor.user.pk) if actor.is_authenticated else Q(pk__in=[])
        return self.filter(staff_q | own)


class DeletionRequest(models.Model):
    """A resident's request to delete their account (删除/注销), or an erasure the
    retention job made. Approval anonymises the person at once (then: done)."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    resident = models.ForeignKey(
        "people.Resident", on_delete=models.PROTECT, related_name="+", verbose_name=_("resident")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    source = models.CharField(
        _("source"), max_length=10, choices=DeletionSource, default=DeletionSource.RESIDENT
    )
    state = models.CharField(
        _("state"), max_length=10, choices=DeletionState, default=DeletionState.REQUESTED
    )
    reason = models.CharField(_("reason given"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision reason"), max_length=500, blank=True)
    done_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    objects = DeletionRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("deletion request")
        verbose_name_plural = _("deletion requests")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=Q(state__in=["requested", "approved"]),
                name="deletion_request_one_open",
                violation_error_message=_("A deletion request is already waiting."),
            )
        ]
        indexes = [models.Index(fields=["company", "state", "-id"], name="deletion_state_idx")]

    def __str__(self):
        return f"#{self.pk} {self.get_state_display()}"


class RetentionSettings(models.Model):
    """How long a company keeps personal data. Absent: the defaults apply."""

    company = models.OneToOneField(
        "estates.Company",
        on_delete=models.CASCADE,
        related_name="retention_settings",
        verbose_name=_("company"),
    )
    audit_log_years = models.PositiveSmallIntegerField(
        _("keep the audit log (years)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("1–10 years. Older entries are deleted."),
    )
    notification_months = models.PositiveSmallIntegerField(
        _("keep notifications (months)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("1–60 months. Older in-app notifications and their deliveries are deleted."),
    )
    departed_years = models.PositiveSmallIntegerField(
        _("anonymise departed residents after (years)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_(
            "1–30 years after their last move-out, residents without a house are anonymised."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("retention settings")
        verbose_name_plural = _("retention settings")

    def __str__(self):
        return str(self.company)
