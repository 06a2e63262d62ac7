"""Outbound webhooks: endpoints, signed deliveries to a real local HTTP receiver, retries
with back-off, an unreachable endpoint next to a healthy one, claims (no double sends),
events from work orders, emergencies and payments, scoping, console pages and API."""

import datetime
import hashlib
import hmac
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from api_helpers import get, patch, post, send
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from workorder_helpers import completed_repair

from wuye.billing import payments
from wuye.incidents import services as incidents
from wuye.webhooks import services, transport
from wuye.webhooks.events import emit
from wuye.webhooks.models import DeliveryStatus, Endpoint, WebhookDelivery
from wuye.webhooks.tasks import dispatch_event
from wuye.workorders import services as wo

S = DeliveryStatus


# --- a local receiver ---------------------------------------------------------------------
class Receiver:
    """An HTTP server in a thread that records every request and answers with the next
    status of ``answers`` (the last one repeats)."""

    def __init__(self, answers=(200,), body="ok"):
        self.requests: list[dict] = []
        self.answers = list(answers)
        self.body = body
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                receiver.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                    }
                )
                status = (
                    receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                )
                payload = receiver.body.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/wuye"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(answers=(200,), body="ok"):
        made.append(Receiver(answers, body))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def closed_port_url():
    """A URL on a port nobody listens on (connection refused at once)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/down"


@pytest.fixture(autouse=True)
def _private_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True


def admin(cast):
    return cast.actor("company_admin")


def make_endpoint(cast, url, types=("payment.received",), **kwargs):
    return services.create_endpoint(actor=admin(cast), url=url, event_types=list(types), **kwargs)


def event(cast, event_type="payment.received", data=None):
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "company_id": cast.company.id,
        "created_at": timezone.now().isoformat(),
        "data": data or {"id": 1, "amount": "10.00"},
    }


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """The receiver's check, as docs/webhooks.md shows it."""
    timestamp = headers["X-Wuye-Timestamp"]
    expected = (
        "sha256="
        + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    )
    return hmac.compare_digest(expected, headers["X-Wuye-Signature"])


# --- endpoints ---------------------------------------------------------------------------
def test_an_admin_creates_an_endpoint_with_a_secret(cast):
    endpoint = make_endpoint(
        cast, " https://hooks.example.com/wuye ", ["bill.issued", "payment.received", "bill.issued"]
    )
    assert endpoint.url == "https://hooks.example.com/wuye"
    assert endpoint.event_types == ["bill.issued", "payment.received"]  # documented order, once
    assert endpoint.company_id == cast.company.id and len(endpoint.secret) == 64
    old = endpoint.secret
    assert services.rotate_secret(actor=admin(cast), endpoint=endpoint).secret != old


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "hooks.example.com/x",
        "https://",
        "https://user:pw@hooks.example.com/x",
        "http://" + "a" * 500 + ".com/",
        "http://2130706433/x",  # 127.0.0.1 spelled as a number
    ],
)
def test_bad_urls_are_refused(cast, url):
    with pytest.raises(ValidationError) as caught:
        make_endpoint(cast, url)
    assert "url" in caught.value.error_dict
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "https://10.1.2.3/x",
        "http://192.168.1.10/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://printer.local/x",
    ],
)
def test_private_addresses_are_refused_unless_allowed(cast, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError) as caught:
        make_endpoint(cast, url)
    assert "url" in caught.value.error_dict
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    assert make_endpoint(cast, url).url == url


def test_a_name_resolving_to_a_private_address_is_refused_at_send_time(cast, settings, receiver):
    hook = receiver()
    endpoint = make_endpoint(cast, hook.url.replace("127.0.0.1", "localhost"))
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    delivery = services.send_delivery(delivery_id=services.record_deliveries(event=event(cast))[0])
    assert delivery.status == S.RETRYING and delivery.attempts == 1
    assert "non-public" in delivery.last_error
    assert hook.requests == []
    assert endpoint.deliveries.count() == 1


@pytest.mark.parametrize("types", [[], ["payment.received", "nope.nope"]])
def test_event_types_must_be_known(cast, types):
    with pytest.raises(ValidationError) as caught:
        make_endpoint(cast, "https://hooks.example.com/x", types)
    assert "event_types" in caught.value.error_dict


@pytest.mark.parametrize("who", ["project_manager", "finance", "dispatcher", "resident_a"])
def test_only_company_admins_manage_webhooks(cast, who):
    with pytest.raises(PermissionDenied):
        services.create_endpoint(
            actor=cast.actor(who), url="https://hooks.example.com/x", event_types=["bill.issued"]
        )
    endpoint = make_endpoint(cast, "https://hooks.example.com/x")
    with pytest.raises(PermissionDenied):
        services.rotate_secret(actor=cast.actor("other_admin"), endpoint=endpoint)
    with pytest.raises(PermissionDenied):
        services.update_endpoint(actor=cast.actor(who), endpoint=endpoint, is_active=False)
    assert Endpoint.objects.get().is_active


# --- sending -----------------------------------------------------------------------------
def test_a_delivery_is_posted_signed(cast, receiver):
    hook = receiver(body="thanks")
    endpoint = make_endpoint(cast, hook.url)
    sent = event(cast, data={"id": 7, "amount": "120.50", "note": "物业费"})
    [delivery_id] = services.record_deliveries(event=sent)
    delivery = services.send_delivery(delivery_id=delivery_id)

    assert delivery.status == S.SUCCEEDED and delivery.attempts == 1
    assert delivery.response_status == 200 and delivery.response_excerpt == "thanks"
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    [request] = hook.requests
    headers = request["headers"]
    assert request["path"] == "/hooks/wuye"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Wuye-Webhooks/1"
    assert headers["X-Wuye-Event"] == "payment.received"
    assert headers["X-Wuye-Delivery"] == sent["id"]
    assert abs(int(headers["X-Wuye-Timestamp"]) - timezone.now().timestamp()) < 60
    assert verify(endpoint.secret, headers, request["body"])
    assert not verify("wrong-secret", headers, request["body"])
    assert json.loads(request["body"]) == sent
    assert "物业费" in request["body"].decode()  # UTF-8, not \\u escapes


def test_failures_are_retried_with_back_off_then_given_up(cast, receiver):
    hook = receiver(answers=(500,), body="x" * 1000)
    make_endpoint(cast, hook.url)
    start = datetime.datetime(2027, 3, 1, 8, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        [delivery_id] = services.record_deliveries(event=event(cast))
        delivery = services.send_delivery(delivery_id=delivery_id)
        waits = []
        for _ in range(5):
            assert delivery.status == S.RETRYING
            assert delivery.response_status == 500 and delivery.last_error == "HTTP 500"
            assert len(delivery.response_excerpt) == 500
            wait = delivery.next_attempt_at - timezone.now()
            waits.append(wait)
            clock.shift(wait - datetime.timedelta(seconds=1))
            assert services.send_due_deliveries() == 0  # not yet
            clock.shift(datetime.timedelta(seconds=1))
            assert services.send_due_deliveries() == 1
            delivery.refresh_from_db()
    assert [w.total_seconds() / 60 for w in waits] == [1, 5, 30, 120, 720]
    assert delivery.status == S.FAILED and delivery.attempts == 6
    assert delivery.next_attempt_at is None
    assert len(hook.requests) == 6
    assert services.send_due_deliveries() == 0


def test_a_retry_that_succeeds(cast, receiver):
    hook = receiver(answers=(503, 204))
    make_endpoint(cast, hook.url)
    [delivery_id] = services.record_deliveries(event=event(cast))
    assert services.send_delivery(delivery_id=delivery_id).status == S.RETRYING
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        assert services.send_due_deliveries() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == S.SUCCEEDED and delivery.attempts == 2
    assert delivery.response_status == 204 and delivery.last_error == ""


def test_an_unreachable_endpoint_is_retried_and_logged_while_others_get_the_event(
    cast, receiver, closed_port_url, django_capture_on_commit_callbacks
):
    hook = receiver()
    down = make_endpoint(cast, closed_port_url)
    up = make_endpoint(cast, hook.url)
    elsewhere = make_endpoint(cast, hook.url, ["bill.issued"])  # not subscribed
    with django_capture_on_commit_callbacks(execute=True):
        emit(company_id=cast.company.id, event_type="payment.received", data={"id": 1})

    failed = WebhookDelivery.objects.get(endpoint=down)
    assert failed.status == S.RETRYING and failed.attempts == 1
    assert "Connection" in failed.last_error or "refused" in failed.last_error.lower()
    assert failed.next_attempt_at > timezone.now()
    assert WebhookDelivery.objects.get(endpoint=up).status == S.SUCCEEDED
    assert not WebhookDelivery.objects.filter(endpoint=elsewhere).exists()
    assert len(hook.requests) == 1


def test_nothing_is_sent_unless_the_change_commits(
    cast, receiver, django_capture_on_commit_callbacks
):
    make_endpoint(cast, receiver().url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        emit(company_id=cast.company.id, event_type="payment.received", data={"id": 1})
    assert len(callbacks) == 1 and not WebhookDelivery.objects.exists()
    # Another company's events, and types nobody takes, queue nothing at all.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        emit(company_id=cast.other_company.id, event_type="payment.received", data={})
        emit(company_id=cast.company.id, event_type="bill.issued", data={})
    assert callbacks == []
    with pytest.raises(ValueError):
        emit(company_id=cast.company.id, event_type="payment.lost", data={})


def test_running_an_event_twice_sends_it_once(cast, receiver):
    hook = receiver()
    make_endpoint(cast, hook.url)
    sent = event(cast)
    dispatch_event.call(event=sent)
    dispatch_event.call(event=sent)
    assert WebhookDelivery.objects.count() == 1
    assert len(hook.requests) == 1


def test_a_claimed_delivery_is_not_sent_by_another_sweep(cast, receiver):
    hook = receiver()
    make_endpoint(cast, hook.url)
    [delivery_id] = services.record_deliveries(event=event(cast))
    assert services._claim(delivery_id, timezone.now()) is not None  # worker 1 has it
    assert services.send_due_deliveries() == 0  # worker 2
    assert services.send_delivery(delivery_id=delivery_id) is None  # worker 3
    assert hook.requests == []
    # A worker that died holding it: the lease runs out and the sweep sends it.
    with time_machine.travel(timezone.now() + services.LEASE + datetime.timedelta(seconds=1)):
        assert services.send_due_deliveries() == 1
    assert len(hook.requests) == 1


def test_workers_sweeping_at_the_same_time_never_send_one_delivery_twice(
    cast, receiver, monkeypatch
):
    """While worker 1 is on the wire for each delivery, three more workers sweep."""
    hook = receiver()
    make_endpoint(cast, hook.url)
    for _ in range(3):
        services.record_deliveries(event=event(cast))
    real_post = transport.post
    rival_sends = []

    def post_while_others_sweep(*args, **kwargs):
        for _worker in range(3):
            rival_sends.append(services.send_due_deliveries())
        return real_post(*args, **kwargs)

    monkeypatch.setattr(transport, "post", post_while_others_sweep)
    assert services.send_due_deliveries() == 1  # the rivals took the other two
    assert sum(rival_sends) == 2
    assert len(hook.requests) == 3
    assert len({r["headers"]["X-Wuye-Delivery"] for r in hook.requests}) == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {S.SUCCEEDED}


def test_switching_off_gives_up_waiting_deliveries(cast, closed_port_url):
    endpoint = make_endpoint(cast, closed_port_url)
    [delivery_id] = services.record_deliveries(event=event(cast))
    services.send_delivery(delivery_id=delivery_id)
    services.update_endpoint(actor=admin(cast), endpoint=endpoint, is_active=False)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == S.FAILED and delivery.next_attempt_at is None
    assert services.record_deliveries(event=event(cast)) == []  # no new ones either
    with pytest.raises(ValidationError):
        services.redeliver(actor=admin(cast), delivery=delivery)
    with pytest.raises(ValidationError):
        services.send_test_event(actor=admin(cast), endpoint=endpoint)


def test_redeliver_sends_the_same_event_again(cast, receiver):
    hook = receiver(answers=(500, 200))
    endpoint = make_endpoint(cast, hook.url)
    [delivery_id] = services.record_deliveries(event=event(cast))
    WebhookDelivery.objects.filter(pk=delivery_id).update(status=S.FAILED, attempts=6)
    delivery = services.redeliver(actor=admin(cast), delivery=WebhookDelivery.objects.get())
    assert delivery.status == S.PENDING and delivery.attempts == 0
    with pytest.raises(ValidationError):  # already waiting
        services.redeliver(actor=admin(cast), delivery=delivery)
    with pytest.raises(PermissionDenied):
        services.redeliver(actor=cast.actor("other_admin"), delivery=delivery)
    assert services.send_delivery(delivery_id=delivery_id).status == S.RETRYING
    services.redeliver(actor=admin(cast), delivery=delivery)
    assert services.send_delivery(delivery_id=delivery_id).status == S.SUCCEEDED
    first, second = hook.requests
    assert first["headers"]["X-Wuye-Delivery"] == second["headers"]["X-Wuye-Delivery"]
    assert verify(endpoint.secret, second["headers"], second["body"])


def test_a_test_event_goes_to_the_endpoint_whatever_it_takes(cast, receiver):
    hook = receiver()
    endpoint = make_endpoint(cast, hook.url, ["bill.issued"])
    delivery = services.send_test_event(actor=admin(cast), endpoint=endpoint)
    assert services.send_delivery(delivery_id=delivery.pk).status == S.SUCCEEDED
    [request] = hook.requests
    assert request["headers"]["X-Wuye-Event"] == "ping"
    assert json.loads(request["body"])["data"] == {"endpoint_id": endpoint.pk, "message": "ping"}


# --- events from the domains -------------------------------------------------------------------
def _received(hook):
    return [json.loads(r["body"]) for r in hook.requests]


def test_work_orders_send_created_status_changes_and_rating(
    cast, receiver, django_capture_on_commit_callbacks
):
    hook = receiver()
    make_endpoint(
        cast, hook.url, ["workorder.created", "workorder.status_changed", "workorder.rated"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        order = completed_repair(cast)
        wo.rate_order(actor=cast.actor("resident_a"), order=order, overall=5)
    events = _received(hook)
    types = [e["type"] for e in events]
    assert types[0] == "workorder.created"
    assert "workorder.rated" in types
    created = events[0]["data"]
    assert created["number"] == order.number and created["status"] == "submitted"
    assert created["house_id"] == cast.house_a.id and created["channel"] == "resident_h5"
    moves = [
        (e["data"]["from_status"], e["data"]["status"])
        for e in events
        if e["type"] == "workorder.status_changed"
    ]
    assert moves[:5] == [
        ("submitted", "accepted"),
        ("accepted", "dispatched"),
        ("dispatched", "taken"),
        ("taken", "in_progress"),
        ("in_progress", "completed"),
    ]
    assert ("completed", "rated") in moves
    rated = next(e["data"] for e in events if e["type"] == "workorder.rated")
    assert rated["overall"] == 5 and rated["id"] == order.id
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {S.SUCCEEDED}


def test_a_payment_sends_payment_received(cast, receiver, django_capture_on_commit_callbacks):
    hook = receiver()
    make_endpoint(cast, hook.url, ["payment.received"])
    with django_capture_on_commit_callbacks(execute=True):
        payment = payments.collect(
            actor=cast.actor("finance"), house=cast.house_a, amount="300", method="cash"
        )
    [sent] = _received(hook)
    assert sent["type"] == "payment.received" and sent["company_id"] == cast.company.id
    data = sent["data"]
    assert data["id"] == payment.id and data["receipt_no"] == payment.receipt_no
    assert data["amount"] == "300.00" and data["to_prepaid"] == "300.00" and data["bills"] == []
    assert data["house_id"] == cast.house_a.id and data["method"] == "cash"


def test_an_emergency_sends_incident_reported(cast, receiver, django_capture_on_commit_callbacks):
    hook = receiver()
    make_endpoint(cast, hook.url, ["incident.reported"])
    with django_capture_on_commit_callbacks(execute=True):
        incident = incidents.report_incident(
            actor=cast.actor("dispatcher"),
            community=cast.community_x,
            kind="water_outage",
            description="1栋停水",
            buildings=[cast.building_x1],
        )
    [sent] = _received(hook)
    assert sent["data"]["number"] == incident.number
    assert sent["data"]["building_ids"] == [cast.building_x1.id]
    assert "description" not in sent["data"]


def test_another_company_gets_none_of_it(cast, receiver, django_capture_on_commit_callbacks):
    hook = receiver()
    services.create_endpoint(
        actor=cast.actor("other_admin"), url=hook.url, event_types=["payment.received"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        payments.collect(actor=cast.actor("finance"), house=cast.house_a, amount="5", method="cash")
    assert hook.requests == [] and not WebhookDelivery.objects.exists()


# --- console ---------------------------------------------------------------------------
def test_console_pages(cast, receiver, settings):
    settings.LANGUAGE_CODE = "en"
    hook = receiver()
    client = cast.client("company_admin")
    response = client.get(reverse("webhooks:create"))
    assert response.status_code == 200 and "Payment received" in response.content.decode()
    response = client.post(
        reverse("webhooks:create"),
        {"url": hook.url, "event_types": ["payment.received", "bill.issued"], "is_active": "on"},
    )
    assert response.status_code == 200
    endpoint = Endpoint.objects.get()
    assert endpoint.secret in response.content.decode()  # shown once after creating
    assert (
        endpoint.secret
        not in client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    )
    assert (
        client.get(reverse("webhooks:secret", args=[endpoint.pk]))
        .content.decode()
        .count(endpoint.secret)
        == 1
    )
    assert hook.url in client.get(reverse("webhooks:list")).content.decode()

    bad = client.post(
        reverse("webhooks:edit", args=[endpoint.pk]), {"url": "ftp://x", "event_types": []}
    )
    assert bad.status_code == 400
    assert Endpoint.objects.get().url == hook.url

    response = client.post(reverse("webhooks:test", args=[endpoint.pk]))
    ping = WebhookDelivery.objects.get(event_type="ping")
    assert response.url == reverse("webhooks:delivery", args=[ping.pk])
    assert ping.status == S.SUCCEEDED and len(hook.requests) == 1
    page = client.get(response.url).content.decode()
    assert "&quot;ping&quot;" in page or '"ping"' in page

    log = client.get(reverse("webhooks:deliveries"), {"status": "succeeded", "event_type": "ping"})
    assert reverse("webhooks:delivery", args=[ping.pk]) in log.content.decode()
    log = client.get(reverse("webhooks:deliveries"), {"status": "failed"})
    assert reverse("webhooks:delivery", args=[ping.pk]) not in log.content.decode()

    client.post(reverse("webhooks:redeliver", args=[ping.pk]))
    assert len(hook.requests) == 2

    old = endpoint.secret
    response = client.post(reverse("webhooks:rotate", args=[endpoint.pk]))
    new = Endpoint.objects.get().secret
    assert new != old and new in response.content.decode()

    client.post(
        reverse("webhooks:edit", args=[endpoint.pk]),
        {"url": hook.url, "event_types": ["bill.issued"], "description": "财务系统"},
    )
    endpoint.refresh_from_db()
    assert endpoint.event_types == ["bill.issued"] and not endpoint.is_active
    assert client.post(reverse("webhooks:delete", args=[endpoint.pk])).status_code == 302
    assert not Endpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_delivery_log_pages(cast):
    endpoint = make_endpoint(cast, "https://hooks.example.com/x")
    for _ in range(55):
        services.record_deliveries(event=event(cast))
    client = cast.client("company_admin")
    first = client.get(reverse("webhooks:deliveries"))
    newest = WebhookDelivery.objects.order_by("-id")
    assert reverse("webhooks:delivery", args=[newest[0].pk]) in first.content.decode()
    assert f"after={newest[49].pk}" in first.content.decode()
    second = client.get(reverse("webhooks:deliveries"), {"after": newest[49].pk})
    assert reverse("webhooks:delivery", args=[newest[54].pk]) in second.content.decode()
    assert client.get(reverse("webhooks:deliveries"), {"endpoint": "x"}).status_code == 200
    assert endpoint.deliveries.count() == 55


@pytest.mark.parametrize("who", ["project_manager", "dispatcher", "finance", "technician"])
def test_console_is_for_company_admins(cast, who):
    endpoint = make_endpoint(cast, "https://hooks.example.com/x")
    client = cast.client(who)
    assert client.get(reverse("webhooks:list")).status_code == 403
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 403
    assert client.post(reverse("webhooks:rotate", args=[endpoint.pk])).status_code == 403


def test_another_companys_admin_sees_nothing(cast):
    endpoint = make_endpoint(cast, "https://hooks.example.com/acme")
    [delivery_id] = services.record_deliveries(event=event(cast))
    client = cast.client("other_admin")
    assert endpoint.url not in client.get(reverse("webhooks:list")).content.decode()
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 404
    assert client.get(reverse("webhooks:secret", args=[endpoint.pk])).status_code == 404
    assert client.get(reverse("webhooks:delivery", args=[delivery_id])).status_code == 404
    assert client.post(reverse("webhooks:redeliver", args=[delivery_id])).status_code == 404
    api = cast.client("other_admin")
    assert get(api, "/webhooks/endpoints").json()["results"] == []
    assert get(api, "/webhooks/deliveries").json()["results"] == []
    assert get(api, f"/webhooks/endpoints/{endpoint.pk}/secret").status_code == 404


# --- API -------------------------------------------------------------------------------
def test_api(cast, receiver):
    hook = receiver()
    client = cast.client("company_admin")
    body = {"url": hook.url, "event_types": ["payment.received"], "description": "ERP"}
    created = post(client, "/webhooks/endpoints", body, **{"Idempotency-Key": "wh-1"})
    assert created.status_code == 201, created.content
    again = post(client, "/webhooks/endpoints", body, **{"Idempotency-Key": "wh-1"})
    assert again.json() == created.json() and Endpoint.objects.count() == 1
    endpoint_id = created.json()["id"]
    assert "secret" not in created.json()
    secret = get(client, f"/webhooks/endpoints/{endpoint_id}/secret").json()["secret"]
    assert secret == Endpoint.objects.get().secret

    refused = post(client, "/webhooks/endpoints", {**body, "event_types": ["nope"]})
    assert refused.status_code == 400 and "event_types" in refused.json()["detail"]

    changed = patch(client, f"/webhooks/endpoints/{endpoint_id}", {"description": "ERP 2"})
    assert changed.status_code == 200 and changed.json()["description"] == "ERP 2"
    assert changed.json()["event_types"] == ["payment.received"]

    rotated = post(client, f"/webhooks/endpoints/{endpoint_id}/rotate-secret")
    assert rotated.status_code == 200 and "secret" not in rotated.json()
    assert Endpoint.objects.get().secret != secret

    test = post(client, f"/webhooks/endpoints/{endpoint_id}/test")
    assert test.status_code == 201 and test.json()["event_type"] == "ping"
    delivery_id = test.json()["id"]
    services.send_delivery(delivery_id=delivery_id)  # the queued task's part
    listed = get(client, "/webhooks/deliveries", {"status": "succeeded", "endpoint": endpoint_id})
    assert [row["id"] for row in listed.json()["results"]] == [delivery_id]
    assert (
        get(client, "/webhooks/deliveries", {"event_type": "bill.issued"}).json()["results"] == []
    )
    one = get(client, f"/webhooks/deliveries/{delivery_id}").json()
    assert one["response_status"] == 200 and one["payload"]["type"] == "ping"

    redo = post(client, f"/webhooks/deliveries/{delivery_id}/redeliver")
    assert redo.status_code == 200 and redo.json()["status"] == "pending"
    assert post(client, f"/webhooks/deliveries/{delivery_id}/redeliver").status_code == 400

    assert send(client, "delete", f"/webhooks/endpoints/{endpoint_id}").status_code == 204
    assert not Endpoint.objects.exists()


def test_api_refuses_other_staff(cast):
    endpoint = make_endpoint(cast, "https://hooks.example.com/x")
    client = cast.client("project_manager")
    body = {"url": "https://hooks.example.com/y", "event_types": ["bill.issued"]}
    assert post(client, "/webhooks/endpoints", body).status_code == 403
    assert get(client, "/webhooks/endpoints").json()["results"] == []
    assert get(client, f"/webhooks/endpoints/{endpoint.pk}").status_code == 404
    assert (
        patch(client, f"/webhooks/endpoints/{endpoint.pk}", {"is_active": False}).status_code == 404
    )
    assert Endpoint.objects.count() == 1 and Endpoint.objects.get().is_active
