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
