"""In-app notifications: one row per recipient and event, read or unread."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
