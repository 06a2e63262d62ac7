"""The demo as a whole: the same data on every load, and the real ``wuye demo`` command
(these need an empty database, unlike test_demo's tests that share one load)."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import engine_independent
from django.db import transaction

from wuye import demo
from wuye.estates.models import Company, House
from wuye.people.models import Resident
from wuye.staff.models import StaffMember
from wuye.workorders.models import WorkOrder


@pytest.mark.django_db
def test_the_data_is_deterministic():
    def fingerprint():
        return (
            list(Resident.objects.order_by("id").values_list("name", "mobile", "id_number")),
            list(House.objects.order_by("id").values_list("number", "built_area", "occupancy")),
            list(StaffMember.objects.order_by("id").values_list("name", "mobile")),
            list(
                WorkOrder.objects.order_by("id").values_list(
                    "category__code", "description", "status", "assignee__name", "reporter__mobile"
                )
            ),
        )

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        demo.load()
        first = fingerprint()
        raise Rollback
    assert not Company.objects.exists()
    demo.load()
    assert fingerprint() == first


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@engine_independent  # the demo is always its own SQLite file
def test_wuye_demo_serves_and_stops_on_ctrl_c(tmp_path):
    """The real command: migrate, load, gunicorn + worker + scheduler, SIGINT stops all."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["WUYE_VAR_DIR"] = str(tmp_path / "var")
    outputs = []
    for attempt in ("created", "already loaded"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "wuye.cli", "demo", "--bind", f"127.0.0.1:{port}"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            # Migrating and loading take ~30 s alone; CI runs other tests beside it.
            deadline = time.monotonic() + 300
            body = None
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                        body = r.read().decode()
                        break
                except OSError:
                    time.sleep(0.25)
            assert body is not None and '"ok"' in body
            children = _children(proc.pid)
            assert len(children) == 3  # gunicorn master, worker, scheduler
            time.sleep(0.5)  # still running a moment later: none crashed at start
            assert all(os.path.exists(f"/proc/{c}") for c in children)
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, out
        assert not [c for c in children if os.path.exists(f"/proc/{c}")]
        assert attempt in out
        assert "hexin_admin" in out and demo.PASSWORD in out
        outputs.append(out)
    assert "Wuye stopped." in outputs[-1]
