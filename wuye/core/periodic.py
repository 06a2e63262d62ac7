"""The periodic scheduler: every job is declared in ``wuye.schedule.JOBS``.

Django's Tasks API has no scheduler. Ours computes, for each job, the most recent
tick boundary and claims it by inserting a ``PeriodicTick`` row; only the process
whose insert succeeds enqueues the task, so ticks run once even with several
schedulers. A missed tick (scheduler down) is not replayed: jobs must be
catch-up safe (they sweep for due work rather than assume one tick per period).
"""

import dataclasses
import datetime
import logging
import signal
import threading

from django.db import IntegrityError, transaction
from django.utils import timezone

logger = logging.getLogger("wuye.periodic")


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    task: object  # a django_tasks Task
    every: datetime.timedelta
    offset: datetime.timedelta = datetime.timedelta(0)

    def last_tick(self, now: datetime.datetime) -> datetime.datetime:
        """The most recent boundary at or before ``now`` (aligned to the epoch, plus offset)."""
        epoch = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC) + self.offset
        periods = (now - epoch) // self.every
        return epoch + periods * self.every


def run_due(jobs, now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every job whose current tick has not been claimed yet."""
    from wuye.core.models import PeriodicTick

    now = now or timezone.now()
    enqueued = []
    for job in jobs:
        tick = job.last_tick(now)
        try:
            with transaction.atomic():
                row = PeriodicTick.objects.create(job=job.name, tick=tick)
                result = job.task.enqueue()
                row.task_id = str(result.id)
                row.save(update_fields=["task_id"])
        except IntegrityError:
            continue  # another scheduler claimed this tick
        logger.info("enqueued %s for tick %s", job.name, tick.isoformat())
        enqueued.append(job.name)
    return enqueued


def serve_forever(jobs, *, interval_seconds: float = 15.0) -> None:
    """Loop until SIGINT/SIGTERM, checking for due ticks every ``interval_seconds``."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    logger.info("scheduler started with %d jobs", len(jobs))
    while not stop.is_set():
        try:
            run_due(jobs)
        except Exception:  # keep ticking through a transient database error
            logger.exception("scheduler tick failed")
        stop.wait(interval_seconds)
    logger.info("scheduler stopped")
