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
