"""Crash safety with real processes killed by SIGKILL (PostgreSQL, database task queue).

- A worker killed while storing a resident's notification: the next worker finds the
  task its dead peer left RUNNING, runs it again, and the resident gets one notification
  and one e-mail.
- A worker killed while the e-mail is in flight (the mail server never answered): once the
  claim's lease runs out, the task runs again and the e-mail goes out exactly once.
- A worker killed in the middle of a bill run (between two batches of bills): the run is
  found stalled, resumed, and ends with exactly the bills a clean run gives.
"""

import datetime
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from decimal import Decimal

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from processes import database_url, start, wait_until
from smtp_sink import SmtpSink

from wuye.billing import runs, services
from wuye.billing.models import Bill, BillRun, FeeItem
from wuye.estates.models import House
from wuye.notifications.models import Delivery, DeliveryStatus, Notification
from wuye.notifications.services import notify

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="kills real worker processes on the shared PostgreSQL database",
    ),
]

TIMEOUT = 90  # seconds for a worker to come up and get somewhere under CI load
LOST_AFTER = 3  # WORKER_LOST_AFTER_SECONDS of the workers started here


def worker_env(tmp_path, smtp: SmtpSink | None = None) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wuye.settings",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "database",
        "WORKER_HEARTBEAT_SECONDS": "1",
        "WORKER_LOST_AFTER_SECONDS": str(LOST_AFTER),
        "WUYE_VAR_DIR": str(tmp_path),
        "DEBUG": "0",
    }
    if smtp is not None:
        env |= {
            "NOTIFICATION_CHANNELS": "wuye.notifications.channels.InAppChannel,"
            "wuye.notifications.channels.EmailChannel",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.server_address[1]),
        }
    return env


def kill(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def run_replacement_worker(env: dict, tmp_path) -> None:
    """A new worker, once the dead one's heartbeat is old enough; it runs what is queued
    (its start puts the dead worker's tasks back in the queue) and exits."""
    time.sleep(LOST_AFTER + 1)
    done = subprocess.run(
        [sys.executable, "-m", "wuye.cli", "worker", "--batch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 2,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def task_result(task_path: str) -> DBTaskResult:
    return DBTaskResult.objects.get(task_path=task_path)


def running_with_one_worker(task_path: str):
    result = DBTaskResult.objects.filter(task_path=task_path).first()
    return result if result and result.status == TaskResultStatus.RUNNING else None


def backends_waiting_on_a_lock() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def terminate(pids: list[int]) -> None:
    """What PostgreSQL does itself once it notices the dead client's closed socket."""
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture(autouse=True)
def _database_queue(settings):
    """Tasks enqueued here go to the database queue the worker processes read."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def smtp():
    sink = SmtpSink()
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    yield sink
    sink.released.set()
    sink.shutdown()
    sink.server_close()


@pytest.fixture
def resident(cast):
    user = cast.users["resident_a"]
    user.email = "owner-a@example.com"
    user.save(update_fields=["email"])
    return user


def notify_resident(resident) -> None:
    notify(
        recipients=[resident],
        kind="workorders.status",
        title="您的报修已派单",
        url="/h5/",
        dedupe_key="crash-test:1",
    )


def mails_to(smtp: SmtpSink, address: str) -> list:
    return [message for recipients, message in smtp.messages if address in recipients]


DELIVER = "wuye.notifications.tasks.deliver_notifications"
SEND = "wuye.notifications.tasks.send_deliveries"


def test_a_worker_killed_while_storing_a_notification_is_replaced_and_notifies_once(
    resident, smtp, tmp_path
):
    env = worker_env(tmp_path, smtp)
    log = (tmp_path / "worker.log").open("w")
    with ExitStack() as stack, psycopg.connect(database_url()) as locker:
        # The worker's INSERT of the notification waits behind this lock: it is mid-task.
        locker.execute("LOCK TABLE notifications_notification IN EXCLUSIVE MODE")
        notify_resident(resident)
        worker = start(stack, ["worker", "--interval", "0.2"], env, log)
        wait_until(lambda: running_with_one_worker(DELIVER), TIMEOUT, "the task to be claimed")
        stuck = wait_until(backends_waiting_on_a_lock, TIMEOUT, "the worker's INSERT to wait")
        kill(worker)
        terminate(stuck)
        locker.rollback()

    assert not Notification.objects.filter(recipient=resident).exists()
    assert task_result(DELIVER).status == TaskResultStatus.RUNNING  # left so by the dead worker

    run_replacement_worker(env, tmp_path)

    assert Notification.objects.filter(recipient=resident).count() == 1
    assert len(mails_to(smtp, resident.email)) == 1
    delivery = Delivery.objects.get(notification__recipient=resident)
    assert (delivery.channel, delivery.status) == ("email", DeliveryStatus.SENT)
    result = task_result(DELIVER)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert len(result.worker_ids) == 2 and result.worker_ids[0] != result.worker_ids[1]


def test_a_worker_killed_while_the_email_is_in_flight_sends_it_exactly_once(
    resident, smtp, tmp_path
):
    env = worker_env(tmp_path, smtp)
    log = (tmp_path / "worker.log").open("w")
    smtp.hold.set()
    with ExitStack() as stack:
        notify_resident(resident)
        worker = start(stack, ["worker", "--interval", "0.2"], env, log)
        wait_until(smtp.holding.is_set, TIMEOUT, "the worker to start sending")
        kill(worker)
    smtp.hold.clear()
    smtp.released.set()

    assert Notification.objects.filter(recipient=resident).count() == 1  # stored, committed
    assert mails_to(smtp, resident.email) == []
    assert task_result(SEND).status == TaskResultStatus.RUNNING
    # The dead worker's claim holds the delivery for the lease (10 minutes); let it run out.
    claimed = Delivery.objects.filter(notification__recipient=resident)
    assert claimed.get().next_attempt_at > timezone.now()
    claimed.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))

    run_replacement_worker(env, tmp_path)

    assert len(mails_to(smtp, resident.email)) == 1
    assert Notification.objects.filter(recipient=resident).count() == 1
    assert claimed.get().status == DeliveryStatus.SENT
    assert task_result(SEND).status == TaskResultStatus.SUCCESSFUL


HOUSES = 2_600  # more than one batch of bills (runs.BATCH_SIZE = 2,000)
FEB = datetime.date(2026, 2, 1)

# Stalls the worker's second batch of bills (the first, 2,000 rows, is committed), so the
# worker is killed with the run half written.
STALL_SECOND_BATCH = """
CREATE FUNCTION crash_test_stall() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT count(*) FROM billing_bill) > 2000 THEN PERFORM pg_sleep(600); END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER crash_test_stall AFTER INSERT ON billing_bill
  FOR EACH STATEMENT EXECUTE FUNCTION crash_test_stall();
"""
UNSTALL = "DROP TRIGGER crash_test_stall ON billing_bill; DROP FUNCTION crash_test_stall();"


def backends_sleeping() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event = 'PgSleep'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def test_a_bill_run_killed_mid_way_and_resumed_gives_exactly_the_right_bills(cast, tmp_path):
    finance = cast.actor("finance")
    House.objects.bulk_create(
        House(
            company=cast.company,
            community=cast.community_x,
            building=cast.building_x1,
            unit=cast.unit_x1,
            number=f"B{n:04d}",
            floor=1 + n % 30,
            built_area=Decimal("60.00") + n % 90,
            indoor_area=Decimal("50.00") + n % 90,
            occupancy=House.Occupancy.OWNER_OCCUPIED,
        )
        for n in range(HOUSES)
    )
    services.create_fee_item(
        actor=finance,
        community=cast.community_x,
        code="wuye",
        name="物业费",
        kind=FeeItem.Kind.AREA,
        unit_price=Decimal("2.35"),
        effective_from=datetime.date(2026, 1, 1),
    )
    reference = runs.preview_run(
        actor=finance, period_kind=FeeItem.Cycle.MONTH, period_start=FEB, community=cast.community_x
    )
    expected = {
        (bill.house_id, bill.fee_item_id): bill.amount
        for bill in runs.bill_lines(reference, services.policy_for(cast.company))
    }
    assert len(expected) > runs.BATCH_SIZE
    reference.delete()
    run = runs.preview_run(
        actor=finance, period_kind=FeeItem.Cycle.MONTH, period_start=FEB, community=cast.community_x
    )

    env = worker_env(tmp_path)
    log = (tmp_path / "worker.log").open("w")
    with connection.cursor() as cursor:
        cursor.execute(STALL_SECOND_BATCH)
    with ExitStack() as stack:
        runs.queue_run(actor=finance, run=run)
        worker = start(stack, ["worker", "--interval", "0.2"], env, log)
        sleeping = wait_until(backends_sleeping, TIMEOUT, "the second batch to be written")
        kill(worker)
        terminate(sleeping)
    with connection.cursor() as cursor:
        cursor.execute(UNSTALL)

    run.refresh_from_db()
    assert run.state == BillRun.State.ISSUING
    assert Bill.objects.filter(run=run).count() == run.lines_done == runs.BATCH_SIZE

    # Fifteen silent minutes later the every-5-minutes job marks it failed; finance resumes.
    assert runs.fail_stalled_runs(now=timezone.now() + runs.STALL_AFTER) == 1
    run.refresh_from_db()
    assert run.state == BillRun.State.FAILED
    runs.queue_run(actor=finance, run=run)
    run_replacement_worker(env, tmp_path)

    run.refresh_from_db()
    issued = {
        (bill.house_id, bill.fee_item_id): bill.amount for bill in Bill.objects.filter(run=run)
    }
    assert issued == expected
    assert Bill.objects.count() == len(expected)  # no bill twice, none from another run
    assert (run.state, run.bills_created, run.lines_done) == (
        BillRun.State.ISSUED,
        len(expected),
        len(expected),
    )
