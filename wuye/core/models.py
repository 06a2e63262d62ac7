from django.conf import settings
from django.db import models


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
