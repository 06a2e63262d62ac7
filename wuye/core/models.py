from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wuye.core.scoping import ScopedQuerySet


class PeriodicTick(models.Model):
    """One row per (job, tick): the unique constraint makes each tick enqueue once,
    however many schedulers are running."""

    job = models.CharField(max_length=100)
    tick = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "tick"], name="periodic_tick_once")]

    def __str__(self):
        return f"{self.job} @ {self.tick:%Y-%m-%d %H:%M}"


class WorkerHeartbeat(models.Model):
    """A database-queue worker's sign of life, renewed every ``WORKER_HEARTBEAT_SECONDS``:
    a task claimed by a worker that stopped beating was cut off (the worker was killed
    or its machine died) and is queued again (``wuye.core.workers``)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.host}:{self.pid} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"


class IdempotencyKey(models.Model):
    """A create request replayed safely: the first successful response for
    (user, Idempotency-Key) is stored and returned again for the same request."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class PhotoQuerySet(ScopedQuerySet):
    def visible_to(self, actor):
        """The actor's own uploads, e.g. to attach them to a request being written.

        Everyone else sees a photo through what it is attached to (a work order,
        an inspection, …), scoped by that model's own ``visible_to``.
        """
        if not actor.is_authenticated:
            return self.none()
        return self.filter(uploaded_by_id=actor.user.pk, company_id__in=sorted(actor.company_ids))


class Photo(models.Model):
    """An uploaded photo, re-encoded as a metadata-free JPEG by ``wuye.core.images``.

    Generic on purpose: domain models link photos with their own foreign keys or
    many-to-many fields.
    """

    company = models.ForeignKey(
        "estates.Company", on_delete=models.PROTECT, related_name="+", verbose_name=_("company")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    file = models.ImageField(_("file"), upload_to="photos/%Y/%m/")
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["-id"]

    def __str__(self):
        return self.file.name
