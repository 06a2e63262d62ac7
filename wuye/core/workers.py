"""Tasks cut off by a dead worker run again.

The database queue (django-tasks-db) marks a task RUNNING when a worker claims it and
never looks at it again: a worker killed mid-task (SIGKILL, out of memory, its machine
lost) would leave the task RUNNING for ever, and whatever it was doing — storing a
resident's notification, sending the e-mail — would silently never happen.

So each ``wuye worker`` renews a ``WorkerHeartbeat`` row from a side thread, and
``requeue_orphaned_tasks`` (every minute, and once when a worker starts) puts a RUNNING
task back to READY when the worker that claimed it last has not beaten for
``WORKER_LOST_AFTER_SECONDS``. A task that is merely slow keeps its worker beating and is
left alone. Every task of Wuye is safe to run twice (see ``wuye.schedule``), so a second
run finishes what the first began and repeats nothing.

With the Redis queue, RQ notices dead workers itself and retries their jobs
(``wuye.core.taskqueue.RetryingQueue``).
"""

import datetime
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from wuye.core.models import WorkerHeartbeat

logger = logging.getLogger("wuye.workers")


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"


def beat(worker_id: str, *, started_at: datetime.datetime) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"beat_at": timezone.now()},
        create_defaults={
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "beat_at": timezone.now(),
        },
    )


class Heartbeat(threading.Thread):
    """Renews the worker's row until ``stop()``; a failed beat is logged, not fatal
    (the database may be briefly away; the next beat tries again)."""

    def __init__(self, worker_id: str):
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                close_old_connections()
                beat(self.worker_id, started_at=self.started_at)
            except DatabaseError:
                logger.warning("worker %s: heartbeat failed", self.worker_id, exc_info=True)
            finally:
                connection.close()  # this thread's own connection; do not hold it idle
            self._stopped.wait(settings.WORKER_HEARTBEAT_SECONDS)

    def stop(self) -> None:
        self._stopped.set()
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()


def requeue_orphaned_tasks(*, now: datetime.datetime | None = None) -> int:
    """Put RUNNING tasks of workers that stopped beating back in the queue."""
    now = now or timezone.now()
    lost_since = now - datetime.timedelta(seconds=settings.WORKER_LOST_AFTER_SECONDS)
    alive = set(
        WorkerHeartbeat.objects.filter(beat_at__gte=lost_since).values_list("worker_id", flat=True)
    )
    requeued = 0
    # Claimed before the cut-off: a worker that claims a task has beaten just before.
    running = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=lost_since
    ).only("id", "worker_ids", "task_path")
    for result in running:
        if result.worker_ids and result.worker_ids[-1] in alive:
            continue
        # Only if still RUNNING as we saw it: a worker finishing it meanwhile wins.
        if DBTaskResult.objects.filter(
            pk=result.pk, status=TaskResultStatus.RUNNING, started_at__lt=lost_since
        ).update(status=TaskResultStatus.READY):
            requeued += 1
            logger.warning(
                "task %s (%s) of lost worker %s queued again",
                result.pk,
                result.task_path,
                result.worker_ids[-1] if result.worker_ids else "?",
            )
    WorkerHeartbeat.objects.filter(beat_at__lt=now - datetime.timedelta(days=1)).delete()
    return requeued
