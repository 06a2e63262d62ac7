"""Scale-out smoke test: two web processes and two task workers on one PostgreSQL and Redis.

A resident's request is created through web process A, accepted and dispatched through
web process B, and the technician's notification (in-app and e-mail) is delivered once,
by whichever worker takes the task. Run with both task backends: Redis (RQ workers)
and the database queue. PostgreSQL and Redis only: SQLite is the one-machine demo.
"""

import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack

import pytest
import redis
from django.conf import settings
from processes import database_url, start, wait_until
from smtp_sink import SmtpSink

from wuye.accounts.actor import Actor
from wuye.accounts.services import create_api_token
from wuye.notifications.models import Delivery, DeliveryStatus, Notification
from wuye.workorders.models import Category, WorkOrder

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="the scale-out topology runs on PostgreSQL",
    ),
]

TASKS_REDIS_DB = 9  # a Redis database of its own, emptied before each run
START_TIMEOUT = 90  # seconds for gunicorn and the workers to come up under CI load


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url() -> str:
    return f"redis://127.0.0.1:6379/{TASKS_REDIS_DB}"


def redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(redis_url())
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return client


def answering(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def api(base: str, token: str, method: str, path: str, data=None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        data=json.dumps(data).encode() if data is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def token(cast, who: str) -> str:
    _token, secret = create_api_token(actor=Actor(cast.users[who]), name="smoke")
    return secret


@pytest.mark.parametrize("backend", ["redis", "database"])
def test_two_web_processes_and_two_workers_share_the_work(cast, backend, tmp_path):
    queue = redis_or_skip()
    queue.flushdb()
    technician = cast.staff["technician"]
    technician.user.email = "tech@example.com"
    technician.user.save(update_fields=["email"])
    resident, dispatcher = token(cast, "resident_a"), token(cast, "dispatcher")
    category = Category.objects.get(company=cast.company, code="taps_toilets")

    smtp = SmtpSink()
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wuye.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url(),
        "TASKS_BACKEND": backend,
        "TASKS_REDIS_URL": redis_url(),
        "NOTIFICATION_CHANNELS": ",".join(
            [
                "wuye.notifications.channels.InAppChannel",
                "wuye.notifications.channels.EmailChannel",
            ]
        ),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.server_address[1]),
        "WUYE_VAR_DIR": str(tmp_path),
        "DEBUG": "0",
    }
    web_a, web_b = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    log = (tmp_path / "processes.log").open("w")
    with ExitStack() as stack:
        stack.callback(smtp.server_close)
        stack.callback(smtp.shutdown)
        for base in (web_a, web_b):
            start(
                stack, ["serve", "--bind", base.removeprefix("http://"), "--workers", "1"], env, log
            )
        workers = [start(stack, ["worker"], env, log) for _ in range(2)]
        for base in (web_a, web_b):
            wait_until(lambda base=base: answering(base), START_TIMEOUT, f"{base}/healthz")

        status, order = api(
            web_a,
            resident,
            "POST",
            "/work-orders",
            {"category_id": category.id, "house_id": cast.house_a.id, "description": "水管漏水"},
        )
        assert status == 201, order
        status, body = api(web_b, dispatcher, "POST", f"/work-orders/{order['id']}/accept", {})
        assert status == 200, body
        status, body = api(
            web_b,
            dispatcher,
            "POST",
            f"/work-orders/{order['id']}/dispatch",
            {"assignee_id": technician.id},
        )
        assert status == 200 and body["status"] == "dispatched", body
        status, seen = api(web_a, dispatcher, "GET", f"/work-orders/{order['id']}")
        assert status == 200 and seen["status"] == "dispatched"  # B's write, read on A

        def delivered():
            return [m for recipients, m in smtp.messages if "tech@example.com" in recipients]

        wait_until(delivered, START_TIMEOUT, "the technician's e-mail")
        time.sleep(3)  # long enough for a second worker to send a duplicate, if it would
        assert all(proc.poll() is None for proc in workers), "a worker died"

    log.close()
    assert len(delivered()) == 1, (tmp_path / "processes.log").read_text()[-3000:]
    for_technician = Notification.objects.filter(
        recipient=technician.user, object_id=order["id"], object_type="workorders.workorder"
    )
    assert for_technician.count() == 1
    assert list(
        Delivery.objects.filter(notification__in=for_technician).values_list("channel", "status")
    ) == [("email", DeliveryStatus.SENT)]
    assert WorkOrder.objects.get(pk=order["id"]).assignee_id == technician.id
    if backend == "redis":
        assert queue.dbsize() > 0  # the tasks really went through Redis
