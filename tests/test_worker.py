"""The real worker process runs tasks queued in the database backend."""

import os
import subprocess
import sys

import pytest

ENQUEUE = """
import django
django.setup()
from wuye.core.tasks import prune_periodic_ticks
print(prune_periodic_ticks.enqueue().id)
"""

RESULT = """
import sys
import django
django.setup()
from django_tasks_db.models import DBTaskResult
print(DBTaskResult.objects.get(id=sys.argv[1]).status)
"""


@pytest.mark.skipif("DATABASE_URL" in os.environ, reason="uses its own SQLite file")
def test_wuye_worker_runs_queued_tasks(tmp_path):
    env = {
        **os.environ,
        "WUYE_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "wuye.settings",
    }

    def run(*args):
        return subprocess.run(
            [sys.executable, *args], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()

    run("-m", "wuye.cli", "manage", "migrate", "--verbosity", "0")
    task_id = run("-c", ENQUEUE)
    assert run("-c", RESULT, task_id) == "READY"
    run("-m", "wuye.cli", "worker", "--batch")
    assert run("-c", RESULT, task_id) == "SUCCESSFUL"


def running_task(worker_id: str, started_at):
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.create(
        task_path="wuye.core.tasks.prune_periodic_ticks",
        status=TaskResultStatus.RUNNING,
        args_kwargs={"args": [], "kwargs": {}},
        priority=0,
        queue_name="default",
        backend_name="default",
        started_at=started_at,
        worker_ids=[worker_id],
    )


@pytest.mark.django_db
def test_only_tasks_of_workers_that_stopped_beating_are_queued_again(settings):
    import datetime

    from django.utils import timezone
    from django_tasks.base import TaskResultStatus

    from wuye.core.models import WorkerHeartbeat
    from wuye.core.workers import requeue_orphaned_tasks

    settings.WORKER_LOST_AFTER_SECONDS = 60
    now = timezone.now()
    long_ago = now - datetime.timedelta(minutes=30)
    for worker_id, beat_at in [("alive", now), ("dead", now - datetime.timedelta(seconds=61))]:
        WorkerHeartbeat.objects.create(
            worker_id=worker_id, host="h", pid=1, started_at=long_ago, beat_at=beat_at
        )
    slow = running_task("alive", long_ago)  # a long task of a live worker
    orphaned = running_task("dead", long_ago)
    unknown = running_task("never-beat", long_ago)  # its worker's row is long gone
    just_claimed = running_task("dead", now - datetime.timedelta(seconds=5))

    assert requeue_orphaned_tasks(now=now) == 2
    for task in (slow, orphaned, unknown, just_claimed):
        task.refresh_from_db()
    assert [t.status for t in (slow, orphaned, unknown, just_claimed)] == [
        TaskResultStatus.RUNNING,
        TaskResultStatus.READY,
        TaskResultStatus.READY,
        TaskResultStatus.RUNNING,
    ]
    assert requeue_orphaned_tasks(now=now) == 0  # nothing twice
