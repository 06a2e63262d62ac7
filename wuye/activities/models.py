"""Community activities (社区活动): a 中秋 party with 80 places, sign-up per household
with its party size, a waitlist that fills places freed by cancellations, QR check-in
at the door, a photo recap and attendance figures.

Places are counted in people (a household of three takes three). Sign-ups, cancellations
and promotions from the waitlist happen in ``wuye.activities.services`` with the activity
row locked, so two residents never take the last place twice.
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

ACTIVITY_PERMISSIONS = ("engagement.view", "engagement.manage", "engagement.assist")


class Status(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("activity", "Draft")
    OPEN = "open", pgettext_lazy("activity", "Open for sign-up")
    CANCELLED = "cancelled", pgettext_lazy("activity", "Cancelled")


class ActivityQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Staff who view, manage or assist with engagement see the activities of their
        communities; residents see the open (and cancelled, so they learn of it)
        activities of the communities they live in."""
        q = NOTHING
        perm = next((p for p in ACTIVITY_PERMISSIONS if actor.has_perm(p)), None)
        if perm is not None:
            q |= actor.staff_q(community="community_id", company="company_id", perm=perm)
        if actor.is_resident:
            q |= Q(
                community_id__in=actor.resident_community_ids(),
                status__in=(Status.OPEN, Status.CANCELLED),
            )
        return self.filter(q)


class Activity(models.Model):
    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    community = models.ForeignKey(
        "estates.Community",
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("community"),
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    place = models.CharField(_("place"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("places"), help_text=_("People, not households."))
    max_party_size = models.PositiveSmallIntegerField(
        _("people per household"), default=4, help_text=_("The most one household may bring.")
    )
    signup_deadline = models.DateTimeField(_("sign-up closes at"))
    cancel_deadline = models.DateTimeField(
        _("cancellations close at"),
        help_text=_("After this, a sign-up can no longer be cancelled online."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    # People counted by the services under the activity's row lock (no SUM per page).
    confirmed_people = models.PositiveIntegerField(_("people confirmed"), default=0)
    waitlisted_people = models.PositiveIntegerField(_("people waiting"), default=0)
    checkin_token = models.CharField(_("check-in code"), max_length=32, unique=True, editable=False)
    recap = models.TextField(_("recap"), max_length=5000, blank=True)
    photos = models.ManyToManyField(
        "core.Photo", related_name="+", blank=True, verbose_name=_("recap photos")
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organised by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(
                fields=["community", "status", "starts_at"], name="activity_community_idx"
            ),
            models.Index(fields=["company", "starts_at"], name="activity_company_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="activity_ends_after_start",
                violation_error_message=_("An activity must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(signup_deadline__lte=models.F("ends_at")),
                name="activity_signup_before_end",
                violation_error_message=_("Sign-up must close before the activity ends."),
            ),
            models.CheckConstraint(
                condition=Q(capacity__gt=0) & Q(max_party_size__gt=0),
                name="activity_has_places",
                violation_error_message=_("An activity needs at least one place."),
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.checkin_token:
            self.checkin_token = secrets.token_urlsafe(16)
        super().save(*args, **kwargs)

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.confirmed_people, 0)


class SignupStatus(models.TextChoices):
    CONFIRMED = "confirmed", pgettext_lazy("sign-up", "Confirmed")
    WAITLISTED = "waitlisted", pgettext_lazy("sign-up", "On the waitlist")
    CANCELLED = "cancelled", pgettext_lazy("sign-up", "Cancelled")


ACTIVE_SIGNUP = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


class SignupQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """Staff see the sign-ups of the activities they see; residents those of their
        current houses."""
        q = NOTHING
        perm = next((p for p in ACTIVITY_PERMISSIONS if actor.has_perm(p)), None)
        if perm is not None:
            q |= actor.staff_q(
                community="activity__community_id", company="activity__company_id", perm=perm
            )
        q |= actor.resident_q("house_id")
        return self.filter(q)


class Signup(models.Model):
    """One household's place (or place in the queue). A household has at most one
    active sign-up per activity; a cancelled one stays for the record."""

    activity = models.ForeignKey(
        Activity, on_delete=models.PROTECT, related_name="signups", verbose_name=_("activity")
    )
    house = models.ForeignKey(
        "estates.House", on_delete=models.PROTECT, related_name="+", verbose_name=_("house")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed up by"),
    )
    contact_name = models.CharField(_("contact"), max_length=50)
    contact_mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    party_size = models.PositiveSmallIntegerField(_("people"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=SignupStatus)
    code = models.CharField(_("ticket code"), max_length=32, unique=True, editable=False)
    created_at = models.DateTimeField(_("signed up at"), default=timezone.now)
    promoted_at = models.DateTimeField(_("moved up from the waitlist at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked in by"),
    )
    attended_people = models.PositiveSmallIntegerField(_("people who came"), null=True, blank=True)

    objects = SignupQuerySet.as_manager()

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["activity_id", "created_at", "id"]
        indexes = [
            # The waitlist in order, and the participant list.
            models.Index(
                fields=["activity", "status", "created_at", "id"], name="signup_queue_idx"
            ),
            models.Index(fields=["house", "activity"], name="signup_house_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "house"],
                condition=Q(status__in=["confirmed", "waitlisted"]),
                name="signup_once_per_house",
                violation_error_message=_("This household has already signed up."),
            ),
            models.CheckConstraint(
                condition=Q(party_size__gt=0),
                name="signup_party_size_positive",
                violation_error_message=_("A sign-up is for at least one person."),
            ),
        ]

    def __str__(self):
        return f"{self.activity_id}:{self.house_id}"

    def save(self, *args, **kwargs):
        if not self.code:
            self.code = secrets.token_urlsafe(12)
        super().save(*args, **kwargs)


class EventKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("activity", "Created")
    EDITED = "edited", pgettext_lazy("activity", "Edited")
    OPENED = "opened", pgettext_lazy("activity", "Opened for sign-up")
    SIGNED_UP = "signed_up", pgettext_lazy("activity", "Signed up")
    WAITLISTED = "waitlisted", pgettext_lazy("activity", "Put on the waitlist")
    PROMOTED = "promoted", pgettext_lazy("activity", "Moved up from the waitlist")
    SIGNUP_CANCELLED = "signup_cancelled", pgettext_lazy("activity", "Sign-up cancelled")
    CHECKED_IN = "checked_in", pgettext_lazy("activity", "Checked in")
    RECAP = "recap", pgettext_lazy("activity", "Recap posted")
    CANCELLED = "cancelled", pgettext_lazy("activity", "Activity cancelled")


class ActivityEvent(models.Model):
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="events", verbose_name=_("activity")
    )
    signup = models.ForeignKey(
        Signup,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("sign-up"),
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
    note = models.TextField(_("note"), blank=True)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("activity event")
        verbose_name_plural = _("activity events")
        ordering = ["activity_id", "id"]
        indexes = [models.Index(fields=["activity", "id"], name="activity_event_idx")]

    def __str__(self):
        return f"{self.activity_id} {self.kind}"
