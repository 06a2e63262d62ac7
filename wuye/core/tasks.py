import datetime

from django.utils import timezone
from django_tasks import task


@task()
def prune_periodic_ticks() -> int:
    """Drop claimed-tick rows older than a week; they only guard the current tick."""
    from wuye.core.models import PeriodicTick

    cutoff = timezone.now() - datetime.timedelta(days=7)
    deleted, _per_model = PeriodicTick.objects.filter(tick__lt=cutoff).delete()
    return deleted


@task()
def purge_idempotency_keys() -> int:
    """Forget API Idempotency-Keys older than a day."""
    from wuye.core.idempotency import purge_old_keys

    return purge_old_keys()


@task()
def requeue_orphaned_tasks() -> int:
    """Every minute: tasks whose worker died mid-run go back to the queue."""
    from wuye.core.workers import requeue_orphaned_tasks

    return requeue_orphaned_tasks()
