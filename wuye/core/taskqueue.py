"""The Redis queue's jobs are retried when their worker dies.

RQ moves a job whose worker vanished mid-run (an "abandoned" job) to the failed registry
unless the job has retries left; django-tasks-rq creates jobs without any. This queue
gives every job ``TASKS_RETRIES`` retries, so a task cut off by a killed worker runs
again, as it does on the database queue (``wuye.core.workers``). Every task of Wuye is
safe to run twice. A task that raises is retried the same way.
"""

from django.conf import settings
from django_rq.queues import DjangoRQ
from rq import Retry


class RetryingQueue(DjangoRQ):
    def create_job(self, *args, **kwargs):
        if kwargs.get("retry") is None and settings.TASKS_RETRIES:
            kwargs["retry"] = Retry(max=settings.TASKS_RETRIES)
        return super().create_job(*args, **kwargs)
