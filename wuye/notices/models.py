"""Notices (公告): a message from the property office to the residents of a company,
a community, some buildings, units or chosen houses.

Publishing fans a notice out once: one ``NoticeReceipt`` per targeted house (the read
receipt the manager watches) and one in-app notification per resident of those houses.
The status only changes inside ``wuye.notices.services``; each change appends a
``NoticeEvent`` in the same transaction.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.accounts.actor import NOTHING
from wuye.core.scoping import ScopedQuerySet
from wuye.estates.audience import Audience


class Kind(models.TextChoices):
    NOTICE = "notice", _("Notice (通知)")
    OUTAGE = "outage", _("Water or power cut (停水停电)")
    TIP = "tip", _("Friendly reminder (温馨提示)")
    DISCLOSURE = "disclosure", _("Accounts disclosure (收支公示)")
    ACTIVITY = "activity", _("Activity (活动)")


class Status(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("notice", "Draft")
    SCHEDULED = "scheduled", pgettext_lazy("notice", "Scheduled")
    PUBLISHED = "published", pgettext_lazy("notice", "Published")
    WITHDRAWN = "withdrawn", pgettext_lazy("notice", "Withdrawn")


NOTICE_PERMISSIONS = ("engagement.view", "engagement.manage")


class NoticeQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Staff who view or manage engagement see the notices of their communities;
        company-wide notices (no community) only company-wide staff. Residents see the
        published, unexpired notices that reached one of their current houses."""
        q = NOTHING
        perm = next((p for p in NOTICE_PERMISSIONS if actor.has_perm(p)), None)
        if perm is not None:
            q |= actor.staff_q(community="community_id", company="company_id", perm=perm)
        if actor.is_resident:
            reached = NoticeReceipt.objects.filter(actor.resident_q("house_id"))
            q |= self.live_q() & Q(id__in=reached.values("notice_id"))
        return self.filter(q)

    @staticmethod
    def live_q(now=None) -> Q:
        now = now or timezone.now()
        return Q(status=Status.PUBLISHED) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def live(self, now=None):
        return self.filter(self.live_q(now))


class Notice(models.Model):
    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("community"),
        help_text=_("Empty for a notice to every community of the company."),
    )
    kind = models.CharField(_("type"), max_length=12, choices=Kind, default=Kind.NOTICE)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), max_length=10000)
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience, default=Audience.COMMUNITY
    )
    buildings = models.ManyToManyField(
        "estates.Building", related_name="+", blank=True, verbose_name=_("buildings")
    )
    units = models.ManyToManyField(
        "estates.Unit", related_name="+", blank=True, verbose_name=_("units")
    )
    houses = models.ManyToManyField(
        "estates.House", related_name="+", blank=True, verbose_name=_("houses")
    )
    is_emergency = models.BooleanField(
        _("urgent"),
        default=False,
        help_text=_("Shown first when residents next open the app, and also sent by SMS."),
    )
    is_pinned = models.BooleanField(_("pinned"), default=False)
    event_starts_at = models.DateTimeField(
        _("affected from"), null=True, blank=True, help_text=_("e.g. when the water goes off")
    )
    event_ends_at = models.DateTimeField(_("affected until"), null=True, blank=True)
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    photos = models.ManyToManyField(
        "core.Photo", related_name="+", blank=True, verbose_name=_("images")
    )
    # Filled in by the fan-out: what the read rate is measured against.
    households = models.PositiveIntegerField(_("households reached"), default=0)
    recipients = models.PositiveIntegerField(_("residents notified"), default=0)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-is_pinned", "-published_at", "-id"]
        indexes = [
            models.Index(fields=["community", "status", "id"], name="notice_community_idx"),
            models.Index(fields=["company", "status", "id"], name="notice_company_idx"),
            # The publishing sweep: scheduled notices whose time has come.
            models.Index(
                fields=["publish_at"],
                name="notice_due_idx",
                condition=Q(status="scheduled"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True)
                | Q(publish_at__isnull=True)
                | Q(expires_at__gt=models.F("publish_at")),
                name="notice_expires_after_publish",
                violation_error_message=_("A notice must expire after it is published."),
            ),
            models.CheckConstraint(
                condition=Q(event_ends_at__isnull=True)
                | Q(event_starts_at__isnull=True)
                | Q(event_ends_at__gt=models.F("event_starts_at")),
                name="notice_event_ends_after_start",
                violation_error_message=_("The affected period must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(audience="company", community__isnull=True)
                | (~Q(audience="company") & Q(community__isnull=False)),
                name="notice_audience_has_community",
                violation_error_message=_(
                    "A notice goes to the whole company or to a community, not both."
                ),
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_live(self) -> bool:
        return self.status == Status.PUBLISHED and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @property
    def read_rate(self) -> float | None:
        """Filled in by ``selectors.with_read_counts``; None before publishing."""
        read = getattr(self, "read_households", None)
        if read is None or not self.households:
            return None
        return read / self.households


def attachment_path(attachment, filename: str) -> str:
    """``notice-files/2026/12/<random>.pdf``: the stored name says nothing; the original
    name is kept in ``name``."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return timezone.now().strftime(f"notice-files/%Y/%m/{secrets.token_urlsafe(16)}.{extension}")


class NoticeAttachment(models.Model):
    """A document posted with a notice (a PDF of the outage plan, a form to fill in).
    Served only through the notice's scoped download view."""

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("notice")
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notice attachment")
        verbose_name_plural = _("notice attachments")
        ordering = ["notice_id", "id"]

    def __str__(self):
        return self.name


class NoticeReceipt(models.Model):
    """One targeted house of a published notice: read when any resident of the house
    first opens it. Building and community are copied from the house so read rates per
    building need no join over a 100,000-row fan-out."""

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("notice")
    )
    house = models.ForeignKey(
        "estates.House", on_delete=models.CASCADE, related_name="+", verbose_name=_("house")
    )
    community_id = models.BigIntegerField(_("community"))
    building_id = models.BigIntegerField(_("building"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("read by"),
    )

    class Meta:
        verbose_name = _("read receipt")
        verbose_name_plural = _("read receipts")
        indexes = [
            # Read rate and the read/unread list of one notice.
            models.Index(fields=["notice", "read_at"], name="receipt_notice_read_idx"),
            models.Index(fields=["notice", "building_id", "read_at"], name="receipt_building_idx"),
            # A resident's notices: their houses, newest first.
            models.Index(fields=["house", "notice"], name="receipt_house_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["notice", "house"], name="receipt_once_per_house"),
        ]

    def __str__(self):
        return f"{self.notice_id}:{self.house_id}"


class EventKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("notice", "Written")
    EDITED = "edited", pgettext_lazy("notice", "Edited")
    SCHEDULED = "scheduled", pgettext_lazy("notice", "Scheduled")
    PUBLISHED = "published", pgettext_lazy("notice", "Published")
    WITHDRAWN = "withdrawn", pgettext_lazy("notice", "Withdrawn")


class NoticeEvent(models.Model):
    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="events", verbose_name=_("notice")
    )
    kind = models.CharField(_("event"), max_length=12, choices=EventKind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    from_status = models.CharField(_("from"), max_length=10, choices=Status, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=Status, blank=True)
    note = models.TextField(_("note"), blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("notice event")
        verbose_name_plural = _("notice events")
        ordering = ["notice_id", "id"]
        indexes = [models.Index(fields=["notice", "id"], name="notice_event_idx")]

    def __str__(self):
        return f"{self.notice_id} {self.kind}"
