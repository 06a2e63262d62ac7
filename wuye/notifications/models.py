"""In-app notifications: one row per recipient and event, read or unread."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Event kinds are dotted lowercase slugs: ``workorder.dispatched``, ``notice.published``.
KIND_PATTERN = r"^[a-z0-9_]+(\.[a-z0-9_]+)*$"
kind_validator = RegexValidator(KIND_PATTERN, _("Use lowercase words separated by dots."))


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, actor):
        """Everyone sees their own notifications and nobody else's, staff included."""
        if not actor.is_authenticated:
            return self.none()
        return self.filter(recipient_id=actor.user.pk)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """One message to one user. The title is stored rendered (in the site's default
    language), so the list never re-renders templates or reaches into other apps.

    ``dedupe_key`` names the event (``workorder.dispatched:42:317``): a delivery task
    that runs twice finds the rows already there and creates nothing."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
        db_index=False,  # led by both indexes below
    )
    kind = models.CharField(_("kind"), max_length=64, validators=[kind_validator])
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.PositiveBigIntegerField(_("object id"), null=True, blank=True)
    dedupe_key = models.CharField(_("event key"), max_length=200)
    urgent = models.BooleanField(
        _("urgent"), default=False, help_text=_("Sent by SMS too, and even in quiet hours.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The unread count and the unread list: (recipient, read_at IS NULL), by id.
            models.Index(fields=["recipient", "read_at", "id"], name="notif_recipient_unread"),
            # The whole list, newest first.
            models.Index(fields=["recipient", "id"], name="notif_recipient_id"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notif_once_per_recipient"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class ChannelCode(models.TextChoices):
    """The ways a notification leaves the app; the in-app centre is always on."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat message")


class Topic(models.TextChoices):
    """What a notification is about: the first word of its kind. Preferences are per
    topic and channel."""

    WORKORDER = "workorder", _("Service requests")
    BILLING = "billing", _("Bills and payments")
    NOTICE = "notice", _("Notices")
    ACTIVITY = "activity", _("Activities")
    SURVEY = "survey", _("Surveys and votes")
    INCIDENT = "incident", _("Emergencies")
    FACILITIES = "facilities", _("Facilities and rounds")
    OTHER = "other", _("Other")


class DeliverySettings(models.Model):
    """A user's quiet hours and channel addresses beyond email and mobile. Quiet hours
    hold back email, SMS and WeChat (not urgent ones) until they end."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delivery_settings",
        verbose_name=_("user"),
    )
    quiet_from = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet hours until"), null=True, blank=True)
    wechat_openid = models.CharField(_("WeChat OpenID"), max_length=64, blank=True)
    language = models.CharField(
        _("message language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )

    class Meta:
        verbose_name = _("delivery settings")
        verbose_name_plural = _("delivery settings")

    def __str__(self):
        return str(self.user_id)


class ChannelPreference(models.Model):
    """An opt-out (or back in) of one channel for one topic; no row means the
    channel's default (on for all but marketing-like topics)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="channel_preferences",
        verbose_name=_("user"),
    )
    topic = models.CharField(_("topic"), max_length=12, choices=Topic)
    channel = models.CharField(_("channel"), max_length=8, choices=ChannelCode)
    enabled = models.BooleanField(_("on"), default=True)

    class Meta:
        verbose_name = _("channel preference")
        verbose_name_plural = _("channel preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "topic", "channel"], name="channel_preference_once"
            ),
        ]

    def __str__(self):
        return f"{self.user_id}:{self.topic}:{self.channel}"


class MessageTemplate(models.Model):
    """A company's wording of one event kind on one channel in one language; without
    one, the built-in wording of ``wuye.notifications.templates`` is used. Subject and
    body are Django templates over the notification (title, body, link, site)."""

    company = models.ForeignKey(
        "estates.Company", on_delete=models.CASCADE, related_name="+", verbose_name=_("company")
    )
    kind = models.CharField(
        _("event kind"),
        max_length=64,
        validators=[kind_validator],
        help_text=_("e.g. notice.published, or notice for every notice event"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=ChannelCode)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), max_length=2000)
    provider_template = models.CharField(
        _("provider template id"),
        max_length=64,
        blank=True,
        help_text=_("The SMS or WeChat template id registered with the provider."),
    )

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "channel", "language"], name="message_template_once"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.channel} {self.language}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery", "Waiting")
    SENT = "sent", pgettext_lazy("delivery", "Sent")
    RETRYING = "retrying", pgettext_lazy("delivery", "Will retry")
    FAILED = "failed", pgettext_lazy("delivery", "Failed")
    SKIPPED = "skipped", pgettext_lazy("delivery", "Not sent")


class Delivery(models.Model):
    """One notification on one outside channel: the delivery log. Failed sends are
    retried with back-off by a periodic sweep until ``MAX_ATTEMPTS``; held back for
    quiet hours, a delivery waits with ``next_attempt_at`` at their end."""

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("notification"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=ChannelCode)
    address = models.CharField(_("sent to"), max_length=254, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=DeliveryStatus, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    provider_ref = models.CharField(_("provider reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        indexes = [
            # The retry sweep: deliveries due again.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due_idx",
                condition=Q(status__in=["pending", "retrying"]),
            ),
            models.Index(fields=["channel", "status", "id"], name="delivery_log_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "channel"], name="delivery_once_per_channel"
            ),
        ]

    def __str__(self):
        return f"{self.notification_id}:{self.channel}"
