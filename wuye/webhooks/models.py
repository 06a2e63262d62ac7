"""Outbound webhooks for integrators: a company subscribes a URL to event types;
each event is POSTed as JSON signed with HMAC-SHA256 over the body, retried with
back-off, and every attempt's outcome is kept in the delivery log."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.staff.models import CompanyOwnedQuerySet


def new_secret() -> str:
    return secrets.token_hex(32)


class EndpointQuerySet(CompanyOwnedQuerySet):
    def visible_to(self, actor):
        """Integrations are company settings: company administrators only."""
        if not actor.has_perm("company.manage"):
            return self.none()
        return super().visible_to(actor)


class Endpoint(models.Model):
    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(
        _("events"), default=list, help_text=_("The event types sent to this URL.")
    )
    secret = models.CharField(_("signing secret"), max_length=64, default=new_secret)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["company_id", "id"]

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("webhook", "Waiting")
    SUCCEEDED = "succeeded", pgettext_lazy("webhook", "Delivered")
    RETRYING = "retrying", pgettext_lazy("webhook", "Will retry")
    FAILED = "failed", pgettext_lazy("webhook", "Gave up")


class DeliveryQuerySet(models.QuerySet):
    def visible_to(self, actor):
        return self.filter(endpoint__in=Endpoint.objects.visible_to(actor))


class WebhookDelivery(models.Model):
    """One event for one endpoint. ``event_id`` is the same on every attempt, so the
    receiver can drop a delivery it has already processed."""

    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    event_id = models.UUIDField(_("event id"))
    event_type = models.CharField(_("event"), max_length=64)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_due_idx",
                condition=Q(status__in=["pending", "retrying"]),
            ),
            models.Index(fields=["endpoint", "id"], name="webhook_log_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_event_once_per_endpoint"
            ),
        ]

    def __str__(self):
        return f"{self.event_type} → {self.endpoint_id}"
